"""losslab's engine: pure float64 functions of a flat parameter vector θ and data.

    import numpy as np
    from engine import MLP, function_dataset, exact_hessian, spectrum
    net = MLP((1, 10, 10, 1), activation="tanh", loss_name="mse")
    data = function_dataset("sinc", n_samples=1000)
    theta = net.init(np.random.default_rng(0))
    s = spectrum(exact_hessian(net, theta, data.x_train, data.y_train))

The tour, one module per idea:
  layout       where each layer's (W, b) lives in θ
  activations  σ, σ', σ'' (tanh and sigmoid as autograd primitives)
  losses       MSE, softmax cross-entropy, accuracy
  model        MLP: forward and loss for one or a batch of θ
  fused        the fused dense-layer primitive that makes training fast
  derivatives  ∇L, HVP, autograd's Hessian (the reference), gradient p-norm
  curvature    the exact Hessian by its Gauss–Newton + residual structure
  spectrum     eigenvalue counts with the sign tolerance τ, the kernel share κ
  lanczos      top eigenvalues, Hutchinson trace, SLQ density from HVPs
  optim/train  optimizers as (init, update, params) triples; the minibatch loop
  data         sinc & co., digits, MNIST, CIFAR-10 as Datasets
  datafiles    the IDX and CIFAR-10 readers, where the files sit, torchvision downloads
  finders      LM / TRF / Newton-MR / gradient-norm searches for ∇L = 0
  newton_mr    the Newton-MR step in a trust region
  critical     critical / gradient-flat / not converged; minimal ratios
  surface      lines, planes, perturbations and samples of the loss around θ
"""
from .activations import ACTIVATIONS, get_activation
from .critical import LABELS, PointClass, SampledRatio, classify, sampled_minimal_ratio
from .curvature import exact_hessian, gauss_newton, hessian_parts, output_jacobian
from .data import (
    DATASETS,
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
from .derivatives import check_p, grad, grad_norm, hessian, hvp, value_and_grad
from .eigenpairs import Eigenpairs, extreme_eigenvalues
from .finders import METHODS, FinderResult, find_critical
from .lanczos import hutchinson_trace, hvp_operator, slq_density, symmetric_operator
from .layout import Layout
from .losses import LOSSES, accuracy, cross_entropy, get_loss, mse
from .model import INITS, MLP
from .optim import Optimizer, adam, make_optimizer, sgd
from .spectrum import Spectrum, eigen_tolerance, kernel_share, spectrum, spectrum_from_eigenvalues
from .train import Step, evaluate, train

__all__ = [
    "ACTIVATIONS", "DATASETS", "INITS", "LABELS", "LOSSES", "METHODS", "MLP", "DataNotFoundError",
    "Dataset", "Eigenpairs", "FinderResult", "Layout", "Optimizer", "PointClass", "SampledRatio",
    "Spectrum",
    "Step", "accuracy", "adam", "check_p", "classify", "cross_entropy", "default_image_dataset",
    "eigen_tolerance", "evaluate", "exact_hessian", "extreme_eigenvalues", "find_critical",
    "function_dataset", "gauss_newton", "get_activation", "get_loss", "grad", "grad_norm",
    "hessian", "hessian_parts", "hutchinson_trace", "hvp", "hvp_operator", "kernel_share",
    "load_cifar10", "load_dataset", "load_digits", "load_mnist", "make_optimizer", "mse",
    "output_jacobian", "read_idx", "sampled_minimal_ratio", "sgd", "slq_density", "spectrum",
    "spectrum_from_eigenvalues", "symmetric_operator", "train", "value_and_grad",
]
