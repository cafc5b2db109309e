"""Dataset files on disk: the IDX reader (MNIST), the CIFAR-10 batch reader, and where both sit —
the layout torchvision leaves, ROOT/MNIST/raw/ and ROOT/cifar-10-batches-py/ — with torchvision
(gigabytes, an optional extra) imported only to download missing files.

Every reader checks what it reads (magic numbers, byte counts, shapes, label ranges) and raises a
ValueError naming the file and what to do; nothing half-read is ever returned.
"""
from __future__ import annotations

import gzip
import math
import pickle
import zlib
from pathlib import Path

import numpy as np

MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
# name → (folder under root, files, suffixes by preference, torchvision class)
_FILES = {"mnist": ("MNIST/raw", MNIST_FILES, ("", ".gz"), "MNIST"),
          "cifar10": ("cifar-10-batches-py", CIFAR10_FILES, ("",), "CIFAR10")}


class DataError(ValueError):
    """Data that cannot serve: a damaged or foreign file (the readers' checks), or a request the
    files cannot meet (a subset larger than the set). A ValueError, so callers that catch those
    keep working; its own class, so a command can report exactly these as bad input and let any
    other ValueError (a bug) show as the internal error it is."""


class DataNotFoundError(DataError, FileNotFoundError):
    """Missing dataset files or root folder; the message says how to get them."""


def read_idx(path) -> np.ndarray:
    """The uint8 array in an IDX file (raw or .gz), shape its header's sizes: magic 00 00 08 ndim,
    ndim big-endian uint32 sizes, then exactly prod(sizes) bytes (the MNIST format, LeCun et al.
    1998). Any mismatch raises DataError (a ValueError); a missing file DataNotFoundError."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[:3] != b"\0\0\x08" or data[3] == 0:
        raise DataError(f"{path}: magic number 0x{data[:4].hex()} is not IDX uint8; expected "
                         "0x00000803 (images) or 0x00000801 (labels). Download it again.")
    header = 4 + 4 * data[3]
    dims = tuple(np.frombuffer(data[4:header], ">u4").tolist()) if len(data) >= header else ()
    expected = header + math.prod(dims) if dims else header
    if len(data) != expected:
        problem = "is truncated" if len(data) < expected else "has trailing bytes"
        raise DataError(f"{path} {problem}: sizes {dims} need {expected} bytes, found "
                         f"{len(data)}. Download it again.")
    if 0 in dims:  # a header of 0 images is well formed, and useless for training or testing
        raise DataError(f"{path} holds no items (sizes {dims}). Download it again.")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise DataNotFoundError(f"IDX file {path} does not exist")
    try:
        if path.suffix != ".gz":
            return path.read_bytes()
        with gzip.open(path) as f:
            return f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise DataError(
            f"{path} is not a complete gzip file ({err}); download it again") from None
    except OSError as err:  # EIO, EACCES…: the file exists but its bytes cannot be read
        raise DataError(f"{path} cannot be read ({err.strerror or err}); check the disk and "
                         "the file's permissions, or download it again") from None


def read_cifar_batch(path):
    """(uint8 pixels (n, 3072), labels (n,)) of one CIFAR-10 python batch: a pickled dict with
    b'data' and b'labels' (Krizhevsky 2009). ValueError naming the file if it is not one."""
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as err:  # damaged pickles raise almost any type
        raise DataError(f"{path} is not a CIFAR-10 batch ({err!r}); download it again") from None
    if not isinstance(batch, dict) or not {b"data", b"labels"} <= set(batch):
        raise DataError(f"{path}: expected a dict with b'data' and b'labels'; download it again")
    x, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    if x.dtype != np.uint8 or x.shape[1:] != (3072,) or labels.shape != (len(x),):
        raise DataError(f"{path}: b'data' is {x.dtype} {x.shape}, b'labels' {labels.shape}; "
                         "expected uint8 (n, 3072) and n labels")
    check_labels(labels, path)
    return x, labels


def existing(name, root):
    """The dataset's file paths under root (a Path; raw before .gz), or None if one is
    missing. name: 'mnist' | 'cifar10'."""
    folder, files, suffixes, _ = _FILES[name]
    found = [[root / folder / (f + s) for s in suffixes] for f in files]
    found = [[p for p in paths if p.is_file()][:1] for paths in found]
    return [p for (p,) in found] if all(found) else None


def torchvision_installed() -> bool:
    """Whether torchvision can be imported, without importing it (that takes seconds)."""
    import importlib.util

    try:
        return importlib.util.find_spec("torchvision") is not None
    except (ImportError, ValueError, AttributeError):  # e.g. sys.modules["torchvision"] = None
        return False


def locate(name, root, download):
    """The dataset's file paths under root ('mnist' | 'cifar10'); torchvision downloads missing
    ones if asked (download True), or if it is installed (download None). Raises
    DataNotFoundError saying where the files belong and how to get them, ValueError without
    root."""
    if download is None:
        download = torchvision_installed()
    if root is None:
        raise ValueError(f"dataset {name!r} needs root, the folder that holds it; or use 'digits'")
    root, problem = Path(root), ""
    if not root.is_dir() and not download:
        problem = f"root={str(root)!r} does not exist. "
    elif existing(name, root) is None and download:
        try:
            import torchvision  # only here: gigabytes, used for nothing else

            getattr(torchvision.datasets, _FILES[name][3])(str(root), train=True, download=True)
        except ImportError:
            problem = "download=True needs torchvision, which is not installed. "
        except (OSError, RuntimeError) as err:
            problem = f"torchvision could not download {name} ({err}). "
    paths = None if problem else existing(name, root)
    if paths is None:
        folder, files, suffixes, cls = _FILES[name]
        raise DataNotFoundError(
            f"{problem}{name} expects {', '.join(files)}{' (raw or .gz)' * (len(suffixes) > 1)} "
            f"in {root / folder}. Get them either way: put the files there (the layout "
            f"torchvision.datasets.{cls}(root={str(root)!r}) leaves), or run "
            "`pip install -e .[download]` so that torchvision fetches them.")
    return paths


def check_labels(labels, path):
    """Raise ValueError naming `path` unless labels are integers in 0 … 9 (MNIST, CIFAR-10)."""
    if labels.dtype.kind not in "iu" or labels.size and not 0 <= labels.min() <= labels.max() < 10:
        raise DataError(f"{path}: labels are not integers 0 … 9; download it again")
