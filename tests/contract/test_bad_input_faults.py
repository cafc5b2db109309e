"""Audit faults of the bad-input contract: each refused command prints ONE stderr line, exits 2
and writes nothing (no .lock, config.json, results or figures), before any work — and, like
--help, without importing the heavy modules only the work or the figures need."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.bench.cli import TABLES

ROOT = Path(__file__).resolve().parents[2]
BIG = "10000000000"


def _refused(tmp_path, *args, expected=""):
    """Run `python -m ARGS --jobs 1 --out … --figures …` in an empty folder: exit 2, one line."""
    work = tmp_path / "cwd"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=300)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["cwd"], "something was written"
    return lines[0]


def _experiment(tmp_path, name, *flags, expected=""):
    return _refused(tmp_path, f"experiments.{name}", *flags, "--jobs", "1", "--out",
                    str(tmp_path / "o"), "--figures", str(tmp_path / "f"), expected=expected)


@pytest.mark.parametrize("name, flags, expected", [
    ("minratio", ["--quick", "--runs", "1", "--n-samples", BIG], "--n-samples"),
    ("spectrum", ["--quick", "--sinc-samples", BIG], "--sinc-samples"),
    ("deepshallow", ["--quick", "--checker-samples", BIG], "--checker-samples"),
    ("generalization", ["--quick", "--n-alphas", "1000000000000"], "--n-alphas"),
    ("gradnorm", ["--quick", "--task", "sinc", "--sinc-steps", "1000000000000"], "--sinc-steps"),
    ("gradnorm", ["--quick", "--task", "sinc", "--steps", "1000000000000"], "--steps"),
    ("surface", ["--quick", "--view", "tsne", "--tiny-samples", BIG], "--tiny-samples"),
    ("surface", ["--quick", "--sinc-epochs", BIG], "--sinc-epochs"),
    ("census", ["--quick", "--runs", BIG], "--runs"),
])
def test_oversized_counts_are_refused_before_any_write(tmp_path, name, flags, expected):
    _experiment(tmp_path, name, *flags, expected=expected)


@pytest.mark.parametrize("name, flags, expected", [
    ("deepshallow", ["--quick", "--functions", "sinc", "sinc"], "--functions"),
    ("minratio", ["--quick", "--radii", "0.1", "0.1"], "--radii"),
    ("generalization", ["--quick", "--batch-sizes", "16", "64", "100000", "--interp-pair", "16",
                        "100000"], "--batch-sizes 100000"),
    ("trajectory", ["--quick", "--batch-size", "1000"], "--batch-size"),
    ("spectrum", ["--quick", "--batch-size", "1000"], "--batch-size"),
])
def test_borderline_inputs_are_refused(tmp_path, name, flags, expected):
    _experiment(tmp_path, name, *flags, expected=expected)


def test_messages_name_the_commands_own_dataset_flag(tmp_path):
    """minratio's dataset flag is --task; the shared check said "not --dataset digits", a flag
    minratio does not have."""
    (tmp_path / "root").mkdir()
    (tmp_path / "x").mkdir()
    line = _experiment(tmp_path / "x", "minratio", "--quick", "--task", "digits", "--data-root",
                       str(tmp_path / "root"), expected="not --task digits")
    assert "--dataset" not in line


@pytest.mark.parametrize("address", ["not an address", "tcp://localhost:99999", "tcp://h"])
def test_scheduler_address_form_is_checked_up_front(tmp_path, address):
    pytest.importorskip("dask.distributed")
    _experiment(tmp_path, "minratio", "--quick", "--backend", "dask", "--scheduler", address,
                expected="--scheduler")


def test_unreachable_scheduler_is_bad_input_before_any_write(tmp_path):
    pytest.importorskip("dask.distributed")
    _experiment(tmp_path, "minratio", "--quick", "--backend", "dask", "--scheduler",
                "tcp://127.0.0.1:1", expected="no scheduler answers")


def test_scheduler_form_without_dask(monkeypatch):
    """The address's form is judged before dask is imported: the same message with or without
    the `cluster` extra (a None in sys.modules makes `import dask` fail, as without it)."""
    from engine.io.results import UsageError
    from experiments.harness.parallel import RunOptions, check_backend

    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(UsageError, match="not an address"):
        check_backend(RunOptions(backend="dask", scheduler="not an address"))


@pytest.mark.parametrize("args, expected", [
    (["experiments.bench", "--repeats", "abc"], "--repeats"),
    (["experiments.bench", "--only", "foo"], "--only"),
    (["experiments.bench", "--bogus"], "--bogus"),
    (["experiments.bench", "--repeats"], "--repeats"),
    (["experiments.bench.dlae", "--per-kind", "0"], "--per-kind"),
    (["experiments.bench.dlae", "--finders", "foo"], "--finders"),
    (["experiments.bench.dlae", "--per-kind", "1", "--seed", "-1"], "--seed"),
    (["experiments.bench.scale", "--nets", "foo"], "--nets"),
    (["experiments.bench.scale", "--seed", "-1"], "--seed"),
    (["experiments.bench.scale", "--nets", "sinc", "sinc"], "--nets"),
    # each table's own module took any arguments and ignored them
    *[([f"experiments.bench.{t}", "--bogus"], "--bogus") for t in TABLES],
    (["experiments.bench.hvp", "--repeats", "0"], "--repeats 0"),
    (["experiments.bench.trace", "--repeats", "5"], "--repeats"),  # 30 seeds of its own
    (["experiments.bench.hvp", "--only", "trace"], "--only"),
])
def test_bench_clis_are_one_line(tmp_path, args, expected):
    _refused(tmp_path, *args, expected=expected)


def test_bench_json_under_a_file_is_refused_before_the_benchmark(tmp_path):
    blocker = tmp_path.parent / f"{tmp_path.name}-file"
    blocker.write_text("")
    _refused(tmp_path, "experiments.bench.dlae", "--per-kind", "1", "--json",
             str(blocker / "x.json"), expected="--json")


@pytest.mark.parametrize("target, variable", [
    (t, v) for t in ("trajectory", "minratio", "minratio_wd", "census", "report", "check-minratio",
                     "docs")
    for v in ("RESULTS", "FIGURES") if (t, v) != ("check-minratio", "FIGURES")  # reads no figures
])
def test_make_refuses_an_empty_path_variable(target, variable):
    proc = subprocess.run(["make", "-n", "-C", str(ROOT), target, f"{variable}="],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and f"{variable} is empty" in lines[0], \
        proc.stderr


def test_make_docs_refuses_the_quick_presets():
    """make docs QUICK=1 rewrote README.md's measured table and docs/*.png with smoke results."""
    proc = subprocess.run(["make", "-n", "-C", str(ROOT), "docs", "QUICK=1"],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "without QUICK=1" in lines[0], proc.stderr


def test_make_test_ignores_an_empty_results():
    proc = subprocess.run(["make", "-n", "-C", str(ROOT), "test", "RESULTS="],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


HEAVY = ("autograd.scipy", "scipy.stats", "scipy.integrate", "sklearn", "matplotlib.pyplot")


@pytest.mark.parametrize("command", [
    "experiments.minratio", "experiments.trajectory", "experiments.gradnorm",
    "experiments.deepshallow", "experiments.generalization", "experiments.surface",
    "experiments.spectrum", "experiments.census", "experiments.bench.scale"])
def test_a_refused_command_imports_no_heavy_module_it_does_not_need(command):
    """--help and a refused flag answer without scikit-learn, scipy.stats or pyplot: each costs
    0.6–1.3 s of the start (python -X importtime) and is needed only by the work or figures."""
    code = ("import runpy, sys\n"
            "for flag, code in (('--help', 0), ('--no-such-flag', 2)):\n"
            f"    sys.argv = ['{command}', flag]\n"
            "    try:\n"
            f"        runpy.run_module('{command}', run_name='__main__', alter_sys=True)\n"
            "    except SystemExit as done:\n"
            "        assert done.code == code, (flag, done.code)\n"
            f"print('imported:', *(m for m in {HEAVY!r} if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "imported:", f"{command}: {proc.stdout.splitlines()[-1]}"
