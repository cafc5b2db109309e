"""The README's measured blocks: text between a pair of marker lines, rewritten from results by a
command (`make docs`), so a number in the README is never typed by hand."""
from __future__ import annotations

from pathlib import Path

from engine.io.results import UsageError, atomic_write


def rewrite_block(readme: Path, begin: str, end: str, text: str) -> Path:
    """readme with the block between the lines `begin` and `end` replaced by text (atomically).
    UsageError (one line) when the file cannot be read, `begin` is not there exactly once, or no
    `end` follows it."""
    try:
        old = readme.read_text()
    except OSError as err:
        raise UsageError(f"--readme {readme}: cannot be read ({err.strerror or err})") from None
    if old.count(begin) != 1 or end not in old.split(begin, 1)[1]:
        raise UsageError(f"--readme {readme}: needs one block between the lines {begin} and "
                         f"{end}")
    head, rest = old.split(begin, 1)
    tail = rest.split(end, 1)[1]
    return atomic_write(readme, f"{head}{begin}\n{text}\n{end}{tail}".encode())


def commit_label(commit) -> str:
    """A results file's commit as the README prints it: 12 hex digits, and ", with uncommitted
    changes" when it was made from a work tree that differed from that commit (engine.io.version
    records it as '<commit>-dirty'); 'unknown' when none was recorded."""
    if not commit:
        return "unknown"
    head, dirty = (commit[:-len("-dirty")], True) if commit.endswith("-dirty") else (commit, False)
    return head[:12] + (", with uncommitted changes" if dirty else "")
