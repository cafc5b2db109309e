"""One vocabulary for checking an experiment's settings before any work: every check raises
UsageError naming the flag, the value and what to give instead."""
from __future__ import annotations

import dataclasses
import math
import os
import typing

from engine.io.results import UsageError

IMAGE_DATASETS = ("digits", "mnist", "cifar10")


def flag(name: str) -> str:
    """The command-line spelling of a Config field: 'n_train' → '--n-train'."""
    return "--" + name.replace("_", "-")


def check_literals(config) -> None:
    """Every Literal[...] field holds one of its choices (also for configs built in code)."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        tp = hints[f.name]
        if typing.get_origin(tp) is typing.Literal and getattr(config, f.name) not in \
                typing.get_args(tp):
            raise UsageError(f"{flag(f.name)} {getattr(config, f.name)!r} is unknown; choose one "
                             f"of {list(typing.get_args(tp))}")


def check_ints(config, **lows) -> None:
    """Each named field is an integer ≥ its lower bound."""
    for name, low in lows.items():
        value = getattr(config, name)
        values = value if isinstance(value, tuple) else (value,)
        if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < low
                             for v in values):
            shown = " ".join(map(str, values)) if isinstance(value, tuple) else value
            what = "integers" if isinstance(value, tuple) else "an integer"
            raise UsageError(f"{flag(name)} {shown}: give {what} ≥ {low}")


def check_range(config, name: str, low=0.0, high=math.inf, low_open=True, high_open=True) -> None:
    """A finite number (or each number of a tuple) inside (low, high); brackets by the flags."""
    value = getattr(config, name)
    for v in value if isinstance(value, tuple) else (value,):
        ok = isinstance(v, (int, float)) and math.isfinite(v) and (
            v > low if low_open else v >= low) and (v < high if high_open else v <= high)
        if not ok:
            left, right = "(" if low_open else "[", ")" if high_open else "]"
            raise UsageError(f"{flag(name)} {v}: give a finite number in {left}{low:g}, "
                             f"{high:g}{right}")


def check_positive(config, *names) -> None:
    """Each named field (or each number of a tuple) is a finite number > 0."""
    for name in names:
        check_range(config, name)


def check_seed(config, name: str = "seed") -> None:
    """A SeedSequence entropy: an integer ≥ 0."""
    check_ints(config, **{name: 0})


def check_image_data(dataset: str, data_root: str, allowed=IMAGE_DATASETS,
                     flag_name: str = "--dataset") -> None:
    """The dataset flag (`flag_name`: --dataset, or minratio's --task) is '' (MNIST when
    --data-root has it, else digits) or one of `allowed`; MNIST and CIFAR-10 need --data-root;
    --data-root must be a folder. Messages name the command's own flag."""
    if dataset not in ("", *allowed):
        raise UsageError(f"{flag_name} {dataset!r} is unknown; choose one of {list(allowed)} (or "
                         "leave it empty: mnist when --data-root has it, else digits)")
    if dataset in ("mnist", "cifar10") and not data_root:
        raise UsageError(f"{flag_name} {dataset} needs --data-root, the folder that holds it")
    if dataset not in ("", "mnist", "cifar10") and data_root:
        raise UsageError(f"--data-root is read for mnist and cifar10 only, not {flag_name} "
                         f"{dataset}; drop one of the two")
    from engine.data.files import torchvision_installed

    if data_root and not os.path.isdir(data_root) and not torchvision_installed():
        raise UsageError(f"--data-root {data_root} is not a folder; give the folder that holds "
                         "MNIST/raw or cifar-10-batches-py (the layout torchvision leaves), or "
                         "`pip install -e .[download]` so that torchvision fetches them")


def check_memory(n_bytes: float, what: str) -> None:
    """Refuse a setting whose arrays alone would not fit in the machine's available memory."""
    available = _available_bytes()
    if available and n_bytes > 0.8 * available:
        raise UsageError(f"{what} needs about {n_bytes / 2**30:.1f} GiB of arrays, more than the "
                         f"{available / 2**30:.1f} GiB available; choose smaller values")


def _available_bytes() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


# ----------------------------------------------------------------------------- sizes
# input width and outputs of each dataset, known without reading it: memory is estimated from
# the config before any data is loaded
INPUT_WIDTH = {"sinc": 1, "digits": 64, "mnist": 784, "cifar10": 3072}
N_OUTPUTS = {"sinc": 1, "digits": 10, "mnist": 10, "cifar10": 10}
# rows the loaders take when n_train is 0: every training sample
FULL_TRAIN = {"sinc": 1000, "digits": 1438, "mnist": 60000, "cifar10": 50000}


def n_params_of(dataset: str, hidden) -> int:
    """Σ_l (d_l + 1)·d_{l+1} of the MLP (input, *hidden, outputs) on `dataset`."""
    widths = (INPUT_WIDTH[dataset], *hidden, N_OUTPUTS[dataset])
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=False))


def check_network_memory(dataset: str, hidden, n_vectors: float, rows: int, what: str) -> int:
    """Refuse a network whose float64 arrays do not fit: n_vectors copies of θ (snapshots,
    optimizer state, gradients) and, for `rows` samples, the inputs and the activations of
    every layer with their gradients (a lower bound: a refused setting surely does not fit).
    Returns n_params."""
    n_params = n_params_of(dataset, hidden)
    widths = (INPUT_WIDTH[dataset], *hidden, N_OUTPUTS[dataset])
    check_memory(8.0 * (n_params * n_vectors + 2.0 * rows * sum(widths)), what)
    return n_params


def check_distinct(config, *names) -> None:
    """Each named tuple field lists every value once (a repeat would run the same work twice)."""
    for name in names:
        values = getattr(config, name)
        repeated = sorted({v for v in values if values.count(v) > 1}, key=str)
        if repeated:
            raise UsageError(f"{flag(name)} {' '.join(map(str, values))}: "
                             f"{' '.join(map(str, repeated))} given twice; list each value once")


def check_batch(config, name: str, rows: int, rows_what: str) -> None:
    """Each batch size of field `name` is at most `rows`, the training samples it draws from."""
    value = getattr(config, name)
    for v in value if isinstance(value, tuple) else (value,):
        if v > rows:
            raise UsageError(f"{flag(name)} {v}: larger than the {rows} training samples of "
                             f"{rows_what}; give at most {rows}")


def check_series(n_points: float, what: str, per_point: int = 2) -> None:
    """Refuse a count of recorded points (steps, grid points) whose per_point float64 series
    alone cannot fit in memory (a lower bound of what is allocated)."""
    check_memory(8.0 * per_point * n_points, what)
