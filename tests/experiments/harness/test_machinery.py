"""The machinery every experiment shares: Config → CLI (experiments.harness.config), one-line errors
(engine.io.cli), the atomic resumable Store (engine.io.results), parallel seeded units
(experiments.harness.parallel)."""
import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from engine.io.results import (
    Store,
    UsageError,
    load_json,
    load_npz,
    load_summary,
    save_json,
    save_npz,
    to_jsonable,
)
from experiments.harness import config as cli
from experiments.harness.config import build_parser, parse_config
from experiments.harness.parallel import RunOptions, compute, run_seeds


@dataclass(frozen=True)
class Config:
    runs: int = 4                            # how many seeded runs
    lr: float = 0.5                          # a step size
    name: str = "sinc"                       # a string option
    sizes: tuple[int, ...] = (1, 10, 1)      # a tuple flag
    full_batch: bool = True                  # a bool flag

    @classmethod
    def quick(cls):
        return cls(runs=2, sizes=(1, 3, 1))

    def validate(self):
        if self.runs < 1:
            raise UsageError(f"--runs {self.runs}: give a positive integer")
        if self.name not in ("sinc", "digits"):
            raise UsageError(f"--name {self.name!r} is unknown; choose one of ['sinc', 'digits']")


def _draws(seed, run):
    """A unit: numbers from its own stream (module level, so workers can import it)."""
    return {"x": np.random.default_rng(run_seeds(seed, 6)[run]).normal(size=3)}, {"run": run}


def _toy_run(calls):
    """An experiment whose runs save one array each; `calls` records the runs it computed."""
    def unit(r):
        calls.append(r)
        return {"x": np.full(3, float(r))}, {"run": r}

    def run(config, out_dir, options):
        store = Store(out_dir, "toy", config)
        compute(store, unit, range(config.runs), RunOptions(jobs=1))
        x = np.stack([store.load_run(r)[0]["x"] for r in range(config.runs)])
        return store.save_summary({"x": x}, {"total": float(x.sum()), "missing": float("nan")})
    return run


def _no_figures(results_dir, figures_dir=None):
    return []


def test_the_cli_has_one_flag_per_field_with_its_comment_and_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser(Config, "experiments.toy").parse_args(["--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help text
    for line in ("--runs RUNS", "how many seeded runs (default: 4)", "--sizes INT [INT ...]",
                 "(default: 1 10 1)", "--full-batch, --no-full-batch", "--quick", "--jobs"):
        assert line.replace("RUNS", "INT") in text


@pytest.mark.parametrize("argv, changes", [
    ([], {}),
    (["--runs", "7", "--lr", "0.1"], {"runs": 7, "lr": 0.1}),
    (["--sizes", "2", "5", "5", "1", "--no-full-batch"],
     {"sizes": (2, 5, 5, 1), "full_batch": False}),
])
def test_flags_override_the_defaults(argv, changes):
    config, opts, options = parse_config(Config, argv)
    assert config == Config(**changes)
    assert options == RunOptions()


def test_quick_is_the_preset_and_flags_still_apply():
    config, _, _ = parse_config(Config, ["--quick", "--lr", "0.25"])
    assert config == Config(runs=2, sizes=(1, 3, 1), lr=0.25)


@pytest.mark.parametrize("argv, message", [
    (["--runs", "0"], "--runs 0: give a positive integer"),
    (["--name", "cifar"], "choose one of ['sinc', 'digits']"),
    (["--runs", "two"], "invalid int value: 'two'"),
    (["--jobs", "0"], "--jobs 0"),
    (["--colour", "red"], "unrecognized arguments: --colour red"),
])
def test_bad_flags_are_one_line_and_exit_code_2(tmp_path, one_line_error, argv, message):
    argv = [*argv, "--out", str(tmp_path)]
    one_line_error(lambda: cli.main(Config, _toy_run([]), _no_figures, argv=argv,
                                    prog="experiments.toy"), "experiments.toy", message)


def test_store_refuses_another_config_and_names_what_differs(tmp_path):
    Store(tmp_path, "toy", Config()).save_run(0, {"a": np.zeros(2)}, {})
    Store(tmp_path, "toy", Config())  # the same config reopens its folder
    with pytest.raises(UsageError, match=r"lr: 0\.5 there, 0\.1 now") as err:
        Store(tmp_path, "toy", Config(lr=0.1))
    assert "runs" not in str(err.value)


def test_a_folder_claimed_by_a_run_that_saved_nothing_does_not_block_a_corrected_command(
        tmp_path, capsys):
    # the folder is claimed before any work (config.json under its lock), e.g. by a run that
    # then failed before computing anything
    Store(tmp_path, "toy", Config()).release()
    assert (tmp_path / "config.json").exists()
    Store(tmp_path, "toy", Config(lr=0.1)).save_summary({}, {})  # a corrected command is accepted
    assert "saved nothing; it is reused" in capsys.readouterr().err
    with pytest.raises(ValueError, match="another configuration"):
        Store(tmp_path, "toy", Config())


def test_rerun_skips_finished_runs_and_a_lost_run_is_redone(tmp_path):
    calls = []
    run = _toy_run(calls)
    run(Config(), tmp_path, 1)
    assert calls == [0, 1, 2, 3]
    run(Config(), tmp_path, 1)
    assert calls == [0, 1, 2, 3]
    (tmp_path / "runs" / "run_002.json").unlink()  # the .json marks a run finished
    run(Config(), tmp_path, 1)
    assert calls == [0, 1, 2, 3, 2]
    arrays, meta = load_summary(tmp_path)
    assert_array_equal(arrays["x"], np.repeat(np.arange(4.0), 3).reshape(4, 3))
    assert meta["summary"] == {"total": 18.0, "missing": None}
    assert meta["config"]["sizes"] == [1, 10, 1] and "numpy" in meta["versions"]


def test_main_runs_and_renders(tmp_path, capsys):
    rendered = []
    cli.main(Config, _toy_run([]), lambda out, figures_dir: rendered.append(out) or [out],
             argv=["--quick", "--out", str(tmp_path / "res")])
    assert rendered == [tmp_path / "res"] and capsys.readouterr().out == f"{tmp_path / 'res'}\n"


def test_load_summary_of_an_empty_folder_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="run the experiment first"):
        load_summary(tmp_path)


def test_to_jsonable_gives_standard_json():
    obj = {"a": (1, np.int64(2)), "b": np.array([0.5, np.nan]), "c": np.float64(np.inf),
           "d": np.bool_(True), 3: "x"}
    assert to_jsonable(obj) == {"a": [1, 2], "b": [0.5, None], "c": None, "d": True, "3": "x"}
    json.dumps(to_jsonable(obj), allow_nan=False)  # raises on any NaN left behind


def test_writes_round_trip_and_leave_no_temporary_files(tmp_path):
    save_json(tmp_path / "a.json", {"x": float("nan"), "y": (1, 2)})
    save_npz(tmp_path / "sub" / "b.npz", {"theta": np.arange(5.0)})
    assert load_json(tmp_path / "a.json") == {"x": None, "y": [1, 2]}
    assert_array_equal(load_npz(tmp_path / "sub" / "b.npz")["theta"], np.arange(5.0))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.json", "b.npz", "sub"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path, monkeypatch):
    save_json(tmp_path / "a.json", {"version": 1})

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_json(tmp_path / "a.json", {"version": 2})
    monkeypatch.undo()
    assert load_json(tmp_path / "a.json") == {"version": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_run_seeds_are_independent_streams_reproducible_alone():
    first, again = run_seeds(3, 4), run_seeds(3, 4)
    draws = [np.random.default_rng(s).normal(size=2) for s in first]
    assert_array_equal(np.random.default_rng(again[2]).normal(size=2), draws[2])
    assert len({tuple(d) for d in draws}) == 4


def _computed(out, jobs, shard=None):
    store = Store(out, "toy", Config())
    compute(store, functools.partial(_draws, 11), range(6), RunOptions(jobs=jobs, shard=shard))
    return store


def test_units_give_the_same_numbers_for_any_number_of_workers(tmp_path):
    serial, parallel = _computed(tmp_path / "1", 1), _computed(tmp_path / "2", 2)
    for r in range(6):  # same streams whatever worker ran them, saved by the parent
        assert_array_equal(parallel.load_run(r)[0]["x"], serial.load_run(r)[0]["x"])
    assert_array_equal(serial.load_run(4)[0]["x"], _draws(11, 4)[0]["x"])


def test_shards_fill_one_folder_and_equal_one_run(tmp_path):
    whole = _computed(tmp_path / "whole", 1)
    store = _computed(tmp_path / "sharded", 1, shard=(1, 2))
    assert [store.done(r) for r in range(6)] == [False, True] * 3
    _computed(tmp_path / "sharded", 1, shard=(0, 2))
    for r in range(6):
        assert_array_equal(store.load_run(r)[0]["x"], whole.load_run(r)[0]["x"])


def test_the_results_folder_defaults_to_results_slash_name():
    _, opts, _ = parse_config(Config, [], prog="experiments.toy")
    assert opts.out == Path("results") / "toy" and opts.figures == Path("figures")


@pytest.mark.slow
@pytest.mark.parametrize("name, figure", [("deepshallow", "deepshallow_task"),
                                          ("generalization", "generalization_flatness")])
def test_command_line_runs_units_in_worker_processes(name, figure, tmp_path):
    # as `make` runs it: the units are unpickled in loky workers, which import them by name
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", f"experiments.{name}", "--quick", "--jobs",
                             "2", "--out", str(tmp_path / "r"), "--figures", str(tmp_path / "f")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "f" / f"{figure}.png").exists()
