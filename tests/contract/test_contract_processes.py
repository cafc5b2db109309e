"""Issue 20: SIGTERM and Ctrl-C of a run with --jobs 2 end every worker process and print one
line, also when a second one follows during the unwinding; the finished runs stay saved."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ignores_sigint(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            mask = next(line for line in fh if line.startswith("SigIgn:")).split()[1]
    except (OSError, StopIteration):
        return False
    return bool(int(mask, 16) >> (signal.SIGINT - 1) & 1)


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process tree from /proc")
@pytest.mark.parametrize("sig, code, word, again, backend", [
    (signal.SIGTERM, 143, "terminated", None, "loky"),
    (signal.SIGINT, 130, "interrupted", None, "loky"),
    # a second Ctrl-C (or kill) while the first unwinds: it used to kill the parent half-way,
    # exit −2; now it waits for the unwinding
    (signal.SIGINT, 130, "interrupted", signal.SIGINT, "loky"),
    (signal.SIGTERM, 143, "terminated", signal.SIGTERM, "loky"),
    # a LocalCluster's workers took Ctrl-C themselves (a traceback each) and logged the
    # cancelled tasks after the one line
    (signal.SIGINT, 130, "interrupted", None, "dask"),
    (signal.SIGTERM, 143, "terminated", None, "dask")])
def test_a_signal_ends_every_worker_and_prints_one_line(sig, code, word, again, backend,
                                                        tmp_path):
    if backend == "dask":
        pytest.importorskip("dask.distributed")
    # units that outlast the signal whatever the machine's speed: no plateau or target ends them
    # early (the stop rule would end the quick fits within a second), only the caps
    argv = [sys.executable, "-m", "experiments.deepshallow", "--quick", "--jobs", "2", "--seeds",
            "6", "--function-max-iters", "1000000", "--stop-rel-tol", "1e-12", "--task-target",
            "1e-12", "--task-max-epochs", "100000", "--out", str(tmp_path / "r"), "--figures",
            str(tmp_path / "f"), "--backend", backend]
    # a session of its own: Ctrl-C goes to a terminal's whole process group, as here
    # and Ctrl-C's default action: a shell starts a background job (`pytest … &`) with SIGINT
    # ignored, and a run that inherits SIG_IGN keeps ignoring it by design (engine.io.cli)
    run = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True,
                           start_new_session=True, preexec_fn=_default_sigint)
    for _ in range(1200):  # the workers started
        time.sleep(0.1)
        if len(_descendants(run.pid)) >= 2 or run.poll() is not None:
            break
    # Ctrl-C is ignored while the workers start (engine.io.cli.starting_workers; a dask
    # cluster's start took 3 s here, longer on a busy machine): wait for the parent to take it
    for _ in range(1200):
        if not _ignores_sigint(run.pid) or run.poll() is not None:
            break
        time.sleep(0.1)
    time.sleep(4)  # and busy with their units
    workers = _descendants(run.pid)
    assert workers, "no worker processes to end"
    assert run.poll() is None, "the run ended before the signal: give it longer units"
    for signum in (sig, again):
        if signum == signal.SIGINT:
            os.killpg(run.pid, signum)
        elif signum == signal.SIGTERM:
            os.kill(run.pid, signum)  # `kill PID`: the parent only
        time.sleep(0.3)
    try:
        assert run.wait(timeout=120) == code
        err = run.stderr.read()
        deadline = time.time() + 30
        while any(map(_alive, workers)) and time.time() < deadline:
            time.sleep(0.2)
        assert not [w for w in workers if _alive(w)]
        lines = [line for line in err.replace("\r", "\n").splitlines()
                 if line.strip() and "%|" not in line and "it/s]" not in line]
        assert len(lines) == 1 and word in lines[0] and "rerun" in lines[0], err[-2000:]
    finally:
        for pid in [run.pid, *workers]:  # only what this test started
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("has_file, restored", [(True, False), (False, True)])
def test_after_a_signal_a_command_line_run_ignores_the_next_a_repl_gets_its_handler_back(
        monkeypatch, has_file, restored):
    from types import ModuleType

    from engine.io.cli import _Signals

    main = ModuleType("__main__")
    if has_file:
        main.__file__ = "/x/run.py"
    monkeypatch.setitem(sys.modules, "__main__", main)
    inherited = signal.getsignal(signal.SIGINT)
    # Python's own handler, as an interactive session has it (pytest started as a background
    # job inherits SIGINT ignored, and Python then installs none)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        signals = _Signals()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs at the next bytecode
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN  # during the unwinding
        signals.restore()
        now = {s: signal.getsignal(s) for s in before}
        assert (now == before) == restored
        if not restored:
            assert set(now.values()) == {signal.SIG_IGN}
    finally:
        for signum, handler in (before | {signal.SIGINT: inherited}).items():
            signal.signal(signum, handler)


def test_while_workers_start_sigterm_is_held_and_ctrl_c_ignored():
    from engine.io.cli import starting_workers

    got = []
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, _: got.append(signum))
    try:
        with starting_workers():
            # what a process started now inherits through exec: Ctrl-C ignored
            assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
            signal.raise_signal(signal.SIGTERM)
            time.sleep(0.1)
            assert got == []
        assert got == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _loaded(pid, library):
    try:
        with open(f"/proc/{pid}/maps") as fh:
            return library in fh.read()
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads the process's libraries from /proc")
@pytest.mark.parametrize("module, args", [
    ("experiments.minratio", ["--quick", "--jobs", "1", "--out", "r", "--figures", "f"]),
    ("plots.minratio", ["r", "--figures", "f"])])
def test_ctrl_c_while_the_command_imports_is_one_line(module, args, tmp_path):
    """A Ctrl-C in a command's first second, while it imports NumPy, SciPy and autograd (and
    matplotlib for plots.…), printed Python's KeyboardInterrupt traceback (plots.startup)."""
    run = subprocess.Popen([sys.executable, "-m", module, *args], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE,
                           text=True, start_new_session=True, preexec_fn=_default_sigint)
    try:
        # NumPy's core loaded: the packages' faces ran, and about a second of imports is ahead
        for _ in range(6000):
            if _loaded(run.pid, "_multiarray_umath") or run.poll() is not None:
                break
            time.sleep(0.005)
        assert run.poll() is None, "the command ended before the signal"
        assert _loaded(run.pid, "_multiarray_umath"), "NumPy did not load within 30 s"
        os.killpg(run.pid, signal.SIGINT)
        err = run.communicate(timeout=60)[1]
        assert run.returncode == -signal.SIGINT, err  # ended by SIGINT: 130 in a shell
        assert err.splitlines() == [f"{module}: interrupted while starting; nothing was written"]
        assert sorted(p.name for p in tmp_path.iterdir()) == []
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()


def test_a_ctrl_c_a_c_extension_turned_into_an_import_error_is_one_line_too(tmp_path):
    """NumPy's C extension, interrupted while it imports `datetime`, raises ImportError("…
    PyCapsule_Import could not import module "datetime"") — its traceback told the user NumPy
    was badly installed (seen here in about one of 20 Ctrl-Cs timed to NumPy's load). The
    hook's side of it, made certain: the handler has seen a Ctrl-C and an ImportError ends the
    process. Another error after a Ctrl-C keeps its traceback."""
    code = ("import sys\n"
            "sys.orig_argv = [sys.executable, '-m', 'experiments.minratio']\n"
            "from plots import startup\n"
            "startup.interrupt_in_one_line()\n"
            "startup._ctrl_c.came = True\n"
            "raise ImportError('PyCapsule_Import could not import module \"datetime\"')\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60,
                         preexec_fn=_default_sigint)
    assert run.returncode == -signal.SIGINT, run.stderr
    assert run.stderr.splitlines() == [
        "experiments.minratio: interrupted while starting; nothing was written"]
    other = subprocess.run([sys.executable, "-c", code.replace("ImportError", "KeyError")],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert other.returncode == 1 and "Traceback" in other.stderr, other.stderr


def test_guarded_takes_the_startup_handler_over_and_puts_pythons_own_back():
    """While the action runs, Ctrl-C is guarded's (one line with the resume hint, a second one
    waits); after it, Python's own: the startup handler's work ended with the imports."""
    from engine.io.cli import guarded
    from plots import startup

    seen = []
    previous = signal.signal(signal.SIGINT, startup._ctrl_c)
    try:
        guarded("p", lambda: seen.append(signal.getsignal(signal.SIGINT)))
        assert seen and seen[0] not in (startup._ctrl_c, signal.default_int_handler)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("argv, installed", [
    (["python", "-m", "experiments.minratio", "--quick"], True),
    (["python", "-m", "plots.census", "results/census"], True),
    (["python", "-m", "pytest", "-m", "experiments"], False),   # `-m experiments` is pytest's
    (["python", "script.py", "-m", "experiments.minratio"], False),
    (["python", "-c", "import experiments"], False),
    (["python", "-X", "importtime", "-W", "error", "-m", "plots.gradnorm", "r"], True),
    (["python", "-X", "-m", "experiments.trajectory"], False),  # -X's value is "-m"
    (["python", "-m"], False),
    (["python", "-Im", "experiments.minratio"], True),     # grouped options
    (["python", "-mplots.minratio", "r"], True),
    (["python", "-c'import x'", "-m", "experiments.minratio"], False)])
def test_the_one_line_hook_is_a_commands_only(argv, installed, monkeypatch):
    from plots.startup import interrupt_in_one_line

    monkeypatch.setattr(sys, "orig_argv", argv)
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    ctrl_c = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        interrupt_in_one_line()
        assert (sys.excepthook is not sys.__excepthook__) == installed
        assert (signal.getsignal(signal.SIGINT) is not signal.default_int_handler) == installed
    finally:
        signal.signal(signal.SIGINT, ctrl_c)
