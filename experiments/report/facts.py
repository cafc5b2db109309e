"""What every section of the report shares: the figures of each experiment (named by its
plots module, given by the registry), the `Facts` that records each quoted number with its
source, and the figure lines.

Every number goes through `Facts.num`, which records its source (experiment, path in
summary.json) so that a test can check each printed number against the results files; settings
come from the saved configs (experiments.report.settings): the few a question asks for in a
compact table (`Facts.settings`), all of them in facts.json.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.io.results import load_summary
from experiments.report.claims import RULES, Claim
from experiments.report.settings import compact_table, settings_rows, shown


class MissingFact(LookupError):
    """A value a section reads is not in the saved summary of its experiment: the results folder
    was written by another version or damaged — bad input, unlike a KeyError of the code."""

    def __init__(self, experiment, path):
        super().__init__(f"{experiment}: no {'/'.join(map(str, path))}")
        self.experiment, self.path = experiment, tuple(path)


class Facts:
    """Numbers quoted in the report, each with its source: (experiment, key path in summary);
    claims, each with its rule and the saved arrays or summary values it was applied to.
    metas: {section: summary.json}; registry: {section: entry}, each entry with .module (its
    Config) and .plots (its figure_names), as experiments.report.sections.REGISTRY has them."""

    def __init__(self, metas: dict, figure_dir: Path, results: Path | None = None, *, registry):
        self.metas = metas
        self.figure_dir = figure_dir  # the figures folder, relative to the report
        self.results = results        # the results folder: the claims read its arrays
        self.records = []
        self.registry = registry
        self.figures = {name: list(registry[name].plots.figure_names(meta))
                        for name, meta in metas.items()}

    def settings(self, section: str, rows) -> list[str]:
        """The compact table of what a question asks for, rows (label, value) — a value a str,
        or a config key whose value is shown as settings_rows shows it — and, in facts.json,
        every setting of the section's config with its value and source."""
        meta = self.metas[section]
        self.records.append({"experiment": section, "settings": settings_rows(
            self.registry[section].module.Config, meta["config"], meta["summary"])})
        return compact_table(rows)

    def setting(self, section: str, key: str) -> str:
        """One setting of a section's config, shown as in facts.json (decided values resolved)."""
        meta = self.metas[section]
        return shown(meta["experiment"], meta["config"], key, meta["summary"])

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
        choice of words, never for a printed measurement (that is `num`). MissingFact if the
        saved summary has no such value."""
        value = self.metas[experiment]
        for depth, key in enumerate(path):
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                raise MissingFact(experiment, path[:depth + 1]) from None
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
    ("arrays", key, index…) an array of summary.npz, each index applied in turn: an int (an
    entry of the first axis), None (all of it), "end" (the last entry of the last axis: a
    curve's final value), "at:<k>" (entry k of the last axis: a curve's value after k steps),
    "median:<axis>" (the median over that axis) or "mask:<key>" (the entries where the boolean
    array <key> holds)."""
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
        elif index == "end":
            value = value[..., -1]
        elif isinstance(index, str) and index.startswith("at:"):
            value = value[..., int(index[3:])]
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
    return figures(f, section, f.figures[section])


def figures(f: Facts, section: str, names) -> list[str]:
    """Markdown image lines of the named figures of a section (each one its plots module
    draws, else ValueError)."""
    unknown = [n for n in names if n not in f.figures[section]]
    if unknown:
        raise ValueError(f"figures {unknown} are not figures of {section}")
    folder = f.figure_dir.as_posix()
    return [f"![{name}]({folder}/{name}.png)" for name in names] + [""]


__all__ = ["Facts", "MissingFact", "figures", "resolve", "section_figures"]
