"""An experiment's `Config` → its command line, and `main`, which wires parse → run → render.

An experiment module defines
  * `Config`, a frozen dataclass: one field per setting, each default on its own line with a
    comment saying why, `Literal[...]` fields become choice flags, a `quick()` classmethod (the
    tiny preset the tests use) and `validate()`, which raises UsageError naming the flag
    (experiments.harness.checks has the shared vocabulary);
  * `run(config, out_dir, options) -> Path | None`, which computes the missing units of work and
    saves the summary (None: a --shard run that left units to other shards);
  * `render` (in plots/<name>.py), which draws figures from the saved files only; `main` takes
    it by its module's name ("plots.<name>") and imports it only when there is something to draw
    (matplotlib.pyplot is ≈ 0.6 s of a refused command's start otherwise).
Every check runs before any work or write (engine.io.cli states the error contract).

--help is read from the Config's source (field_docs):
  * a field's help is its whole comment: the `# …` after the default plus the comment-only lines
    right under it (a leading `…` there marks the continuation and is dropped). It must read as
    a complete text on its own (tests/contract/test_help.py checks the rule); the default is
    appended once, as `(default: …)`, so a comment never states it;
  * a comment line `# --- title ---` opens a group: the fields below it, up to the next such
    line, are listed under that title (what to compute, search, classify, …); fields above the
    first one go under "settings". The flags every experiment shares (--quick, --config, --out,
    --figures, --jobs, --backend, --scheduler, --shard, --debug, -h) form the last group, "run";
  * the description is the first paragraph of the docstring `main` gets, with a pointer to the
    rest (README.md and `python -m pydoc <the Config's module>`).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import importlib.util
import inspect
import re
import typing
from pathlib import Path

from engine.io.cli import OneLineParser, guarded
from engine.io.folders import check_output_folder
from engine.io.results import UsageError
from experiments.harness.checks import check_literals, flag
from experiments.harness.parallel import BACKENDS, RunOptions, check_backend, parse_shard
from experiments.harness.rerun import experiment_name, read_saved_config

_GROUP = re.compile(r"^\s*#\s*---\s*(.+?)\s*---\s*$")
_FIELD = re.compile(r"^\s+(\w+)\s*:[^=#]+=[^#]*?(?:#\s*(.*))?$")
_CONTINUED = re.compile(r"^\s*#\s?(.*)$")
UNGROUPED, RUN = "settings", "run"


def field_docs(config_cls) -> dict[str, tuple[str, str]]:
    """{field: (help, group)} from the Config's source: the whole comment of each field (its
    trailing `#` text and the comment lines under it) and the title of the `# --- title ---`
    line above it (UNGROUPED if none). No source (a class built at run time): {}."""
    try:
        lines = inspect.getsource(config_cls).splitlines()
    except (OSError, TypeError):
        return {}
    names = {f.name for f in dataclasses.fields(config_cls)}
    docs, group, current = {}, UNGROUPED, None
    for line in lines[1:]:
        if re.match(r"^\s+(@|def )", line):  # the fields end where the methods begin
            break
        if m := _GROUP.match(line):
            group, current = m.group(1), None
        elif (m := _FIELD.match(line)) and m.group(1) in names:
            current = m.group(1)
            docs[current] = [(m.group(2) or "").strip()], group
        elif current and (m := _CONTINUED.match(line)):
            docs[current][0].append(m.group(1).strip().removeprefix("…"))
        else:
            current = None
    return {name: (" ".join(filter(None, parts)), group) for name, (parts, group) in docs.items()}


def field_help(config_cls) -> dict[str, str]:
    """{field: its whole comment}: one text for readers and --help (see field_docs)."""
    return {name: text for name, (text, _) in field_docs(config_cls).items()}


def shown_default(value) -> str:
    """A default as one would type it after the flag: a tuple space-separated, '' quoted."""
    if isinstance(value, tuple):
        return " ".join(map(shown_default, value))
    return "''" if value == "" else str(value)


def short_description(description: str, config_cls, prog: str) -> str:
    """The docstring's first paragraph and where the rest is (the Config's module; prog when it
    runs as __main__)."""
    first = description.strip().split("\n\n")[0]
    module = prog if config_cls.__module__ == "__main__" else config_cls.__module__
    return f"{first} More: README.md and `python -m pydoc {module}`." if first else ""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, filling each paragraph of the description on its own and keeping
    a flag's `(default: …)` on one line."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=32)

    def _fill_text(self, text, width, indent):
        return "\n\n".join(super(HelpFormatter, self)._fill_text(part, width, indent)
                             for part in text.split("\n\n"))

    def _split_lines(self, text, width):
        # a default is read as one piece: "(default: 8 8)" is never broken across lines
        head, sep, tail = text.rpartition("(default: ")
        glued = head + sep.replace(" ", "\0") + tail.replace(" ", "\0") if sep else text
        return [line.replace("\0", " ") for line in super()._split_lines(glued, width)]


def _flag_kwargs(tp):
    origin = typing.get_origin(tp)
    if origin is tuple:
        elem = typing.get_args(tp)[0]
        return {"type": elem, "nargs": "+", "metavar": elem.__name__.upper()}
    if origin is typing.Literal:
        choices = typing.get_args(tp)
        return {"type": type(choices[0]), "choices": choices,
                "metavar": "{" + ",".join(map(shown_default, choices)) + "}"}
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    return {"type": tp, "metavar": tp.__name__.upper()}


def build_parser(config_cls, prog: str, description: str = "") -> argparse.ArgumentParser:
    """One flag per Config field (`--field-name`, default None = the Config's), in the Config's
    groups, then the "run" group: -h, --quick, --config, --out, --figures, --jobs, --backend,
    --scheduler, --shard and --debug."""
    parser = OneLineParser(prog=prog, description=short_description(description, config_cls, prog),
                           usage="%(prog)s [-h] [--quick | --config FILE] [--FLAG VALUE ...]",
                           formatter_class=HelpFormatter, add_help=False)
    hints = typing.get_type_hints(config_cls)
    docs = field_docs(config_cls)
    defaults = config_cls()
    groups = {}
    for f in dataclasses.fields(config_cls):
        text, title = docs.get(f.name, ("", UNGROUPED))
        group = groups.get(title) or groups.setdefault(title, parser.add_argument_group(title))
        # argparse %-formats help strings: a literal % in a comment must reach it as %%
        shown = shown_default(getattr(defaults, f.name)).replace("%", "%%")
        group.add_argument("--" + f.name.replace("_", "-"), dest=f.name, default=None,
                           help=f"{text.replace('%', '%%')} (default: {shown})".lstrip(),
                           **_flag_kwargs(hints[f.name]))
    add = parser.add_argument_group(RUN).add_argument
    add("-h", "--help", action="help", help="show this help and exit")
    add("--quick", action="store_true",
        help="start from the tests' tiny preset (other flags still apply)")
    add("--config", default=None, metavar="FILE",
        help="rerun a saved config.json; the flags given override its values")
    # str, not Path: Path('') is '.', and an empty --out must be refused, not mean "here"
    add("--out", type=str, default=Path("results") / prog.split(".")[-1], metavar="DIR",
        help="results folder (default: %(default)s)")
    add("--figures", type=str, default=Path("figures"), metavar="DIR",
        help="where figures are written (default: %(default)s)")
    add("--jobs", type=int, default=-1, metavar="INT",
        help="parallel worker processes, -1 = all cores (default: %(default)s)")
    add("--backend", choices=BACKENDS, default="loky",
        help="loky (this machine) or dask (extra `cluster`) (default: %(default)s)")
    add("--scheduler", default=None, metavar="ADDRESS",
        help="dask's scheduler, e.g. tcp://host:8786 (default: a local cluster)")
    add("--shard", default=None, metavar="I/K",
        help="only units ≡ I (mod K); a run without it sums up (default: all)")
    add("--debug", action="store_true",
        help="show an internal error's traceback, not a one-line message")
    return parser


def parse_config(config_cls, argv=None, prog="experiment", description=""):
    """(Config, options) from the command line; UsageError on values the checks reject.

    The settings, lowest first: the Config's defaults (or its quick() preset with --quick), the
    fields of --config FILE (experiments.harness.rerun checks the file), the flags given."""
    opts = build_parser(config_cls, prog, description).parse_args(argv)
    if opts.quick and opts.config:
        raise UsageError("--quick and --config both set every field; give one of them")
    saved = {} if opts.config is None else read_saved_config(
        config_cls, opts.config, experiment_name(config_cls, prog))
    base = config_cls.quick() if opts.quick else config_cls()
    hints = typing.get_type_hints(config_cls)
    changes = {}
    for f in dataclasses.fields(config_cls):
        value = getattr(opts, f.name)
        if value is not None:
            changes[f.name] = tuple(value) if typing.get_origin(hints[f.name]) is tuple else value
    opts.sources = _sources(config_cls, opts, base, saved, changes)
    # the values, before the Config is built: its __post_init__ may refuse one already
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(config_cls)}
    with said_where({**values, **saved, **changes}, opts.sources):
        config = dataclasses.replace(base, **{**saved, **changes})  # the command line wins
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
    check_backend(options)  # a dask scheduler answers before the lock and config.json exist
    return config, opts, options


def _sources(config_cls, opts, base, saved, changes) -> dict[str, str]:
    """{field: where its value came from} for every setting the command line did not give;
    base: the Config the settings start from (its quick() preset with --quick)."""
    default = config_cls()
    return {f.name: f"the value of {f.name!r} in --config {opts.config}" if f.name in saved
            else "--quick's preset" if opts.quick and
            getattr(base, f.name) != getattr(default, f.name) else "the default"
            for f in dataclasses.fields(config_cls) if f.name not in changes}


@contextlib.contextmanager
def said_where(values, sources):
    """A UsageError raised inside names where each setting it refuses came from when the command
    line did not give it — the --quick preset, the default or --config FILE —, else "--batch-size
    40: larger than the 30 training samples" sends the user looking for a flag they never typed.
    values: {field: value}. A refused setting is quoted "--flag VALUE" and then ":", " is ", ","
    or the end; a flag named as advice ("give --activation linear (and --starts trained)") is not
    one."""
    try:
        yield
    except UsageError as err:
        text = str(err)
        notes = [f"{flag(name)} was not typed: {source}" for name, source in sources.items()
                 if _refused(text, flag(name), values[name])]
        if not notes:
            raise
        raise UsageError(f"{text} ({'; '.join(notes)})") from None


def _refused(text: str, spelled: str, value) -> bool:
    """Whether text quotes the setting as refused: "--flag VALUE" then ":", " is ", "," or the
    end (VALUE as str or repr; a list's items joined by spaces; never an empty value)."""
    shown = ({" ".join(map(str, value))} if isinstance(value, tuple | list)
             else {str(value), repr(value)})
    return any(re.search(re.escape(f"{spelled} {s}") + r"(?::| is |,|$)", text)
               for s in shown if s not in ("", "''"))


def main(config_cls, run, render, argv=None, prog=None, description=""):
    """`python -m experiments.<name>`: parse, run (resuming), render — under engine.io.cli's
    contract (bad input: one line, exit 2; internal failure: exit 1 with a log). render is a
    function (out_dir, figures_dir=…) → figure paths, or the name of the module that has it."""
    prog = prog or "experiment"
    if isinstance(render, str) and importlib.util.find_spec(render) is None:
        # a misspelt module would fail only after the whole run: refused here (a bug, not input)
        raise ModuleNotFoundError(f"render={render!r}: no module of that name")
    debug = "--debug" in (argv if argv is not None else __import__("sys").argv[1:])

    def action():
        config, opts, options = parse_config(config_cls, argv, prog, description)
        values = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
        with said_where(values, opts.sources):  # run's own checks, before its work
            out = run(config, out_dir=opts.out, options=options)
        if out is None:
            return
        draw = importlib.import_module(render).render if isinstance(render, str) else render
        for path in draw(out, figures_dir=opts.figures):
            print(path)

    guarded(prog, action, debug=debug,
            resume_hint="; finished runs are saved: rerun the same command to resume")
