"""losslab's engine: pure float64 functions of a flat parameter vector θ and data.

    import numpy as np
    from engine import MLP, function_dataset, exact_hessian, spectrum
    net = MLP((1, 10, 10, 1), activation="tanh", loss_name="mse")
    data = function_dataset("sinc", n_samples=1000)
    theta = net.init(np.random.default_rng(0))
    s = spectrum(exact_hessian(net, theta, data.x_train, data.y_train))

Your own model: the derivative builders take a loss function of a flat θ written with
autograd.numpy (gradient, hvp_fn, hvp_at, hessian_fn, hvp_operator), and the tools downstream
take what they return — operators (extreme_eigenvalues, hutchinson_trace, slq_density), arrays
(spectrum, classify, kernel_share) or callables (find_critical) — so none of them needs an MLP.

The tour, one module per idea; `from engine import …` reaches the public names of all of them:
  layout          where each layer's (W, b) lives in θ
  activations     σ, σ', σ'' (tanh and sigmoid as autograd primitives, accurate when saturated)
  losses          MSE, softmax cross-entropy, accuracy
  model           MLP: forward and loss for one or a batch of θ
  fused           the fused dense-layer primitive that makes training fast
  derivatives     ∇L, HVPs and Hessians of any loss function of θ; the MLP's exact R-operator
  backprop        the MLP's MSE gradient by a plain NumPy reverse pass (the searches' ∇L)
  curvature       the MLP's exact Hessian by its Gauss–Newton + residual structure
  spectrum        eigenvalue counts with the sign tolerance τ, the kernel share κ, the one eigh
  lanczos         HVP operators, Hutchinson trace, SLQ density: H applied, never formed
  eigenpairs      the k most extreme eigenpairs by ARPACK's Lanczos, verified
  optim           optimizers as (init, update, params) triples with explicit state
  train           the minibatch loop, recording through callbacks; the full-batch L-BFGS fit
  recording       loss and gradient norm at every step, and on the whole data every k steps
  divergence      training that leaves the finite numbers: a result, detected where it arises
  data            sinc & co., digits, MNIST, CIFAR-10 as Datasets
  datafiles       the IDX and CIFAR-10 readers, where the files sit, torchvision downloads
  newton_mr       the Newton-MR step in a trust region
  finders         LM / TRF / Newton-MR / gradient-norm searches for ∇L = 0
  critical        critical / gradient-flat / not converged; continuation; minimal ratios
  index_loss      the index of critical points against their loss: Spearman, power law
  embed           critical points with known answers: a smaller MLP's, embedded in a larger one
  budget          networks of different depths with one parameter budget
  generalization  sensitivity, sharpness, interpolation between solutions
  surface         lines, planes, perturbations and samples of the loss around θ
  results         atomic result files, the resumable Store, load_summary, UsageError
  cli             the one-line error contract of every command line

Constants (tuples of accepted names unless said otherwise):
  ACTIVATIONS        name → Activation: 'tanh', 'sigmoid', 'softplus', 'relu', 'linear'
  SATURATION_CUT     2^-20: below this σ' is taken from z rather than from σ's output
  LOSSES             name → loss function: 'mse', 'cross_entropy'
  INITS              MLP.init schemes: 'lecun', 'glorot', 'he'
  FUSED_ACTIVATIONS  activations with a fused dense layer
  DATASETS           every name load_dataset accepts; FUNCTIONS the 1-D targets, name → f
  NORMALIZATIONS     filter_normalized_direction's 'filter' and 'layer'
  METHODS            find_critical's methods; STATUS_NAMES its status codes, int → name
  LABELS             classify's labels; VERDICTS continuation's verdicts
  EMBEDDINGS         embed's methods: 'split', 'zero'
  MAX_DEPTH          the deepest network sizes_for_budget searches (8 hidden layers)
  RUNAWAY_FACTOR     a loss this many times max(L₀, 1) counts as diverged
  N_CHECKS           record_training keeps θ at this many whole-data steps
  FULL_CHUNK         rows per slice of a whole-data gradient in record_training, full_point

`spectrum`, `train` and `embed` name both a
module and its main function; `from engine import spectrum` gives the function, and
`from engine.spectrum import …` the module's other names.
"""
from .activations import (
    ACTIVATIONS,
    SATURATION_CUT,
    Activation,
    get_activation,
    relu,
    sigmoid,
    softplus,
    tanh,
)
from .backprop import mlp_mse_gradient
from .budget import MAX_DEPTH, equal_budget_sizes, n_params_of, sizes_for_budget, width_for_budget
from .cli import OneLineParser, guarded
from .critical import (
    LABELS,
    VERDICTS,
    Continuation,
    PointClass,
    SampledRatio,
    classify,
    continuation,
    sampled_minimal_ratio,
    saturation,
)
from .curvature import exact_hessian, gauss_newton, hessian_parts, output_jacobian
from .data import (
    DATASETS,
    FUNCTIONS,
    Dataset,
    default_image_dataset,
    function_dataset,
    load_cifar10,
    load_dataset,
    load_digits,
    load_mnist,
)
from .datafiles import DataNotFoundError, read_cifar_batch, read_idx, torchvision_installed
from .derivatives import (
    check_p,
    grad,
    grad_norm,
    gradient,
    hessian,
    hessian_fn,
    hessian_of,
    hessian_vector_product,
    hvp,
    hvp_at,
    hvp_fn,
    mlp_hvp_fn,
    value_and_grad,
)
from .divergence import RUNAWAY_FACTOR, Diverged, quiet_overflow, stop_on_nonfinite
from .eigenpairs import Eigenpairs, extreme_eigenvalues
from .embed import (
    EMBEDDINGS,
    add_units,
    effective_widths,
    embed,
    split_curvature,
    split_unit,
)
from .finders import METHODS, STATUS_NAMES, FinderResult, find_critical
from .fused import FUSED_ACTIVATIONS, mlp_forward
from .generalization import (
    Sharpness,
    box_sharpness,
    epsilon_sharpness,
    input_jacobian,
    interpolation,
    sensitivity,
    top_eigenvalue,
)
from .index_loss import index_loss_fit, power_curve
from .lanczos import hutchinson_trace, hvp_operator, slq_density, symmetric_operator
from .layout import Layout
from .losses import LOSSES, accuracy, cross_entropy, get_loss, mse
from .model import INITS, MLP
from .newton_mr import accelerated, newton_model, next_radius
from .optim import Optimizer, adam, make_optimizer, sgd
from .recording import FULL_CHUNK, N_CHECKS, full_point, record_training
from .results import (
    DamagedFile,
    Store,
    UsageError,
    atomic_write,
    load_json,
    load_npz,
    load_summary,
    save_json,
    save_npz,
    to_jsonable,
    versions,
)
from .spectrum import (
    Spectrum,
    eigen_tolerance,
    kernel_share,
    spectrum,
    spectrum_from_eigenvalues,
    symmetric_eigh,
)
from .surface import (
    NORMALIZATIONS,
    PathPCA,
    chunk_for,
    filter_normalized_direction,
    hessian_directions,
    line,
    losses_at,
    neighbour_samples,
    path_pca,
    perturbation_curves,
    plane,
    rise_radius,
)
from .train import Step, evaluate, fit_lbfgs, train

__all__ = [
    # layout, activations, losses, model, fused
    "Layout",
    "ACTIVATIONS", "SATURATION_CUT", "Activation", "get_activation", "relu", "sigmoid",
    "softplus", "tanh",
    "LOSSES", "accuracy", "cross_entropy", "get_loss", "mse",
    "INITS", "MLP",
    "FUSED_ACTIVATIONS", "mlp_forward",
    # derivatives, backprop, curvature, spectrum, lanczos, eigenpairs
    "gradient", "hvp_fn", "hvp_at", "hessian_vector_product", "hessian_fn", "hessian_of",
    "value_and_grad", "grad", "hvp", "hessian", "mlp_hvp_fn", "mlp_mse_gradient", "grad_norm",
    "check_p",
    "exact_hessian", "gauss_newton", "hessian_parts", "output_jacobian",
    "Spectrum", "eigen_tolerance", "kernel_share", "spectrum", "spectrum_from_eigenvalues",
    "symmetric_eigh",
    "hutchinson_trace", "hvp_operator", "slq_density", "symmetric_operator",
    "Eigenpairs", "extreme_eigenvalues",
    # optim, train, recording, divergence, data, datafiles
    "Optimizer", "adam", "make_optimizer", "sgd",
    "Step", "evaluate", "fit_lbfgs", "train",
    "FULL_CHUNK", "N_CHECKS", "full_point", "record_training",
    "RUNAWAY_FACTOR", "Diverged", "quiet_overflow", "stop_on_nonfinite",
    "DATASETS", "FUNCTIONS", "Dataset", "default_image_dataset", "function_dataset",
    "load_cifar10", "load_dataset", "load_digits", "load_mnist",
    "DataNotFoundError", "read_cifar_batch", "read_idx", "torchvision_installed",
    # newton_mr, finders, critical, index_loss, embed, budget, generalization
    "accelerated", "newton_model", "next_radius",
    "METHODS", "STATUS_NAMES", "FinderResult", "find_critical",
    "LABELS", "VERDICTS", "Continuation", "PointClass", "SampledRatio", "classify",
    "continuation", "index_loss_fit", "power_curve", "sampled_minimal_ratio", "saturation",
    "EMBEDDINGS", "add_units", "effective_widths", "embed", "split_curvature", "split_unit",
    "MAX_DEPTH", "equal_budget_sizes", "n_params_of", "sizes_for_budget", "width_for_budget",
    "Sharpness", "box_sharpness", "epsilon_sharpness", "input_jacobian", "interpolation",
    "sensitivity", "top_eigenvalue",
    # surface
    "NORMALIZATIONS", "PathPCA", "chunk_for", "filter_normalized_direction",
    "hessian_directions", "line", "losses_at", "neighbour_samples", "path_pca",
    "perturbation_curves", "plane", "rise_radius",
    # results, cli
    "DamagedFile", "Store", "UsageError", "atomic_write", "load_json", "load_npz",
    "load_summary", "save_json", "save_npz", "to_jsonable", "versions",
    "OneLineParser", "guarded",
]
