"""Results files: atomic writes, the resumable `Store` of one experiment, and reading them back.

This is the layer below both `experiments/` (which compute and save) and `plots/` (which only
read), so neither imports the other to share it.

Layout of a results folder (every file written atomically: a temporary file in the same folder,
then `os.replace`, with the permissions the user's umask gives a new file):
  config.json              {"experiment", "config", "versions"}: a folder holds one config only
  runs/run_007.npz/.json   one finished unit of work; the .json is written last and marks it done
  summary.npz/.json        the aggregate arrays; {"experiment", "config", "summary", "versions"}

Errors: a file the user can fix by hand (a damaged config or summary, another experiment's
folder) raises `UsageError`, a one-line message naming the file and what to do. A damaged run
file is not the user's business: `Store.missing` reports it in one line and the run is
computed again.
"""
from __future__ import annotations

import dataclasses
import io
import json
import os
import platform
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np


class UsageError(ValueError):
    """Bad input from the user — a flag, a file, a shape, a folder. Command lines print its
    message as one line and exit with code 2; anything else is an internal failure."""


# ----------------------------------------------------------------------------- atomic files
def to_jsonable(obj):
    """obj as plain JSON values: tuples and arrays → lists, NumPy scalars → Python, NaN/inf →
    None (standard JSON has neither), dict keys → str; anything else unchanged."""
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


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once (one thread touches it here)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path, data: bytes) -> Path:
    """Write bytes to path through a temporary file in the same folder and os.replace, so a
    reader never sees half a file. The file gets mode 0o666 & ~umask, as open() would give it
    (mkstemp alone leaves 0o600: unreadable to others on a shared machine). Raises OSError
    when the folder cannot be written, leaving no temporary file behind. Cost: one fsync."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_json(path, obj) -> Path:
    """Write obj (to_jsonable first; indented, standard JSON) to path atomically; return path.
    Raises TypeError if obj holds something JSON cannot represent."""
    text = json.dumps(to_jsonable(obj), indent=1, allow_nan=False) + "\n"
    return atomic_write(path, text.encode())


def save_npz(path, arrays: dict) -> Path:
    """Write {name: array} as a compressed .npz at path atomically; return path. load_npz reads
    it back (numeric arrays only: it refuses pickled object arrays)."""
    buf = io.BytesIO()
    np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write(path, buf.getvalue())


class DamagedFile(UsageError):
    """A results file that exists but cannot be read as what it should be."""


def load_json(path) -> dict:
    """The JSON object in path; DamagedFile naming the file when it is not one."""
    path = Path(path)
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DamagedFile(f"{path} cannot be read as JSON ({_reason(err)})") from None
    if not isinstance(value, dict):
        raise DamagedFile(f"{path} holds a JSON {type(value).__name__}, not an object")
    return value


def load_npz(path, keys=()) -> dict:
    """The arrays in an .npz file (no pickles); DamagedFile naming the file when it is truncated,
    not an .npz, or lacks one of `keys`."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, KeyError) as err:
        raise DamagedFile(f"{path} cannot be read as .npz arrays ({_reason(err)})") from None
    absent = [k for k in keys if k not in arrays]
    if absent:
        raise DamagedFile(f"{path} lacks the arrays {absent}")
    return arrays


def _reason(err) -> str:
    return f"{type(err).__name__}: {err}".splitlines()[0][:160]


def versions() -> dict:
    """{'python', 'numpy', 'scipy', 'autograd', 'scikit-learn', 'matplotlib'} → the installed
    version strings (importlib.metadata): what computed the numbers, saved with them."""
    from importlib.metadata import version

    return {"python": platform.python_version(), "numpy": np.__version__,
            **{name: version(name) for name in ("scipy", "autograd", "scikit-learn",
                                                "matplotlib")}}


# ----------------------------------------------------------------------------- result store
class Store:
    """The results folder out_dir of one experiment and one configuration (a dataclass or a
    dict; module docstring). required(run, info), if given, names the arrays a finished run
    must hold: a run without them is computed again (`missing`).

    Raises UsageError when out_dir is a file, its config.json is damaged, or it holds another
    experiment's or configuration's results. The configuration is compared by value
    (JSON-normalized, so 1e-3 and 0.001, a tuple and a list are the same); the refusal names
    what differs. The folder is claimed (config.json written) only with its first result, so a
    command refused before any work leaves nothing that would block the corrected command.
    """

    def __init__(self, out_dir, experiment: str, config, required=None):
        self.out = Path(out_dir)
        self.experiment = experiment
        # required(run, info) → the arrays a finished run must hold; a run without them is
        # damaged (written by an older or interrupted version) and is computed again
        self.required = required
        self._intact: set[int] = set()  # runs read back whole once: not read again
        self.config = to_jsonable(dataclasses.asdict(config) if dataclasses.is_dataclass(config)
                                  else config)
        path = self.out / "config.json"
        if self.out.exists() and not self.out.is_dir():
            raise UsageError(f"--out {self.out} is a file, not a folder; choose another --out")
        if path.exists():
            try:
                saved = load_json(path)
            except DamagedFile as err:
                raise UsageError(f"{err}; delete {path} (finished runs are kept) or choose "
                                 "another --out") from None
            if saved.get("experiment") not in (None, experiment):
                raise UsageError(f"{self.out} holds results of {saved.get('experiment')!r}, not "
                                 f"{experiment!r}; choose another --out")
            self._refuse_other(saved.get("config", {}))

    def _refuse_other(self, saved: dict) -> None:
        if saved == self.config:
            return
        keys = sorted(set(saved) | set(self.config))
        diff = ", ".join(f"{k}: {saved.get(k)!r} there, {self.config.get(k)!r} now"
                         for k in keys if saved.get(k) != self.config.get(k))
        raise UsageError(f"{self.out} holds results of another configuration ({diff}); choose "
                         "another --out or delete that folder")

    def _claim(self) -> None:
        path = self.out / "config.json"
        if not path.exists():
            save_json(path, {"experiment": self.experiment, "config": self.config,
                             "versions": versions()})

    def _run_path(self, run: int) -> Path:
        return self.out / "runs" / f"run_{run:03d}"

    def done(self, run: int) -> bool:
        """Whether run's .json (written last) exists; `missing` also checks it can be read."""
        return self._run_path(run).with_suffix(".json").exists()

    def missing(self, runs, notice=None) -> list[int]:
        """The runs of `runs` to compute: not finished, or finished with files that cannot be
        read or lack what `required` names (those are deleted, with a one-line notice passed
        to notice(text), by default printed on stderr). Cost: reads each done run once per
        Store."""
        notice = notice or (lambda text: print(text, file=sys.stderr))
        todo = []
        for run in runs:
            if run in self._intact:
                continue
            if not self.done(run):
                todo.append(run)
                continue
            try:
                arrays, info = self.load_run(run)
                absent = [k for k in (self.required(run, info) if self.required else ())
                          if k not in arrays]
                if absent:
                    raise DamagedFile(f"{self._run_path(run)}.npz lacks the arrays {absent}")
                self._intact.add(run)
            except DamagedFile as err:
                notice(f"{self.experiment}: {err}; computing run {run} again")
                for suffix in (".json", ".npz"):  # the .json first: it marks the run finished
                    self._run_path(run).with_suffix(suffix).unlink(missing_ok=True)
                todo.append(run)
        return todo

    def save_run(self, run: int, arrays: dict, info: dict) -> None:
        """Save run's arrays (.npz) and then its info (.json), which marks it finished; the first
        result also claims the folder (config.json)."""
        self._claim()
        base = self._run_path(run)
        save_npz(base.with_suffix(".npz"), arrays)
        save_json(base.with_suffix(".json"), info)  # last: marks the run finished
        self._intact.add(run)

    def load_run(self, run: int) -> tuple[dict, dict]:
        """(arrays, info) of a saved run; DamagedFile naming the file if one cannot be read."""
        base = self._run_path(run)
        return load_npz(base.with_suffix(".npz")), load_json(base.with_suffix(".json"))

    def save_summary(self, arrays: dict, summary: dict) -> Path:
        """Save the aggregate arrays (summary.npz) and {experiment, config, summary, versions}
        (summary.json, written last); return the folder, the argument of load_summary."""
        self._claim()
        save_npz(self.out / "summary.npz", arrays)
        save_json(self.out / "summary.json", {"experiment": self.experiment, "config": self.config,
                                              "summary": summary, "versions": versions()})
        return self.out


def load_summary(results_dir, experiment: str | None = None) -> tuple[dict, dict]:
    """(arrays, meta) of a finished experiment. UsageError when the folder holds no finished
    results, damaged ones, or another experiment's results than `experiment` (when given)."""
    results_dir = Path(results_dir)
    npz, meta_path = results_dir / "summary.npz", results_dir / "summary.json"
    if not (npz.is_file() and meta_path.is_file()):
        what = f"python -m experiments.{experiment or '<name>'} --out {results_dir}"
        raise UsageError(f"{results_dir} holds no finished results (summary.npz and "
                         f"summary.json); run the experiment first: {what}")
    rerun = f"; run python -m experiments.{experiment or '<name>'} into it again"
    try:
        meta = load_json(meta_path)
        arrays = load_npz(npz)
    except DamagedFile as err:
        raise UsageError(f"{err}{rerun}") from None
    absent = [k for k in ("experiment", "config", "summary") if not isinstance(
        meta.get(k), str if k == "experiment" else dict)]
    if absent:
        raise UsageError(f"{meta_path} lacks {absent}{rerun}")
    if experiment is not None and meta["experiment"] != experiment:
        raise UsageError(f"{results_dir} holds results of {meta['experiment']!r}, not of "
                         f"{experiment}; give a folder written by python -m experiments."
                         f"{experiment}")
    return arrays, meta
