"""`python -m experiments.minratio`: the command line of experiments.minratio.experiment."""
from experiments.harness.config import main
from experiments.minratio import experiment

main(experiment.Config, experiment.run, "plots.minratio", prog="experiments.minratio",
     description=experiment.__doc__)
