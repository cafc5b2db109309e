"""The HW1 report (`python -m experiments.report`): the registry of experiments in the
template's order (sections.py), the sections (HW1-1 and HW1-3, HW1-2, the minimal ratio), the
facts they quote, the settings tables and the PDF."""
from experiments.report.assemble import build, main

__all__ = ["build", "main"]
