"""`python -m experiments.generalization`: the command line of
experiments.generalization.experiment."""
from experiments.generalization import experiment
from experiments.harness.config import main

main(experiment.Config, experiment.run, "plots.generalization",
     prog="experiments.generalization", description=experiment.__doc__)
