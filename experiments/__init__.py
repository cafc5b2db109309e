"""Experiments: each `python -m experiments.<name>` runs, saves to results/<name>/ and renders figures."""
