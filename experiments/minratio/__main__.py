"""`python -m experiments.minratio`: the command line of experiments.minratio.experiment."""
from experiments.harness.config import main
from experiments.minratio import experiment
from plots.minratio import render

main(experiment.Config, experiment.run, render, prog="experiments.minratio",
     description=experiment.__doc__)
