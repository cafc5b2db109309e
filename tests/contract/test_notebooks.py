"""Every notebook under docs/notebooks executes from its jupytext source with no error and no
warning in its outputs, shows its figures, and prints the numbers its text relies on.

The slowest test of the suite (≈ 3 min on 2 cores for all notebooks): marked slow. Needs the
`docs` extra (jupytext, nbclient, ipykernel): pip install -e '.[docs]'.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("jupytext", reason="the docs extra is not installed: pip install -e '.[docs]'")
pytest.importorskip("nbclient", reason="the docs extra is not installed: pip install -e '.[docs]'")
pytest.importorskip("ipykernel", reason="the docs extra is not installed: pip install -e '.[docs]'")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "docs" / "notebooks"


def _build():
    spec = importlib.util.spec_from_file_location("notebook_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.kernel_dir()
    return module


def _text(nb) -> str:
    """All printed text of the executed notebook."""
    return "".join(o.get("text", "") + str(o.get("data", {}).get("text/plain", ""))
                   for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"the notebook does not print {pattern!r}"
    return float(found.group(1))


# the numbers each notebook's text relies on, as (regex capturing a number, check)
PROMISES = {
    "00_engine": [
        (r"‖FD − autograd‖ / ‖autograd‖ = (\S+)", lambda v: v < 1e-8),
        (r"‖Hv − FD of ∇L‖ / ‖Hv‖ = (\S+)", lambda v: v < 1e-6),
        (r"‖H − H_autograd‖_F / ‖H_autograd‖_F = (\S+)", lambda v: v < 1e-12),
        (r"G: raw share λ > 0: (\S+)", lambda v: 0.4 < v < 0.8),
        (r"G: raw share .* n₊ = (\d+)", lambda v: v <= 20),   # rank G ≤ N = 20
        (r"G: raw share .* n₋ = (\d+)", lambda v: v == 0),    # G is positive semi-definite
    ],
    "01_hw1-1_deep_vs_shallow": [
        (r"sign: final training loss .* 1 hidden \[50\] \(151 params\): (\S+),", lambda v: v < 1),
    ],
    "02_hw1-2_optimization_path": [
        (r"off the plane: median (\d+)%", lambda v: v > 50),
        (r"final train accuracy (\S+)", lambda v: v > 0.9),
    ],
    "03_hw1-2_gradient_norm": [
        (r"sinc \(sinc\): .*\n.*still fell ≥ 5 %: True — ×(\S+)", lambda v: v >= 1.5),
    ],
    "04_hw1-2_minimal_ratio": [
        (r"'critical': (\d+)", lambda v: v >= 5),
        (r"resolved ratio n₊/\(n₊ \+ n₋\): \S+ … (\S+)", lambda v: v == 1.0),  # a minimum
    ],
    "05_hw1-2_bonus_error_surface": [
        (r"λ_min = (\S+)", lambda v: v < 0),
    ],
    "06_hw1-3_generalization": [
        (r"test accuracy (\S+) \(chance 0.10\)", lambda v: v < 0.2),
        (r"→ (\S+) \(largest\)", lambda v: v > 0.9),
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in NOTEBOOKS.glob("*.py")
                                        if p.name != "build.py"))
def test_notebook_runs_clean(name):
    nb = _build().execute(NOTEBOOKS / f"{name}.py")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"stderr in the outputs: {stderr[:1]}"
    assert "Warning" not in _text(nb)
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure"
    text = _text(nb)
    for pattern, check in PROMISES.get(name, []):
        value = _number(pattern, text)
        assert check(value), f"{name}: {pattern!r} gave {value}"


def test_every_notebook_has_promises_and_answers():
    names = sorted(p.stem for p in NOTEBOOKS.glob("*.py") if p.name != "build.py")
    assert set(names) == set(PROMISES)
    answers = (NOTEBOOKS / "answers.md").read_text()
    for name in names:
        assert f"## {name[:2]} " in answers, f"answers.md lacks a section for {name}"
