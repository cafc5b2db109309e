"""The command-line contract every `python -m experiments.…` and `python -m plots.…` keeps.

  bad input (UsageError, a bad flag)  one line `prog: error: what, where, what to do`, exit 2;
  internal failure (anything else)    one line `prog: internal error: …` naming a log file that
                                      holds the traceback, exit 1 (`--debug`: the traceback
                                      itself);
  Ctrl-C                              one line saying how to resume, exit 130;
  SIGTERM                             the same unwinding (worker processes ended), exit 143.
Bad input is checked before any work or write, so a refused command leaves nothing behind.
"""
from __future__ import annotations

import argparse
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
    previous = _on_sigterm()
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
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C: the same unwinding (joblib aborts its
    workers, the finished runs stay saved), where the default action kills the parent alone and
    leaves its worker processes running."""


def _terminate(signum, frame):
    raise Terminated()


def _on_sigterm():
    """Install _terminate for SIGTERM (main thread only: signal.signal's rule); the previous
    handler, or None when it could not be set."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _terminate)


def _one_line(err) -> str:
    return " ".join(str(err).split())


def _write_log(prog: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fd, name = tempfile.mkstemp(prefix=f"losslab-{prog}-{stamp}-", suffix=".log")
    with open(fd, "w") as fh:
        fh.write(traceback.format_exc())
    return Path(name)
