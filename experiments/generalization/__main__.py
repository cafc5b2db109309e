"""`python -m experiments.generalization`: the command line of
experiments.generalization.experiment."""
from experiments.generalization import experiment
from experiments.harness.config import main
from plots.generalization import render

main(experiment.Config, experiment.run, render, prog="experiments.generalization",
     description=experiment.__doc__)
