"""engine.data.datasets.load_checkerboard: shapes, the parity labels against points placed in
known squares, reproducibility, dispatch and refusals."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from engine.data.datasets import load_checkerboard, load_dataset


def test_shapes_classes_and_range():
    data = load_checkerboard(300, np.random.default_rng(1), cells=4, n_test=50)
    assert data.x_train.shape == (300, 2) and data.y_train.shape == (300, 2)
    assert data.x_test.shape == (50, 2) and data.n_classes == 2 and data.name == "checkerboard"
    assert np.all(np.abs(data.x_train) <= 1.0) and np.all(data.y_train.sum(axis=1) == 1.0)
    # both classes, about half each (a fair board: cells² squares alternate)
    assert 0.4 < data.labels_train.mean() < 0.6


def test_labels_are_the_parity_of_the_square():
    data = load_checkerboard(4000, np.random.default_rng(2), cells=6)
    x, labels = data.x_train, data.labels_train
    i, j = (np.floor((x + 1.0) / 2.0 * 6).astype(int)).T
    assert_array_equal(labels, (i + j) % 2)
    # by hand: the square (0, 0) at the corner (−1, −1) is class 0, its neighbours class 1
    corner = np.all(x < -1 + 2 / 6, axis=1)
    right = (x[:, 0] > -1 + 2 / 6) & (x[:, 0] < -1 + 4 / 6) & (x[:, 1] < -1 + 2 / 6)
    assert np.all(labels[corner] == 0) and np.all(labels[right] == 1)


def test_same_rng_same_points_and_test_defaults_to_train_size():
    a = load_checkerboard(100, np.random.default_rng(3))
    b = load_checkerboard(100, np.random.default_rng(3))
    assert_array_equal(a.x_train, b.x_train) and assert_array_equal(a.y_test, b.y_test)
    assert a.x_test.shape == (100, 2)
    assert load_checkerboard().x_train.shape == (2000, 2)


def test_dispatch_by_name_with_its_options():
    data = load_dataset("checkerboard", n_train=30, cells=3, n_test=10)
    assert data.x_train.shape == (30, 2) and data.x_test.shape == (10, 2)
    with pytest.raises(ValueError, match="cells"):
        load_dataset("checkerboard", test_fraction=0.5)


@pytest.mark.parametrize("kwargs, name", [({"cells": 1}, "cells"), ({"n_train": 0}, "n_train"),
                                          ({"n_test": 0}, "n_test"), ({"rng": 3}, "rng")])
def test_refuses_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        load_checkerboard(**kwargs)
