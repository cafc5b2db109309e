"""Damage every value each plots reader reads, one at a time, and draw: `make fuzz-readers`.

For each reader (plots.census, plots.minratio, …) its quick results (the flags of
tests/conftest.py's READER_FLAGS) are written once; then every array its SCHEMA declares and every
number, string, list and true/false of summary.json's config and summary is replaced, one at a
time, by values of its own kind that a damaged or foreign file may hold — for an array of numbers
zeros, negatives, NaN, ∞ at its first entry; for integers zeros and negatives; for a mask all
false and all true; for text a name of no class; for a JSON number 0, −1, NaN and ∞; for a string
"zzz"; for a list []; for true/false the other — and the reader's `render` is run on the copy.

Each case must end in one of two ways: it draws (the value is one the figures can show) or it is
refused in one line (engine.io.results.UsageError: the contract's bad input, exit 2). Anything
else — a ValueError from matplotlib's log locator, a TypeError at `~mask` — is a fault: printed
with where it was raised, and the exit code is 1. Each fault this found has a case in
tests/plots (test_damaged_values.py, test_array_kinds.py) that `make test` runs; this sweep is for
the kinds of damage nobody wrote a case for yet.

Cost: a render per case, 0.5–3 s (surface's, of one unit); plots.spectrum's 260 cases took
4 min 16 s on one core, and all eight readers make a few thousand cases (an hour or more on one
core; `--jobs 2` sweeps two readers side by side): too slow for `make test`. `--only census
minratio` sweeps some readers.
"""
from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import shutil
import sys
import tempfile
import traceback
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import READER_FLAGS, cli  # noqa: E402

from engine.io.results import UsageError, load_summary, save_npz  # noqa: E402
from plots import schema  # noqa: E402


def array_damages(values, kind):
    """(name, damaged array) of the same shape: values of `kind` a reader must draw or refuse."""
    values = np.asarray(values)
    if kind == "numbers":
        floats = values.astype(float)
        yield "zeros", np.zeros_like(floats)
        yield "negative", -np.abs(floats) - 1.0
        yield "nan", np.full(values.shape, np.nan)
        if values.size:
            first = floats.copy()
            first.flat[0] = np.inf
            yield "inf at [0]", first
    elif kind == "integers":
        yield "zeros", np.zeros_like(values)
        yield "negative", -np.abs(values) - 1
    elif kind == "booleans":
        yield "all false", np.zeros(values.shape, bool)
        yield "all true", np.ones(values.shape, bool)
    else:
        yield "no class", np.full(values.shape, "zzz")


def leaves(value, path):
    """(path, value) of every list and every item that is no mapping, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
        return
    yield path, value
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from leaves(item, (*path, i))


def json_damages(value):
    if isinstance(value, bool):
        yield "flipped", not value
    elif isinstance(value, int | float):
        yield from (("0", type(value)(0)), ("-1", type(value)(-1)), ("nan", float("nan")),
                    ("inf", float("inf")))
    elif isinstance(value, str):
        yield "zzz", "zzz"
    elif isinstance(value, list):
        yield "[]", []


def _only_unit(name, meta, key):
    """surface draws every unit of its summary: the unit of a damaged array ("unit/name") or
    summary value ("summary.unit.…"), with its model's training path, alone draws the same figure
    in a tenth of the time."""
    unit = key.split("/")[0] if "/" in key else (
        key.split(".")[1] if key.startswith("summary.") and key.count(".") >= 2 else None)
    if name != "surface" or unit is None:
        return meta
    keep = {unit, unit.split("_")[0] + "_train"}
    meta = copy.deepcopy(meta)
    meta["summary"] = {k: v for k, v in meta["summary"].items()
                       if k in keep or not isinstance(v, dict)}
    return meta


def _draw(module, folder, arrays, meta, scratch) -> str | None:
    """None when render draws the damaged copy or refuses it in one line; else the fault."""
    case = Path(tempfile.mkdtemp(dir=scratch))
    try:
        (case / "r").mkdir()
        save_npz(case / "r" / "summary.npz", arrays)
        (case / "r" / "summary.json").write_text(json.dumps(meta))
        shutil.copy(folder / "config.json", case / "r" / "config.json")
        module.render(case / "r", case / "f")
        return None
    except UsageError:
        return None
    except Exception as err:  # the sweep's point: every other exception is a fault
        where = traceback.extract_tb(err.__traceback__)[-1]
        place = f"{Path(where.filename).name}:{where.lineno}"
        return f"{type(err).__name__}: {str(err)[:120]} ({place})"
    finally:
        plt.close("all")
        shutil.rmtree(case, ignore_errors=True)


def sweep(name, scratch) -> tuple[int, list[str]]:
    """(cases drawn or refused, faults) of one reader's sweep."""
    warnings.simplefilter("ignore")  # NaN met by arithmetic, a log axis without data: not faults
    folder = Path(tempfile.mkdtemp(dir=scratch)) / name
    with open(os.devnull, "w") as quiet, redirect_stdout(quiet), redirect_stderr(quiet):
        cli(f"experiments.{name}")(["--quick", *READER_FLAGS[name], "--out", folder,
                                    "--figures", folder.parent / "figures"])
    module = importlib.import_module(f"plots.{name}")
    arrays, meta = load_summary(folder, name)
    kinds = schema.check_results(folder, name, meta, arrays, module.SCHEMA)
    cases = [(f"array {key!r}: {tag}", arrays | {key: damaged}, _only_unit(name, meta, key))
             for key, kind in kinds.items() for tag, damaged in array_damages(arrays[key], kind)]
    for part in ("config", "summary"):
        for path, value in leaves(meta[part], (part,)):
            for tag, damaged in json_damages(value):
                edited = copy.deepcopy(meta)
                target = edited
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = damaged
                where = ".".join(map(str, path))
                cases.append((f"{where}: {tag}", arrays, _only_unit(name, edited, where)))
    faults = [f"plots.{name} {case}: {fault}"
              for case, damaged, edited in tqdm(cases, desc=f"plots.{name}", unit="case",
                                                mininterval=10)
              if (fault := _draw(module, folder, damaged, edited, scratch))]
    return len(cases) - len(faults), faults


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="tests/fuzz_readers.py", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--only", nargs="+", choices=sorted(READER_FLAGS), metavar="READER",
                        help=f"the readers to sweep (default: all of {sorted(READER_FLAGS)})")
    parser.add_argument("--jobs", type=int, default=1, help="readers swept side by side")
    args = parser.parse_args(argv)
    from joblib import Parallel, delayed

    names = args.only or sorted(READER_FLAGS)
    with tempfile.TemporaryDirectory(prefix="fuzz-readers-") as scratch:
        results = Parallel(n_jobs=args.jobs)(delayed(sweep)(name, scratch) for name in names)
    faults = [fault for _, found in results for fault in found]
    for name, (passed, found) in zip(names, results, strict=True):
        print(f"plots.{name}: {passed} cases drawn or refused in one line, {len(found)} faults")
    print("\n".join(faults))
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main())
