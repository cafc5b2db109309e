"""`--config FILE` (experiments.harness.rerun): a saved config.json reruns; the flags given
override it; a file of another experiment, an unknown field, a wrong type or a damaged file is
one line, exit 2, before any work; and a --quick minratio run rerun from its config.json gives a
byte-identical summary, reusing the finished runs in its own folder."""
import json
import shutil
from dataclasses import dataclass
from typing import Literal

import pytest

from engine.io.results import Store, UsageError, load_json
from experiments.harness import config as cli
from experiments.harness.config import parse_config
from experiments.harness.parallel import RunOptions, compute
from experiments.harness.rerun import experiment_name, read_saved_config


@dataclass(frozen=True)
class Config:
    runs: int = 4                            # how many seeded runs
    lr: float = 0.5                          # a step size
    name: Literal["sinc", "digits"] = "sinc"  # a choice
    sizes: tuple[int, ...] = (1, 10, 1)      # a tuple flag
    full_batch: bool = True                  # a bool flag

    @classmethod
    def quick(cls):
        return cls(runs=2, sizes=(1, 3, 1))

    def validate(self):
        if self.runs < 1:
            raise UsageError(f"--runs {self.runs}: give a positive integer")


PROG = "experiments.toy"


def _saved(tmp_path, settings, experiment="toy", name="config.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"experiment": experiment, "config": settings,
                                "versions": {"losslab": "0.1.0"}}))
    return path


def _toy_run(calls):
    def run(config, out_dir, options):
        store = Store(out_dir, "toy", config)
        compute(store, lambda r: (calls.append(r) or {"r": [float(r)]}, {}), range(config.runs),
                RunOptions(jobs=1))
        return store.save_summary({}, {"runs": config.runs})
    return run


def test_the_saved_settings_are_read_and_flags_given_override_them(tmp_path):
    path = _saved(tmp_path, {"runs": 7, "lr": 1, "sizes": [2, 5, 1], "full_batch": False})
    config, _, _ = parse_config(Config, ["--config", str(path)], prog=PROG)
    # the file's values, typed (an integer in a float field is that float), the rest defaults
    assert config == Config(runs=7, lr=1.0, sizes=(2, 5, 1), full_batch=False)
    assert isinstance(config.lr, float)
    config, _, _ = parse_config(Config, ["--config", str(path), "--runs", "3", "--full-batch"],
                                prog=PROG)
    assert config == Config(runs=3, lr=1.0, sizes=(2, 5, 1), full_batch=True)


def test_a_folders_config_json_reruns_into_the_same_folder_reusing_its_runs(tmp_path):
    calls = []
    cli.main(Config, _toy_run(calls), lambda out, figures_dir: [],
             argv=["--quick", "--lr", "0.125", "--out", str(tmp_path / "a")], prog=PROG)
    assert calls == [0, 1]
    saved = tmp_path / "a" / "config.json"
    assert load_json(saved)["experiment"] == experiment_name(Config, PROG) == "toy"
    cli.main(Config, _toy_run(calls), lambda out, figures_dir: [],
             argv=["--config", str(saved), "--out", str(tmp_path / "a")], prog=PROG)
    assert calls == [0, 1]  # the same configuration: the Store reused both runs


@pytest.mark.parametrize("settings, experiment, message", [
    ({"runs": 2}, "spectrum", "is a configuration of 'spectrum', not 'toy'; run it with python "
                              "-m experiments.spectrum --config"),
    ({"runs": 2, "colour": "red"}, "toy", "toy has no setting 'colour'; delete it from the file"),
    ({"runs": "4"}, "toy", "runs is '4'; give an integer"),
    ({"runs": True}, "toy", "runs is True; give an integer"),
    ({"runs": 2.5}, "toy", "runs is 2.5; give an integer"),
    ({"lr": "fast"}, "toy", "lr is 'fast'; give a number"),
    ({"full_batch": 1}, "toy", "full_batch is 1; give true or false"),
    ({"sizes": 3}, "toy", "sizes is 3; give a list of integers"),
    ({"sizes": [1, "a", 1]}, "toy", "sizes[1] is 'a'; give an integer"),
    ({"name": "cifar"}, "toy", "name is 'cifar'; choose one of ['sinc', 'digits']"),
    ({"runs": 0}, "toy",
     "--runs 0: give a positive integer (--runs was not typed: the value of 'runs' in --config"),
])
def test_a_bad_saved_file_is_one_line_exit_2_and_nothing_written(
        tmp_path, one_line_error, settings, experiment, message):
    path = _saved(tmp_path, settings, experiment)
    calls, out = [], tmp_path / "out"
    one_line_error(lambda: cli.main(Config, _toy_run(calls), lambda *a, **k: [],
                                    argv=["--config", str(path), "--out", str(out)], prog=PROG),
                   PROG, message)
    assert calls == [] and not out.exists()


@pytest.mark.parametrize("content, message", [
    (None, "no such file; give the config.json of a results folder"),
    ("", "cannot be read as JSON"),
    ('{"experiment": "toy", "config": {"runs": 2', "cannot be read as JSON"),
    ("[1, 2]", "holds a JSON list, not an object"),
    ('{"runs": 2}', "not an experiment's config; give the config.json of a results folder"),
    ('{"experiment": "toy", "config": [2]}', "not an experiment's config"),
])
def test_a_missing_or_damaged_file_is_one_line_exit_2(tmp_path, one_line_error, content,
                                                       message):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    calls, out = [], tmp_path / "out"
    err = one_line_error(lambda: cli.main(Config, _toy_run(calls), lambda *a, **k: [],
                                          argv=["--config", str(path), "--out", str(out)],
                                          prog=PROG), PROG, message)
    assert f"--config {path}" in err and calls == [] and not out.exists()


@pytest.mark.parametrize("holds_config", [False, True])
def test_a_folder_given_as_config_is_named_a_folder(tmp_path, one_line_error, holds_config):
    """--config FOLDER said "no such file"; it is a folder, and when it holds a config.json the
    message points at it."""
    folder = tmp_path / "results"
    folder.mkdir()
    if holds_config:
        _saved(folder, {"runs": 2})
    calls, out = [], tmp_path / "out"
    message = (f"is a folder, not a file; give its {folder / 'config.json'}" if holds_config
               else "is a folder, not a file; give the config.json inside a results folder")
    one_line_error(lambda: cli.main(Config, _toy_run(calls), lambda *a, **k: [],
                                    argv=["--config", str(folder), "--out", str(out)],
                                    prog=PROG), PROG, message)
    assert calls == [] and not out.exists()


def test_quick_and_config_together_are_refused(tmp_path):
    path = _saved(tmp_path, {"runs": 2})
    with pytest.raises(UsageError, match="--quick and --config both set every field"):
        parse_config(Config, ["--quick", "--config", str(path)], prog=PROG)


def test_a_summary_json_serves_as_well(tmp_path):
    # summary.json holds the same "experiment" and "config" (and a "summary" besides)
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"experiment": "toy", "config": {"runs": 3}, "summary": {}}))
    assert read_saved_config(Config, path, "toy") == {"runs": 3}


def test_the_help_says_the_flags_override_the_file(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser(Config, PROG).parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--config FILE rerun a saved config.json; the flags given override its values" in text


# ---------------------------------------------------------------- minratio, end to end
def _timings_off(value):
    """summary.json without what a run measures rather than computes, at any depth: times
    (wall_time, run_time_sum, run_cpu_sum, …), how many runs this invocation computed, and the
    commit (a rerun may follow a commit)."""
    measured = ("time", "cpu", "runs_computed", "commit")
    if isinstance(value, dict):
        return {k: _timings_off(v) for k, v in value.items()
                if not any(word in k for word in measured)}
    if isinstance(value, list):
        return [_timings_off(v) for v in value]
    return value


@pytest.mark.slow
def test_a_quick_minratio_rerun_from_its_config_json_gives_an_identical_summary(tmp_path):
    from experiments.minratio import experiment as minratio

    def run(argv):
        config, opts, options = parse_config(minratio.Config, [*argv, "--jobs", "1",
                                                               "--figures", str(tmp_path / "f")],
                                             prog="experiments.minratio")
        return minratio.run(config, out_dir=opts.out, options=options)

    first = run(["--quick", "--out", str(tmp_path / "a")])
    saved = first / "config.json"
    again = run(["--config", str(saved), "--out", str(tmp_path / "b")])  # computed afresh
    assert (first / "summary.npz").read_bytes() == (again / "summary.npz").read_bytes()
    meta_a, meta_b = (load_json(p / "summary.json") for p in (first, again))
    assert meta_b["summary"]["runs_computed"] == meta_a["summary"]["runs_computed"] == 4
    assert _timings_off(meta_a) == _timings_off(meta_b)
    assert "counts" in _timings_off(meta_a)["summary"]  # what is compared is the results
    # into its own folder: the same configuration, so every run is reused, none recomputed
    before = {p.name: p.stat().st_mtime_ns for p in (first / "runs").iterdir()}
    summary_a = (first / "summary.npz").read_bytes()
    shutil.copy(saved, tmp_path / "saved.json")  # the folder's own file, rewritten by nobody
    run(["--config", str(tmp_path / "saved.json"), "--out", str(first)])
    assert {p.name: p.stat().st_mtime_ns for p in (first / "runs").iterdir()} == before
    assert load_json(first / "summary.json")["summary"]["runs_computed"] == 0
    assert (first / "summary.npz").read_bytes() == summary_a
    # a flag overrides the file: --seed 1 is another configuration, refused in the same folder
    with pytest.raises(UsageError, match="seed: 0 there, 1 now"):
        run(["--config", str(saved), "--seed", "1", "--out", str(first)])
