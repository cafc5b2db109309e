"""Experiments: `python -m experiments.<name>` runs, saves to results/<name>/, renders figures."""
import plots  # noqa: F401  (its face makes a Ctrl-C while the command starts one line: plots.startup)
