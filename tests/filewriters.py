"""Writers of the real data file formats (IDX, gzip'd IDX, CIFAR-10 pickles) for the tests that read
them: the readers are tested on bytes laid out as the originals, never on a download."""
import gzip
import pickle

import numpy as np

from engine.data.files import CIFAR10_FILES, MNIST_FILES


def idx_bytes(a, magic_type=0x08):
    """The IDX encoding of a uint8 array: 00 00 type ndim, big-endian uint32 sizes, the bytes."""
    a = np.asarray(a, dtype=np.uint8)
    header = bytes([0, 0, magic_type, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
    return header + a.tobytes()


def write(path, payload, gz=False):
    path = path.with_name(path.name + ".gz") if gz else path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def write_mnist(root, rng, n_train=5, n_test=3, gz=False):
    """Four IDX files under ROOT/MNIST/raw; returns the arrays written, in MNIST_FILES order."""
    arrays = [
        rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=n_train, dtype=np.uint8),
        rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=n_test, dtype=np.uint8),
    ]
    arrays[0][0, 0, 0], arrays[0][0, 0, 1] = 0, 255  # both ends of the pixel range
    for name, a in zip(MNIST_FILES, arrays, strict=True):
        write(root / "MNIST" / "raw" / name, idx_bytes(a), gz)
    return arrays


def write_cifar(root, rng, n_per_batch=4, overrides=None):
    """Six CIFAR-10 batches (dicts with b'data' (n, 3072) uint8 and b'labels' list); overrides
    maps a file name to the object pickled instead. Returns the batches written."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in CIFAR10_FILES:
        batches[name] = {
            b"batch_label": name.encode(),
            b"data": rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, size=n_per_batch).tolist(),
        }
        obj = (overrides or {}).get(name, batches[name])
        (folder / name).write_bytes(pickle.dumps(obj))
    return batches
