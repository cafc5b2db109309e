"""Experiments: `python -m experiments.<name>` runs, saves to results/<name>/, renders figures."""
