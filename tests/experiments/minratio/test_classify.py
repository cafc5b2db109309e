"""experiments.minratio.classify: a point brought from outside, labelled honestly next to the
course rule."""
import numpy as np
import pytest

from engine import MLP, function_dataset, mlp_gradient
from engine.training.optim import adam
from experiments.minratio import classify

N_POINTS = 6


@pytest.fixture(scope="module")
def course_point(tmp_path_factory):
    """The later course's setting: 1-128-1 ReLU fitted to sin(5πx)/(5πx) on 6 points by
    full-batch Adam (lr 1e-3, 3000 steps), saved as per-layer weights."""
    d = function_dataset("sinc", n_samples=N_POINTS)
    x, y = d.x_train, d.y_train
    net = MLP((1, 128, 1), "relu")
    opt = adam(1e-3)
    state = opt.init(net.init(np.random.default_rng(0), "he"))
    for step in range(3000):
        state = opt.update(step, mlp_gradient(net, opt.params(state), x, y), state)
    theta = opt.params(state)
    (W0, b0), (W1, b1) = net.layout.unpack(theta)
    path = tmp_path_factory.mktemp("classify") / "point.npz"
    np.savez(path, W0=W0, b0=b0, W1=W1, b1=b1, activation="relu")
    return path, net, theta, x, y


def test_the_course_rule_reads_rounding_noise(course_point):
    _, net, theta, x, y = course_point
    course = classify.course_rule(net, theta, x, y)
    assert course["grad_norm"] < 1e-3  # the rule applies
    assert course["n_weights"] == 256 and course["rank_bound"] == N_POINTS
    # at most 6 of 256 eigenvalues are truly positive (share ≤ 0.023): anything near ½ is the
    # sign of float32 rounding in the 250 zero eigenvalues
    assert 0.3 < course["share"] < 0.7
    J = np.linalg.eigvalsh(_gauss_newton_weights(net, theta, x))
    assert np.count_nonzero(J > 1e-6 * J.max()) <= N_POINTS  # float64: the rank bound holds


def _gauss_newton_weights(net, theta, x):
    """Independent route: ∂f/∂W by hand for 1-h-1 ReLU, f = relu(x W0 + b0) W1 + b1."""
    (W0, b0), (W1, _) = net.layout.unpack(theta)
    z = x @ W0 + b0
    h = np.maximum(z, 0.0)
    J = np.hstack([(z > 0) * W1[:, 0] * x, h])  # (N, 128 + 128): ∂f/∂W0, ∂f/∂W1
    return J.T @ J / len(x)


def test_command_prints_both_verdicts_and_why(course_point, capsys):
    path, net, theta, x, y = course_point
    classify.main([str(path), "--target", "sinc", "--n-samples", str(N_POINTS)])
    out = capsys.readouterr().out
    assert "network 1-128-1 relu, 385 parameters" in out
    assert "warning: relu is piecewise linear" in out
    assert "course rule: " in out and "honest label: " in out
    assert "at most 6 of 256 are truly positive" in out and "above 0.023 is impossible" in out
    g = mlp_gradient(net, theta, x, y)
    assert f"‖∇L‖² = {g @ g:.3g}" in out


def test_theta_with_sizes_and_its_label(tmp_path):
    """The constant fit of 1-2-1 tanh (θ = 0 except the output bias ȳ) on the even sinc: ∇L = 0
    exactly and H = diag(0, …, 0, 1) (h = tanh(0) = 0 kills every term but the output bias's,
    and the cross terms are ±cov(x, y) = 0): the second-order test cannot decide."""
    d = function_dataset("sinc", n_samples=20)
    net = MLP((1, 2, 1), "tanh")
    theta = np.zeros(net.n_params)
    theta[-1] = d.y_train.mean()
    path = tmp_path / "p.npz"
    np.savez(path, theta=theta, sizes=net.sizes, activation="tanh")
    sizes, activation, loaded = classify.load_point(path)
    assert sizes == (1, 2, 1) and activation == "tanh" and np.array_equal(loaded, theta)
    result = classify.assess(net, theta, d.x_train, d.y_train)
    assert result["point"].label == "critical" and result["point"].grad_sq <= 1e-30
    assert result["point"].spectrum.eigenvalues.tolist() == [0.0] * 6 + [1.0]
    assert result["label"].startswith("minimum or degenerate saddle: 6 of 7 eigenvalues")


@pytest.mark.parametrize("make, flags, expected", [
    (None, [], "no such file"),
    (lambda p: np.savez(p, theta=np.zeros(3)), [], "has theta but no sizes"),
    (lambda p: np.savez(p, theta=np.zeros(3), sizes=(1, 2, 1)), ["--activation", "tanh"],
     "theta has 3 entries, sizes (1, 2, 1) need 7"),
    (lambda p: np.savez(p, W0=np.zeros((1, 2)), b0=np.zeros(2), W1=np.zeros((2, 1)),
                        b1=np.zeros(1)), [], "names no activation"),
    (lambda p: np.savez(p, W0=np.zeros((1, 2)), b0=np.zeros(2), W1=np.zeros((2, 1)),
                        b1=np.zeros(1)), ["--activation", "tanh", "--target", "sincc"],
     "--target 'sincc' is unknown"),
    # --data replaces the grid: a --target or --n-samples beside it would be ignored
    (lambda p: np.savez(p, theta=np.zeros(7), sizes=(1, 2, 1), activation="tanh"),
     ["--data", "d.npz", "--target", "damped_cos"],
     "--target make a grid, which --data d.npz replaces; drop one of the two"),
    # the file's own activation: the message names the file, not a flag the user did not give
    (lambda p: np.savez(p, theta=np.zeros(7), sizes=(1, 2, 1), activation="foo"), [],
     "POINT {path}: its activation 'foo' is unknown"),
])
def test_bad_input_is_one_line(make, flags, expected, tmp_path, one_line_error):
    path = tmp_path / "p.npz"
    if make:
        make(path)
    one_line_error(lambda: classify.main([str(path), *flags]), "experiments.minratio.classify",
                   expected.format(path=path))


def test_the_why_sentence_drops_the_rank_argument_when_it_bounds_nothing():
    """With N·d_out ≥ the weights (6 samples, 4 weights of a 1-2-1 net) every Gauss–Newton
    eigenvalue may be positive: "at most 6 of 4 are truly positive … a share above 1.000 is
    impossible" made no sense. Below it (2 samples), the rank argument stays."""
    net = MLP((1, 2, 1), "tanh", "mse")
    theta = net.init(np.random.default_rng(0))
    x = np.linspace(-1.0, 1.0, 6)[:, None]
    many = classify.assess(net, theta, x, np.sin(3.0 * x))
    assert many["course"]["rank_bound"] == many["course"]["n_weights"] == 4
    assert "impossible" not in many["explanation"] and "semi-definite" in many["explanation"]
    few = classify.assess(net, theta, x[:2], np.sin(3.0 * x[:2]))
    assert "at most 2 of 4 are truly positive" in few["explanation"]
