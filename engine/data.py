"""Datasets: 1-D target functions, digits, MNIST (IDX) and CIFAR-10 (python batches).

A `Dataset` holds x (N, d) and y (N, k), float64 and read-only; classes are one-hot rows, pixels
scaled to [0, 1] and flattened. Files sit where torchvision leaves them: ROOT/MNIST/raw/ and
ROOT/cifar-10-batches-py/. torchvision (gigabytes) is imported only to download.
"""
from __future__ import annotations

import gzip
import math
import pickle
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FUNCTIONS = {
    # np.sinc(t) = sin(πt)/(πt) with its limit 1 at t = 0 built in: exact and warning-free.
    "sinc": lambda x: np.sinc(5.0 * x),
    # sign(sin(5πx)) from the parity of ⌊5x⌋, exactly 0 at x = k/5 (np.sin(5π) = 6e-16 is not).
    "sign": lambda x: np.where(5 * x == np.floor(5 * x), 0.0, 1.0 - 2.0 * (np.floor(5 * x) % 2)),
    "damped_cos": lambda x: np.exp(-x * x) * np.cos(4.0 * np.pi * x),
    # Chebyshev T₃(x) = 4x³ − 3x: smooth, slow, values in [−1, 1] on [−1, 1].
    "poly": lambda x: 4.0 * x**3 - 3.0 * x,
}
DATASETS = (*FUNCTIONS, "digits", "mnist", "cifar10")
MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
# name → (folder under root, files, suffixes by preference, torchvision class)
_FILES = {"mnist": ("MNIST/raw", MNIST_FILES, ("", ".gz"), "MNIST"),
          "cifar10": ("cifar-10-batches-py", CIFAR10_FILES, ("",), "CIFAR10")}


class DataNotFoundError(ValueError, FileNotFoundError):
    """Missing dataset files or root folder; the message says how to get them."""


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
            object.__setattr__(self, field, _frozen(getattr(self, field)))
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
        """Class indices argmax yᵢ, shape (N,)."""
        return _labels(self, self.y_train)

    @property
    def labels_test(self) -> np.ndarray:
        return _labels(self, self.y_test)


def function_dataset(name="sinc", n_samples=1000, low=-1.0, high=1.0, n_test=None) -> Dataset:
    """y = f(x), f in FUNCTIONS. Train x: an even grid of n_samples points on [low, high] (ends
    included); test x: its midpoints, or a grid of n_test points. Shapes (N, 1); no randomness."""
    if name not in FUNCTIONS:
        raise ValueError(f"function name={name!r} is unknown; choose one of {list(FUNCTIONS)}")
    _check_count("n_samples", n_samples, 2)
    if n_test is not None:
        _check_count("n_test", n_test, 1)
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"low={low!r}, high={high!r}: expected finite numbers with low < high")
    x = np.linspace(low, high, n_samples)
    x_test = (x[:-1] + x[1:]) / 2 if n_test is None else np.linspace(low, high, n_test)
    f = FUNCTIONS[name]
    return Dataset(name, "regression", x[:, None], f(x)[:, None], x_test[:, None],
                   f(x_test)[:, None])


def load_digits(n_train=None, rng=None, test_fraction=0.2) -> Dataset:
    """scikit-learn's bundled 8×8 digits (1797, offline): pixels / 16, x (N, 64), y (N, 10).
    Split by a permutation from rng (default default_rng(0)); n_train subsets the train part."""
    from sklearn.datasets import load_digits as sk_load_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction={test_fraction!r}: expected a number in (0, 1)")
    rng = _check_rng(rng)
    bunch = sk_load_digits()
    order = rng.permutation(len(bunch.target))
    n_test = max(1, round(test_fraction * len(order)))
    test, train = order[:n_test], order[n_test:]
    train = train[_subset(len(train), n_train, rng)]
    x, labels = bunch.data / 16.0, bunch.target
    return _classification("digits", x[train], labels[train], x[test], labels[test])


def read_idx(path) -> np.ndarray:
    """The uint8 array in an IDX file (raw or .gz): magic 00 00 08 ndim, ndim big-endian uint32
    sizes, then exactly prod(sizes) bytes. Any mismatch raises ValueError."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[:3] != b"\0\0\x08" or data[3] == 0:
        raise ValueError(f"{path}: magic number 0x{data[:4].hex()} is not IDX uint8; expected "
                         "0x00000803 (images) or 0x00000801 (labels). Download it again.")
    header = 4 + 4 * data[3]
    dims = tuple(np.frombuffer(data[4:header], ">u4").tolist()) if len(data) >= header else ()
    expected = header + math.prod(dims) if dims else header
    if len(data) != expected:
        problem = "is truncated" if len(data) < expected else "has trailing bytes"
        raise ValueError(f"{path} {problem}: sizes {dims} need {expected} bytes, found "
                         f"{len(data)}. Download it again.")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()


def load_mnist(root, n_train=None, rng=None, download=None) -> Dataset:
    """MNIST from ROOT/MNIST/raw/ (IDX, raw or .gz): pixels / 255, x (60000, 784),
    y (60000, 10), test 10000. n_train: a subset drawn from rng (default default_rng(0)).
    download: True lets torchvision fetch missing files, False never does, None (the default)
    does when torchvision is installed (the optional extra `pip install -e .[download]`)."""
    paths = _locate("mnist", root, download)
    arrays = [read_idx(p) for p in paths]
    for i in (0, 2):
        (images, labels), (p, q) = arrays[i:i + 2], paths[i:i + 2]
        if images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise ValueError(f"{p} and {q} hold shapes {images.shape} and {labels.shape}; "
                             "expected (N, 28, 28) images and N labels")
        _check_labels(labels, q)
    keep = _subset(len(arrays[1]), n_train, _check_rng(rng))
    return _classification("mnist", arrays[0][keep], arrays[1][keep], arrays[2], arrays[3])


def load_cifar10(root, n_train=None, rng=None, download=None) -> Dataset:
    """CIFAR-10 from ROOT/cifar-10-batches-py/{data_batch_1…5, test_batch}: pixels / 255 (R, G, B
    planes), x (50000, 3072) (1.5 GB unless n_train subsets), test 10000; else as load_mnist.
    The batches are pickles, which can run code: use only the official files."""
    batches = [_read_cifar_batch(p) for p in _locate("cifar10", root, download)]
    x, labels = (np.concatenate(a) for a in zip(*batches[:-1], strict=True))
    keep = _subset(len(labels), n_train, _check_rng(rng))
    return _classification("cifar10", x[keep], labels[keep], *batches[-1])


def load_dataset(name, root=None, n_train=None, rng=None, download=None, **options) -> Dataset:
    """Any of DATASETS; root is read for 'mnist', 'cifar10' only. For the 1-D functions n_train
    is the grid size and options are function_dataset's; 'digits' takes test_fraction."""
    if name not in DATASETS:
        raise ValueError(f"dataset={name!r} is unknown; choose one of {list(DATASETS)}")
    allowed = {"digits": {"test_fraction"}, "mnist": set(), "cifar10": set()}.get(
        name, {"n_samples", "low", "high", "n_test"})
    if set(options) - allowed or n_train is not None and "n_samples" in options:
        raise ValueError(f"dataset {name!r} takes options {sorted(allowed)}, got {sorted(options)}"
                         " (give n_train or n_samples, not both)")
    if name in FUNCTIONS:
        sizes = {} if n_train is None else {"n_samples": n_train}
        return function_dataset(name, **sizes, **options)
    if name == "digits":
        return load_digits(n_train, rng, **options)
    return (load_mnist if name == "mnist" else load_cifar10)(root, n_train, rng, download)


def default_image_dataset(root) -> str:
    """'mnist' when all four MNIST files are under ROOT/MNIST/raw/, else 'digits' (bundled)."""
    return "mnist" if root is not None and _existing("mnist", Path(root)) else "digits"


def _labels(data, y):
    if data.task != "classification":
        raise ValueError(f"Dataset {data.name!r} is for regression: it has no labels")
    return np.argmax(y, axis=1)


def _classification(name, x_train, labels_train, x_test, labels_test) -> Dataset:
    parts = []
    for x, labels in ((x_train, labels_train), (x_test, labels_test)):
        # uint8 pixels / 255 (digits come scaled); new arrays, frozen here so Dataset needn't copy
        parts += [x.reshape(len(x), -1) / 255.0 if x.dtype == np.uint8 else x, np.eye(10)[labels]]
    for a in parts:
        a.flags.writeable = False
    return Dataset(name, "classification", *parts, 10)


def _frozen(a):
    # A caller's array is copied so no one else can write it; the loaders' (1.5 GB) are kept.
    a = np.asarray(a, dtype=np.float64, order="C")
    if a.flags.writeable or not a.flags.owndata:
        a = a.copy()
    a.flags.writeable = False
    return a


def _check_count(name, value, minimum):
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name}={value!r}: expected an integer ≥ {minimum}")


def _check_rng(rng):
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng={rng!r}: expected a numpy.random.Generator or None")
    return np.random.default_rng(0) if rng is None else rng


def _subset(n_total, n_train, rng):
    """n_train of range(n_total) drawn without replacement (sorted), or all."""
    if n_train is None:
        return np.arange(n_total)
    _check_count("n_train", n_train, 1)
    if n_train > n_total:
        raise ValueError(f"n_train={n_train}: the training set has only {n_total} samples")
    return np.sort(rng.choice(n_total, size=n_train, replace=False))


def _check_labels(labels, path):
    if labels.dtype.kind not in "iu" or labels.size and not 0 <= labels.min() <= labels.max() < 10:
        raise ValueError(f"{path}: labels are not integers 0 … 9; download it again")


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataNotFoundError(f"IDX file {path} does not exist")
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path) as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path} is not a complete gzip file ({err}); download it again") from None


def _read_cifar_batch(path):
    """(uint8 pixels (n, 3072), labels (n,)) of one batch."""
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as err:  # damaged pickles raise almost any type
        raise ValueError(f"{path} is not a CIFAR-10 batch ({err!r}); download it again") from None
    if not isinstance(batch, dict) or not {b"data", b"labels"} <= set(batch):
        raise ValueError(f"{path}: expected a dict with b'data' and b'labels'; download it again")
    x, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    if x.dtype != np.uint8 or x.shape[1:] != (3072,) or labels.shape != (len(x),):
        raise ValueError(f"{path}: b'data' is {x.dtype} {x.shape}, b'labels' {labels.shape}; "
                         "expected uint8 (n, 3072) and n labels")
    _check_labels(labels, path)
    return x, labels


def _existing(name, root):
    """The dataset's file paths (raw before .gz), or None if one is missing."""
    folder, files, suffixes, _ = _FILES[name]
    found = [[root / folder / (f + s) for s in suffixes] for f in files]
    found = [[p for p in paths if p.is_file()][:1] for paths in found]
    return [p for (p,) in found] if all(found) else None


def _torchvision_installed() -> bool:
    """Whether torchvision can be imported, without importing it (that takes seconds)."""
    import importlib.util

    try:
        return importlib.util.find_spec("torchvision") is not None
    except (ImportError, ValueError, AttributeError):  # e.g. sys.modules["torchvision"] = None
        return False


def _locate(name, root, download):
    """The dataset's files under root; torchvision downloads missing ones if asked (download
    True), or if it is installed (download None)."""
    if download is None:
        download = _torchvision_installed()
    if root is None:
        raise ValueError(f"dataset {name!r} needs root, the folder that holds it; or use 'digits'")
    root, problem = Path(root), ""
    if not root.is_dir() and not download:
        problem = f"root={str(root)!r} does not exist. "
    elif _existing(name, root) is None and download:
        try:
            import torchvision  # only here: gigabytes, used for nothing else

            getattr(torchvision.datasets, _FILES[name][3])(str(root), train=True, download=True)
        except ImportError:
            problem = "download=True needs torchvision, which is not installed. "
        except (OSError, RuntimeError) as err:
            problem = f"torchvision could not download {name} ({err}). "
    paths = None if problem else _existing(name, root)
    if paths is None:
        folder, files, suffixes, cls = _FILES[name]
        raise DataNotFoundError(
            f"{problem}{name} expects {', '.join(files)}{' (raw or .gz)' * (len(suffixes) > 1)} "
            f"in {root / folder}. Get them either way: put the files there (the layout "
            f"torchvision.datasets.{cls}(root={str(root)!r}) leaves), or run "
            "`pip install -e .[download]` so that torchvision fetches them.")
    return paths
