"""The command-line contract every `python -m experiments.…` and `python -m plots.…` keeps.

  bad input (UsageError, a bad flag)  one line `prog: error: what, where, what to do`, exit 2;
  internal failure (anything else)    one line `prog: internal error: …` naming a log file that
                                      holds the traceback, exit 1 (`--debug`: the traceback
                                      itself);
  Ctrl-C                              one line saying how to resume, exit 130;
  SIGTERM                             the same unwinding (worker processes ended), exit 143;
                                      a second Ctrl-C or SIGTERM waits for the unwinding.
Bad input is checked before any work or write, so a refused command leaves nothing behind.
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from engine.io.results import UsageError


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad or missing argument in one line (no usage block), exit 2."""

    def error(self, message):
        """Print `prog: error: message; see --help` on stderr and exit with code 2."""
        self.exit(2, f"{self.prog}: error: {message}; see --help\n")


def guarded(prog: str, action, *, debug: bool = False, resume_hint: str = "") -> None:
    """Run action() under the contract of the module docstring: UsageError → exit 2,
    KeyboardInterrupt → exit 130 with resume_hint, any other exception → exit 1 with the
    traceback in a log file. debug=True re-raises instead (except Ctrl-C). Returns None when
    action() does; otherwise exits (SystemExit)."""
    signals = _Signals()
    try:
        action()
    except Terminated:
        print(f"{prog}: terminated (SIGTERM){resume_hint}", file=sys.stderr)
        sys.exit(143)
    except UsageError as err:
        if debug:
            raise
        print(f"{prog}: error: {_one_line(err)}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted{resume_hint}", file=sys.stderr)
        sys.exit(130)
    except Exception as err:  # an internal failure: never disguised as bad input
        if debug:
            raise
        log = _write_log(prog)
        print(f"{prog}: internal error: {type(err).__name__}: {_one_line(err)[:300]} (traceback "
              f"in {log}; rerun with --debug to see it)", file=sys.stderr)
        sys.exit(1)
    finally:
        signals.restore()


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C: the same unwinding (joblib aborts its
    workers, the finished runs stay saved), where the default action kills the parent alone and
    leaves its worker processes running."""


class _Signals:
    """Ctrl-C and SIGTERM while `guarded` runs (main thread only: signal.signal's rule; SIGINT
    only where Python's own handler is set — a background job that ignores it keeps ignoring
    it). The first raises KeyboardInterrupt (Terminated for SIGTERM) and starts the unwinding:
    joblib ends its workers, the finished runs stay saved. Every later one is ignored until the
    process ends — a second Ctrl-C during the unwinding, or during the interpreter's exit after
    it (joblib's and loky's atexit handlers), killed the parent half-way (exit −2). The
    unwinding is bounded; `kill -9` still works."""

    def __init__(self):
        self.previous, self.signalled = {}, False
        if threading.current_thread() is not threading.main_thread():
            return
        self.previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._handle)
        ctrl_c = signal.getsignal(signal.SIGINT)
        # Python's own, or plots.startup's stand-in for it while the command imported (its work
        # is done): Python's own comes back after
        if ctrl_c is signal.default_int_handler or \
                getattr(ctrl_c, "raises_keyboard_interrupt", False):
            signal.signal(signal.SIGINT, self._handle)
            self.previous[signal.SIGINT] = signal.default_int_handler

    def _handle(self, signum, frame):
        self.signalled = True
        for other in self.previous:
            signal.signal(other, signal.SIG_IGN)
        raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def restore(self):
        """Put the previous handlers back, unless a signal came to a command-line run, which
        then ends; a REPL or notebook (its __main__ has no file) that catches the SystemExit
        gets them back and stays interruptible."""
        if not self.signalled or not hasattr(sys.modules["__main__"], "__file__"):
            for signum, handler in self.previous.items():
                signal.signal(signum, handler)


@contextlib.contextmanager
def starting_workers():
    """The block starts worker processes: Ctrl-C reaches the terminal's whole process group, and
    a loky or dask worker still importing took it itself and printed a KeyboardInterrupt
    traceback; dask's LocalCluster, interrupted as it started, failed its own close in an atexit
    traceback.

    So Ctrl-C is ignored while the block runs: the processes started inherit that disposition
    through exec and leave Ctrl-C to the parent for good. (A blocked mask would not do: it is
    per thread — dask's nanny spawns from its event-loop thread — and measured here, a child of
    multiprocessing's spawn started with no signal blocked.) A Ctrl-C in the block is lost — for
    joblib the spawning calls, for a LocalCluster its start, ≈ 3 s here — and the next one ends
    the run. SIGTERM (`kill PID`, the parent alone) is held and delivered as the block ends; a
    start that never ends is left to `kill -9`. Main thread only (elsewhere a plain block); a
    signal whose handler is not a Python function (SIG_IGN, SIG_DFL) is left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held, previous = [], {}
    try:
        # inside the try: a pending signal's handler runs as a swap is made, and may raise
        if callable(signal.getsignal(signal.SIGINT)):
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
        if callable(signal.getsignal(signal.SIGTERM)):
            previous[signal.SIGTERM] = signal.signal(signal.SIGTERM,
                                                     lambda signum, _: held.append(signum))
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])


def _one_line(err) -> str:
    return " ".join(str(err).split())


def _write_log(prog: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"losslab-{prog}-{stamp}-", suffix=".log")
    with open(fd, "w") as fh:
        fh.write(traceback.format_exc())
    return Path(name)
