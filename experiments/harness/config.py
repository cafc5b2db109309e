"""An experiment's `Config` → its command line, and `main`, which wires parse → run → render.

An experiment module defines
  * `Config`, a frozen dataclass: one field per setting, each default on its own line with a
    comment saying why (the comment is also the flag's --help text; `Literal[...]` fields become
    choice flags), a `quick()` classmethod (the tiny preset the tests use) and `validate()`,
    which raises UsageError naming the flag (experiments.harness.checks has the shared vocabulary);
  * `run(config, out_dir, options) -> Path | None`, which computes the missing units of work and
    saves the summary (None: a --shard run that left units to other shards);
  * `render` (in plots/<name>.py), which draws figures from the saved files only.
Every check runs before any work or write (engine.io.cli states the error contract).
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import typing
from pathlib import Path

from engine.io.cli import OneLineParser, guarded
from engine.io.folders import check_output_folder
from engine.io.results import UsageError
from experiments.harness.checks import check_literals
from experiments.harness.parallel import BACKENDS, RunOptions, parse_shard


def field_help(config_cls) -> dict[str, str]:
    """The trailing comment of each field line in the Config's source: one text for readers and
    --help."""
    try:
        source = inspect.getsource(config_cls)
    except (OSError, TypeError):
        return {}
    pattern = re.compile(r"^\s+(\w+)\s*:[^=#]+=[^#]*#\s*(.+)$")
    # argparse %-formats help strings: a literal % in a comment must reach it as %%
    return {m.group(1): m.group(2).strip().replace("%", "%%")
            for m in map(pattern.match, source.splitlines()) if m}


def _flag_kwargs(tp):
    origin = typing.get_origin(tp)
    if origin is tuple:
        elem = typing.get_args(tp)[0]
        return {"type": elem, "nargs": "+", "metavar": elem.__name__.upper()}
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        return {"type": type(choices[0]), "choices": choices,
                "metavar": "{" + ",".join(map(str, choices)) + "}"}
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    return {"type": tp, "metavar": tp.__name__.upper()}


def build_parser(config_cls, prog: str, description: str = "") -> argparse.ArgumentParser:
    """One flag per Config field (`--field-name`, default None = the Config's), plus --quick,
    --out, --figures, --jobs, --backend, --scheduler, --shard and --debug."""
    parser = OneLineParser(prog=prog, description=description,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    hints = typing.get_type_hints(config_cls)
    helps = field_help(config_cls)
    defaults = config_cls()
    for f in dataclasses.fields(config_cls):
        default = getattr(defaults, f.name)
        shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None,
                            help=f"{helps.get(f.name, '')} (default: {shown})",
                            **_flag_kwargs(hints[f.name]))
    add = parser.add_argument
    add("--quick", action="store_true",
        help="start from the tiny preset the tests use (other flags still apply)")
    # str, not Path: Path('') is '.', and an empty --out must be refused, not mean "here"
    add("--out", type=str, default=Path("results") / prog.split(".")[-1],
        help="results folder (default: %(default)s)")
    add("--figures", type=str, default=Path("figures"),
        help="where figures are written (default: %(default)s)")
    add("--jobs", type=int, default=-1,
        help="parallel worker processes, -1 = all cores (default: %(default)s)")
    add("--backend", choices=BACKENDS, default="loky",
        help="where units run: joblib's loky (this machine) or a dask.distributed cluster "
             "(optional extra `cluster`) (default: %(default)s)")
    add("--scheduler", default=None, metavar="ADDRESS",
        help="with --backend dask: the scheduler, e.g. tcp://host:8786; none = a local cluster")
    add("--shard", default=None, metavar="I/K",
        help="run only the units with index ≡ I (mod K), e.g. one task of a job array; a later "
             "run without --shard builds the summary and figures")
    add("--debug", action="store_true",
        help="show the traceback of an internal error instead of a one-line message")
    return parser


def parse_config(config_cls, argv=None, prog="experiment", description=""):
    """(Config, options) from the command line; UsageError on values the checks reject."""
    opts = build_parser(config_cls, prog, description).parse_args(argv)
    base = config_cls.quick() if opts.quick else config_cls()
    hints = typing.get_type_hints(config_cls)
    changes = {}
    for f in dataclasses.fields(config_cls):
        value = getattr(opts, f.name)
        if value is not None:
            changes[f.name] = tuple(value) if typing.get_origin(hints[f.name]) is tuple else value
    config = dataclasses.replace(base, **changes)
    check_literals(config)
    config.validate()
    if opts.jobs == 0 or opts.jobs < -1:
        raise UsageError(f"--jobs {opts.jobs}: give a positive number of workers, or -1 for all "
                         "cores")
    if opts.scheduler and opts.backend != "dask":
        raise UsageError("--scheduler needs --backend dask")
    # both folders before any work: a figure that cannot be written fails after the whole run
    opts.out = check_output_folder(opts.out, "--out")
    opts.figures = check_output_folder(opts.figures, "--figures")
    options = RunOptions(jobs=opts.jobs, backend=opts.backend, scheduler=opts.scheduler,
                         shard=parse_shard(opts.shard))
    return config, opts, options


def main(config_cls, run, render, argv=None, prog=None, description=""):
    """`python -m experiments.<name>`: parse, run (resuming), render — under engine.io.cli's
    contract (bad input: one line, exit 2; internal failure: exit 1 with a log)."""
    prog = prog or "experiment"
    debug = "--debug" in (argv if argv is not None else __import__("sys").argv[1:])

    def action():
        config, opts, options = parse_config(config_cls, argv, prog, description)
        out = run(config, out_dir=opts.out, options=options)
        if out is None:
            return
        for path in render(out, figures_dir=opts.figures):
            print(path)

    guarded(prog, action, debug=debug,
            resume_hint="; finished runs are saved: rerun the same command to resume")
