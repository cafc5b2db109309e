"""experiments.census.readme checks what its text reads (README_SCHEMA) before writing a line: a
damaged summary.json is bad input naming the file, while a KeyError of the text's own code is a
bug and stays one — it was caught by a blanket `except (KeyError, TypeError, …)` and reported as
"summary.json lacks what the README reads" with exit 2."""
import json

import numpy as np
import pytest

from engine.io.results import UsageError
from experiments.census import readme

_RANGE = {"min": 0.1, "max": 1.0, "decades": 1.0}
_RHO = {"rho": 0.9, "low": 0.8, "high": 0.95}
SUMMARY = {
    "census": {"fit": {"spearman": _RHO, "slope": {"per_decade": 0.1, "low": 0.05, "high": 0.2}},
               "loss_range": _RANGE, "error_range": _RANGE,
               "by_start": {"trained": {"runs": 2, "critical": 0},
                            "embedded": {"runs": 8, "critical": 5}},
               "settled": 5, "distinct": 4, "exact": 5, "saddles": 5, "minima": 0,
               "index_range": [3, 40]},
    "counts": {"critical": 5, "gradient-flat": 2, "not-converged": 3},
    "time": {"cpu_sum": 100.0, "cpu_median": 9.0, "search_median": 2.5},
    "verdicts": {"escaping": 0, "drifted": 0},
    "end_points": {"n": 10, "median_grad_sq": 1e-31, "grad_sq_passed": 6,
                   "median_newton_norm": 1e-14, "index_range": [1, 40], "loss_range": _RANGE,
                   "spearman": _RHO},
    "finder": {"status_counts": {"converged": 5, "max_iter": 5}},
    "n_samples": 1797, "sizes": [64, 32, 10], "activation": "tanh", "n_params": 2410,
}
CONFIG = {"weight_decay": 1e-4, "max_hvp": 20000, "switch_min": 1, "switch_max": 300,
          "embed_max": 8, "embed_switch_min": 1, "embed_switch_max": 300, "embed_noise": 1e-3,
          "grad_sq_tol": 1e-10, "newton_tol": 1e-6, "runs": 10}


def _results(tmp_path, summary=SUMMARY, config=CONFIG):
    folder = tmp_path / "census"
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps(
        {"experiment": "census", "config": config, "summary": summary,
         "versions": {"losslab": "0", "commit": None}}))
    np.savez(folder / "summary.npz", loss=np.ones(1))
    return tmp_path


def test_a_complete_summary_gives_the_text(tmp_path):
    text = readme.block(_results(tmp_path))
    assert "10 searches on all 1797 images" in text and "5 ended critical" in text


@pytest.mark.parametrize("edit, expected", [
    (lambda s: s["census"].pop("settled"), "lacks ['summary.census.settled']"),
    (lambda s: s["time"].update(cpu_sum="fast"), "summary.time.cpu_sum is str"),
    (lambda s: s["census"]["fit"].update(spearman={"rho": 0.9}), "summary.census.fit.spearman"),
])
def test_a_damaged_summary_is_bad_input_naming_the_file(tmp_path, edit, expected):
    summary = json.loads(json.dumps(SUMMARY))
    edit(summary)
    with pytest.raises(UsageError, match="summary.json") as caught:
        readme.block(_results(tmp_path, summary))
    assert expected in str(caught.value)


def test_a_key_error_of_the_texts_own_code_is_not_bad_input(tmp_path, monkeypatch):
    def buggy(span, fmt):
        raise KeyError("a key the code got wrong")

    monkeypatch.setattr(readme, "_span", buggy)
    with pytest.raises(KeyError, match="the code got wrong") as caught:
        readme.block(_results(tmp_path))
    assert not isinstance(caught.value, UsageError)
