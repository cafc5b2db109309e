"""Figures from saved results only: `python -m plots.<name> RESULTS_DIR` never trains anything."""
from plots.startup import interrupt_in_one_line

interrupt_in_one_line()  # before any heavy import of a `python -m plots.…` or experiments.… command
