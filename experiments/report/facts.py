"""What every section of the report shares: the figures of each experiment, the `Facts` that
records each quoted number with its source, and the figure lines.

Every number goes through `Facts.num`, which records its source (experiment, path in
summary.json) so that a test can check each printed number against the results files; settings
come from the saved configs (experiments.report.settings).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.io.results import load_summary
from experiments.report.claims import RULES, Claim
from experiments.report.settings import settings_table

FIGURES = {
    "deepshallow": ["deepshallow_functions_loss", "deepshallow_functions_fit", "deepshallow_task"],
    "generalization": ["generalization_random", "generalization_params", "generalization_interp",
                       "generalization_flatness"],
    "trajectory": ["trajectory_layer1", "trajectory_whole"],
    "gradnorm": ["gradnorm_sinc", "gradnorm_digits"],
    "minratio": ["minratio", "minratio_traces"],
    "minratio_wd": ["minratio_wd"],
    "surface": ["surface_line_sinc", "surface_line_dnn", "surface_plane_random_sinc",
                "surface_plane_random_dnn", "surface_plane_pca_sinc", "surface_plane_pca_dnn",
                "surface_plane_hessian_sinc", "surface_plane_hessian_dnn",
                "surface_perturb_sinc", "surface_tsne"],
    "spectrum": ["spectrum_sinc", "spectrum_dnn"],
}


class Facts:
    """Numbers quoted in the report, each with its source: (experiment, key path in summary);
    claims, each with its rule and the saved arrays or summary values it was applied to."""

    def __init__(self, metas: dict, figure_dir: Path, results: Path | None = None):
        self.metas = metas
        self.figure_dir = figure_dir  # the figures folder, relative to the report
        self.results = results        # the results folder: the claims read its arrays
        self.records = []

    def claim(self, rule: str, experiment: str, inputs: dict, **params) -> Claim:
        """Apply claim rule `rule` (experiments.report.claims.RULES) to the values named by
        `inputs` ({argument: reference}, see `resolve`) and record rule, references, parameters
        and text in facts.json, so a test can apply the rule again to the files."""
        values = {k: resolve(self.results, experiment, ref, self.metas[experiment])
                  for k, ref in inputs.items()}
        outcome = RULES[rule](**values, **params)
        self.records.append({"experiment": experiment, "rule": rule,
                             "inputs": {k: list(v) for k, v in inputs.items()},
                             "params": params, "holds": outcome.holds, "text": outcome.text})
        return outcome

    def get(self, experiment, *path):
        """The value at metas[experiment][path…], not recorded: for settings, labels and the
        choice of words, never for a printed measurement (that is `num`). KeyError if absent."""
        value = self.metas[experiment]
        for key in path:
            value = value[key]
        return value

    def num(self, experiment, *path, fmt="{:.3g}") -> str:
        """The value at summary.json[path] of `experiment`, formatted, and recorded."""
        value = self.get(experiment, *path)
        text = "n/a" if value is None else fmt.format(value)
        self.records.append({"experiment": experiment, "path": list(path), "value": value,
                             "text": text})
        return text


def resolve(results: Path, experiment: str, ref, meta: dict | None = None):
    """The value a claim reads: ref = ("summary", key, …) a path into summary.json, or
    ("arrays", key, index…) an array of summary.npz, each index an int, None (a whole axis),
    "median:<axis>" (the median over that axis) or "mask:<key>" (the entries where the
    boolean array <key> holds)."""
    if ref[0] == "summary":
        value = meta if meta is not None else load_summary(results / experiment)[1]
        for key in ref:
            value = value[key]
        return value
    arrays = _arrays(results / experiment)
    value = np.asarray(arrays[ref[1]])
    for index in ref[2:]:
        if isinstance(index, str) and index.startswith("mask:"):
            value = value[np.asarray(arrays[index[5:]]).astype(bool)]
        elif isinstance(index, str) and index.startswith("median:"):
            value = np.median(value, axis=int(index[7:]))
        else:
            value = value[(slice(None) if index is None else index)]
    return value


def _arrays(folder: Path) -> dict:
    if folder not in _ARRAYS:
        _ARRAYS[folder] = dict(np.load(folder / "summary.npz", allow_pickle=False))
    return _ARRAYS[folder]


_ARRAYS: dict = {}  # summary.npz per folder, read once per process


def section_figures(f: Facts, section: str) -> list[str]:
    """Markdown image lines of every figure of a section."""
    return figures(f, section, FIGURES[section])

def figures(f: Facts, section: str, names) -> list[str]:
    """Markdown image lines of the named figures of a section (each must be in FIGURES)."""
    unknown = [n for n in names if n not in FIGURES[section]]
    if unknown:
        raise ValueError(f"figures {unknown} are not figures of {section}")
    folder = f.figure_dir.as_posix()
    return [f"![{name}]({folder}/{name}.png)" for name in names] + [""]


__all__ = ["FIGURES", "Facts", "figures", "resolve", "section_figures", "settings_table"]
