"""`python -m experiments.surface`: the command line of experiments.surface.experiment."""
from experiments.harness.config import main
from experiments.surface import experiment
from plots.surface import render

main(experiment.Config, experiment.run, render, prog="experiments.surface",
     description=experiment.__doc__)
