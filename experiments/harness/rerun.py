"""`--config FILE`: the settings of a saved config.json (or summary.json), to rerun them.

A results folder's config.json is {"experiment": name, "config": {field: value}, "versions":
{"losslab": …, "commit": …, libraries}} (engine.io.results). read_saved_config checks all of it
against the experiment's Config before any work, and each refusal is one UsageError naming the
file, what is wrong and what to give:
  * the file is missing, not JSON, or not such an object;
  * its experiment is another's (the folder of `experiments.spectrum` given to minratio);
  * a field the Config does not know (a typo, a newer or older experiment), or a value of the
    wrong type: an int field takes an integer (not true/false, not 2.5), a float field any
    number, a str field a string, a tuple field a list of its element type, a choice field one
    of its choices.
A field the file omits keeps the Config's default, so a hand-written file of a few settings is a
valid one. The losslab version that made the file is not checked here: a rerun into another
folder recomputes under this version, and the same folder is refused by the Store when the
versions differ (engine.io.results).
"""
from __future__ import annotations

import sys
import typing
from pathlib import Path

from engine.io.errors import DamagedFile, UsageError
from engine.io.files import load_json

_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def experiment_name(config_cls, prog: str) -> str:
    """The name the experiment's Store writes into config.json: its module's EXPERIMENT, else
    the last part of prog (experiments.minratio → minratio)."""
    module = sys.modules.get(config_cls.__module__)
    return getattr(module, "EXPERIMENT", None) or prog.split(".")[-1]


def read_saved_config(config_cls, path, experiment: str) -> dict:
    """{field: value} of the saved file at path, each value of its field's type (tuples for
    tuple fields, floats for float fields); UsageError as the module docstring lists."""
    where = f"--config {path}"
    path = Path(path)
    if path.is_dir():
        config_json = path / "config.json"
        hint = (f"; give its {config_json}" if config_json.is_file()
                else "; give the config.json inside a results folder")
        raise UsageError(f"{where} is a folder, not a file{hint}")
    if not path.is_file():
        raise UsageError(f"{where}: no such file; give the config.json of a results folder")
    try:
        saved = load_json(path)
    except DamagedFile as err:
        raise UsageError(f"{where}: {err}; give the config.json of a results folder") from None
    settings = saved.get("config")
    if not isinstance(settings, dict) or not isinstance(saved.get("experiment"), str):
        raise UsageError(f"{where}: holds {sorted(saved)[:6]}, not an experiment's config; give "
                         "the config.json of a results folder ({\"experiment\", \"config\", …})")
    if saved["experiment"] != experiment:
        raise UsageError(f"{where} is a configuration of {saved['experiment']!r}, not "
                         f"{experiment!r}; run it with python -m experiments."
                         f"{saved['experiment']} --config {path}, or give a {experiment} "
                         "folder's config.json")
    hints = typing.get_type_hints(config_cls)
    unknown = sorted(set(settings) - set(hints))
    if unknown:
        raise UsageError(f"{where}: {experiment} has no setting {', '.join(map(repr, unknown))}; "
                         f"delete it from the file (known: {', '.join(sorted(hints))})")
    return {name: _typed(value, hints[name], f"{where}: {name}") for name, value in
            settings.items()}


def _typed(value, tp, where: str):
    """value as the field type tp; UsageError naming the field and the type it takes."""
    origin = typing.get_origin(tp)
    if origin is tuple:
        elem = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise UsageError(f"{where} is {value!r}; give a list of {_plural(elem)}, e.g. "
                             f"[{_example(elem)}]")
        return tuple(_scalar(v, elem, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        if value not in choices or type(value) is not type(choices[0]):
            raise UsageError(f"{where} is {value!r}; choose one of {list(choices)}")
        return value
    return _scalar(value, tp, where)


def _scalar(value, tp, where: str):
    ok = {bool: isinstance(value, bool),
          int: isinstance(value, int) and not isinstance(value, bool),
          float: isinstance(value, (int, float)) and not isinstance(value, bool),
          str: isinstance(value, str)}.get(tp)
    if ok is None:  # a field type this reader does not know is our fault, not the file's
        raise TypeError(f"{where}: the Config's type {tp} has no reader")
    if not ok:
        raise UsageError(f"{where} is {value!r}; give {_NAMES[tp]}")
    return float(value) if tp is float else value


def _plural(tp) -> str:
    return {int: "integers", float: "numbers", str: "strings"}.get(tp, tp.__name__)


def _example(tp) -> str:
    return {int: "8, 8", float: "0.001, 0.01", str: '"a", "b"'}.get(tp, "")

