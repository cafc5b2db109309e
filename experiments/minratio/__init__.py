"""HW1-2 question 3, when the gradient is almost zero: the experiment (`python -m
experiments.minratio`), its objective and summary, the independent recomputation and checker
(`python -m experiments.minratio.check`) and the classification of a point you bring
(`python -m experiments.minratio.classify`)."""
from experiments.minratio.experiment import Config, run

__all__ = ["Config", "run"]
