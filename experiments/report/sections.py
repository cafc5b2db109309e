"""The registry of experiments: one line each, in the order of the course's report template.

A line names the results folder (results/<name>, also the `make` target) and gives the
experiment module (its `Config` and `run`: `python -m experiments.<name>`), its plots module
(`render` and `figure_names(meta)`) and its report section (a function of `Facts` returning
markdown lines). Everything else is read from here: the report's sections and the headings of
the homework's parts, the experiment each folder holds, the figures the report and the gallery
expect, the Config the settings tables read, and the experiments `make all` runs (the Makefile
reads the names of the lines below, so keep one line per experiment, `    "<name>": Experiment(`).

A new experiment is its module, its plots module and its section, plus one line here
(tests/experiments/report/test_registry.py shows it with a tiny experiment).

The registry sits above the modules it registers: they import nothing from here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from experiments import (
    deepshallow,
    generalization,
    gradnorm,
    minratio,
    spectrum,
    surface,
    trajectory,
)
from experiments.report.hw1 import deepshallow_section
from experiments.report.hw1_2 import (
    gradnorm_section,
    spectrum_section,
    surface_section,
    trajectory_section,
)
from experiments.report.hw1_3 import generalization_section
from experiments.report.minratio import minratio_section, minratio_wd_section
from plots import deepshallow as deepshallow_plots
from plots import generalization as generalization_plots
from plots import gradnorm as gradnorm_plots
from plots import minratio as minratio_plots
from plots import spectrum as spectrum_plots
from plots import surface as surface_plots
from plots import trajectory as trajectory_plots


@dataclass(frozen=True)
class Experiment:
    """One registered experiment. module: has Config and run; plots: has render and
    figure_names(meta); section(facts) -> list[str]: its part of the report; saves: the
    experiment name its summary.json records when it is not the registry's key (minratio_wd is
    a minratio run); part: the heading of the homework part its section opens, if any."""

    module: ModuleType
    plots: ModuleType
    section: Callable
    saves: str = ""
    part: str = ""


REGISTRY = {
    "deepshallow": Experiment(deepshallow, deepshallow_plots, deepshallow_section,
                              part="# HW1-1 Deep vs shallow"),
    "trajectory": Experiment(trajectory, trajectory_plots, trajectory_section,
                             part="# HW1-2 Optimization"),
    "gradnorm": Experiment(gradnorm, gradnorm_plots, gradnorm_section),
    "minratio": Experiment(minratio, minratio_plots, minratio_section),
    "minratio_wd": Experiment(minratio, minratio_plots, minratio_wd_section, saves="minratio"),
    "surface": Experiment(surface, surface_plots, surface_section),
    "generalization": Experiment(generalization, generalization_plots, generalization_section,
                                 part="# HW1-3 Generalization"),
    "spectrum": Experiment(spectrum, spectrum_plots, spectrum_section),
}


def saved_as(name: str) -> str:
    """The experiment name summary.json records in the folder of registry entry `name`."""
    return REGISTRY[name].saves or name
