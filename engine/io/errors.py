"""The two exceptions of bad input that every reader and command line shares, and the one
wording of the library's refusals at its doors: non-finite input (check_finite), an rng that is
not a Generator, an argument that is not numbers, a point whose θ, g and H do not fit (helpers
shared by the engine's modules, not exported from engine)."""
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
    try:
        count = int(np.size(value) - np.count_nonzero(np.isfinite(value)))
    except TypeError:  # strings, None, objects: no numbers to test
        raise ValueError(f"{name} is not an array of numbers: {advice}") from None
    if count:
        raise ValueError(f"{name} holds {count} non-finite entr{'y' if count == 1 else 'ies'} "
                         f"(nan/inf): {advice}")


def error_reason(err: BaseException) -> str:
    """'Type: the first line of its message', at most 160 characters: an exception quoted as one
    line inside another message (a damaged file's reason, a loss that jax cannot run)."""
    return f"{type(err).__name__}: {str(err).strip()}".splitlines()[0][:160]


def check_rng(rng, name: str = "rng", *, allow_none: bool = False):
    """The library's door for randomness: return rng when it is a numpy.random.Generator (or
    None, when allow_none: the caller's fixed default), else raise ValueError naming `name`.
    One wording for every tool that draws; a seed is not accepted where a Generator is."""
    if isinstance(rng, np.random.Generator) or (allow_none and rng is None):
        return rng
    also = " (or None)" if allow_none else ""
    raise ValueError(f"{name}={rng!r} is not a numpy.random.Generator; pass "
                     f"np.random.default_rng(seed){also}")


def check_float_array(name: str, value, advice: str, ndim=None) -> np.ndarray:
    """value as a float64 array, or ValueError naming `name` (with `advice`: what to give) when it
    is not numeric (a string, None, a callable, a ragged list) or, with ndim, has another number
    of dimensions. The array is np.asarray(value, dtype=np.float64): the same values a caller
    casting it itself would get."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} is not a numeric array ({error_reason(err)}): "
                         f"{advice}") from None
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} has shape {array.shape}; {advice}")
    return array


def is_real(value) -> bool:
    """Whether value is one real number (a Python or NumPy int or float, not a bool): what the
    doors test before comparing a hyperparameter, so that a string is refused with their own
    ValueError instead of a TypeError from `<`."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def check_point(theta, g, H=None) -> int:
    """n after checking that θ and g are vectors (n,) of numbers and H, if given, an (n, n) array:
    the door of the tools that take a point, its gradient and its Hessian together (ValueError
    naming the argument that does not fit, instead of numpy's matmul message). The arrays are
    not converted: each caller casts as before."""
    shapes = {}
    for name, value in (("theta", theta), ("g", g)) + ((("H", H),) if H is not None else ()):
        shapes[name] = check_float_array(name, value, "give numbers").shape
    n = shapes["theta"][0] if len(shapes["theta"]) == 1 else -1
    if n < 1:
        raise ValueError(f"theta has shape {shapes['theta']}; give one parameter vector (n,)")
    if shapes["g"] != (n,):
        raise ValueError(f"g has shape {shapes['g']}; theta has ({n},): give the gradient at "
                         "theta, of the same length")
    if H is not None and shapes["H"] != (n, n):
        raise ValueError(f"H has shape {shapes['H']}; theta has ({n},): give the Hessian ({n}, "
                         f"{n}) at theta")
    return n


def check_numeric(name: str, value, advice: str) -> None:
    """ValueError naming `name` unless value reads as an array of real numbers (bool, int, float
    dtype): the door of the adapters, before a framework's own TypeError on a string or object."""
    try:
        kind = np.asarray(value).dtype.kind
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} is not an array of numbers ({error_reason(err)}): "
                         f"{advice}") from None
    if kind not in "biuf":
        raise ValueError(f"{name} holds {np.asarray(value).dtype} values, not numbers: {advice}")
