"""check_data reports exactly the data's own faults as bad input (UsageError, exit 2): a damaged
file or a subset larger than the set. Any other ValueError is a bug and must stay one — it used
to be turned into "--dataset …: <message>" and exit 2 like a damaged file."""
import gzip

import numpy as np
import pytest

import engine.data.datasets
from engine.io.results import UsageError
from experiments.harness import datasets


@pytest.fixture(autouse=True)
def _fresh_cache():
    datasets.load_data.cache_clear()
    yield
    datasets.load_data.cache_clear()


def test_a_bug_inside_the_loader_is_not_reported_as_bad_input(monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")  # a bug, not the data's

    monkeypatch.setattr(engine.data.datasets, "load_dataset", broken)
    with pytest.raises(ValueError, match="operands could not be broadcast") as caught:
        datasets.check_data("digits")
    assert not isinstance(caught.value, UsageError)


def test_a_subset_larger_than_the_set_is_bad_input_naming_the_commands_flag():
    with pytest.raises(UsageError, match=r"^--task digits --n-train 5000: n_train=5000"):
        datasets.check_data("digits", n_train=5000, flag_name="--task")


def test_a_damaged_idx_file_is_bad_input(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (raw / f"{name}.gz").write_bytes(gzip.compress(np.zeros(3, np.uint8).tobytes()))
    with pytest.raises(UsageError, match=r"^--dataset mnist: .*magic number"):
        datasets.check_data("mnist", str(tmp_path))
