"""Datasets: 1-D target functions, digits, the 2-D checkerboard, MNIST (IDX) and CIFAR-10
(python batches).

A `Dataset` holds x (N, d) and y (N, k), float64 and read-only; classes are one-hot rows, pixels
scaled to [0, 1] and flattened. Files sit where torchvision leaves them: ROOT/MNIST/raw/ and
ROOT/cifar-10-batches-py/. torchvision (gigabytes) is imported only to download.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.files import (  # noqa: F401  (re-exported: the data API in one place)
    CIFAR10_FILES,
    MNIST_FILES,
    DataError,
    DataNotFoundError,
    check_labels,
    existing,
    locate,
    read_cifar_batch,
    read_idx,
)
from engine.io.errors import check_float_array, check_rng
from engine.io.errors import is_real as _is_number

FUNCTIONS = {
    # np.sinc(t) = sin(πt)/(πt) with its limit 1 at t = 0 built in: exact and warning-free.
    "sinc": lambda x: np.sinc(5.0 * x),
    # sign(sin(5πx)) from the parity of ⌊5x⌋, exactly 0 at x = k/5 (np.sin(5π) = 6e-16 is not).
    "sign": lambda x: np.where(5 * x == np.floor(5 * x), 0.0, 1.0 - 2.0 * (np.floor(5 * x) % 2)),
    "damped_cos": lambda x: np.exp(-x * x) * np.cos(4.0 * np.pi * x),
    # Chebyshev T₃(x) = 4x³ − 3x: smooth, slow, values in [−1, 1] on [−1, 1].
    "poly": lambda x: 4.0 * x**3 - 3.0 * x,
}
DATASETS = (*FUNCTIONS, "digits", "checkerboard", "mnist", "cifar10")


@dataclass(frozen=True, eq=False)  # eq=False: == on arrays has no single truth value
class Dataset:
    """x (N, d), y (N, k); n_classes k for 'classification', None for 'regression'."""

    name: str
    task: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None = None

    def __post_init__(self):
        for field in ("x_train", "y_train", "x_test", "y_test"):
            object.__setattr__(self, field, _frozen(getattr(self, field), field))
        shapes = [a.shape for a in (self.x_train, self.y_train, self.x_test, self.y_test)]
        k = shapes[1][-1] if self.task == "classification" else None
        if ({len(s) for s in shapes} != {2} or shapes[0][0] != shapes[1][0] or shapes[2][0]
                != shapes[3][0] or shapes[0][1:] + shapes[1][1:] != shapes[2][1:] + shapes[3][1:]
                or self.n_classes != k or self.task not in ("regression", "classification")):
            raise ValueError(f"Dataset {self.name!r}: shapes {shapes}, {self.task!r}, n_classes "
                             f"{self.n_classes!r}; expected (N, d), (N, k), (M, d), (M, k), "
                             "'classification' k or 'regression' None")

    @property
    def labels_train(self) -> np.ndarray:
        """Class indices argmax yᵢ of the training set, shape (N,); ValueError for regression."""
        return _labels(self, self.y_train)

    @property
    def labels_test(self) -> np.ndarray:
        """Class indices argmax yᵢ of the test set, shape (M,); ValueError for regression."""
        return _labels(self, self.y_test)


def function_dataset(name="sinc", n_samples=1000, low=-1.0, high=1.0, n_test=None) -> Dataset:
    """y = f(x), f in FUNCTIONS. Train x: an even grid of n_samples points on [low, high] (ends
    included); test x: its midpoints, or a grid of n_test points. Shapes (N, 1); no randomness.
    Raises ValueError for an unknown name (naming FUNCTIONS), n_samples < 2, n_test < 1 or
    not low < high."""
    if name not in FUNCTIONS:
        raise ValueError(f"function name={name!r} is unknown; choose one of {list(FUNCTIONS)}")
    _check_count("n_samples", n_samples, 2)
    if n_test is not None:
        _check_count("n_test", n_test, 1)
    if not (_is_number(low) and _is_number(high) and np.isfinite(low) and np.isfinite(high)
            and low < high):
        raise ValueError(f"low={low!r}, high={high!r}: expected finite numbers with low < high")
    x = np.linspace(low, high, n_samples)
    x_test = (x[:-1] + x[1:]) / 2 if n_test is None else np.linspace(low, high, n_test)
    f = FUNCTIONS[name]
    return Dataset(name, "regression", x[:, None], f(x)[:, None], x_test[:, None],
                   f(x_test)[:, None])


def load_digits(n_train=None, rng=None, test_fraction=0.2) -> Dataset:
    """scikit-learn's bundled 8×8 digits (UCI optical digits; 1797, offline): pixels / 16,
    x (N, 64), y (N, 10). Split by a permutation from rng (default default_rng(0)); n_train
    subsets the train part. Raises ValueError for test_fraction ∉ (0, 1), n_train beyond the
    train part, a bad rng."""
    from sklearn.datasets import load_digits as sk_load_digits

    if not (_is_number(test_fraction) and 0.0 < test_fraction < 1.0):
        raise ValueError(f"test_fraction={test_fraction!r}: expected a number in (0, 1)")
    rng = _rng_or_default(rng)
    bunch = sk_load_digits()
    order = rng.permutation(len(bunch.target))
    n_test = max(1, round(test_fraction * len(order)))
    test, train = order[:n_test], order[n_test:]
    train = train[_subset(len(train), n_train, rng)]
    x, labels = bunch.data / 16.0, bunch.target
    return _classification("digits", x[train], labels[train], x[test], labels[test])


def load_checkerboard(n_train=None, rng=None, cells=6, n_test=None) -> Dataset:
    """The 2-D checkerboard: x uniform on [−1, 1]², the square cut into cells × cells equal
    squares, the class the parity (i + j) mod 2 of the square (i, j) that x falls in; x (N, 2),
    y (N, 2) one-hot. n_train points (default 2000) and n_test (default n_train) more, all drawn
    from rng (default default_rng(0)); no label noise, so a perfect classifier exists.
    Why this task: the class is the parity of two staircase functions, a composition that a
    ReLU net of 2+ hidden layers builds from few units (one layer makes the cell edges, the next
    combines them) while one hidden layer must add up a ridge per edge segment; the tiling's
    many linear pieces are what depth buys (Montúfar et al. 2014), so at an equal parameter
    budget depth can matter here, unlike on digits where every depth reaches ~97 %.
    Raises ValueError for cells < 2, n_train or n_test < 1, a bad rng."""
    _check_count("cells", cells, 2)
    n_train = 2000 if n_train is None else n_train
    _check_count("n_train", n_train, 1)
    n_test = n_train if n_test is None else n_test
    _check_count("n_test", n_test, 1)
    rng = _rng_or_default(rng)
    x = rng.uniform(-1.0, 1.0, size=(n_train + n_test, 2))
    # the square of x: ⌊(x + 1)/2 · cells⌋ per coordinate, cells − 1 for the edge x = 1
    square = np.minimum(np.floor((x + 1.0) / 2.0 * cells), cells - 1).astype(int)
    labels = square.sum(axis=1) % 2
    return _classification("checkerboard", x[:n_train], labels[:n_train], x[n_train:],
                           labels[n_train:], n_classes=2)


def load_mnist(root, n_train=None, rng=None, download=None) -> Dataset:
    """MNIST (LeCun et al. 1998) from ROOT/MNIST/raw/ (IDX, raw or .gz): pixels / 255,
    x (60000, 784), y (60000, 10), test 10000. n_train: a subset drawn from rng (default
    default_rng(0)). download: True lets torchvision fetch missing files, False never does,
    None (the default) does when torchvision is installed (the optional extra
    `pip install -e .[download]`). Raises DataNotFoundError saying how to get missing files,
    ValueError naming a file that is damaged."""
    paths = locate("mnist", root, download)
    arrays = [read_idx(p) for p in paths]
    for i in (0, 2):
        (images, labels), (p, q) = arrays[i:i + 2], paths[i:i + 2]
        if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise DataError(f"{p} and {q} hold shapes {images.shape} and {labels.shape}; "
                             "expected (N, 28, 28) images and N labels")
        check_labels(labels, q)
    keep = _subset(len(arrays[1]), n_train, _rng_or_default(rng))
    return _classification("mnist", arrays[0][keep], arrays[1][keep], arrays[2], arrays[3])


def load_cifar10(root, n_train=None, rng=None, download=None) -> Dataset:
    """CIFAR-10 (Krizhevsky 2009) from ROOT/cifar-10-batches-py/{data_batch_1…5, test_batch}:
    pixels / 255 (R, G, B planes), x (50000, 3072) (1.5 GB unless n_train subsets), test 10000;
    else as load_mnist.
    The batches are pickles, which can run code: use only the official files."""
    batches = [read_cifar_batch(p) for p in locate("cifar10", root, download)]
    x, labels = (np.concatenate(a) for a in zip(*batches[:-1], strict=True))
    keep = _subset(len(labels), n_train, _rng_or_default(rng))
    return _classification("cifar10", x[keep], labels[keep], *batches[-1])


def load_dataset(name, root=None, n_train=None, rng=None, download=None, **options) -> Dataset:
    """Any of DATASETS; root is read for 'mnist', 'cifar10' only. For the 1-D functions n_train
    is the grid size and options are function_dataset's; 'digits' takes test_fraction.
    Raises ValueError for an unknown name or option (naming the accepted ones); the loaders'
    errors otherwise (DataNotFoundError for missing files)."""
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is unknown; choose one of {list(DATASETS)}")
    allowed = {"digits": {"test_fraction"}, "checkerboard": {"cells", "n_test"}, "mnist": set(),
               "cifar10": set()}.get(
        name, {"n_samples", "low", "high", "n_test"})
    if set(options) - allowed or n_train is not None and "n_samples" in options:
        raise ValueError(f"dataset {name!r} takes options {sorted(allowed)}, got {sorted(options)}"
                         " (give n_train or n_samples, not both)")
    if name in FUNCTIONS:
        if n_train is not None and not (_is_number(n_train) and n_train >= 2):
            # a request the grid cannot meet, as a subset larger than an image set
            raise DataError(f"n_train={n_train!r}: a function's grid needs at least 2 points")
        sizes = {} if n_train is None else {"n_samples": n_train}
        return function_dataset(name, **sizes, **options)
    if name == "digits":
        return load_digits(n_train, rng, **options)
    if name == "checkerboard":
        return load_checkerboard(n_train, rng, **options)
    return (load_mnist if name == "mnist" else load_cifar10)(root, n_train, rng, download)


def default_image_dataset(root) -> str:
    """'mnist' when all four MNIST files are under ROOT/MNIST/raw/, else 'digits' (bundled)."""
    return "mnist" if root is not None and existing("mnist", Path(root)) else "digits"


def _labels(data, y):
    if data.task != "classification":
        raise ValueError(f"Dataset {data.name!r} is for regression: it has no labels")
    return np.argmax(y, axis=1)


def _classification(name, x_train, labels_train, x_test, labels_test, n_classes=10) -> Dataset:
    parts = []
    for x, labels in ((x_train, labels_train), (x_test, labels_test)):
        # uint8 pixels / 255 (digits come scaled); new arrays, frozen here so Dataset needn't copy
        parts += [x.reshape(len(x), -1) / 255.0 if x.dtype == np.uint8 else x,
                  np.eye(n_classes)[labels]]
    for a in parts:
        a.flags.writeable = False
    return Dataset(name, "classification", *parts, n_classes)


def _frozen(a, name):
    # A caller's array is copied so no one else can write it; the loaders' (1.5 GB) are kept.
    a = np.asarray(check_float_array(name, a, "give an array of numbers (N, d)"), order="C")
    if a.flags.writeable or not a.flags.owndata:
        a = a.copy()
    a.flags.writeable = False
    return a


def _check_count(name, value, minimum):
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r}: expected an integer ≥ {minimum}")


def _rng_or_default(rng):
    check_rng(rng, allow_none=True)
    return np.random.default_rng(0) if rng is None else rng


def _subset(n_total, n_train, rng):
    """n_train of range(n_total) drawn without replacement (sorted), or all."""
    if n_train is None:
        return np.arange(n_total)
    _check_count("n_train", n_train, 1)
    if n_train > n_total:
        raise DataError(f"n_train={n_train}: the training set has only {n_total} samples")
    return np.sort(rng.choice(n_total, size=n_train, replace=False))


