"""What a reader of saved results relies on, checked once when it loads them.

Each plots module declares SCHEMA = {"config": spec, "summary": spec, "arrays": arrays}: the
keys of summary.json's config and summary it reads, with their types, and the arrays of
summary.npz with their number of dimensions. `load_results` (render) and `check_results` (the
report, which loads the files itself) refuse a damaged or foreign file in one line (UsageError:
exit 2) naming the file and what is missing or of the wrong type — so a KeyError or TypeError
raised later, while drawing, is a bug and is reported as one.

A spec is
  a type or a tuple of types   the value's type (NUM: a number; bool is not a number here)
  a tuple of specs             any one of them (a mapping spec or null, say; or two mapping
                               specs, as gradnorm's rise that was found or was not)
  a dict {key: spec}           a mapping holding each key; a key ending in "?" may be absent
  Each(spec)                   a mapping whose every value matches spec
  [spec]                       a list whose every item matches spec
  Len(spec, min=0, max=None)   such a list of min … max items (what a reader indexes or unpacks:
                               Len(int, 2, 2) for a pair)
  OneOf(a, b, …)               one of these values (a name a reader looks up in a table)
  Check(spec, test, text)      a value of spec for which test(value) is true (text says what
                               that is: "a positive number"); a test that raises is false
  ANY                          anything
arrays is {name: ndim or shape}, a name ending in "?" may be absent; a shape is a tuple of
lengths, None where any length will do, AtLeast(n) where n or more will (an array a reader
reduces or indexes at a fixed place: its first or last row); Check(ndim or shape, test, text)
also tests the array itself (what a reader indexes by its values). An array holds numbers
(integers or floats, given to the reader as float64) unless declared Holding(kind, ndim or
shape): "integers" (int64: what a reader indexes, slices or prints as counts), "booleans" (a
mask) or "text" (labels) — a foreign dtype is refused, never met while drawing (a mask of
floats raised at `~`, a string array at arithmetic, a float at slicing). An array that
by_arrays names again keeps the kind declared first. The summary's spec and
arrays may be functions of meta instead (keys named by the config, checked first, or by the
summary; or keys read only in some case, required in that case: `at` looks into the summary
before it is checked).
"by_arrays", a function of (meta, arrays), gives {"config"/"summary": spec, "arrays": …} for
what the arrays' values name (deepshallow's models, one per depth of its depths array, and the
lengths its curves must have), what one array's presence asks of others (trajectory's motion
arrays) or the lengths of arrays drawn against one another (a curve as long as its x); it is
checked last, once the arrays it reads are there.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.io.results import UsageError, load_summary

NUM = (int, float)
ANY = object
NONE = type(None)


class Each:
    """A mapping of any keys whose every value matches `spec`."""

    def __init__(self, spec):
        self.spec = spec


class OneOf:
    """A value equal to one of `choices` (a name that a reader looks up in a table of its own,
    so that a value outside the table is a damaged file, not a KeyError while drawing)."""

    def __init__(self, *choices):
        self.choices = choices


class Len(list):
    """[spec] of at least `min` and at most `max` (None: any number of) items: a list that a
    reader indexes at a fixed place or unpacks. A list itself, so that whatever walks [spec]
    walks it too."""

    def __init__(self, spec, min=0, max=None):
        super().__init__([spec])
        self.min, self.max = min, max

    def text(self) -> str:
        if self.max is None:
            return f"at least {self.min}"
        return str(self.min) if self.min == self.max else f"{self.min} to {self.max}"


class Check:
    """A value matching `spec` (for an array: its ndim or shape) for which `test(value)` is true;
    `text` says what that is. A test that raises (a value of another kind) is false."""

    def __init__(self, spec, test, text: str):
        self.spec, self.test, self.text = spec, test, text

    def holds(self, value) -> bool:
        try:
            return bool(self.test(value))
        except (TypeError, ValueError, IndexError, ArithmeticError):
            return False


class Holding:
    """An array of `kind` ("integers", "booleans" or "text"; undeclared: "numbers") whose ndim
    or shape is `want`; with `among`, every entry is one of those (the names a reader draws a
    class of points for: entries of no class would leave its panels empty)."""

    def __init__(self, kind: str, want, among=None):
        if kind not in _DTYPES:
            raise ValueError(f"kind must be one of {sorted(_DTYPES)}, not {kind!r}")
        self.kind, self.want, self.among = kind, want, among


# kind -> (the dtype kinds it accepts, what the reader gets: None keeps the array's own, the
# text's width)
_DTYPES = {"numbers": ("iuf", np.float64), "integers": ("iu", np.int64),
           "booleans": ("b", np.bool_), "text": ("U", None)}


class AtLeast:
    """A length of `n` or more in an array's shape: (AtLeast(1), 2) is one row or more of two."""

    def __init__(self, n: int):
        self.n = n


def at(meta, *keys):
    """meta[k1][k2]…, or None where a step is no mapping or lacks its key: what a spec function
    of meta may look at in a summary not yet checked (a damaged one must give a spec, not an
    exception)."""
    for key in keys:
        if not isinstance(meta, dict):
            return None
        meta = meta.get(key)
    return meta


def _kind(spec) -> str:
    if isinstance(spec, OneOf):
        return "one of " + ", ".join(map(repr, spec.choices))
    if isinstance(spec, dict | Each):
        return "a mapping"
    if isinstance(spec, list):
        return "a list"
    types = spec if isinstance(spec, tuple) else (spec,)
    names = {int: "an integer", float: "a number", str: "a string", bool: "true/false",
             NONE: "null", list: "a list", dict: "a mapping"}
    kinds = ["a number"] if set(types) >= {int, float} else []
    kinds += [names.get(t, t.__name__) for t in types if not (kinds and t in (int, float))]
    return " or ".join(dict.fromkeys(kinds))


def _matches(value, spec) -> bool:
    if isinstance(spec, OneOf):
        # JSON's true is no 1, and 1 is no "1": the type must match as well as the value
        return any(type(value) is type(c) and value == c for c in spec.choices)
    types = spec if isinstance(spec, tuple) else (spec,)
    if isinstance(value, bool) and bool not in types and ANY not in types:
        return False  # JSON's true is no number
    return isinstance(value, types)


def problem(value, spec, where: str) -> str | None:
    """The first way `value` (found at `where`) breaks `spec`, or None."""
    if isinstance(spec, tuple) and not all(isinstance(t, type) for t in spec):
        # alternatives that are specs themselves, e.g. ({"rho": NUM, …}, NONE): any one fits
        found = [problem(value, alternative, where) for alternative in spec]
        return None if None in found else found[0]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return f"{where} is {type(value).__name__}, not a mapping"
        for key, sub in spec.items():
            optional, name = key.endswith("?"), key.rstrip("?")
            if name not in value:
                if optional:
                    continue
                return f"lacks [{f'{where}.{name}'!r}]"
            found = problem(value[name], sub, f"{where}.{name}")
            if found:
                return found
        return None
    if isinstance(spec, Each | list):  # every value of a mapping, every item of a list
        mapping = isinstance(spec, Each)
        if not isinstance(value, dict if mapping else list):
            return f"{where} is {type(value).__name__}, not {'a mapping' if mapping else 'a list'}"
        if isinstance(spec, Len) and not spec.min <= len(value) <= (
                len(value) if spec.max is None else spec.max):
            return f"{where} holds {len(value)} items, not {spec.text()}"
        items = ((f"{where}.{k}", v) for k, v in value.items()) if mapping else (
            (f"{where}[{i}]", v) for i, v in enumerate(value))
        for place, item in items:
            found = problem(item, spec.spec if mapping else spec[0], place)
            if found:
                return found
        return None
    if isinstance(spec, Check):
        found = problem(value, spec.spec, where)
        if found or spec.holds(value):
            return found
        return f"{where} is {type(value).__name__} {value!r:.40}, not {spec.text}"
    if not _matches(value, spec):
        return f"{where} is {type(value).__name__} {value!r:.40}, not {_kind(spec)}"
    return None


def check_results(folder, experiment: str, meta: dict, arrays, schema: dict) -> dict:
    """UsageError (one line naming the file) when meta (summary.json of `folder`) or arrays
    (its summary.npz; None: not checked) lack what `schema` requires; else {name: kind} of the
    arrays checked."""
    folder = Path(folder)
    rerun = f"; run python -m experiments.{experiment} into a fresh folder"
    # a function of meta: keys named by the config (checked first) or the summary
    _check_json(folder, meta, lambda part: schema.get(part, {}), rerun)
    if arrays is None:
        return {}
    wanted = schema.get("arrays", {})
    kinds = _check_arrays(folder, arrays, wanted(meta) if callable(wanted) else wanted, rerun, {})
    if "by_arrays" in schema:  # what the arrays' values name, now that they are there
        specs = schema["by_arrays"](meta, arrays)
        _check_json(folder, meta, lambda part: specs.get(part, {}), rerun)
        kinds |= _check_arrays(folder, arrays, specs.get("arrays", {}), rerun, kinds)
    return kinds


def _check_json(folder, meta, spec_of, rerun):
    """UsageError unless meta's config, then its summary, fit spec_of(part) (a spec, or a
    function of meta giving one)."""
    for part in ("config", "summary"):
        spec = spec_of(part)
        found = problem(meta.get(part), spec(meta) if callable(spec) else spec, part)
        if found:
            raise UsageError(f"{folder / 'summary.json'} {found}{rerun}")


def _check_arrays(folder, arrays, wanted, rerun, kinds) -> dict:
    """UsageError unless arrays holds every array of `wanted` ({name: ndim, shape, Holding or
    Check}) of its kind (declared, else the one in `kinds`, else numbers); {name: kind} of those
    present."""
    found = {}
    for key, want in wanted.items():
        name = key.rstrip("?")
        if name not in arrays:
            if key.endswith("?"):
                continue
            raise UsageError(f"{folder / 'summary.npz'} lacks the array {name!r}{rerun}")
        test = want if isinstance(want, Check) else None
        want = test.spec if test else want
        held = want if isinstance(want, Holding) else Holding(kinds.get(name, "numbers"), want)
        kind, want = held.kind, held.want
        dtype = np.asarray(arrays[name]).dtype
        if dtype.kind not in _DTYPES[kind][0]:
            raise UsageError(f"{folder / 'summary.npz'} holds {name!r} of dtype {dtype}, not "
                             f"{kind}{rerun}")
        found[name] = kind
        if held.among is not None and not np.isin(arrays[name], held.among).all():
            odd = sorted(set(map(str, np.ravel(arrays[name]))) - set(held.among))
            raise UsageError(f"{folder / 'summary.npz'} holds {name!r} with {odd[0]!r}, not one "
                             f"of {', '.join(map(repr, held.among))}{rerun}")
        shape = np.shape(arrays[name])
        if isinstance(want, int):
            fits, wanted_text = len(shape) == want, f"{want}-dimensional"
        else:
            fits = len(shape) == len(want) and all(
                w is None or (n >= w.n if isinstance(w, AtLeast) else w == n)
                for w, n in zip(want, shape, strict=True))
            wanted_text = "of shape (" + ", ".join(
                "·" if w is None else f"≥{w.n}" if isinstance(w, AtLeast) else str(w)
                for w in want) + ("," if len(want) == 1 else "") + ")"
        if fits and test and not test.holds(arrays[name]):
            fits, wanted_text = False, test.text
        if not fits:
            raise UsageError(f"{folder / 'summary.npz'} holds {name!r} of shape {shape}, not "
                             f"{wanted_text}{rerun}")
    return found


def load_results(results_dir, experiment: str, schema: dict) -> tuple[dict, dict]:
    """(arrays, meta) of `experiment`'s results folder, as engine.io.results.load_summary reads
    them, checked against `schema` (check_results): what every render calls. Each array checked
    comes as its kind's dtype (numbers as float64, integers as int64): what drawing relies on."""
    arrays, meta = load_summary(results_dir, experiment)
    kinds = check_results(results_dir, experiment, meta, arrays, schema)
    for name, kind in kinds.items():
        if _DTYPES[kind][1] is not None:
            arrays[name] = arrays[name].astype(_DTYPES[kind][1], copy=False)
    return arrays, meta
