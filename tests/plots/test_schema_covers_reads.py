"""Every key a reader reads is one its SCHEMA declares (plots.schema), so a damaged file is one
line, exit 2 — never a KeyError or TypeError while drawing (exit 1).

Each reader renders its real quick results (and the diverged ones of the readers that draw a
divergence) once, in process, from recording mappings: config, summary (every mapping inside,
in lists too) and the arrays (and the dicts the reader builds of their items), each logging
every key read with its path; the figures are drawn, not saved. A key read by [] must
be declared for that meta (functions of meta and by_arrays evaluated): required, or optional
("k?") and asked first (`k in mapping`, mapping.get(k)) on the same mapping; a key read by .get
that is there must be declared too. The damage tests below then edit one real folder in exactly
the way each gap let through."""
import importlib
import inspect
import json
import shutil

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import cli, quick_results
from readerresults import reader_results

from plots.schema import Each, problem

READERS = ["census", "deepshallow", "generalization", "gradnorm", "minratio", "spectrum",
           "surface", "trajectory"]
DIVERGED = ["gradnorm", "spectrum", "surface", "trajectory"]  # a step size that diverges at once
globals().update(reader_results())  # census, deepshallow, …: each reader's quick results
gradnorm_diverged = quick_results("gradnorm", "--jobs", 1, "--lr", 1e6, "--sinc-lr", 1e6)
spectrum_diverged = quick_results("spectrum", "--jobs", 1, "--lr", 1e6)
surface_diverged = quick_results("surface", "--jobs", 1, "--sinc-lr", 1e6, "--dnn-lr", 1e6,
                                 "--gd-lr", 1e6)
trajectory_diverged = quick_results("trajectory", "--jobs", 1, "--lr", 1e6)


class Recorded(dict):
    """A mapping of the saved results that appends (kind, path, key) to `log` for every key
    read: 'get', 'contains', 'iter' or '[]'. origins: {key: (path, key)} where a key's reads
    are logged instead (a mapping merged from two, or built from the arrays' items)."""

    def __init__(self, data, path, log, origins=None):
        super().__init__(data)
        self.path, self.log, self.origins, self.children = path, log, origins or {}, {}

    def _note(self, kind, key):
        path, key = self.origins.get(key, (self.path, key))
        if path is not None:
            self.log.append((kind, path, key))

    def _child(self, key):
        if key not in self.children:
            path, name = self.origins.get(key, (self.path, key))
            self.children[key] = recorded(dict.__getitem__(self, key), (*(path or ()), name),
                                          self.log)
        return self.children[key]

    def __getitem__(self, key):
        self._note("[]", key)
        return self._child(key)

    def get(self, key, default=None):
        self._note("get", key)
        return self._child(key) if dict.__contains__(self, key) else default

    def __contains__(self, key):
        self._note("contains", key)
        return dict.__contains__(self, key)

    def __iter__(self):
        self._note("iter", None)
        return iter(list(dict.keys(self)))

    def keys(self):
        return list(iter(self))

    def items(self):
        return [(k, self._child(k)) for k in self]

    def values(self):
        return [self._child(k) for k in self]

    def __or__(self, other):  # minratio's config | {"sizes": …}: read where other's came from
        origins = {**self.origins, **{k: (None, k) for k in other}}
        return Recorded({**dict(self.items()), **other}, self.path, self.log, origins)


def recorded(value, path, log):
    if type(value) is dict:
        return Recorded(value, path, log)
    if type(value) is list:
        return [recorded(v, (*path, i), log) for i, v in enumerate(value)]
    return value


def _alternatives(spec, value):
    """The specs of `spec` that `value` matches (each alternative of a tuple of specs)."""
    if isinstance(spec, tuple) and not all(isinstance(t, type) for t in spec):
        return [s for alt in spec if problem(value, alt, "x") is None
                for s in _alternatives(alt, value)]
    return [spec]


RANK = ["undeclared", "named by no key", "optional", "required"]


def status(root, data, path, key) -> str:
    """How the spec tree `root` declares `key` of the mapping at `path` in `data` (RANK): the
    worst over the alternatives the values on the way match."""
    specs, value = [root], data
    for i, step in enumerate((*path, key)):
        found = []
        for spec in (alt for one in specs for alt in _alternatives(one, value)):
            if isinstance(spec, dict):
                name = step if step in spec else f"{step}?"
                found.append((spec.get(name), "required" if step in spec else
                              "optional" if name in spec else "undeclared"))
            elif isinstance(spec, Each) or (isinstance(spec, list) and isinstance(step, int)):
                found.append((spec.spec if isinstance(spec, Each) else spec[0],
                              "named by no key" if isinstance(spec, Each) else "required"))
            else:  # a bare type (dict, ANY): what is inside is not declared
                found.append((None, "undeclared"))
        if i == len(path):
            return min((rank for _, rank in found), key=RANK.index, default="undeclared")
        if not found or any(s is None for s, _ in found):
            return "undeclared"  # a mapping on the way is not declared as one
        specs, value = [s for s, _ in found], value[step]


def uncovered(log, schema, meta, arrays) -> list[str]:
    """What `log` read that the schema, evaluated for meta and arrays, does not cover."""
    trees = {"config": [schema.get("config", {})], "summary": [schema.get("summary", {})],
             "arrays": [schema.get("arrays", {})]}
    trees = {part: [s(meta) if callable(s) else s for s in specs] for part, specs in trees.items()}
    if "by_arrays" in schema:
        for part, spec in schema["by_arrays"](meta, arrays).items():
            trees[part].append(spec)
    data = {"config": meta["config"], "summary": meta["summary"], "arrays": arrays}
    asked, found = set(), {}
    for kind, path, key in log:
        where = (path, key)
        if kind in ("get", "contains"):
            asked.add(where)
        node = data[path[0]]
        for step in path[1:]:
            node = node[step]
        if kind not in ("[]", "get") or (kind == "get" and key not in node):
            continue
        rank = max((status(tree, data[path[0]], path[1:], key) for tree in trees[path[0]]),
                   key=RANK.index)
        text = ".".join(map(str, path)) + f"[{key!r}] read by {'.get' if kind == 'get' else '[]'}"
        if rank == "undeclared":
            found.setdefault(where, f"{text}: not declared")
        elif kind == "[]" and rank != "required" and where not in asked:
            found.setdefault(where, f"{text}, not asked first (in, .get): declared {rank}")
    return list(found.values())


def _record(module, results_dir, monkeypatch) -> tuple[list, dict, dict]:
    """Render results_dir with module.render from recording mappings (figures drawn, not saved);
    returns (the log, the real meta, the real arrays)."""
    log, real = [], {}

    def load(results_dir, experiment, schema):
        arrays, meta = load_results(results_dir, experiment, schema)  # the check, on real data
        real.update(meta=meta, arrays=arrays, by_id={id(v): k for k, v in arrays.items()},
                    recorded=dict(meta, config=Recorded(meta["config"], ("config",), log),
                                  summary=Recorded(meta["summary"], ("summary",), log)))
        return Recorded(arrays, ("arrays",), log), real["recorded"]

    def from_arrays(value):
        """A dict built from the arrays' items (gradnorm's and surface's per task or unit),
        recorded as reads of the arrays they came from."""
        by_id = real.get("by_id", {})
        if type(value) is dict and value and all(id(v) in by_id for v in value.values()):
            return Recorded(value, ("arrays",), log,
                            {k: (("arrays",), by_id[id(v)]) for k, v in value.items()})
        return value

    def wrapped(function):
        def call(*args, **kwargs):
            return function(*map(from_arrays, args),
                            **{k: from_arrays(v) for k, v in kwargs.items()})
        return call

    load_results = module.load_results
    monkeypatch.setattr(module, "load_results", load)
    monkeypatch.setattr(module, "save_figure", lambda fig, *a, **k: plt.close(fig) or [])
    for name, function in vars(module).items():
        if inspect.isfunction(function) and function.__module__ == module.__name__ \
                and name not in ("render", "figure_names"):
            monkeypatch.setattr(module, name, wrapped(function))
    module.render(results_dir, results_dir / "unused")
    module.figure_names(real["recorded"])  # what the report and the gallery read too
    return log, real["meta"], real["arrays"]


@pytest.mark.parametrize("results", READERS + [f"{name}_diverged" for name in DIVERGED])
def test_every_key_a_reader_reads_is_declared(results, request, monkeypatch):
    name = results.split("_")[0]
    module = importlib.import_module(f"plots.{name}")
    log, meta, arrays = _record(module, request.getfixturevalue(results)[0], monkeypatch)
    assert {kind for kind, *_ in log} >= {"[]"}  # the render read through the recorders
    gaps = uncovered(log, module.SCHEMA, meta, arrays)
    assert not gaps, f"plots.{name} reads what its SCHEMA does not cover:\n" + "\n".join(gaps)


def _edit(*path, value=None, drop=False):
    """An edit of summary.json's meta: meta[path] = value, or that key dropped."""
    def edit(meta):
        for key in path[:-1]:
            meta = meta[key]
        if drop:
            del meta[path[-1]]
        else:
            meta[path[-1]] = value
    return edit


def _drop_array(name):
    return lambda arrays: arrays.pop(name)


_RHO = {"rho": 0.5, "low": 0.1, "high": 0.9}
_POWER = {"alpha0": 1.0, "exponent": 1.5, "low": 1.0, "high": 2.0, "n_boot": 9, "contains": True,
          "at_bound": False}  # no loss_c
_SINC, _DNN = ("summary", "tasks", "sinc"), ("summary", "tasks", "dnn")
_FULL = (*_SINC, "facts", "full")
# each gap the reads test found: results, edits of summary.json (or summary.npz), what the one
# line must name (it was a KeyError, TypeError or AttributeError while drawing: exit 1)
GAPS = {
    "census error_range without decades": ("census", [_edit(
        "summary", "census", "error_range", value={"max": 1.0})], "census.error_range.decades"),
    "gradnorm rise without loss_from": ("gradnorm", [_edit(
        *_FULL, "rise", "loss_from", drop=True)], "tasks.sinc.facts.full.rise.loss_from"),
    "gradnorm final without loss, no end": ("gradnorm", [
        _edit(*_FULL, "end", drop=True), _edit(*_FULL, "final", "loss", drop=True)],
        "tasks.sinc.facts.full.final.loss"),
    "gradnorm diverged without reason": ("gradnorm", [_edit(*_SINC, "diverged", value={
        "step": 3})], "tasks.sinc.diverged.reason"),
    "gradnorm minibatch task without step facts": ("gradnorm", [_edit(
        *_DNN, "facts", "step", drop=True)], "tasks.dnn.facts.step"),
    **{f"spectrum dnn without {key}": ("spectrum", [_edit("summary", "dnn", key, drop=True)],
                                       f"summary.dnn.{key}")
       for key in ("sizes", "trace", "trace_se", "lambda_max", "lambda_min_ritz")},
    "spectrum diverged without epoch": ("spectrum", [_edit("summary", "dnn", "diverged", value={
        "step": 1, "reason": "loss rose"})], "summary.dnn.diverged.epoch"),
    "minratio spearman without high": ("minratio", [_edit(
        "summary", "index_loss_fit", "spearman", value={"rho": 0.5, "low": 0.1})],
        "index_loss_fit.spearman.high"),
    "minratio power without loss_c": ("minratio", [_edit(
        "summary", "index_loss_fit", "power", value=_POWER)], "index_loss_fit.power.loss_c"),
    "minratio power_status not a mapping": ("minratio", [
        _edit("summary", "index_loss_fit", "spearman", value=_RHO),
        _edit("summary", "index_loss_fit", "power_status", value="none")],
        "index_loss_fit.power_status"),
    "surface diverged without epoch": ("surface", [_edit("summary", "sinc_line", "diverged", value={
        "step": 2})], "summary.sinc_line.diverged.epoch"),
    "trajectory without pca nor n_points": ("trajectory", [
        _edit("summary", "pca", value=False), _edit("summary", "n_points", drop=True)],
        "summary.n_points"),
    "trajectory metrics not a list": ("trajectory", [_edit("summary", "metrics", value=5)],
                                      "summary.metrics"),
    "trajectory motion without off_plane": ("trajectory", _drop_array("whole_motion_off_plane"),
                                            "'whole_motion_off_plane'"),
}


@pytest.mark.parametrize("gap", list(GAPS))
def test_a_file_damaged_where_a_gap_was_is_one_line(gap, request, tmp_path, one_line_error,
                                                    capsys):
    name, edits, key = GAPS[gap]
    folder = tmp_path / "r"
    shutil.copytree(request.getfixturevalue(name)[0], folder)
    capsys.readouterr()  # the experiment's progress, when this test ran it
    if isinstance(edits, list):
        meta = json.loads((folder / "summary.json").read_text())
        for edit in edits:
            edit(meta)
        (folder / "summary.json").write_text(json.dumps(meta))
        file = "summary.json"
    else:
        with np.load(folder / "summary.npz") as saved:
            arrays = dict(saved)
        edits(arrays)
        np.savez(folder / "summary.npz", **arrays)
        file = "summary.npz"
    figures = tmp_path / "f"
    line = one_line_error(lambda: cli(f"plots.{name}")([folder, "--figures", figures]),
                          f"plots.{name}", str(folder / file))
    assert key in line, line
    assert not figures.exists()
