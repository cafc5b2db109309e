"""The report's settings tables: each setting of a saved config with the value used and where it
came from (the Config's default, the --quick preset, the command line), and for the defaults that
mean "decide at run time" (lr 0, dataset '', n_train 0, data_root '') what was decided, read from
the experiment's summary.
"""
from __future__ import annotations

import dataclasses
import importlib

from engine.io.results import to_jsonable

EXPERIMENTS = ("deepshallow", "trajectory", "gradnorm", "minratio", "surface", "generalization",
               "spectrum")


def settings_table(config: dict, summary: dict | None = None) -> list[str]:
    """| setting | value | source |: the value used and where it came from — the Config's
    default, the --quick preset, or the command line; a default that means "decide at run time"
    (lr 0, dataset '', n_train 0, data_root '') shows what was decided, read from `summary`."""
    cls = _config_class(config)
    default = to_jsonable(dataclasses.asdict(cls())) if cls else {}
    quick = to_jsonable(dataclasses.asdict(cls.quick())) if cls else {}
    rows = ["| setting | value | source |", "|---|---|---|"]
    for key, value in config.items():
        shown, source = _resolved(key, value, config, summary or {})
        if source is None:
            source = ("default" if default.get(key, ...) == value else
                      "--quick preset" if quick.get(key, ...) == value else "command line")
        rows.append(f"| `{key}` | {shown} | {source} |")
    return rows


def _resolved(key, value, config, summary) -> tuple[str, str | None]:
    """(shown value, source or None) of one setting."""
    if key == "lr" and value == 0 and _find(summary, "lr") is not None:
        name = {"adam": "Adam's default", "sgd": "losslab's SGD default"}
        return f"{_find(summary, 'lr'):g}", name.get(config.get("optimizer"), "default")
    if key == "dataset" and value == "":
        found = _find(summary, "dataset") or _find(summary, "data") or "digits"
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


def _config_class(config: dict):
    """The experiment Config whose fields are exactly these keys (None if none is)."""
    for name in EXPERIMENTS:
        cls = importlib.import_module(f"experiments.{name}").Config
        if {f.name for f in dataclasses.fields(cls)} == set(config):
            return cls
    return None
