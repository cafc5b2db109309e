"""The two exceptions of bad input that every reader and command line shares, and the one
wording of the library's refusal of non-finite input."""
import numpy as np


class UsageError(ValueError):
    """Bad input from the user — a flag, a file, a shape, a folder. Command lines print its
    message as one line and exit with code 2; anything else is an internal failure."""


class DamagedFile(UsageError):
    """A results file that exists but cannot be read as what it should be."""


def check_finite(name: str, value, advice: str) -> None:
    """The library's door for nan/inf: raise ValueError('{name} holds k non-finite entries
    (nan/inf): {advice}') when the array `value` holds any. One wording for every tool that
    refuses a non-finite θ, matrix or point set; the network's own evaluations (forward, loss,
    gradient, Hessian) are functions like numpy's and let nan through instead. Cost: O(size)."""
    count = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
    if count:
        raise ValueError(f"{name} holds {count} non-finite entr{'y' if count == 1 else 'ies'} "
                         f"(nan/inf): {advice}")


def error_reason(err: BaseException) -> str:
    """'Type: the first line of its message', at most 160 characters: an exception quoted as one
    line inside another message (a damaged file's reason, a loss that jax cannot run)."""
    return f"{type(err).__name__}: {str(err).strip()}".splitlines()[0][:160]
