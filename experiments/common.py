"""What every experiment shares: Config → CLI, atomic resumable result files, parallel seeded runs.

An experiment module defines
  * `Config`, a frozen dataclass: one field per setting, each default on its own line with a
    comment saying why (the comment is also the flag's --help text), a `quick()` classmethod (the
    tiny preset the tests use) and a `validate()` method raising ValueError on bad values;
  * `run(config, out_dir, jobs) -> Path`, which computes and saves results;
  * `render` (in plots/<name>.py), which draws figures from the saved files only.
`main(Config, run, render)` wires them into `python -m experiments.<name>`.

Results layout in `out_dir` (written atomically: temporary file, then os.replace):
  config.json              {"experiment", "config", "versions"} — a folder holds one config only
  runs/run_007.npz/.json   one finished run; the .json is written last and marks it finished
  summary.npz/.json        the aggregate arrays, and {"experiment", "config", "summary", "versions"}
Reproducibility: run r draws from SeedSequence(seed).spawn(n_runs)[r], whatever worker runs it,
so the numbers do not depend on --jobs.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import io
import json
import os
import platform
import re
import sys
import tempfile
import typing
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm


# ----------------------------------------------------------------------------- CLI from a Config
def field_help(config_cls) -> dict[str, str]:
    """The trailing comment of each field line in the Config's source: one text for readers and
    --help."""
    try:
        source = inspect.getsource(config_cls)
    except (OSError, TypeError):
        return {}
    pattern = re.compile(r"^\s+(\w+)\s*:[^=#]+=[^#]*#\s*(.+)$")
    # argparse %-formats help strings: a literal % in a comment must reach it as %%
    return {m.group(1): m.group(2).strip().replace("%", "%%")
            for m in map(pattern.match, source.splitlines()) if m}


class _OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line (no usage block) and exits with code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _flag_kwargs(tp, default):
    origin = typing.get_origin(tp)
    if origin is tuple:
        (elem, *_rest) = typing.get_args(tp)
        return {"type": elem, "nargs": "+", "metavar": elem.__name__.upper()}
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    return {"type": tp, "metavar": tp.__name__.upper()}


def build_parser(config_cls, prog: str, description: str = "") -> argparse.ArgumentParser:
    parser = _OneLineParser(prog=prog, description=description,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    hints = typing.get_type_hints(config_cls)
    helps = field_help(config_cls)
    defaults = config_cls()
    for f in dataclasses.fields(config_cls):
        default = getattr(defaults, f.name)
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None,
                            help=f"{helps.get(f.name, '')} (default: {shown})",
                            **_flag_kwargs(hints[f.name], default))
    parser.add_argument("--quick", action="store_true",
                        help="start from the tiny preset the tests use (other flags still apply)")
    parser.add_argument("--out", type=Path, default=Path("results") / prog.split(".")[-1],
                        help="results folder (default: %(default)s)")
    parser.add_argument("--figures", type=Path, default=Path("figures"),
                        help="where figures are written (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=-1,
                        help="parallel worker processes, -1 = all cores (default: %(default)s)")
    return parser


def parse_config(config_cls, argv=None, prog="experiment", description=""):
    """(Config, options) from the command line; ValueError on values Config.validate rejects."""
    opts = build_parser(config_cls, prog, description).parse_args(argv)
    base = config_cls.quick() if opts.quick else config_cls()
    hints = typing.get_type_hints(config_cls)
    changes = {}
    for f in dataclasses.fields(config_cls):
        value = getattr(opts, f.name)
        if value is not None:
            changes[f.name] = tuple(value) if typing.get_origin(hints[f.name]) is tuple else value
    config = dataclasses.replace(base, **changes)
    config.validate()
    if opts.jobs == 0 or opts.jobs < -1:
        raise ValueError(f"--jobs {opts.jobs}: give a positive number of workers, or -1 for all "
                         "cores")
    return config, opts


def main(config_cls, run, render, argv=None, prog=None, description=""):
    """`python -m experiments.<name>`: parse, run (resuming), render; bad input → one line on
    stderr, exit code 2."""
    prog = prog or "experiment"
    out = None
    try:
        config, opts = parse_config(config_cls, argv, prog, description)
        out = run(config, out_dir=opts.out, jobs=opts.jobs)
        for path in render(out, figures_dir=opts.figures):
            print(path)
    except (ValueError, OSError) as err:
        if os.environ.get("LOSSLAB_DEBUG"):
            raise
        _fail(prog, err)
    except KeyboardInterrupt:
        where = f" in {out}" if out else ""
        sys.exit(f"{prog}: interrupted; finished runs are saved{where}: rerun the same command "
                 "to resume")


def _fail(prog, err):
    """One line on stderr and exit code 2, argparse's code for bad input (sys.exit(text): 1)."""
    print(f"{prog}: error: {err}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------- atomic files
def to_jsonable(obj):
    """Plain JSON values: tuples → lists, NumPy scalars → Python, NaN/inf → None (standard JSON)."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if np.isfinite(obj) else None
    return obj


def atomic_write(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_json(path, obj) -> None:
    atomic_write(path, (json.dumps(to_jsonable(obj), indent=1, allow_nan=False) + "\n").encode())


def load_json(path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def save_npz(path, arrays: dict) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    atomic_write(path, buf.getvalue())


def load_npz(path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def versions() -> dict:
    from importlib.metadata import version

    import autograd  # noqa: F401  (versions of what computed the numbers)
    import matplotlib
    import scipy
    import sklearn
    return {"python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__,
            "autograd": version("autograd"), "scikit-learn": sklearn.__version__,
            "matplotlib": matplotlib.__version__}


# ----------------------------------------------------------------------------- result store
class Store:
    """The results folder of one experiment and one config (see the module docstring)."""

    def __init__(self, out_dir, experiment: str, config):
        self.out = Path(out_dir)
        self.experiment = experiment
        self.config = to_jsonable(dataclasses.asdict(config))
        path = self.out / "config.json"
        if path.exists():
            saved = load_json(path).get("config", {})
            if saved != self.config:
                keys = sorted(set(saved) | set(self.config))
                diff = ", ".join(f"{k}: {saved.get(k)!r} there, {self.config.get(k)!r} now"
                                 for k in keys if saved.get(k) != self.config.get(k))
                raise ValueError(f"{self.out} holds results of another configuration ({diff}); "
                                 "choose another --out or delete that folder")

    def _claim(self) -> None:
        # config.json is written with the first result, not before: a run that fails at once
        # (missing data, say) leaves no folder that a corrected command would be refused.
        path = self.out / "config.json"
        if not path.exists():
            save_json(path, {"experiment": self.experiment, "config": self.config,
                             "versions": versions()})

    def _run_path(self, run: int) -> Path:
        return self.out / "runs" / f"run_{run:03d}"

    def done(self, run: int) -> bool:
        return self._run_path(run).with_suffix(".json").exists()

    def save_run(self, run: int, arrays: dict, info: dict) -> None:
        self._claim()
        base = self._run_path(run)
        save_npz(base.with_suffix(".npz"), arrays)
        save_json(base.with_suffix(".json"), info)  # last: marks the run finished

    def load_run(self, run: int) -> tuple[dict, dict]:
        base = self._run_path(run)
        return load_npz(base.with_suffix(".npz")), load_json(base.with_suffix(".json"))

    def save_summary(self, arrays: dict, summary: dict) -> Path:
        self._claim()
        save_npz(self.out / "summary.npz", arrays)
        save_json(self.out / "summary.json", {"experiment": self.experiment, "config": self.config,
                                              "summary": summary, "versions": versions()})
        return self.out


def load_summary(results_dir, experiment: str | None = None) -> tuple[dict, dict]:
    """(arrays, meta) of a finished experiment; ValueError when the folder holds none, or holds
    another experiment's results than `experiment` (when given)."""
    results_dir = Path(results_dir)
    npz, meta = results_dir / "summary.npz", results_dir / "summary.json"
    if not (npz.exists() and meta.exists()):
        raise ValueError(f"{results_dir} holds no finished results (summary.npz and summary.json); "
                         "run the experiment first, e.g. python -m experiments.<name> --out "
                         f"{results_dir}")
    arrays, meta = load_npz(npz), load_json(meta)
    if experiment is not None and meta.get("experiment") != experiment:
        raise ValueError(f"{results_dir} holds results of {meta.get('experiment')!r}, not of "
                         f"{experiment}; give a folder written by python -m experiments."
                         f"{experiment}")
    return arrays, meta


# ----------------------------------------------------------------------------- data
def image_dataset_name(dataset: str, data_root: str) -> str:
    """--dataset as given; '' means MNIST when --data-root holds its files, else digits."""
    from engine.data import default_image_dataset

    return dataset or default_image_dataset(data_root or None)


def load_data(name: str, data_root: str = "", n_train: int = 0):
    """The named dataset with the loaders' fixed split and subset (default_rng(0)), so every
    experiment and every run trains on the same samples whatever its seed."""
    from engine.data import load_dataset

    return load_dataset(name, root=data_root or None, n_train=n_train or None,
                        rng=np.random.default_rng(0))


# ----------------------------------------------------------------------------- parallel runs
def run_seeds(seed: int, n_runs: int) -> list[np.random.SeedSequence]:
    """Independent streams: run r uses SeedSequence(seed).spawn(n_runs)[r]."""
    return np.random.SeedSequence(seed).spawn(n_runs)


def _single_threaded(fn, run):
    # Two BLAS threads per worker on two cores oversubscribe the machine: 4× slower measured.
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1):
        return fn(run)


def run_all(fn, run_ids, jobs: int = -1, desc: str = "runs") -> list:
    """[fn(r) for r in run_ids], in joblib worker processes when jobs ≠ 1, with a progress bar.

    Every run computes with one BLAS thread, in a worker or not: a BLAS product may sum in another
    order with two threads, and runs that amplify rounding (a diverging finder) would then give
    other numbers for another --jobs.
    """
    run_ids = list(run_ids)
    n_workers = os.cpu_count() if jobs == -1 else jobs
    if n_workers == 1 or len(run_ids) <= 1:
        return [_single_threaded(fn, r) for r in tqdm(run_ids, desc=desc, disable=not run_ids)]
    from joblib import Parallel, delayed
    parallel = Parallel(n_jobs=min(n_workers, len(run_ids)), return_as="generator")
    results = parallel(delayed(_single_threaded)(fn, r) for r in run_ids)
    return list(tqdm(results, total=len(run_ids), desc=desc))
