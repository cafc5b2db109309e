"""The README's "Use it on your own model" example runs as written and prints what it shows."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Use it on your own model"


def readme_example() -> tuple[str, str]:
    """(code, expected output): the section's ```python block and the ```text block after it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    output = re.search(r"```text\n(.*?)```", section[code.end():] if code else "", re.S)
    assert code and output, "the section needs a ```python block followed by a ```text block"
    return code.group(1), output.group(1)


def test_readme_example_is_short():
    code, _ = readme_example()
    assert len(code.splitlines()) <= 25


# The exact digits depend on the LAPACK/MINPACK builds the search runs on (it amplifies rounding
# near a saddle): an end-to-end run of the README, checked with the current releases only.
@pytest.mark.slow
def test_readme_example_prints_what_the_readme_shows():
    code, expected = readme_example()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected
