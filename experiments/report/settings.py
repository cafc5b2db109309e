"""The report's settings: each setting of a saved config with the value used and where it came
from (the Config's default, the --quick preset, the command line), and for the defaults that mean
"decide at run time" (lr 0, dataset '', n_train 0, data_root '') what was decided, read from the
experiment's summary. The Config is the one the registry gives for the section
(experiments.report.sections), never guessed from the field names.

The report prints a compact table of what each question asks for (`compact_table`); every
setting goes to facts.json (`settings_rows`).
"""
from __future__ import annotations

import dataclasses

from engine.io.results import to_jsonable


def settings_rows(cls, config: dict, summary: dict | None = None) -> list[dict]:
    """[{"key", "value", "source"}] for every setting of `config`, a config of the Config
    dataclass `cls` (the registry's, experiments.report.sections): the value used and where it
    came from — the Config's default, the --quick preset, or the command line; a default that
    means "decide at run time" (lr 0, dataset '', n_train 0, data_root '') shows what was
    decided, read from `summary`."""
    default = to_jsonable(dataclasses.asdict(cls()))
    quick = to_jsonable(dataclasses.asdict(cls.quick()))
    rows = []
    for key, value in config.items():
        shown, source = _resolved(key, value, config, summary or {})
        if source is None:
            source = ("default" if default.get(key, ...) == value else
                      "--quick preset" if quick.get(key, ...) == value else "command line")
        rows.append({"key": key, "value": shown, "source": source})
    return rows


def shown(experiment: str, config: dict, key: str, summary: dict | None = None) -> str:
    """The value of one setting as `settings_rows` shows it (KeyError if the config lacks it)."""
    return _resolved(key, config[key], config, summary or {})[0]


def compact_table(rows) -> list[str]:
    """| setting | value |: the few rows (label, value) a question asks for, as markdown."""
    return ["| setting | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows), ""]


def _resolved(key, value, config, summary) -> tuple[str, str | None]:
    """(shown value, source or None) of one setting."""
    if key == "lr" and value == 0 and _find(summary, "lr") is not None:
        name = {"adam": "Adam's default", "sgd": "losslab's SGD default"}
        return f"{_find(summary, 'lr'):g}", name.get(config.get("optimizer"), "default")
    if key == "dataset" and value == "":  # the image data of the DNN part, not a 1-D task's
        found = next((d for d in (*_find_all(summary, "dataset"), *_find_all(summary, "data"))
                      if d in IMAGE_DATASETS), "digits")
        return found, ("found under --data-root" if config.get("data_root") else
                       "offline default (no --data-root)")
    if key == "data_root" and value == "":
        return "none", "offline default"
    if key == "n_train" and value == 0:
        n = _find(summary, "n_train")
        return (f"all {n} samples" if n else "all samples"), "default"
    if isinstance(value, list):
        return " ".join(map(str, value)), None
    return f"{value:g}" if isinstance(value, float) else str(value), None


IMAGE_DATASETS = ("digits", "mnist", "cifar10")  # what --dataset '' can resolve to


def _find_all(tree, key) -> list:
    """Every value of `key` in a nested dict, depth first (lists of dicts included)."""
    found = []
    if isinstance(tree, dict):
        if key in tree and not isinstance(tree[key], (dict, list)):
            found.append(tree[key])
        for value in tree.values():
            found += _find_all(value, key)
    elif isinstance(tree, list):
        for value in tree:
            found += _find_all(value, key)
    return found


def _find(tree, key):
    """The first value of `key` in a nested dict (depth first), or None."""
    if isinstance(tree, dict):
        if key in tree and not isinstance(tree[key], (dict, list)):
            return tree[key]
        for value in tree.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None
