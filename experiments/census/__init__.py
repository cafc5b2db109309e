"""Dauphin's census on digits: the index of critical points against their training error
(`python -m experiments.census`, experiment.py), and the README's measured section and gallery
copy (`python -m experiments.census.readme`, run by `make docs`)."""
from experiments.census.experiment import Config, run

__all__ = ["Config", "run"]
