"""`python -m experiments.census`: the command line of experiments.census.experiment."""
from experiments.census import experiment
from experiments.harness.config import main

main(experiment.Config, experiment.run, "plots.census", prog="experiments.census",
     description=experiment.__doc__)
