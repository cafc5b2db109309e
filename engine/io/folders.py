"""Output folders: checked before any work, and claimed by one process for its whole run.

  check_output_folder(path, flag)  UsageError when `path` is empty, is (or lies under) a file, or
                                   cannot be written: the folder a command will write, checked
                                   before the command computes anything.
  hold_folder(path, owner, name)   the lock `path/.lock` (filelock, one `flock` per process):
                                   acquired by a Store for the whole run, so two processes never
                                   compute into one folder unseen by each other; a shard of a
                                   job array holds `path/.shard-I-of-K.lock` instead, once it
                                   has claimed the folder, so the shards compute side by side.
  busy_shards(path)                the shard locks of `path` some process holds now.
  provenance()                     losslab's version and the git commit of this checkout.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import weakref
from functools import lru_cache
from pathlib import Path

from engine.io.errors import UsageError
from engine.io.version import __version__

_LOCK_NAME = ".lock"


def check_output_folder(path, flag: str) -> Path:
    """Path(path) when a command can create and write files there; UsageError naming `flag`
    when path is '' (it would mean the current folder, written by mistake), is a file, lies under
    a file, or its nearest existing folder refuses a new file (read-only, no permission). Writes
    nothing but a probe file that it deletes at once. Returns the path. UsageError too when path
    is not a str or os.PathLike (None would become a folder named 'None')."""
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"{flag} (path={path!r}) is not a folder name; give a str or Path")
    if str(path).strip() == "":
        raise UsageError(f"{flag} is empty; give a folder name (it is created if missing)")
    path = Path(path)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        where = "is a file" if existing == path else f"lies under {existing}, a file"
        raise UsageError(f"{flag} {path} {where}, not a folder; choose another {flag}")
    # os.access says yes to root on a read-only mount: a probe file says what a write does
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".losslab-probe-")
    except OSError as err:
        raise UsageError(f"{flag} {path}: cannot write in {existing} ({err.strerror or err}); "
                         f"choose another {flag} or fix its permissions") from None
    os.close(fd)
    os.unlink(probe)
    return path


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once (one thread touches it here)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# one FileLock per folder and process: flock locks of two descriptors of one process exclude
# each other, so a second Store of the same folder in this process must reuse (re-enter) it
_LOCKS: dict[Path, object] = {}
_GUARD = threading.Lock()


def hold_folder(path, owner, name: str = _LOCK_NAME) -> weakref.finalize | None:
    """Try to take the lock `name` (default `.lock`, the folder's) of folder `path` (created if
    missing) for `owner` without waiting (re-entrant within this process). Returns the release:
    a call releases it once, and so does the garbage collection of `owner` (or the end of the
    process); None when another process holds the lock."""
    from filelock import FileLock, Timeout

    path = Path(path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    with _GUARD:
        lock = _LOCKS.get(path / name)
        if lock is None:
            # thread_local=False: the release may come from the garbage collector's thread
            # the mode the umask gives a new file, as for every file losslab writes: filelock 3.12
            # (the floor) made the lock file 0o644 whatever the umask
            lock = _LOCKS[path / name] = FileLock(str(path / name), thread_local=False,
                                                  mode=0o666 & ~_umask())
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return None
    return weakref.finalize(owner, lock.release)


def shard_lock_name(shard: tuple[int, int]) -> str:
    """The lock file a shard (I, K) holds while it computes: `.shard-I-of-K.lock`."""
    return f".shard-{shard[0]}-of-{shard[1]}.lock"


def busy_shards(path) -> list[str]:
    """The names of the shard locks in folder `path` that another process holds now (each tried
    without waiting, and let go at once when free)."""
    from filelock import FileLock, Timeout

    busy = []
    for lock_path in sorted(Path(path).glob(".shard-*-of-*.lock")):
        with _GUARD:
            held_here = lock_path.resolve() in _LOCKS and _LOCKS[lock_path.resolve()].is_locked
        if held_here:
            busy.append(lock_path.name)
            continue
        try:
            with FileLock(str(lock_path), timeout=0, thread_local=False):
                pass
        except Timeout:
            busy.append(lock_path.name)
    return busy


@lru_cache(maxsize=1)
def provenance() -> dict:
    """{'losslab': version, 'commit': git commit of this checkout (+ '-dirty' when files differ
    from it) or None outside a git checkout}: which code made a results file."""
    root = Path(__file__).resolve().parents[2]
    commit = None
    if (root / ".git").exists():
        try:
            def git(*args):
                return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                      text=True, timeout=10, check=True).stdout.strip()

            commit = git("rev-parse", "HEAD")
            if git("status", "--porcelain", "--untracked-files=no"):
                commit += "-dirty"
        except (OSError, subprocess.SubprocessError):
            commit = None
    return {"losslab": __version__, "commit": commit}
