"""Figures from saved results only: `python -m plots.<name> RESULTS_DIR` never trains anything."""
