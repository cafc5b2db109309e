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
