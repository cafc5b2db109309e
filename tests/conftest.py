"""Shared test set-up: the Agg backend (no display), one BLAS thread per pytest-xdist worker,
temporary files kept in pytest's folder, and a seeded generator per test."""
import os
import shutil
import tempfile

XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, … under pytest-xdist
if XDIST_WORKER:
    # `make test` runs two workers on two cores. A BLAS with a thread per core in each worker — and
    # in every process a test starts: the experiments' subprocesses and the notebooks' kernels
    # inherit the variables — oversubscribes them, and OpenBLAS's threads spin while they wait: the
    # floors' fast tests took 283 s with them, 249 s without (.venv-min, numpy 1.24), one file
    # 75 s against its 3 s alone. Set before NumPy loads; a value the caller set is kept.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import importlib  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_stay_in_basetemp(tmp_path_factory):
    """The internal-failure tests make the CLIs write their traceback log to the temporary
    folder (engine.io.cli._write_log): it is the session's, pytest's basetemp, not the machine's
    /tmp, so a run leaves nothing behind (child processes inherit TMPDIR)."""
    folder = tmp_path_factory.mktemp("tmp")
    patch = pytest.MonkeyPatch()
    patch.setenv("TMPDIR", str(folder))
    patch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    patch.undo()


@pytest.fixture
def rng():
    return np.random.default_rng(20180316)  # HW1-2's release date: any fixed seed will do


@pytest.fixture
def one_line_error(capsys):
    """check(call, prog, expected): call() exits with code 2 after exactly one stderr line
    'prog: error: …expected…' — the CLI contract for bad input. Returns that line."""

    def check(call, prog, expected=""):
        with pytest.raises(SystemExit) as exit_info:
            call()
        err = capsys.readouterr().err
        assert exit_info.value.code == 2, err
        assert err.count("\n") == 1 and err.startswith(f"{prog}: error:") and expected in err, err
        return err

    return check


def cli(prog):
    """argv -> None: `python -m prog ARGV` in process, for prog = experiments.<name>,
    plots.<name> or experiments.report (argv items may be paths or numbers)."""
    from experiments.harness.config import main
    from experiments.report import assemble as report
    from plots.common import plot_main

    kind, name = prog.split(".")
    if prog == "experiments.report":
        return lambda argv: report.main([str(a) for a in argv])
    render = importlib.import_module(f"plots.{name}").render
    if kind == "plots":
        return lambda argv: plot_main(render, argv=[str(a) for a in argv], prog=prog)
    module = importlib.import_module(f"experiments.{name}")
    return lambda argv: main(module.Config, module.run, render, argv=[str(a) for a in argv],
                             prog=prog)


def with_arrays(folder, out, change):
    """A copy in `out` of the results `folder` (summary.json, config.json) whose summary.npz holds
    the arrays as change(arrays) gives them back ({name: new array}, merged over the saved ones);
    returns out."""
    from engine.io.results import load_summary, save_npz

    arrays, _ = load_summary(folder)
    out.mkdir()
    for name in ("summary.json", "config.json"):
        shutil.copy(folder / name, out / name)
    save_npz(out / "summary.npz", arrays | change(arrays))
    return out


def tampered_loss(folder, out, run):
    """A copy of the minratio results `folder` in `out` whose saved loss of `run` is off by a
    relative 1e-6 (what the independent checker must catch); returns out."""

    def off(arrays):
        loss = arrays["loss"].copy()
        loss[run] *= 1 + 1e-6
        return {"loss": loss}

    return with_arrays(folder, out, off)


# the flags of each plots reader's quick results, shared by every test module that draws them or
# damages copies of them (tests/readerresults.py): the tiniest census that runs (its quick preset
# takes minutes; a search costs seconds: the exact 2,410-parameter Hessian)
READER_FLAGS = {
    "census": ("--jobs", 1, "--runs", 1, "--embedded", 0, "--max-hvp", 20, "--switch-min", 1,
               "--switch-max", 2, "--continue-steps", 1, "--continue-hvp", 1),
    **{name: ("--jobs", 1) for name in ("deepshallow", "generalization", "gradnorm", "minratio",
                                        "spectrum", "surface", "trajectory")}}


def _reader_results(name):
    """A session-scoped fixture quick_<name>: the reader's quick results (results dir, figures
    dir), run once for the whole session — the tests only read them (or copy them to damage).
    Under pytest-xdist, once for all workers: the modules that read one reader's results run on
    both, and each built them (the surface's took 15 s on each)."""

    def run(out, figures):
        cli(f"experiments.{name}")(["--quick", *READER_FLAGS[name], "--out", out, "--figures",
                                    figures])
        return out, figures

    @pytest.fixture(scope="session", name=f"quick_{name}")
    def built(tmp_path_factory):
        if not XDIST_WORKER:
            return run(tmp_path_factory.mktemp("quick"), tmp_path_factory.mktemp("figures"))
        # pytest-xdist's recipe: the folder the workers' basetemps share, one builder at a time;
        # a build that failed half-way (no `built` mark) is started again from nothing
        from filelock import FileLock

        shared = tmp_path_factory.getbasetemp().parent / f"quick_{name}"
        out, figures = shared / "quick", shared / "figures"
        with FileLock(f"{shared}.lock"):
            if not (shared / "built").is_file():
                shutil.rmtree(shared, ignore_errors=True)
                out.mkdir(parents=True)
                figures.mkdir()
                run(out, figures)
                (shared / "built").touch()
        return out, figures

    return built


for _name in READER_FLAGS:
    globals()[f"quick_{_name}"] = _reader_results(_name)


def quick_results(name, *flags):
    """A module-scoped fixture: `python -m experiments.<name> --quick FLAGS` run once into
    fresh folders, giving (results dir, figures dir)."""

    @pytest.fixture(scope="module")
    def quick(tmp_path_factory):
        out, figures = tmp_path_factory.mktemp("quick"), tmp_path_factory.mktemp("figures")
        cli(f"experiments.{name}")(["--quick", *flags, "--out", out, "--figures", figures])
        return out, figures

    return quick


# `make test` runs the suite on two pytest-xdist workers, a file at a time, in collection order
# (--dist loadfile --no-loadscope-reorder). A long file taken last leaves the other worker idle
# to the end (the notebooks did: 5 of 15 minutes alone), so the longest files, measured with
# --durations, come first; the rest keep their order. Serial runs only change their order.
LONGEST_FIRST = (
    "tests/contract/test_notebooks.py", "tests/contract/test_make_all.py",
    "tests/contract/test_robustness.py", "tests/contract/test_contract_folders.py",
    "tests/contract/test_contract_processes.py",
    "tests/experiments/minratio/test_minratio_tasks.py",
    "tests/experiments/minratio/test_minratio_check_tasks.py",
    "tests/contract/test_bad_input_faults.py", "tests/plots/test_array_kinds.py",
    "tests/experiments/harness/test_cluster.py", "tests/experiments/test_surface_experiment.py",
)


def pytest_collection_modifyitems(config, items):
    gone = [path for path in LONGEST_FIRST if not (config.rootpath / path).is_file()]
    if gone:  # a renamed file would drop out of the order unnoticed
        raise pytest.UsageError(f"tests/conftest.py LONGEST_FIRST names missing files: {gone}")
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
