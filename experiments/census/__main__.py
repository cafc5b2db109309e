"""`python -m experiments.census`: the command line of experiments.census.experiment."""
from experiments.census import experiment
from experiments.harness.config import main
from plots.census import render

main(experiment.Config, experiment.run, render, prog="experiments.census",
     description=experiment.__doc__)
