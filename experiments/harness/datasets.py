"""Which dataset a command means, and loading it once per process.

Units of work receive a dataset's small description (name, root, subset size), never its arrays:
`load_data` is cached per process, so each worker reads the files once however many units it
runs, and the parent can check the files before any work (`check_data`).
"""
from __future__ import annotations

import functools

import numpy as np

from engine.io.results import UsageError


def image_dataset_name(dataset: str, data_root: str) -> str:
    """--dataset as given; '' means MNIST when --data-root is given, else scikit-learn's digits
    (bundled, offline)."""
    return dataset or ("mnist" if data_root else "digits")


@functools.lru_cache(maxsize=4)
def load_data(name: str, data_root: str = "", n_train: int = 0):
    """The named dataset with the loaders' fixed split and subset (default_rng(0)), so every
    experiment and every run trains on the same samples whatever its seed. Read-only arrays,
    cached per process (the Dataset freezes them, so sharing is safe)."""
    from engine.data.datasets import load_dataset

    return load_dataset(name, root=data_root or None, n_train=n_train or None,
                        rng=np.random.default_rng(0))


def check_data(name: str, data_root: str = "", n_train: int = 0, flag_name: str = "--dataset"):
    """load_data, with a missing or damaged file reported as bad input (UsageError naming the
    file and what to do, and the command's dataset flag `flag_name`) — for the parent, before
    any work."""
    from engine.data.datasets import DataError, DataNotFoundError

    try:
        return load_data(name, data_root, n_train)
    except DataNotFoundError as err:
        raise UsageError(str(err)) from None
    # only the readers' checks (a damaged file, a subset too large): any other ValueError is a
    # bug and stays the internal error it is
    except DataError as err:
        subset = f" --n-train {n_train}" if n_train else ""
        raise UsageError(f"{flag_name} {name}{subset}: {err}") from None
