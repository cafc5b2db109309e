"""`python -m experiments.deepshallow`: the command line of experiments.deepshallow.experiment."""
from experiments.deepshallow import experiment
from experiments.harness.config import main

main(experiment.Config, experiment.run, "plots.deepshallow", prog="experiments.deepshallow",
     description=experiment.__doc__)
