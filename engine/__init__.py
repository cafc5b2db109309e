"""losslab's engine: pure float64 functions of a flat parameter vector θ and data.

    import numpy as np
    from engine import MLP, function_dataset, exact_hessian, spectrum
    net = MLP((1, 10, 10, 1), activation="tanh", loss_name="mse")
    data = function_dataset("sinc", n_samples=1000)
    theta = net.init(np.random.default_rng(0))
    s = spectrum(exact_hessian(net, theta, data.x_train, data.y_train))

Your own model: the derivative builders take a loss function of a flat θ written with
autograd.numpy (gradient, hvp_fn, hvp_at, hessian_fn, hvp_operator: transforms, as in jax and
autograd; the MLP's own derivatives at (net, θ, x, y) carry the prefix mlp_), and the tools
downstream take what they return — operators (extreme_eigenvalues, hutchinson_trace,
slq_density), arrays (spectrum, classify, kernel_share) or callables (find_critical) — so none of
them needs an MLP.

The tour, one package per concept, one module per idea; `from engine import …` reaches every
public name, and each package re-exports its own (`from engine.critical import classify`):
  nets         layout (θ ↔ per-layer W, b), activations, losses, model (the MLP), fused, budget,
               passes (the hand-written forward and backward passes, one notation)
  derivatives  autodiff (∇L, HVPs, Hessians of any loss; the MLP's R-operator),
               curvature (the MLP's exact Hessian, H = G + R), renamed (the previous release's
               names: grad is now mlp_gradient, hvp mlp_hvp, …, warning for one release)
  spectra      dense (counts with the sign tolerance τ), lanczos (H applied, never formed),
               eigenpairs (extreme eigenpairs, verified), facade (the Hessian object),
               inertia (sign counts beyond the dense limit: LDLᵀ inertia or Lanczos),
               trace (tr H by XTrace and Krylov-aware Hutch++, beside lanczos's Hutchinson and
               Hutch++)
  training     optim ((init, update, params) triples), loop (minibatch loop, L-BFGS fit),
               recording, divergence, stopping (one stop rule: a loss target or a plateau)
  critical     newton_mr, krylov (its model on HVPs), finders (searches for ∇L = 0), monitor
               (their stop rules), minpack (scipy's LM, padded: the same steps in every process),
               search_result, checks (at the finders' door), cut (the eigenvalue sign cut),
               classification (critical, gradient-flat, not converged; continuation),
               sampled_ratio (the slides' sampled ratio), index_loss,
               embedding and linear_autoencoder (known answers)
  landscape    surface (lines, planes, perturbations, path PCA), generalization (sharpness,
               sensitivity, interpolation)
  data         datasets (sinc & co., digits, the checkerboard, MNIST, CIFAR-10), files (IDX and
               CIFAR readers)
  io           results (the resumable Store), files (atomic files), folders (output folders
               checked, claimed by a lock; provenance), errors (UsageError), cli (the one-line
               error contract), version (losslab's)
  adapters     your model as a FlatLoss of a flat θ, the input of every tool: base (FlatLoss),
               autograd, torch and jax (one route each; the last two optional extras, imported
               by frameworks only when called), twin (an autograd loss rebound to jax.numpy)

Constants: ACTIVATIONS, LOSSES, INITS, FUSED_ACTIVATIONS, DATASETS, FUNCTIONS, NORMALIZATIONS,
METHODS, STATUS_NAMES, LABELS, VERDICTS, EMBEDDINGS, CUTS, TRACE_METHODS, ROUTES, COUNT_ROUTES,
STOPPED_BY, KRYLOV_SOLVERS (name tables: the accepted names and what they map to);
SATURATION_CUT, MAX_DEPTH, RUNAWAY_FACTOR, N_CHECKS, FULL_CHUNK, DENSE_MAX, EIGH_MAX (numbers;
each module's docstring says why its value).
"""
from . import adapters, critical, data, derivatives, io, landscape, nets, spectra, training
from .adapters import *  # noqa: F403  (each package's __all__ is its public face)
from .critical import *  # noqa: F403
from .data import *  # noqa: F403
from .derivatives import *  # noqa: F403
from .derivatives.autodiff import __getattr__  # noqa: F401  (the previous release's names)
from .io import *  # noqa: F403
from .io.version import __version__  # noqa: F401  (losslab.__version__: setup.cfg reads it)
from .landscape import *  # noqa: F403
from .nets import *  # noqa: F403
from .spectra import *  # noqa: F403
from .training import *  # noqa: F403

__all__ = [*nets.__all__, *derivatives.__all__, *spectra.__all__, *training.__all__,
           *critical.__all__, *landscape.__all__, *data.__all__, *io.__all__,
           *adapters.__all__]
