"""Training: optimizers as (init, update, params) triples, the minibatch loop and the L-BFGS fit,
per-step recording, and divergence as a result."""
from .divergence import RUNAWAY_FACTOR, Diverged, quiet_overflow, stop_on_nonfinite
from .loop import Step, evaluate, fit_lbfgs, train
from .optim import Optimizer, adam, make_optimizer, sgd
from .recording import FULL_CHUNK, N_CHECKS, full_point, record_training

__all__ = [
    "RUNAWAY_FACTOR", "Diverged", "quiet_overflow", "stop_on_nonfinite", "Step", "evaluate",
    "fit_lbfgs", "train", "Optimizer", "adam", "make_optimizer", "sgd", "FULL_CHUNK", "N_CHECKS",
    "full_point", "record_training",
]
