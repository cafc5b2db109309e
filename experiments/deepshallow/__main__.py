"""`python -m experiments.deepshallow`: the command line of experiments.deepshallow.experiment."""
from experiments.deepshallow import experiment
from experiments.harness.config import main
from plots.deepshallow import render

main(experiment.Config, experiment.run, render, prog="experiments.deepshallow",
     description=experiment.__doc__)
