"""`python -m experiments.surface`: the command line of experiments.surface.experiment."""
from experiments.harness.config import main
from experiments.surface import experiment

main(experiment.Config, experiment.run, "plots.surface", prog="experiments.surface",
     description=experiment.__doc__)
