"""Every experiment's --help reads well (experiments.harness.config): each flag's whole
description as a complete text, its default shown once and right, the flags in the Config's
groups with the shared ones last under "run", and a help that fits a screen (≤ 60 lines at 100
columns)."""
import dataclasses
import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from experiments.harness.config import UNGROUPED, build_parser, field_docs

ROOT = Path(__file__).resolve().parents[2]
# prog → the module holding its Config (its docstring is the description `main` gets)
EXPERIMENTS = {
    "experiments.trajectory": "experiments.trajectory",
    "experiments.gradnorm": "experiments.gradnorm",
    "experiments.spectrum": "experiments.spectrum",
    "experiments.minratio": "experiments.minratio.experiment",
    "experiments.deepshallow": "experiments.deepshallow.experiment",
    "experiments.surface": "experiments.surface.experiment",
    "experiments.generalization": "experiments.generalization.experiment",
    "experiments.census": "experiments.census.experiment",
}
RUN_FLAGS = ("--help", "--quick", "--config", "--out", "--figures", "--jobs", "--backend",
             "--scheduler", "--shard", "--debug")
MAX_LINES, COLUMNS = 60, 100

# The rule for "a complete text": a help text, its "(default: …)" taken off, must not
#   * start with '…' or a conjunction (a fragment continuing another flag's text),
#   * end with '…' or , : ; - — ( / (cut off), or with a word that cannot end a clause in
#     English (an article, preposition, conjunction or relative pronoun: WORDS_THAT_CANNOT_END),
#   * leave a bracket or a double quote open.
WORDS_THAT_CANNOT_END = {
    "a", "an", "the", "of", "or", "and", "nor", "but", "to", "over", "with", "by", "from", "in",
    "into", "for", "than", "when", "as", "at", "on", "whose", "which", "that", "between", "per",
    "its", "their", "is", "are", "be", "if", "unless", "while", "where", "each", "every", "via"}
STARTS_OF_FRAGMENTS = ("…", "and ", "or ", "but ", "nor ")
BAD_ENDINGS = ("…", ",", ":", ";", "-", "—", "(", "/")


def incomplete(text: str) -> str:
    """Why `text` does not read as a complete help text ('' when it does)."""
    body = re.sub(r"\s*\(default: [^()]*(\([^()]*\)[^()]*)*\)$", "", text).strip()
    if not body:
        return "empty"
    if body.startswith(STARTS_OF_FRAGMENTS):
        return f"starts as a fragment: {body[:20]!r}"
    if body.endswith(BAD_ENDINGS):
        return f"ends cut off: {body[-20:]!r}"
    last = re.findall(r"[\w']+", body)[-1].lower() if re.findall(r"[\w']+", body) else ""
    if last in WORDS_THAT_CANNOT_END and not body.endswith((")", ".", '"', "'")):
        return f"ends on {last!r}"
    for left, right in ("()", "[]", "{}"):
        if body.count(left) != body.count(right):
            return f"unbalanced {left}{right}"
    if body.count('"') % 2:
        return "an open double quote"
    return ""


def shown(value) -> str:
    """How the default should read after the flag: typed as one would pass it."""
    if isinstance(value, tuple):
        return " ".join(map(shown, value))
    return "''" if value == "" else str(value)


def _parser(prog):
    module = importlib.import_module(EXPERIMENTS[prog])
    return module, build_parser(module.Config, prog, module.__doc__)


def _help(prog, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    return _parser(prog)[1].format_help()


def _entries(text: str) -> dict[str, tuple[str, str]]:
    """{first option string: (its whole entry, joined onto one line; its section title)}."""
    entries, section, current = {}, "", None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section, current = line.rstrip(":"), None
        elif line.startswith("  -"):
            current = line.split()[0].rstrip(",")
            entries[current] = [line.strip()], section
        elif current and line.strip():
            entries[current][0].append(line.strip())
    return {flag: (" ".join(parts), title) for flag, (parts, title) in entries.items()}


@pytest.mark.parametrize("prog", EXPERIMENTS)
def test_every_flag_text_is_complete(prog):
    _, parser = _parser(prog)
    faults = {a.option_strings[-1]: incomplete(a.help % {"default": a.default})
              for a in parser._actions}
    assert {flag: why for flag, why in faults.items() if why} == {}


@pytest.mark.parametrize("prog", EXPERIMENTS)
def test_each_default_is_shown_once_and_right(prog, monkeypatch):
    module = importlib.import_module(EXPERIMENTS[prog])
    entries = _entries(_help(prog, monkeypatch))
    for f in dataclasses.fields(module.Config):
        entry, _ = entries["--" + f.name.replace("_", "-")]
        assert entry.count("default") == 1, entry
        assert entry.endswith(f"(default: {shown(getattr(module.Config(), f.name))})"), entry
    for flag in RUN_FLAGS:
        assert entries[flag if flag != "--help" else "-h"][0].count("default") <= 1


@pytest.mark.parametrize("prog", EXPERIMENTS)
def test_flags_are_in_the_configs_groups_and_the_shared_ones_under_run(prog, monkeypatch):
    module = importlib.import_module(EXPERIMENTS[prog])
    entries = _entries(_help(prog, monkeypatch))
    groups = {name: group for name, (_, group) in field_docs(module.Config).items()}
    assert set(groups) == {f.name for f in dataclasses.fields(module.Config)}
    assert UNGROUPED not in groups.values(), "every field is under a `# --- title ---` line"
    assert len(set(groups.values())) >= 2
    for name, group in groups.items():
        assert entries["--" + name.replace("_", "-")][1] == group
    run = [flag for flag, (_, section) in entries.items() if section == "run"]
    shared = {"-h" if f == "--help" else f for f in RUN_FLAGS}
    assert set(run) == shared
    assert list(entries.values())[-1][1] == "run"


def test_minratio_groups_say_what_each_flag_is_for(monkeypatch):
    sections = [line.split(" (")[0].rstrip(":") for line in
                _help("experiments.minratio", monkeypatch).splitlines()
                if line.endswith(":") and not line.startswith(" ")]
    assert sections == ["compute", "search", "classify", "run"]


@pytest.mark.parametrize("prog", EXPERIMENTS)
def test_help_fits_a_screen_with_a_short_description(prog, monkeypatch):
    text = _help(prog, monkeypatch)
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES
    assert max(map(len, lines)) <= COLUMNS
    module = importlib.import_module(EXPERIMENTS[prog])
    description = " ".join(text.split("\n\n")[1].split())
    first_paragraph = " ".join(module.__doc__.split("\n\n")[0].split())
    assert description.startswith(first_paragraph)
    assert f"python -m pydoc {module.__name__}" in description


def test_minratio_help_as_run_is_at_most_60_lines():
    env = {**os.environ, "COLUMNS": str(COLUMNS)}
    out = subprocess.run([sys.executable, "-m", "experiments.minratio", "--help"], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True).stdout
    assert len(out.splitlines()) <= MAX_LINES
    assert "usage: experiments.minratio" in out and "Results contract" not in out


def test_the_issue_examples_read_whole(monkeypatch):
    entries = _entries(_help("experiments.minratio", monkeypatch))
    assert entries["--stall-window"][0].endswith(
        "> 0: a stage stops when ‖∇L‖ has not halved over this many LM evaluations or Newton-MR "
        "steps (0: the finder's own, lm+newton's 100 and 600); longer searches end critical more "
        "often (default: 0)")
    assert entries["--finder"][0].endswith(
        "lm+newton: LM, then Newton-MR once LM slows (default: lm+newton)")
    assert entries["--starts"][0].endswith(
        "embedded: critical points of a smaller net (--embed-hidden) split up to --hidden, "
        "saddles of known origin (default: trained)")


@dataclass(frozen=True)
class _Toy:
    # --- first ---
    a: int = 1             # a comment that goes on
    # …over two lines; the ellipsis is dropped
    b: str = ""            # no group change
    # --- second ---
    c: float = 0.5         # cut off in the

    def method(self):
        x: int = 3  # not a field
        return x


def test_field_docs_joins_continuation_lines_and_reads_groups():
    assert field_docs(_Toy) == {
        "a": ("a comment that goes on over two lines; the ellipsis is dropped", "first"),
        "b": ("no group change", "first"),
        "c": ("cut off in the", "second")}


@pytest.mark.parametrize("text, complete", [
    ("a comment that goes on over two lines (default: 1)", True),
    ("cut off in the (default: 0.5)", False),
    ("> 0: each stage stops when ‖∇L‖ has not halved over (default: 0)", False),
    ("embedded: a critical point of a (default: trained)", False),
    ("mnist/cifar10: the folder holding MNIST/raw or cifar-10… (default: '')", False),
    ("…and ‖H_τ⁺∇L‖ ≤ this (default: 1e-06)", False),
    ("smooth: H (default: tanh)", True),  # complete by the rule; the Config now says more
    ("grid of (−1, 1 (default: 3)", False),
    ("slides: \"Train 100 times\" (default: 100)", True),
])
def test_the_completeness_rule(text, complete):
    assert (incomplete(text) == "") is complete
