"""The report's sections in the order of the course's template, and which function writes each.

The registry sits above the modules it registers: they import `Facts` from
experiments.report.facts and nothing from here.
"""
from __future__ import annotations

from experiments.report.hw1 import deepshallow_section
from experiments.report.hw1_2 import (
    gradnorm_section,
    spectrum_section,
    surface_section,
    trajectory_section,
)
from experiments.report.hw1_3 import generalization_section
from experiments.report.minratio import minratio_section, minratio_wd_section

SECTIONS = ("deepshallow", "trajectory", "gradnorm", "minratio", "minratio_wd", "surface",
            "generalization", "spectrum")
# the experiment whose results each section's folder holds (summary.json's "experiment")
EXPERIMENTS = {name: name for name in SECTIONS} | {"minratio_wd": "minratio"}
PARTS = {"deepshallow": "# HW1-1 Deep vs shallow", "trajectory": "# HW1-2 Optimization",
         "generalization": "# HW1-3 Generalization"}

WRITERS = {"deepshallow": deepshallow_section, "trajectory": trajectory_section,
           "gradnorm": gradnorm_section, "minratio": minratio_section,
           "minratio_wd": minratio_wd_section, "surface": surface_section,
           "generalization": generalization_section, "spectrum": spectrum_section}
