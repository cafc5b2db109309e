"""A bad-input message that quotes a setting the command line did not give says where its value
came from (experiments.harness.config.said_where): --batch-size 40 came from --quick, 128 is the
default — a user told "--batch-size 40: larger than …" after typing only --n-train looked for a
flag they never gave."""
import json

import pytest
from conftest import cli

PROG = "experiments.trajectory"


@pytest.mark.parametrize("preset, source", [([], "the default"), (["--quick"], "--quick's preset")])
def test_a_value_not_typed_is_named_with_its_source(preset, source, tmp_path, one_line_error):
    out = tmp_path / "out"
    line = one_line_error(lambda: cli(PROG)([*preset, "--n-train", 30, "--out", out]), PROG,
                          "training samples")
    assert line.rstrip().endswith(f"(--batch-size was not typed: {source})"), line
    assert not out.exists()


def test_a_typed_value_has_no_note(tmp_path, one_line_error):
    line = one_line_error(lambda: cli(PROG)(["--n-train", 30, "--batch-size", 64, "--out",
                                             tmp_path / "out"]), PROG, "--batch-size 64:")
    assert "not typed" not in line


def test_a_value_from_a_saved_config_names_the_file(tmp_path, one_line_error):
    """The run's own check (the batch against the data's real size) after --config."""
    from experiments.trajectory import Config

    saved = tmp_path / "config.json"
    config = {"experiment": "trajectory", "config": {**_fields(Config.quick()), "n_train": 30}}
    saved.write_text(json.dumps(config))
    line = one_line_error(lambda: cli(PROG)(["--config", saved, "--out", tmp_path / "out"]),
                          PROG, "--batch-size 40:")
    assert "(--batch-size was not typed: the value of 'batch_size' in --config" in line, line


def _fields(config):
    import dataclasses

    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(config).items()}


def test_a_flag_named_as_advice_has_no_note(tmp_path, one_line_error):
    """'give --activation linear (and --starts trained)' names --starts as advice: its default
    was not what was refused (the review's example)."""
    line = one_line_error(lambda: cli("experiments.minratio")([
        "--task", "dlae", "--hidden", 4, "--activation", "tanh", "--trainer", "lbfgs",
        "--out", tmp_path / "out", "--figures", tmp_path / "f"]), "experiments.minratio",
        "give --activation linear")
    assert "not typed" not in line


def test_an_empty_value_and_a_value_prefix_are_no_quote():
    from experiments.harness.config import _refused

    assert not _refused("--data-root is read for mnist only", "--data-root", "")
    assert not _refused("--lr 0.0012: too large", "--lr", 0.001)
    assert _refused("--lr 0.001: too large", "--lr", 0.001)
    assert _refused("--optimizer 'rmsprop' is unknown", "--optimizer", "rmsprop")
    assert _refused("--hidden 8 8: too wide", "--hidden", (8, 8))


def test_a_value_refused_while_the_config_is_built_names_its_source(tmp_path, one_line_error):
    """gradnorm's Config refuses p in __post_init__, before validate: from --config FILE."""
    import dataclasses

    from experiments.gradnorm import Config

    saved = tmp_path / "config.json"
    fields = {k: list(v) if isinstance(v, tuple) else v
              for k, v in dataclasses.asdict(Config.quick()).items()}
    saved.write_text(json.dumps({"experiment": "gradnorm", "config": {**fields, "p": "foo"}}))
    line = one_line_error(lambda: cli("experiments.gradnorm")([
        "--config", saved, "--out", tmp_path / "out"]), "experiments.gradnorm", "--p 'foo'")
    assert "(--p was not typed: the value of 'p' in --config" in line
