"""Units of work in parallel: seeded, pure, computed anywhere, saved by the parent.

A unit is a pure function `fn(index) -> (arrays, info)` of module-level code and a small config
(`functools.partial(unit, config)`): it loads its data itself (experiments.harness.datasets caches
it per
worker process), computes, and *returns*; only the parent process writes, through the Store. So
no shared filesystem is needed, a rerun skips what is saved whatever ran it, and an interrupted
job loses only the units in flight.

Backends:
  loky   joblib's process pool on this machine (the default; --jobs workers)
  dask   a dask.distributed cluster (`pip install -e .[cluster]`): --scheduler ADDRESS, or a
         LocalCluster of --jobs single-threaded worker processes
--shard I/K keeps the units with index ≡ I (mod K), for a job array of K machines.
Every unit computes with one BLAS thread, in a worker or not: a BLAS product may sum in another
order with two threads, so the numbers would depend on --jobs; and two threads per worker on two
cores oversubscribe the machine (4× slower measured). A unit must also read only what it wrote:
scipy's C MINPACK read 8 bytes past a buffer, whatever that process's heap held there, and
minratio --task dlae ended its searches elsewhere under --jobs 2 (engine.critical.minpack pads
that away; tests/experiments/harness/test_parallel_determinism.py runs a unit in the parent and
in a worker with another heap and hash seed, and compares the bits).
"""
from __future__ import annotations

import logging
import multiprocessing
import re
import signal
import sys
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from engine.io.cli import starting_workers
from engine.io.results import UsageError

BACKENDS = ("loky", "dask")


@dataclass(frozen=True)
class RunOptions:
    """Where and how units run; none of it changes the numbers."""

    jobs: int = -1                  # worker processes; -1 = all cores (joblib.cpu_count)
    backend: str = "loky"           # 'loky' or 'dask'
    scheduler: str | None = None    # dask scheduler address; None = a LocalCluster
    shard: tuple[int, int] | None = None  # (I, K): only units ≡ I (mod K)


LOCAL = RunOptions()  # all cores of this machine, loky


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """'I/K' → (I, K) with 0 ≤ I < K; UsageError otherwise."""
    if text is None:
        return None
    try:
        i, k = (int(part) for part in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text}: give I/K with integers 0 ≤ I < K, e.g. 0/4") from None
    if not 0 <= i < k:
        raise UsageError(f"--shard {text}: give I/K with 0 ≤ I < K, e.g. 0/4")
    return i, k


_NO_DASK = "--backend dask needs dask.distributed: pip install -e '.[cluster]'"
_ADDRESS = re.compile(r"^(?:(tcp|tls|inproc|ucx)://)?(\[[0-9a-fA-F:.]+\]|[\w.-]+):(\d{1,5})$")


def check_backend(options: RunOptions) -> None:
    """UsageError, before anything is written, for --backend dask without dask.distributed, a
    --scheduler that is not an address `[tcp://]host:port`, or a tcp scheduler nobody answers
    at (a socket opened and closed at once: the run's Client connects later)."""
    if options.backend != "dask":
        return
    m = None if options.scheduler is None else _ADDRESS.match(options.scheduler.strip())
    if options.scheduler is not None and (not m or not 0 < int(m.group(3)) < 65536):
        # the flag's own form first: it needs no dask to be judged
        raise UsageError(f"--scheduler {options.scheduler!r} is not an address; give "
                         "tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786")
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise UsageError(_NO_DASK) from None
    if m is not None and m.group(1) in (None, "tcp"):
        import socket

        host = m.group(2).strip("[]")
        try:
            socket.create_connection((host, int(m.group(3))), timeout=10).close()
        except OSError as err:
            raise UsageError(f"--scheduler {options.scheduler}: no scheduler answers there "
                             f"({err.strerror or err}); start one (`dask scheduler`) or give "
                             "its address") from None


def run_seeds(seed: int, n_runs: int) -> list[np.random.SeedSequence]:
    """Independent streams: run r uses SeedSequence(seed).spawn(n_runs)[r]."""
    return np.random.SeedSequence(seed).spawn(n_runs)


def compute(store, fn, ids, options: RunOptions = LOCAL, desc: str = "runs"):
    """Compute fn(i) for the ids of this shard that `store` lacks, saving each result as it
    arrives. Returns the ids computed, or None when units of other shards are still missing."""
    ids = list(ids)
    mine = ids if options.shard is None else [i for i in ids if i % options.shard[1]
                                              == options.shard[0]]
    if options.shard is not None:
        store.share(options.shard)  # the shards of a job array compute side by side
    todo = store.missing(mine)
    if todo:
        for index, (arrays, info) in _results(fn, todo, options, desc):
            store.save_run(index, arrays, info)
    left = [i for i in ids if not store.done(i)]
    if left and options.shard is not None:
        print(f"{store.experiment}: shard {options.shard[0]}/{options.shard[1]} is saved in "
              f"{store.out}; {len(left)} units of other shards are missing: run them, then run "
              "once without --shard to build the summary", file=sys.stderr)
    return None if left else todo


def _results(fn, todo, options, desc):
    """(index, fn(index)) for each index of todo, in the order they finish, with a progress bar."""
    bar = tqdm(total=len(todo), desc=desc)
    try:
        if options.backend == "dask":
            yield from _dask(fn, todo, options, bar)
            return
        from joblib import Parallel, cpu_count, delayed

        workers = cpu_count() if options.jobs == -1 else options.jobs
        if workers == 1 or len(todo) == 1:
            for i in todo:
                yield i, _single_threaded(fn, i)
                bar.update()
            return
        _quiet_resource_tracker()
        parallel = Parallel(n_jobs=min(workers, len(todo)), return_as="generator_unordered")
        results = None
        try:
            # the call starts the workers and dispatches, then returns; a SIGTERM held meanwhile
            # is raised as the block ends, and the finally still closes what was started
            with starting_workers():
                results = parallel(delayed(_indexed)(fn, i) for i in todo)
            for i, result in results:
                yield i, result
                bar.update()
        finally:
            if results is not None:
                _close_quietly(results)
    finally:
        bar.close()


def _close_quietly(results):
    """Close joblib's result generator. Ctrl-C or SIGTERM while the parent saves a result (outside
    joblib's generator) closes it unfinished: joblib then ends the busy workers and warns that
    "N tasks … have been cancelled" — what the interrupt's one line already says. An internal
    error closes it the same way, its traceback saying the rest. Only that warning is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".* tasks .*(cancelled|not used)",
                                category=UserWarning)
        results.close()


# The resource tracker is a process of its own, started with this interpreter's -W options when
# the pool makes its first semaphore. When Ctrl-C or SIGTERM makes joblib end busy workers, the
# semaphores they held are left to it; it unlinks them — the cleanup works — and warns about
# each, two lines after the one-line message of the interrupt. Only that warning is silenced.
_TRACKER_WARNING = "ignore:resource_tracker:UserWarning"


def _quiet_resource_tracker():
    if _TRACKER_WARNING not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_WARNING)


def _indexed(fn, index):
    _leave_ctrl_c_to_the_parent()
    return index, _single_threaded(fn, index)


def _leave_ctrl_c_to_the_parent():
    # in a worker process (loky's or a dask worker): Ctrl-C reaches the terminal's whole process
    # group, and the parent, not each worker, answers it (joblib ends its workers, the parent
    # closes the cluster); a worker interrupted itself printed a traceback of its own and left
    # semaphores to the resource tracker's warnings. A serial run (the parent) keeps Ctrl-C.
    if threading.current_thread() is threading.main_thread() and \
            multiprocessing.parent_process() is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _single_threaded(fn, index):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return fn(index)


def _dask(fn, todo, options, bar):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise UsageError(_NO_DASK) from None
    cluster = client = None
    try:
        if options.scheduler:
            client = Client(options.scheduler)
        else:
            from joblib import cpu_count

            workers = cpu_count() if options.jobs == -1 else options.jobs
            with starting_workers():
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, preload=[__name__])
                client = Client(cluster)
        # pure=False: a unit is computed once per submission; retries cover lost workers
        futures = client.map(_indexed, [fn] * len(todo), todo, pure=False, retries=2)
        for future in as_completed(futures):
            yield future.result()
            bar.update()
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def dask_setup(worker):
    """The preload of each worker process of a LocalCluster, run as it starts (and restarts).
    Ctrl-C reaches the terminal's whole process group; the parent answers it and closes the
    cluster. A worker that took it itself printed a KeyboardInterrupt traceback of its own. The
    tasks an interrupt cancels were each logged as a warning after the parent's one line: that
    message alone is filtered out (the nanny's and the memory warnings still print)."""
    _leave_ctrl_c_to_the_parent()
    logging.getLogger("distributed.worker.state_machine").addFilter(_not_a_cancelled_task)


def _not_a_cancelled_task(record):
    return "ended with CancelledError" not in record.getMessage()
