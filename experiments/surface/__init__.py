"""HW1-2 bonus, the error surface (`python -m experiments.surface`): the experiment and the views
it computes (lines, planes, t-SNE of paths, perturbations)."""
from experiments.surface.experiment import UNITS, Config, run

__all__ = ["UNITS", "Config", "run"]
