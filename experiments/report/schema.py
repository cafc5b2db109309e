"""What the report relies on in each experiment's summary.json, checked once when it loads them:
what the experiment's plots module reads (its SCHEMA, plots.schema) and every setting of the
experiment's Config, each of the type its field declares (the sections read them directly). A
damaged or foreign file is refused in one line naming it (UsageError, exit 2), so a KeyError or
TypeError raised while writing the report is a bug and is reported as one."""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path

from plots.schema import ANY, NONE, NUM, Len, OneOf, check_results

_SIMPLE = {bool: bool, int: int, float: NUM, str: str, list: list, tuple: list, dict: dict}


def field_spec(hint):
    """The plots.schema spec of a value saved (JSON) for a Config field of type `hint`."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:  # the values themselves: the sections look some up by name
        named = [a for a in args if a is not None]
        return (OneOf(*named), NONE) if None in args else OneOf(*named)
    if origin in (typing.Union, types.UnionType):
        specs = [field_spec(a) for a in args]
        if any(s is ANY for s in specs):
            return ANY
        flat = [t for s in specs for t in (s if isinstance(s, tuple) else (s,))]
        return tuple(dict.fromkeys(flat))
    if hint is NONE:
        return NONE
    return _SIMPLE.get(origin or hint, ANY)


# what the report's sections read of a config beyond its fields' types: the first and last
# batch size of HW1-3's flatness (experiments.report.hw1_3)
SECTIONS_READ = {"generalization": {"batch_sizes": Len(int, min=1)}}


def config_schema(config_cls) -> dict:
    """{field: spec} of every field of the dataclass `config_cls`: the saved config's schema."""
    hints = typing.get_type_hints(config_cls)
    return {f.name: field_spec(hints[f.name]) for f in dataclasses.fields(config_cls)}


def check_meta(entry, experiment: str, folder: Path, meta: dict, arrays) -> None:
    """UsageError (one line naming the file) unless meta (summary.json of `folder`) and arrays
    hold what the report and the plots module of registry `entry` read."""
    plots = getattr(entry.plots, "SCHEMA", {})  # a plots module may declare none
    settings = {**config_schema(entry.module.Config), **plots.get("config", {}),
                **SECTIONS_READ.get(experiment, {})}
    check_results(folder, experiment, meta, arrays, {**plots, "config": settings})
