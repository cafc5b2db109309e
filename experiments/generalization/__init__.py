"""HW1-3, generalization (`python -m experiments.generalization`): random labels, parameters vs
generalization, flatness by interpolation and by sensitivity/sharpness; the experiment and its
summary."""
from experiments.generalization.experiment import Config, run

__all__ = ["Config", "run"]
