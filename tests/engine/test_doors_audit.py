"""The library's doors: bad input is refused with a ValueError naming the argument — never an
AttributeError, TypeError, IndexError, ZeroDivisionError or OverflowError from deep inside, never
numpy's or scipy's own message, and never accepted silently."""
import numpy as np
import pytest

from engine.critical.classification import classify, saturation
from engine.critical.cut import certified_tau
from engine.critical.index_loss import index_loss_fit, power_curve
from engine.critical.linear_autoencoder import analytic_point, critical_classes, spectrum_data
from engine.critical.newton_mr import newton_model
from engine.critical.sampled_ratio import sampled_minimal_ratio
from engine.data.datasets import Dataset, function_dataset, load_digits
from engine.derivatives.autodiff import grad_norm
from engine.io.files import save_json
from engine.io.folders import check_output_folder
from engine.landscape.generalization import box_sharpness, top_eigenvalue
from engine.landscape.surface import chunk_for, filter_normalized_direction, neighbour_samples
from engine.nets.budget import equal_budget_sizes
from engine.nets.losses import accuracy, cross_entropy, mse
from engine.nets.model import MLP
from engine.spectra.dense import spectrum
from engine.spectra.eigenpairs import extreme_eigenvalues
from engine.spectra.facade import Hessian
from engine.spectra.inertia import count_spectrum, counted_newton
from engine.spectra.lanczos import hutchinson_trace, hutchpp_trace, slq_density, symmetric_operator
from engine.spectra.trace import krylov_aware_trace, xtrace
from engine.training.loop import fit_lbfgs, train
from engine.training.optim import adam, make_optimizer
from engine.training.recording import full_point, record_training
from engine.training.stopping import StopRule, stop_reason


@pytest.fixture
def sinc():
    """(net, θ, data) of a 1-3-1 tanh net on 10 sinc points."""
    net, data = MLP((1, 3, 1)), function_dataset("sinc", 10)
    return net, net.init(np.random.default_rng(0)), data


@pytest.fixture
def quadratic():
    """θ, g, H and hess_fn of a 3-parameter quadratic with a saddle."""
    H = np.diag([2.0, -1.0, 0.5])
    theta = np.array([0.1, -0.2, 0.3])
    return theta, H @ theta, H, lambda t: H


# ---------------------------------------------------------------- G: rng not a Generator
H4 = np.diag([4.0, 3.0, 2.0, 1.0])


@pytest.mark.parametrize("call", [
    lambda r: hutchinson_trace(H4, 5, rng=r),
    lambda r: hutchpp_trace(H4, 9, rng=r),
    lambda r: xtrace(H4, 6, rng=r),
    lambda r: krylov_aware_trace(H4, 6, rng=r),
    lambda r: slq_density(H4, 3, 2, rng=r),
    lambda r: extreme_eigenvalues(H4, 1, rng=r),
    lambda r: count_spectrum(H4, rng=r),
    lambda r: neighbour_samples(np.ones(3), 0.1, 2, r),
    lambda r: spectrum_data(np.array([1.0, 2.0]), 10, r),
    lambda r: index_loss_fit(np.ones(5), np.ones(5), rng=r),
], ids=["hutchinson", "hutchpp", "xtrace", "krylov_aware", "slq", "extreme", "count_spectrum",
        "neighbour_samples", "spectrum_data", "index_loss_fit"])
@pytest.mark.parametrize("bad", [3, "seed", np.random.RandomState(0)])
def test_rng_must_be_a_generator(call, bad):
    with pytest.raises(ValueError, match="rng"):
        call(bad)


@pytest.mark.parametrize("call", [
    lambda r: hutchinson_trace(H4, 5, rng=r),
    lambda r: xtrace(H4, 6, rng=r),
    lambda r: krylov_aware_trace(H4, 6, rng=r),
    lambda r: slq_density(H4, 3, 2, rng=r),
    lambda r: index_loss_fit(np.ones(5), np.ones(5), rng=r),
    lambda r: spectrum_data(np.array([1.0, 2.0]), 10, r),
])
def test_rng_none_is_refused_where_a_generator_is_required(call):
    with pytest.raises(ValueError, match="rng"):
        call(None)


def test_extreme_eigenvalues_keeps_rng_none_as_the_fixed_start():
    assert extreme_eigenvalues(H4, 1, rng=None).values[0] == pytest.approx(4.0)


def test_rng_of_the_net_tools_is_checked(sinc):
    net, theta, data = sinc
    x, y = data.x_train, data.y_train
    with pytest.raises(ValueError, match="rng"):
        top_eigenvalue(net, theta, x, y, rng=3)
    with pytest.raises(ValueError, match="rng"):
        filter_normalized_direction(net.layout, theta, 3)
    with pytest.raises(ValueError, match="rng"):
        train(net, theta, data, adam(), epochs=1, batch_size=2, rng=3)
    with pytest.raises(ValueError, match="rng"):
        record_training(net, theta, data, adam(), steps=2, batch_size=2, rng=None)
    with pytest.raises(ValueError, match="rng"):
        box_sharpness(lambda t: (0.0, np.zeros_like(t)), theta, 0.1, n_starts=2, rng=3)


# ---------------------------------------------------------------- G: TypeError and the like
@pytest.mark.parametrize("sizes", [None, 3, "a-b", (1, "a", 1), (1, float("inf"))])
def test_mlp_sizes_not_a_network(sizes):
    with pytest.raises(ValueError, match="sizes"):
        MLP(sizes)


def test_make_optimizer_lr_not_a_number():
    with pytest.raises(ValueError, match="lr"):
        make_optimizer("adam", "x")
    with pytest.raises(ValueError, match="momentum"):
        make_optimizer("sgd", 0.1, "x")


def test_function_dataset_and_load_digits_refuse_strings():
    with pytest.raises(ValueError, match="low"):
        function_dataset("sinc", 10, low="a")
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction="a")


def test_classify_refuses_a_function_for_H(quadratic):
    theta, g, H, _ = quadratic
    with pytest.raises(ValueError, match="H"):
        classify(theta, g, lambda t: H)
    with pytest.raises(ValueError, match="theta"):
        classify("abc", g, H)


def test_power_curve_parameters_must_be_numbers():
    with pytest.raises(ValueError, match="alpha0"):
        power_curve(np.ones(3), "a", 0.5, 1)
    with pytest.raises(ValueError, match="loss_c"):
        power_curve(np.ones(3), 1.0, 0, 1)


def test_check_output_folder_refuses_none():
    with pytest.raises(ValueError, match="--out"):
        check_output_folder(None, "--out")


def test_save_json_refuses_sets_and_folders(tmp_path):
    with pytest.raises(ValueError, match="obj"):
        save_json(tmp_path / "a.json", {"a": {1, 2}})
    with pytest.raises(ValueError, match="path"):
        save_json(tmp_path, {"a": 1})
    assert not (tmp_path / "a.json").exists()


def test_from_jax_refuses_non_numeric_params():
    pytest.importorskip("jax")
    from engine.adapters.jax import from_jax

    with pytest.raises(ValueError, match="params"):
        from_jax(lambda p: (p ** 2).sum(), "abc")
    with pytest.raises(ValueError, match="data"):
        from_jax(lambda p, x: (p * x).sum(), np.ones(2), ("abc",))


def test_from_autograd_refuses_non_numeric_theta0():
    from engine.adapters.autograd import from_autograd

    with pytest.raises(ValueError, match="theta0"):
        from_autograd(lambda t: (t ** 2).sum(), "abc")


def test_from_torch_refuses_non_numeric_data():
    torch = pytest.importorskip("torch")
    from engine.adapters.torch import from_torch

    with pytest.raises(ValueError, match="data"):
        from_torch(torch.nn.Linear(1, 1), torch.nn.MSELoss(), ("abc", np.ones((1, 1))))


def test_train_refuses_a_tuple_for_data(sinc, rng):
    net, theta, data = sinc
    with pytest.raises(ValueError, match="data"):
        train(net, theta, (data.x_train, data.y_train), adam(), epochs=1, batch_size=2, rng=rng)
    with pytest.raises(ValueError, match="data"):
        record_training(net, theta, (data.x_train, data.y_train), adam(), steps=2,
                        batch_size=2, rng=rng)


def test_analytic_point_refuses_a_subset_outside_the_basis():
    with pytest.raises(ValueError, match="subset"):
        analytic_point(np.eye(3), (5,), 1)
    with pytest.raises(ValueError, match="width"):
        analytic_point(np.eye(3), (0, 1), 1)
    with pytest.raises(ValueError, match="basis"):
        analytic_point(np.ones((3, 2)), (0,), 1)


def test_record_training_steps_must_be_positive(sinc, rng):
    net, theta, data = sinc
    with pytest.raises(ValueError, match="steps"):
        record_training(net, theta, data, adam(), steps=0, batch_size=2, rng=rng)
    with pytest.raises(ValueError, match="batch_size"):
        record_training(net, theta, data, adam(), steps=2, batch_size=0, rng=rng)


def test_box_sharpness_theta_must_be_one_finite_vector(rng):
    f = lambda t: (float(t @ t), 2 * t)  # noqa: E731
    with pytest.raises(ValueError, match="theta"):
        box_sharpness(f, [np.nan, 1.0], 0.1, rng=rng)
    with pytest.raises(ValueError, match="theta"):
        box_sharpness(f, np.ones((2, 2)), 0.1, rng=rng)


# ---------------------------------------------------------------- H: raw messages
def test_equal_budget_sizes_depths_must_be_integers():
    with pytest.raises(ValueError, match="depths"):
        equal_budget_sizes(100, 1, 1, "ab")


def test_fit_lbfgs_theta0_must_be_a_vector():
    with pytest.raises(ValueError, match="theta0"):
        fit_lbfgs(lambda t: (0.0, np.zeros_like(t)), np.ones((2, 2)), 3)


def test_full_point_chunk_must_be_positive(sinc):
    net, theta, data = sinc
    with pytest.raises(ValueError, match="chunk"):
        full_point(net, theta, data.x_train, data.y_train, 2, chunk=0)


def test_certified_tau_and_newton_model_check_shapes(quadratic):
    theta, g, H, hess_fn = quadratic
    with pytest.raises(ValueError, match="g has shape"):
        certified_tau(theta, g[:-1], H, hess_fn)
    with pytest.raises(ValueError, match="H has shape"):
        certified_tau(theta, g, H[:, :-1], hess_fn)
    with pytest.raises(ValueError, match="g has shape"):
        newton_model(theta, g[:-1], hess_fn)
    with pytest.raises(ValueError, match="hess_fn"):
        newton_model(theta, g, lambda t: H[:-1])


def test_index_loss_fit_needs_one_index_per_loss(rng):
    with pytest.raises(ValueError, match="index"):
        index_loss_fit(np.ones(5), np.ones(4), rng=rng)
    with pytest.raises(ValueError, match="n_boot"):
        index_loss_fit(np.ones(5), np.ones(5), rng=rng, n_boot=0)


@pytest.mark.parametrize("loss", [mse, cross_entropy, accuracy])
def test_losses_refuse_shapes_that_do_not_match(loss):
    with pytest.raises(ValueError, match="y"):
        loss(np.ones((4, 2)), np.ones((3, 2)))


def test_losses_still_take_batched_outputs_and_labels():
    out, y = np.zeros((2, 4, 3)), np.eye(3)[[0, 1, 2, 0]]
    assert mse(out, y).shape == cross_entropy(out, y).shape == (2,)
    assert accuracy(out[0], np.array([0, 1, 2, 0])) == 0.5


def test_strings_are_refused_by_name():
    with pytest.raises(ValueError, match="g is not"):
        grad_norm("abc")
    with pytest.raises(ValueError, match="H is not"):
        spectrum("abc")
    with pytest.raises(ValueError, match="losses"):
        stop_reason("abc", StopRule())
    with pytest.raises(ValueError, match="rule"):
        stop_reason([1.0, 0.5], None)


def test_dataset_refuses_strings_naming_the_field():
    with pytest.raises(ValueError, match="x_train"):
        Dataset("d", "regression", "abc", np.ones((2, 1)), np.ones((2, 1)), np.ones((2, 1)))


# ---------------------------------------------------------------- I: silently accepted
def test_counted_newton_refuses_shapes_instead_of_none():
    H5, g5 = np.diag([3.0, 2.0, 1.0, -1.0, -2.0]), np.ones(5)
    with pytest.raises(ValueError, match="g has shape"):
        counted_newton(H5, g5[:-1])
    with pytest.raises(ValueError, match="H has shape"):
        counted_newton(H5[:, :-1], g5)


def test_critical_classes_refuses_nan():
    with pytest.raises(ValueError, match="eigenvalues"):
        critical_classes(np.array([1.0, np.nan]), 1)
    with pytest.raises(ValueError, match="width"):
        critical_classes(np.array([1.0, 2.0]), 3)


def test_spectrum_data_refuses_negative_variances(rng):
    with pytest.raises(ValueError, match="eigenvalues"):
        spectrum_data(np.array([-1.0, 2.0]), 10, rng)


def test_symmetric_operator_needs_a_function():
    with pytest.raises(ValueError, match="matvec"):
        symmetric_operator(None, 3)


def test_hessian_max_dense_must_be_positive(sinc):
    net, theta, data = sinc
    with pytest.raises(ValueError, match="max_dense"):
        Hessian(net, theta, (data.x_train, data.y_train), max_dense=-1)


def test_count_spectrum_k_beyond_k_max():
    with pytest.raises(ValueError, match="k_max"):
        count_spectrum(np.diag(np.arange(1.0, 11.0)), k=8, k_max=2)


def test_saturation_tol_must_be_positive(sinc):
    net, theta, data = sinc
    with pytest.raises(ValueError, match="tol"):
        saturation(net, theta, data.x_train, tol=-1)


def test_chunk_for_budget_must_be_positive():
    with pytest.raises(ValueError, match="budget_bytes"):
        chunk_for((1, 3, 1), 10, -1)


def test_sampled_minimal_ratio_needs_a_radius(rng):
    with pytest.raises(ValueError, match="radii"):
        sampled_minimal_ratio(lambda T: np.zeros(len(T)), np.ones(3), [], rng=rng)
