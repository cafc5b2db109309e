"""Issue 20: one configuration per results folder, even under races; provenance; healing of
run files; output folders checked before any work — in every experiment and the report."""
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from conftest import cli

from engine import __version__
from engine.io.results import Store, UsageError, load_summary, save_npz

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ("trajectory", "gradnorm", "spectrum", "surface", "minratio", "deepshallow",
               "generalization")


@dataclass(frozen=True)
class Toy:
    runs: int = 2
    seed: int = 0


def _minratio(seed, out, figures):
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.minratio", "--quick", "--jobs", "1", "--seed",
         str(seed), "--out", str(out), "--figures", str(figures)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_two_processes_of_two_configurations_never_mix_one_folder(tmp_path):
    out = tmp_path / "D"
    first, second = _minratio(0, out, tmp_path / "f0"), _minratio(5, out, tmp_path / "f5")
    results = [(p.wait(timeout=600), p.stderr.read()) for p in (first, second)]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results  # one computes, the other is refused
    refused = next(err for code, err in results if code == 2)
    lines = [line for line in refused.splitlines() if line.strip()]
    assert len(lines) == 1 and "another configuration" in lines[0] and "seed" in lines[0], refused
    arrays, meta = load_summary(out, "minratio")
    seed = meta["config"]["seed"]
    # every run in the folder is the run of the folder's seed: recompute run 0 alone
    from experiments.minratio.experiment import Config, search_unit

    alone, _ = search_unit(Config.quick().__class__(**{**Config.quick().__dict__, "seed": seed}),
                           0)
    np.testing.assert_array_equal(arrays["theta"][0], alone["theta"])


@pytest.mark.slow
def test_two_processes_of_one_configuration_share_the_folder(tmp_path):
    out = tmp_path / "D"
    procs = [_minratio(0, out, tmp_path / "f0"), _minratio(0, out, tmp_path / "f1")]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    alone = tmp_path / "alone"
    solo = _minratio(0, alone, tmp_path / "f2")
    assert solo.wait(timeout=600) == 0, solo.stderr.read()
    shared, _ = load_summary(out, "minratio")
    for key, value in load_summary(alone, "minratio")[0].items():
        np.testing.assert_array_equal(shared[key], value)


def test_a_folder_claimed_by_a_live_process_refuses_another_configuration(tmp_path):
    holder = Store(tmp_path, "toy", Toy())  # this process holds the lock for its whole run
    code = ("import sys; from engine.io.results import Store, UsageError\n"
            "try:\n    Store(sys.argv[1], 'toy', {'runs': 2, 'seed': 5})\n"
            "except UsageError as err:\n    print(err); sys.exit(2)\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "claimed by a process running now" in done.stdout
    assert "seed: 0 there, 5 now" in done.stdout
    holder.release()


def test_results_files_record_losslab_version_and_commit(tmp_path):
    store = Store(tmp_path, "toy", Toy())
    store.save_run(0, {"x": np.zeros(2)}, {})
    store.save_summary({"x": np.zeros(2)}, {})
    for name in ("config.json", "summary.json"):
        saved = json.loads((tmp_path / name).read_text())["versions"]
        assert saved["losslab"] == __version__
        assert "commit" in saved  # None outside a git checkout
    setup = (ROOT / "setup.cfg").read_text()
    assert "version = attr: engine.io.version.__version__" in setup  # one place


def test_a_folder_of_another_losslab_version_is_refused_in_one_line(tmp_path):
    Store(tmp_path, "toy", Toy()).save_run(0, {"x": np.zeros(2)}, {})
    path = tmp_path / "config.json"
    saved = json.loads(path.read_text())
    saved["versions"]["losslab"] = "0.0.1"
    path.write_text(json.dumps(saved))
    with pytest.raises(UsageError, match="made by losslab 0.0.1, this is"):
        Store(tmp_path, "toy", Toy())


@pytest.mark.parametrize("damage, word", [
    (lambda p: save_npz(p, {"foo": np.zeros(3)}), "lacks the arrays ['x']"),
    (lambda p: save_npz(p, {"x": np.zeros(3), "foo": np.zeros(1)}), "did not write: ['foo']"),
    (lambda p: save_npz(p, {"x": np.zeros((3, 2))}), "of shape (3, 2)"),
    (lambda p: save_npz(p, {"x": np.zeros(3, dtype=np.float32)}), "dtype <f4"),
])
def test_a_run_file_not_holding_what_its_run_wrote_is_computed_again(tmp_path, damage, word):
    notices = []
    store = Store(tmp_path, "toy", Toy(), notice=notices.append)
    store.save_run(0, {"x": np.zeros(3)}, {"run": 0})
    damage(tmp_path / "runs" / "run_000.npz")
    again = Store(tmp_path, "toy", Toy(), notice=notices.append)
    assert again.missing([0]) == [0]
    assert len(notices) == 1 and word in notices[0] and "computing run 0 again" in notices[0]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["deepshallow", "generalization", "minratio"])
def test_a_run_file_with_wrong_arrays_is_recomputed_in_every_experiment(name, tmp_path, capsys):
    argv = ["--quick", "--jobs", "1", "--out", tmp_path / "r", "--figures", tmp_path / "f"]
    cli(f"experiments.{name}")(argv)
    first, _ = load_summary(tmp_path / "r")
    np.savez(tmp_path / "r" / "runs" / "run_000.npz", foo=np.zeros(3))  # the example
    capsys.readouterr()
    cli(f"experiments.{name}")(argv)
    notices = [line for line in capsys.readouterr().err.splitlines()
               if line.startswith(f"{name}: ")]
    assert len(notices) == 1 and "computing run 0 again" in notices[0], notices
    for key, value in first.items():  # run 0's seed stream gives it again, bit for bit
        np.testing.assert_array_equal(load_summary(tmp_path / "r")[0][key], value)


# ----------------------------------------------------------------------------- output folders
def _bad_folders(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    return {"empty": ("", "is empty"), "file": (a_file, "is a file"),
            "under a file": (a_file / "sub", "lies under"),
            # /proc refuses new files even to root (a chmod'ed folder does not)
            "read-only": ("/proc/1/losslab", "cannot write in")}


@pytest.mark.parametrize("flag", ["--out", "--figures"])
@pytest.mark.parametrize("kind", ["empty", "file", "under a file", "read-only"])
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_checks_its_folders_before_any_work(name, flag, kind, tmp_path,
                                                             one_line_error, monkeypatch):
    bad, word = _bad_folders(tmp_path)[kind]
    monkeypatch.chdir(tmp_path)
    argv = ["--quick", "--jobs", "1", "--out", tmp_path / "r", "--figures", tmp_path / "f"]
    argv[argv.index(flag) + 1] = bad
    before = sorted(tmp_path.rglob("*"))
    one_line_error(lambda: cli(f"experiments.{name}")(argv), f"experiments.{name}",
                   f"{flag} ")
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, not even in the cwd


@pytest.mark.parametrize("flag", ["--out", "--gallery"])
@pytest.mark.parametrize("kind", ["empty", "file", "under a file", "read-only"])
def test_the_report_checks_its_folder_before_any_work(flag, kind, tmp_path, one_line_error):
    bad, word = _bad_folders(tmp_path)[kind]
    one_line_error(lambda: cli("experiments.report")(["--results", tmp_path, flag, bad]),
                   "experiments.report", word)
