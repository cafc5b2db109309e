"""Issue 20: `python -m experiments.minratio.classify` keeps the error contract on every input it
reads — a bad point, data or state dict is one line naming it, exit 2, before any work."""
import numpy as np
import pytest

from experiments.minratio import classify

PROG = "experiments.minratio.classify"
SIZES = np.array([1, 3, 1])
N_PARAMS = 10  # (1 + 1)·3 + (3 + 1)·1


def _point(tmp_path, **arrays):
    path = tmp_path / "point.npz"
    np.savez(path, **({"theta": np.linspace(-1, 1, N_PARAMS), "sizes": SIZES,
                       "activation": "tanh"} | arrays))
    return path


def _layers(tmp_path, **arrays):
    path = tmp_path / "layers.npz"
    np.savez(path, **({"W0": np.ones((1, 3)), "b0": np.zeros(3), "W1": np.ones((3, 1)),
                       "b1": np.zeros(1), "activation": "tanh"} | arrays))
    return path


def _raw(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _npy(tmp_path):
    path = tmp_path / "theta.npy"
    np.save(path, np.zeros(N_PARAMS))
    return path


POINTS = {
    "empty file": (lambda t: _raw(t, "point.npz", b""), "not a readable .npz"),
    ".npy file": (_npy, "not an .npz archive"),
    "sizes 0-d": (lambda t: _point(t, sizes=np.array(3)), "give one row of integers ≥ 1"),
    "sizes 2-D": (lambda t: _point(t, sizes=SIZES[None]), "give one row of integers ≥ 1"),
    "sizes zero": (lambda t: _point(t, sizes=np.array([1, 0, 1])), "integers ≥ 1"),
    "sizes negative": (lambda t: _point(t, sizes=np.array([1, -3, 1])), "integers ≥ 1"),
    "sizes 4.7": (lambda t: _point(t, sizes=np.array([1, 4.7, 1])), "integers ≥ 1"),
    "string theta": (lambda t: _point(t, theta=np.array(["a"] * N_PARAMS)), "give real numbers"),
    "complex theta": (lambda t: _point(t, theta=np.ones(N_PARAMS) * (1 + 1j)),
                      "complex128 values; give real numbers"),
    "infinite theta": (lambda t: _point(t, theta=np.r_[np.inf, np.zeros(N_PARAMS - 1)]),
                       "1 non-finite entry"),
    "1-D W0": (lambda t: _layers(t, W0=np.ones(3)), "W0 (3,) and b0 (3,)"),
    "NaN W1": (lambda t: _layers(t, W1=np.full((3, 1), np.nan)), "W1 holds 3 non-finite"),
}


@pytest.mark.parametrize("case", list(POINTS))
def test_a_bad_point_file_is_one_line_exit_2(case, tmp_path, one_line_error, capsys):
    make, word = POINTS[case]
    path = make(tmp_path)
    line = one_line_error(lambda: classify.main([str(path)]), PROG, word)
    assert str(path) in line
    assert capsys.readouterr().out == ""  # no half answer


def _data(tmp_path, x, y):
    path = tmp_path / "data.npz"
    np.savez(path, x=x, y=y)
    return path


DATA = {
    "non-finite x": (lambda t: _data(t, np.r_[np.nan, 1.0], np.ones(2)), "non-finite"),
    "infinite y": (lambda t: _data(t, np.ones(2), np.r_[np.inf, 1.0]), "non-finite"),
    "0 rows": (lambda t: _data(t, np.zeros((0, 1)), np.zeros((0, 1))), "with N ≥ 1"),
    "3-D x": (lambda t: _data(t, np.zeros((2, 1, 1)), np.zeros((2, 1))), "(N, d_in)"),
    "no y": (lambda t: _raw(t, "data.npz", b""), "not a readable .npz"),
}


@pytest.mark.parametrize("case", list(DATA))
def test_bad_data_is_one_line_exit_2(case, tmp_path, one_line_error):
    make, word = DATA[case]
    point, data = _point(tmp_path), make(tmp_path)
    one_line_error(lambda: classify.main([str(point), "--data", str(data)]), PROG, word)


def test_a_huge_grid_is_refused_before_it_is_made(tmp_path, one_line_error):
    # the case: the 1-8-8-1 net (97 parameters) on 1e8 points gave no answer in 120 s
    point = _point(tmp_path, sizes=np.array([1, 8, 8, 1]), theta=np.zeros(97))
    one_line_error(lambda: classify.main([str(point), "--n-samples", "100000000"]), PROG,
                   "GiB")


def _state(tmp_path, state, name="model.pt"):
    torch = pytest.importorskip("torch")
    path = tmp_path / name
    torch.save(state, path)
    return path


def test_state_dicts_other_than_linear_layers_with_biases_are_one_line(tmp_path,
                                                                       one_line_error):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    cases = {
        "layer norm": (nn.Sequential(nn.Linear(1, 3), nn.LayerNorm(3), nn.Tanh(),
                                     nn.Linear(3, 1)).state_dict(), "other than Linear"),
        "bias=False": (nn.Sequential(nn.Linear(1, 3, bias=False), nn.Tanh(),
                                     nn.Linear(3, 1)).state_dict(), "without a bias"),
        "whole model": (nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1)),
                        "not a state dict"),
    }
    for name, (state, word) in cases.items():
        path = _state(tmp_path, state, f"{name.replace(' ', '_')}.pt")
        one_line_error(lambda path=path: classify.main([str(path), "--activation", "tanh"]),
                       PROG, word)


def test_a_good_state_dict_is_still_read(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(1, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    path = _state(tmp_path, net.state_dict())
    classify.main([str(path), "--activation", "tanh"])
    assert "honest label:" in capsys.readouterr().out
