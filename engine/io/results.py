"""Results files: atomic writes, the resumable `Store` of one experiment, and reading them back.

This is the layer below both `experiments/` (which compute and save) and `plots/` (which only
read), so neither imports the other to share it.

Layout of a results folder (every file written atomically: a temporary file in the same folder,
then `os.replace`, with the permissions the user's umask gives a new file):
  .lock                    held (filelock) by the process computing into the folder
  .shard-I-of-K.lock       held instead by shard I/K of a job array (`--shard`), so the shards
                           of one configuration compute side by side
  config.json              {"experiment", "config", "versions"}: a folder holds one config only,
                           of one losslab version (versions: losslab, its git commit, libraries)
  runs/run_007.npz/.json   one finished unit of work; the .json is written last and marks it done
  summary.npz/.json        the aggregate arrays; {"experiment", "config", "summary", "versions"}

Errors: a file the user can fix by hand (a damaged config or summary, another experiment's
folder) raises `UsageError`, a one-line message naming the file and what to do. A damaged run
file (unreadable, or arrays other than those its run wrote) is not the user's business:
`Store.missing` reports it in one line and the run is computed again.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np

from engine.io.errors import DamagedFile, UsageError
from engine.io.files import (  # noqa: F401  (re-exported: the results API in one place)
    atomic_write,
    load_json,
    load_npz,
    save_json,
    save_npz,
    to_jsonable,
    versions,
)
from engine.io.folders import (
    busy_shards,
    check_output_folder,
    hold_folder,
    provenance,
    shard_lock_name,
)

# ----------------------------------------------------------------------------- result store
_MANIFEST = "__arrays__"  # in a run's .json: {name: [shape, dtype]} of the arrays its .npz holds
_WAIT = 0.2  # seconds between two looks at a folder another process holds


class Store:
    """The results folder out_dir of one experiment and one configuration (a dataclass or a
    dict; module docstring). required(run, info), if given, names the arrays a finished run
    must hold; a run whose .npz differs from what was written (keys, shapes, dtypes: the
    manifest its .json keeps) or lacks those is computed again (`missing`).

    The folder is claimed before any work: the lock `.lock` (engine.io.folders) is held from here
    to save_summary, and config.json is written under it. A second process meanwhile is refused
    in one line when its configuration (or losslab version) differs, and otherwise waits for
    the first and reuses its runs. Raises UsageError when out_dir cannot be written, its
    config.json is damaged, or it holds another experiment's, configuration's or losslab
    version's results. The configuration is compared by value (JSON-normalized, so 1e-3 and
    0.001, a tuple and a list are the same); the refusal names what differs. A folder claimed by
    a run that ended before saving anything, and held by nobody, is taken over (with a notice).
    """

    def __init__(self, out_dir, experiment: str, config, required=None, notice=None):
        self.out = check_output_folder(out_dir, "--out")
        self.experiment = experiment
        # required(run, info) → the arrays a finished run must hold; a run without them is
        # damaged (written by an older or interrupted version) and is computed again
        self.required = required
        self.notice = notice or (lambda text: print(text, file=sys.stderr))
        self._intact: set[int] = set()  # runs read back whole once: not read again
        self.config = to_jsonable(dataclasses.asdict(config) if dataclasses.is_dataclass(config)
                                  else config)
        self.release = self._claim()

    def _claim(self):
        import time

        saved = self._saved()
        if saved is not None and self._has_results():
            self._refuse_other(saved)  # a plain refusal writes nothing, not even the lock file
        waiting = False
        while (release := hold_folder(self.out, self)) is None:
            saved = self._saved()  # the holder writes config.json as soon as it holds the lock
            if saved is not None:
                self._refuse_other(saved, busy=True)
                if not waiting:
                    self.notice(f"{self.experiment}: another process is computing {self.out} "
                                "with the same configuration; waiting for it, then reusing "
                                "its runs")
                    waiting = True
            time.sleep(_WAIT)
        try:
            saved = self._saved()
            if saved is not None and not self._has_results() and busy_shards(self.out):
                self._refuse_other(saved, busy=True)  # shards of a job array compute in it now
            elif saved is not None and not self._has_results():
                if saved.get("config") != self.config:
                    self.notice(f"{self.experiment}: {self.out} was claimed by a run of another "
                                "configuration that saved nothing; it is reused for this one")
                saved = None
            if saved is None:
                save_json(self.out / "config.json", {"experiment": self.experiment,
                                                     "config": self.config,
                                                     "versions": versions()})
            else:
                self._refuse_other(saved)
        except BaseException:
            release()
            raise
        return release

    def share(self, shard: tuple[int, int]) -> None:
        """Compute as shard (I, K) of a job array beside the other shards: hold the shard's own
        lock (engine.io.folders) and let go of the folder's, which this Store claimed. A second
        process running the same shard waits for the first. The folder stays refused to another
        configuration while any shard lock is held."""
        import time

        waiting = False
        while (release := hold_folder(self.out, self, shard_lock_name(shard))) is None:
            if not waiting:
                self.notice(f"{self.experiment}: another process is computing shard "
                            f"{shard[0]}/{shard[1]} in {self.out}; waiting for it")
                waiting = True
            time.sleep(_WAIT)
        self.release()
        self.release = release

    def _saved(self) -> dict | None:
        path = self.out / "config.json"
        if not path.exists():
            return None
        try:
            return load_json(path)
        except DamagedFile as err:
            raise UsageError(f"{err}; delete {path} (finished runs are kept) or choose "
                             "another --out") from None

    def _has_results(self) -> bool:
        return (self.out / "summary.json").exists() or any((self.out / "runs").glob("*.json"))

    def _refuse_other(self, saved: dict, busy: bool = False) -> None:
        where = f"{self.out} (claimed by a process running now)" if busy else str(self.out)
        if saved.get("experiment") not in (None, self.experiment):
            raise UsageError(f"{where} holds results of {saved.get('experiment')!r}, not "
                             f"{self.experiment!r}; choose another --out")
        made_by = (saved.get("versions") or {}).get("losslab")
        if made_by != provenance()["losslab"]:
            raise UsageError(f"{where} was made by losslab {made_by or 'older than 0.1.0'}, this "
                             f"is {provenance()['losslab']}: its runs are not reused; choose "
                             "another --out or delete that folder")
        other = saved.get("config", {})
        if other == self.config:
            return
        other = other if isinstance(other, dict) else {}
        keys = sorted(set(other) | set(self.config))
        diff = ", ".join(f"{k}: {other.get(k)!r} there, {self.config.get(k)!r} now"
                         for k in keys if other.get(k) != self.config.get(k))
        raise UsageError(f"{where} holds results of another configuration ({diff}); choose "
                         "another --out or delete that folder")

    def _run_path(self, run: int) -> Path:
        return self.out / "runs" / f"run_{run:03d}"

    def done(self, run: int) -> bool:
        """Whether run's .json (written last) exists; `missing` also checks it can be read."""
        return self._run_path(run).with_suffix(".json").exists()

    def missing(self, runs, notice=None) -> list[int]:
        """The runs of `runs` to compute: not finished, or finished with files that cannot be
        read, whose arrays are not those written (other keys, shapes or dtypes than the .json's
        manifest) or lack what `required` names. Those are deleted, with a one-line notice passed
        to notice(text) (default: the Store's, printed on stderr). Cost: reads each done run once
        per Store."""
        notice = notice or self.notice
        todo = []
        for run in runs:
            if run in self._intact:
                continue
            if not self.done(run):
                todo.append(run)
                continue
            try:
                self._check_run(run)
                self._intact.add(run)
            except DamagedFile as err:
                notice(f"{self.experiment}: {err}; computing run {run} again")
                for suffix in (".json", ".npz"):  # the .json first: it marks the run finished
                    self._run_path(run).with_suffix(suffix).unlink(missing_ok=True)
                todo.append(run)
        return todo

    def _check_run(self, run: int) -> None:
        base = self._run_path(run)
        arrays, info = load_npz(base.with_suffix(".npz")), load_json(base.with_suffix(".json"))
        absent = [k for k in (self.required(run, info) if self.required else ())
                  if k not in arrays]
        if absent:
            raise DamagedFile(f"{base}.npz lacks the arrays {absent}")
        written = info.get(_MANIFEST)
        if not isinstance(written, dict):
            raise DamagedFile(f"{base}.json lacks the list of the arrays its run wrote")
        held = {k: [list(a.shape), a.dtype.str] for k, a in arrays.items()}
        absent = sorted(set(written) - set(held))
        extra = sorted(set(held) - set(written))
        other = sorted(k for k in set(held) & set(written) if held[k] != written[k])
        if absent:
            raise DamagedFile(f"{base}.npz lacks the arrays {absent}")
        if extra:
            raise DamagedFile(f"{base}.npz holds arrays its run did not write: {extra[:6]}")
        if other:
            k = other[0]
            raise DamagedFile(f"{base}.npz holds {k!r} of shape {tuple(held[k][0])} and dtype "
                              f"{held[k][1]}, written as {tuple(written[k][0])} {written[k][1]}")

    def save_run(self, run: int, arrays: dict, info: dict) -> None:
        """Save run's arrays (.npz) and then its info (.json, with the manifest of the arrays),
        which marks it finished."""
        base = self._run_path(run)
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        save_npz(base.with_suffix(".npz"), arrays)
        manifest = {k: [list(a.shape), a.dtype.str] for k, a in arrays.items()}
        save_json(base.with_suffix(".json"), {**info, _MANIFEST: manifest})  # last: marks done
        self._intact.add(run)

    def load_run(self, run: int) -> tuple[dict, dict]:
        """(arrays, info) of a saved run; DamagedFile naming the file if one cannot be read."""
        base = self._run_path(run)
        info = load_json(base.with_suffix(".json"))
        info.pop(_MANIFEST, None)
        return load_npz(base.with_suffix(".npz")), info

    def save_summary(self, arrays: dict, summary: dict) -> Path:
        """Save the aggregate arrays (summary.npz) and {experiment, config, summary, versions}
        (summary.json, written last); release the folder; return the folder, the argument of
        load_summary."""
        save_npz(self.out / "summary.npz", arrays)
        save_json(self.out / "summary.json", {"experiment": self.experiment, "config": self.config,
                                              "summary": summary, "versions": versions()})
        self.release()
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
