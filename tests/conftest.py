"""Shared test set-up: the Agg backend (no display), and a seeded generator per test."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


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
