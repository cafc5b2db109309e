"""engine.data.datasets: target functions, digits, and the MNIST / CIFAR-10 readers on files
written here."""
import gzip
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from filewriters import idx_bytes, write, write_cifar, write_mnist
from numpy.testing import assert_allclose, assert_array_equal

from engine.data import datasets as data
from engine.data.datasets import (
    CIFAR10_FILES,
    DATASETS,
    FUNCTIONS,
    MNIST_FILES,
    DataNotFoundError,
    Dataset,
    default_image_dataset,
    function_dataset,
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist,
    read_idx,
)

# ---------------------------------------------------------------- 1-D target functions


def test_sinc_is_one_at_zero_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = function_dataset("sinc", n_samples=3)
    assert_array_equal(ds.x_train[:, 0], [-1.0, 0.0, 1.0])
    assert ds.y_train[1, 0] == 1.0  # np.sinc returns the limit exactly at t = 0


def test_sinc_matches_its_formula_away_from_zero():
    ds = function_dataset("sinc", n_samples=101)
    x, y = ds.x_test[:, 0], ds.y_test[:, 0]  # midpoints: x = ±0.01, ±0.03, … avoid every zero
    # two routes to sin(5πx)/(5πx); the nearest zero is 0.01 away, where rounding the argument
    # costs ~ε·|5πx|/|tan 5πx| ≈ 2e-15 relative: 1e-12 leaves a wide margin.
    assert_allclose(y, np.sin(5 * np.pi * x) / (5 * np.pi * x), rtol=1e-12)


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("n_samples, n_test", [(1000, None), (7, 4)])
def test_function_grid_and_shapes(name, n_samples, n_test):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = function_dataset(name, n_samples=n_samples, low=-2.0, high=3.0, n_test=n_test)
    x = ds.x_train[:, 0]
    assert ds.x_train.shape == ds.y_train.shape == (n_samples, 1)
    assert (x[0], x[-1]) == (-2.0, 3.0)  # linspace hits both ends exactly
    assert ds.task == "regression" and ds.n_classes is None and ds.name == name
    assert np.all(np.isfinite(ds.y_train)) and np.all(np.isfinite(ds.y_test))
    # an even grid: equal steps up to the rounding of each point (~ε·max|x| = 7e-16)
    assert_allclose(np.diff(x), (3.0 - -2.0) / (n_samples - 1), rtol=1e-12)
    if n_test is None:
        assert ds.x_test.shape == ds.y_test.shape == (n_samples - 1, 1)
        # the midpoints: one addition and one halving of the same values on each side
        assert_allclose(ds.x_test[:, 0], (x[:-1] + x[1:]) / 2, rtol=1e-15)
    else:
        assert_array_equal(ds.x_test[:, 0], np.linspace(-2.0, 3.0, n_test))


def test_sign_is_exact_at_zeros_and_between(rng):
    sign = FUNCTIONS["sign"]
    zeros = np.arange(-5, 6) / 5.0
    assert_array_equal(5.0 * zeros, np.arange(-5, 6))  # these floats are exact zeros of sin(5πx)
    assert_array_equal(sign(zeros), np.zeros(11))  # np.sign(np.sin(5πx)) gives ±1 at most of them
    ds = function_dataset("sign", n_samples=1000)
    assert (ds.y_train[0, 0], ds.y_train[-1, 0]) == (0.0, 0.0)  # x = ±1
    x = rng.uniform(-1.0, 1.0, size=1000)
    s = np.sin(5 * np.pi * x)
    away = np.abs(s) > 1e-9  # far from the zeros the rounding of sin cannot flip its sign
    assert away.sum() > 990
    assert_array_equal(sign(x)[away], np.sign(s[away]))
    assert set(np.unique(ds.y_train)) == {-1.0, 0.0, 1.0}


def test_poly_is_chebyshev_t3_and_damped_cos_values():
    t = np.linspace(0.0, np.pi, 9)
    poly = FUNCTIONS["poly"](np.cos(t))
    # T₃(cos t) = cos 3t, an independent route; a few ulps of rounding, and atol because
    # cos 3t = 0 at t = π/2, where both sides are rounding noise of size ~1e-16
    assert_allclose(poly, np.cos(3 * t), rtol=1e-12, atol=1e-14)
    damped = FUNCTIONS["damped_cos"](np.array([0.0, 0.25, 0.5]))
    # e^{−x²}·cos(4πx) at 0, ¼, ½: 1, −e^{−1/16}, e^{−1/4}; a few ulps of rounding
    assert_allclose(damped, [1.0, -np.exp(-0.0625), np.exp(-0.25)], rtol=1e-14)


@pytest.mark.parametrize("kwargs, word", [
    ({"name": "sinus"}, "sinc"),
    ({"n_samples": 1}, "n_samples"),
    ({"n_samples": 10.0}, "n_samples"),
    ({"n_test": 0}, "n_test"),
    ({"low": 1.0, "high": 1.0}, "low"),
    ({"low": -np.inf}, "low"),
])
def test_function_dataset_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        function_dataset(**kwargs)


# ---------------------------------------------------------------- Dataset container


def test_dataset_arrays_are_frozen_private_float64():
    x = np.arange(6, dtype=np.int64).reshape(3, 2)
    y = np.ones((3, 1))
    ds = Dataset("toy", "regression", x, y, x[:2], y[:2])
    y[0, 0] = 5.0  # the caller's array stays theirs
    assert ds.y_train[0, 0] == 1.0
    for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        assert a.dtype == np.float64 and a.flags.c_contiguous and not a.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            a[0, 0] = 1.0
    with pytest.raises(ValueError, match="regression"):
        _ = ds.labels_train


@pytest.mark.parametrize("task, x_test, n_classes", [
    ("regression", np.zeros((2, 3)), None),  # 3 features in test, 2 in train
    ("regression", np.zeros(2), None),  # 1-D
    ("classification", np.zeros((2, 2)), None),  # classification without n_classes
    ("clasification", np.zeros((2, 2)), None),
])
def test_dataset_rejects_inconsistent_parts(task, x_test, n_classes):
    good = Dataset("toy", "classification", np.zeros((3, 2)), np.eye(3), np.zeros((2, 2)),
                   np.eye(3)[:2], 3)  # the control: consistent parts are accepted
    assert_array_equal(good.labels_test, [0, 1])
    with pytest.raises(ValueError, match="toy"):
        Dataset("toy", task, np.zeros((3, 2)), np.eye(3), x_test, np.eye(3)[:2], n_classes)


# ---------------------------------------------------------------- digits


def test_digits_scaled_one_hot_and_paired_with_their_labels():
    from sklearn.datasets import load_digits as sk_load_digits

    ds = load_digits()
    assert ds.x_train.shape == (1797 - 359, 64) and ds.x_test.shape == (359, 64)  # 20 % of 1797
    assert ds.n_classes == 10 and ds.task == "classification"
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0  # 16/16 is exact
    assert_array_equal(ds.y_train.sum(axis=1), np.ones(len(ds.y_train)))
    assert_array_equal(ds.y_train[np.arange(len(ds.y_train)), ds.labels_train], 1.0)
    bunch = sk_load_digits()
    label_of = {row.tobytes(): t for row, t in zip(bunch.data, bunch.target, strict=True)}
    for x, labels in ((ds.x_train, ds.labels_train), (ds.x_test, ds.labels_test)):
        # ×16 undoes a division by a power of two exactly, so rows are found byte for byte
        assert [label_of[row.tobytes()] for row in x * 16.0] == labels.tolist()


def test_digits_seeded_subset_is_reproducible():
    a = load_digits(n_train=100, rng=np.random.default_rng(5))
    b = load_digits(n_train=100, rng=np.random.default_rng(5))
    c = load_digits(n_train=100, rng=np.random.default_rng(6))
    assert a.x_train.shape == (100, 64)
    assert_array_equal(a.x_train, b.x_train)
    assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_train, c.x_train)
    assert_array_equal(load_digits().x_test, load_digits().x_test)  # default split is fixed


@pytest.mark.parametrize("kwargs, word", [
    ({"test_fraction": 1.0}, "test_fraction"),
    ({"n_train": 5000}, "n_train"),
    ({"n_train": 0}, "n_train"),
    ({"rng": 0}, "rng"),
])
def test_digits_bad_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        load_digits(**kwargs)


# ---------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", [(3, 28, 28), (7,), (2, 3, 4, 5)])
def test_read_idx_round_trip(tmp_path, rng, gz, shape):
    a = rng.integers(0, 256, size=shape, dtype=np.uint8)
    out = read_idx(write(tmp_path / "a-idx", idx_bytes(a), gz))
    assert out.dtype == np.uint8 and out.shape == shape and out.flags.writeable
    assert_array_equal(out, a)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("keep, words", [
    # a full file is 16 header bytes + 3·28·28 = 2368 bytes
    (2367, ["is truncated", "need 2368 bytes", "found 2367"]),
    (2371, ["has trailing bytes", "need 2368 bytes", "found 2371"]),
    (10, ["is truncated", "need 16 bytes", "found 10"]),  # cut inside the header's sizes
])
def test_read_idx_wrong_length(tmp_path, rng, gz, keep, words):
    payload = idx_bytes(rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)) + b"\0" * 3
    path = write(tmp_path / "train-images-idx3-ubyte", payload[:keep], gz)
    with pytest.raises(ValueError) as err:
        read_idx(path)
    for word in words + [str(path)]:
        assert word in str(err.value)


@pytest.mark.parametrize("head", [b"\x00\x00\x0c\x01", b"\x08\x00\x00\x01", b"\x00\x00\x08\x00",
                                  b"PK\x03\x04", b"\x00\x00"])
def test_read_idx_wrong_magic(tmp_path, head):
    path = write(tmp_path / "labels", head + b"\x00\x00\x00\x01\x07")
    with pytest.raises(ValueError, match="magic number") as err:
        read_idx(path)
    assert str(path) in str(err.value) and "0x00000801" in str(err.value)


def test_read_idx_broken_gzip_and_missing_file(tmp_path, rng):
    good = gzip.compress(idx_bytes(rng.integers(0, 256, size=(2, 28, 28), dtype=np.uint8)))
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="gzip"):
        read_idx(path)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="gzip"):
        read_idx(path)
    with pytest.raises(DataNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


# ---------------------------------------------------------------- MNIST


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_round_trip(tmp_path, rng, gz):
    train_x, train_y, test_x, test_y = write_mnist(tmp_path, rng, gz=gz)
    ds = load_mnist(tmp_path)
    assert ds.name == "mnist" and ds.n_classes == 10
    assert ds.x_train.shape == (5, 784) and ds.y_train.shape == (5, 10)
    assert ds.x_test.shape == (3, 784) and ds.y_test.shape == (3, 10)
    assert (ds.x_train[0, 0], ds.x_train[0, 1]) == (0.0, 1.0)  # 0/255 and 255/255 are exact
    # the same single correctly rounded division by 255 on both sides
    assert_allclose(ds.x_train, train_x.reshape(5, 784) / 255.0, rtol=1e-15)
    assert_allclose(ds.x_test, test_x.reshape(3, 784) / 255.0, rtol=1e-15)
    assert_array_equal(ds.labels_train, train_y)
    assert_array_equal(ds.labels_test, test_y)
    assert_array_equal(ds.y_train.sum(axis=1), np.ones(5))
    assert not ds.x_train.flags.writeable


def test_load_mnist_prefers_raw_over_gz(tmp_path, rng):
    write_mnist(tmp_path, rng, gz=True)
    raw = write_mnist(tmp_path, rng, gz=False)
    assert_array_equal(load_mnist(tmp_path).labels_train, raw[1])


def test_load_mnist_seeded_subset(tmp_path, rng):
    train_x, train_y, _, _ = write_mnist(tmp_path, rng, n_train=20)
    a = load_mnist(tmp_path, n_train=6, rng=np.random.default_rng(1))
    b = load_dataset("mnist", root=tmp_path, n_train=6, rng=np.random.default_rng(1))
    c = load_mnist(tmp_path, n_train=6, rng=np.random.default_rng(2))
    assert a.x_train.shape == (6, 784) and a.x_test.shape == (3, 784)
    assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, c.x_train)  # the subset follows the rng
    # every drawn row is an original image with its own label
    rows = {x.tobytes(): y for x, y in zip(train_x.reshape(20, 784), train_y, strict=True)}
    pixels = np.rint(a.x_train * 255.0).astype(np.uint8)
    assert [rows[p.tobytes()] for p in pixels] == a.labels_train.tolist()


@pytest.mark.parametrize("file_index, array, word", [
    (1, np.zeros(4, dtype=np.uint8), "N labels"),  # 4 labels for 5 images
    (0, np.zeros((5, 27, 28), dtype=np.uint8), "28, 28"),
    (3, np.full(3, 10, dtype=np.uint8), "0 … 9"),
    (2, np.zeros((3, 784), dtype=np.uint8), "28, 28"),
])
def test_load_mnist_inconsistent_files(tmp_path, rng, file_index, array, word):
    write_mnist(tmp_path, rng)
    path = write(tmp_path / "MNIST" / "raw" / MNIST_FILES[file_index], idx_bytes(array))
    with pytest.raises(ValueError, match=word) as err:
        load_mnist(tmp_path)
    assert str(path) in str(err.value)


def test_mnist_missing_files_say_where_and_how(tmp_path, rng):
    write_mnist(tmp_path, rng)
    (tmp_path / "MNIST" / "raw" / MNIST_FILES[2]).unlink()
    with pytest.raises(DataNotFoundError) as err:
        load_mnist(tmp_path, download=False)
    message = str(err.value)
    assert str(tmp_path / "MNIST" / "raw") in message and MNIST_FILES[2] in message
    assert "pip install -e .[download]" in message
    assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, ValueError)


def test_missing_root_is_named(tmp_path):
    root = tmp_path / "no-such-folder"
    for loader in (load_mnist, load_cifar10):
        with pytest.raises(DataNotFoundError, match="does not exist") as err:
            loader(root, download=False)
        assert str(root) in str(err.value) and "pip install" in str(err.value)
    with pytest.raises(ValueError, match="root"):
        load_mnist(None)


def test_default_downloads_only_when_torchvision_is_installed(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # as if it were not installed
    with pytest.raises(DataNotFoundError, match="pip install") as err:
        load_mnist(tmp_path)  # download=None: no torchvision, so no download is attempted
    assert "needs torchvision" not in str(err.value)


def test_download_without_torchvision_explains(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` fail
    with pytest.raises(DataNotFoundError, match="torchvision") as err:
        load_mnist(tmp_path, download=True)
    assert "pip install -e .[download]" in str(err.value)


def test_default_image_dataset(tmp_path, rng):
    assert default_image_dataset(None) == "digits"
    assert default_image_dataset(tmp_path / "missing") == "digits"
    write_mnist(tmp_path, rng, gz=True)
    assert default_image_dataset(tmp_path) == "mnist"
    (tmp_path / "MNIST" / "raw" / (MNIST_FILES[3] + ".gz")).unlink()
    assert default_image_dataset(tmp_path) == "digits"


# ---------------------------------------------------------------- CIFAR-10


def test_load_cifar10_round_trip(tmp_path, rng):
    batches = write_cifar(tmp_path, rng)
    ds = load_cifar10(tmp_path)
    assert ds.x_train.shape == (20, 3072) and ds.x_test.shape == (4, 3072)
    train = np.concatenate([batches[f][b"data"] for f in CIFAR10_FILES[:5]])
    labels = np.concatenate([batches[f][b"labels"] for f in CIFAR10_FILES[:5]])
    # the same single correctly rounded division by 255 on both sides
    assert_allclose(ds.x_train, train / 255.0, rtol=1e-15)
    assert_allclose(ds.x_test, batches["test_batch"][b"data"] / 255.0, rtol=1e-15)
    assert_array_equal(ds.labels_train, labels)
    assert_array_equal(ds.labels_test, batches["test_batch"][b"labels"])
    sub = load_cifar10(tmp_path, n_train=7, rng=np.random.default_rng(3))
    again = load_cifar10(tmp_path, n_train=7, rng=np.random.default_rng(3))
    assert sub.x_train.shape == (7, 3072)
    assert_array_equal(sub.x_train, again.x_train)


@pytest.mark.parametrize("bad, word", [
    ({b"data": np.zeros((4, 3071), np.uint8), b"labels": [0] * 4}, "3072"),
    ({b"data": np.zeros((4, 3072), np.float32), b"labels": [0] * 4}, "uint8"),
    ({b"data": np.zeros((4, 3072), np.uint8)}, "b'labels'"),
    ({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0] * 3}, "n labels"),
    ({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 2, 11]}, "0 … 9"),
    ([1, 2, 3], "dict"),
])
def test_load_cifar10_bad_batch(tmp_path, rng, bad, word):
    write_cifar(tmp_path, rng, overrides={"data_batch_3": bad})
    with pytest.raises(ValueError, match=word) as err:
        load_cifar10(tmp_path)
    assert "data_batch_3" in str(err.value)


def test_load_cifar10_damaged_and_missing_batches(tmp_path, rng):
    write_cifar(tmp_path, rng)
    folder = tmp_path / "cifar-10-batches-py"
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": 1})[:-3])
    with pytest.raises(ValueError, match="test_batch"):
        load_cifar10(tmp_path)
    (folder / "data_batch_2").unlink()
    with pytest.raises(DataNotFoundError) as err:
        load_cifar10(tmp_path, download=False)
    assert str(folder) in str(err.value) and "data_batch_2" in str(err.value)
    assert "pip install" in str(err.value)


# ---------------------------------------------------------------- dispatch and import hygiene


def test_load_dataset_dispatch(tmp_path, rng):
    assert set(DATASETS) == set(FUNCTIONS) | {"digits", "checkerboard", "mnist", "cifar10"}
    assert load_dataset("sign", n_train=9).x_train.shape == (9, 1)
    ds = load_dataset("sinc", low=0.0, high=2.0, n_test=4)
    assert ds.x_test.shape == (4, 1) and ds.x_train[-1, 0] == 2.0
    assert load_dataset("digits", n_train=50, test_fraction=0.5).x_test.shape == (898, 64)
    write_cifar(tmp_path, rng)
    assert load_dataset("cifar10", root=tmp_path).name == "cifar10"


@pytest.mark.parametrize("args, kwargs, words", [
    (("mnst",), {}, ["mnst", "'mnist'", "'sinc'", "'digits'", "'cifar10'"]),
    (("digits",), {"low": 0.0}, ["digits", "test_fraction"]),
    (("sinc",), {"test_fraction": 0.1}, ["sinc", "n_samples"]),
    (("sinc",), {"n_train": 5, "n_samples": 6}, ["not both"]),
    (("sinc",), {"n_train": 0}, ["n_train=0", "at least 2"]),  # the grid size, not the default
    (("mnist",), {"n_samples": 6}, ["mnist"]),
    (("mnist",), {}, ["root"]),
])
def test_load_dataset_bad_input(args, kwargs, words):
    with pytest.raises(ValueError) as err:
        load_dataset(*args, **kwargs)
    for word in words:
        assert word in str(err.value)


def test_torchvision_is_never_imported_at_module_level():
    """Importing every module of the project loads neither torchvision nor torch (gigabytes)."""
    import subprocess

    code = ("import pkgutil, importlib, sys\n"
            "for pkg in ('engine', 'experiments', 'plots'):\n"
            "    for m in pkgutil.iter_modules(importlib.import_module(pkg).__path__):\n"
            "        importlib.import_module(f'{pkg}.{m.name}')\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('torch', 'torchvision')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(data.__file__).parents[2])
    assert out.stdout.strip() == "[]"
