"""Training: optimizers as (init, update, params) triples, the minibatch loop and the L-BFGS fit,
per-step recording, divergence as a result, and the stop rule (a loss target or a plateau)."""
from .divergence import RUNAWAY_FACTOR, Diverged, quiet_overflow, stop_on_nonfinite
from .loop import Step, evaluate, fit_lbfgs, train
from .optim import Optimizer, adam, make_optimizer, sgd
from .recording import FULL_CHUNK, N_CHECKS, full_point, record_training
from .stopping import STOPPED_BY, StopRule, count_stops, stop_reason

__all__ = [
    "RUNAWAY_FACTOR", "Diverged", "quiet_overflow", "stop_on_nonfinite", "Step", "evaluate",
    "fit_lbfgs", "train", "Optimizer", "adam", "make_optimizer", "sgd", "FULL_CHUNK", "N_CHECKS",
    "full_point", "record_training", "STOPPED_BY", "StopRule", "count_stops", "stop_reason",
]
