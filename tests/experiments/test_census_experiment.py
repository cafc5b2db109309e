"""experiments.census, plots.census and the README writer: --quick end to end, each saved index
against an independent eigh, the figure from saved files, the README block and gallery copy,
and bad flags refused before any work."""
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import scipy.linalg
from conftest import cli, quick_results

from engine import MLP
from engine.derivatives.curvature import exact_hessian
from engine.io import results as common
from experiments.census import readme as census_readme
from experiments.census.experiment import Config, digits
from experiments.census.readme import BEGIN, END
from experiments.census.starts import STARTS, embedded_start, start_kinds
from experiments.minratio.objective import objective_fns
from plots.census import render

PROG = "experiments.census"
# the quick preset with two searches, one from a training path and one embedded (start_kinds):
# its four took 87 s of make test's 13 min
RUNS = 2
quick = quick_results("census", "--runs", RUNS)


@pytest.mark.slow
def test_quick_census_keeps_its_contract(quick):
    arrays, meta = common.load_summary(quick[0], "census")
    config, summary = replace(Config.quick(), runs=RUNS), meta["summary"]
    n = MLP(config.sizes).n_params
    assert arrays["theta"].shape == (config.runs, n) == arrays["theta_start"].shape
    assert sum(summary["counts"].values()) == config.runs
    assert summary["n_samples"] == 1797 and summary["dataset"] == "digits"
    # the budget is a stated stop: no search spent much more than it (one step's solves)
    assert np.all(arrays["n_hvp"] <= config.max_hvp + 600)
    settled = arrays["settled"]
    assert summary["census"]["settled"] == int(settled.sum())
    ends = summary["end_points"]
    assert ends["n"] == int(np.isfinite(arrays["index"]).sum())
    assert ends["grad_sq_passed"] == int((arrays["grad_sq"] <= config.grad_sq_tol).sum())
    assert np.all(arrays["label"][settled] == "critical")
    # the starts: the share of embedded runs, spread evenly, and each counted by kind
    assert list(arrays["start"]) == start_kinds(config.runs, config.embedded)
    by_start = summary["census"]["by_start"]
    assert sum(v["runs"] for v in by_start.values()) == config.runs
    assert sum(v["settled"] for v in by_start.values()) == summary["census"]["settled"]
    embedded = arrays["start"] == "embedded"
    assert np.all((arrays["embed_width"][embedded] >= 1)
                  & (arrays["embed_width"][embedded] <= config.embed_max))
    assert np.all(arrays["embed_width"][~embedded] == 0)
    assert np.all(np.isfinite(arrays["embed_grad_sq"][embedded]))


@pytest.mark.parametrize(("runs", "share", "embedded"), [
    (4, 0.5, [1, 3]), (5, 0.0, []), (3, 1.0, [0, 1, 2]), (10, 0.3, [3, 6, 9])])
def test_start_kinds_spread_the_share_evenly(runs, share, embedded):
    kinds = start_kinds(runs, share)
    assert [r for r, k in enumerate(kinds) if k == "embedded"] == embedded
    assert set(kinds) <= set(STARTS)


def test_an_embedded_start_without_noise_is_a_critical_point():
    """The narrow net's Newton-MR end, embedded with zero units: ∇L_λ of the census net
    vanishes to rounding (each zero unit's partial derivatives are exactly 0 for tanh)."""
    config = replace(Config.quick(), embed_noise=0.0)
    data = digits()
    net = MLP(config.sizes, config.activation, "mse")
    # seed 0: the narrow net's Newton-MR converges (a narrow search stopped short — seed 3 —
    # gives a start with its own ‖∇L‖², recorded as embed_grad_sq)
    theta, info = embedded_start(config, net, data, np.random.default_rng(0))
    _, gradient, _ = objective_fns(net, data.x_train, data.y_train, config.weight_decay)
    g = gradient(theta)
    assert info["start"] == "embedded" and 1 <= info["embed_width"] <= config.embed_max
    assert g @ g <= 1e-20 and info["embed_grad_sq"] == pytest.approx(g @ g, abs=1e-30)
    hidden = MLP(config.sizes).layout.unpack(theta)[0][0]
    assert np.count_nonzero(np.linalg.norm(hidden, axis=0)) == info["embed_width"]


@pytest.mark.slow
def test_each_saved_index_is_the_eigh_count(quick):
    """The LDLᵀ route's n₋ against eigvalsh of the exact Hessian of L_λ, τ recomputed."""
    arrays, _ = common.load_summary(quick[0], "census")
    config = Config.quick()
    data = digits()
    net = MLP(config.sizes, config.activation, "mse")
    for r in range(2):  # two end points: eigh of 2,410 × 2,410 is seconds each
        H = exact_hessian(net, arrays["theta"][r], data.x_train, data.y_train)
        H[np.diag_indices_from(H)] += config.weight_decay
        lam = scipy.linalg.eigvalsh(0.5 * (H + H.T))
        norm = np.abs(lam).max()
        tau = max(n_eps := lam.size * np.finfo(float).eps * norm,
                  min(config.rtol * norm, config.weight_decay / 10))
        assert tau >= n_eps
        np.testing.assert_allclose(arrays["tau"][r], tau, rtol=1e-8)
        assert arrays["n_neg"][r] == np.sum(lam < -tau)
        assert arrays["n_pos"][r] == np.sum(lam > tau)


@pytest.mark.slow
def test_figure_and_readme_from_saved_files(quick, tmp_path):
    out, _ = quick
    paths = render(out, tmp_path / "figures")
    assert [p.name for p in paths] == ["census.png", "census.pdf"]
    results = tmp_path / "results"
    shutil.copytree(out, results / "census")
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{BEGIN}\nold\n{END}\nafter\n")
    census_readme.main([str(results), "--figures", str(tmp_path / "figures"),
                        "--readme", str(readme), "--gallery", str(tmp_path / "docs")])
    text = readme.read_text()
    summary = json.loads((out / "summary.json").read_text())["summary"]
    assert text.startswith("before\n") and text.endswith(f"{END}\nafter\n") and "old" not in text
    assert f"{summary['counts']['critical']} ended critical" in text
    assert "The aim (≥ 30 distinct settled critical points" in text  # judged by the rule, not typed
    assert (tmp_path / "docs" / "census.png").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("gallery, expected", [
    ("a_file", "is a file"),
    ("", "--gallery is empty"),   # was census.png written into the current folder, exit 0
])
def test_a_bad_gallery_is_one_line_before_the_readme_is_touched(
        quick, tmp_path, one_line_error, gallery, expected):
    """--gallery a file gave exit 1 (FileExistsError) after README.md had been rewritten."""
    out, _ = quick
    render(out, tmp_path / "figures")
    results = tmp_path / "results"
    shutil.copytree(out, results / "census")
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEGIN}\nold\n{END}\n")
    (tmp_path / "a_file").write_text("x")
    target = str(tmp_path / gallery) if gallery else ""
    one_line_error(lambda: census_readme.main([str(results), "--figures", str(tmp_path / "figures"),
                                               "--readme", str(readme), "--gallery", target]),
                   census_readme.PROG, expected)
    assert readme.read_text() == f"{BEGIN}\nold\n{END}\n"


def test_readme_without_results_is_one_line(tmp_path, one_line_error):
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEGIN}\n{END}\n")
    one_line_error(lambda: census_readme.main([str(tmp_path), "--readme", str(readme)]),
                   census_readme.PROG, "make census")
    assert readme.read_text() == f"{BEGIN}\n{END}\n"


@pytest.mark.parametrize(("flags", "expected"), [
    (["--hidden", "8"], "parameters"),        # 610 parameters: not the census's size
    (["--max-hvp", "0"], "--max-hvp"),
    (["--weight-decay", "0"], "--weight-decay"),
    (["--embed-max", "33"], "--embed-max"),   # wider than the census net's 32 units
    (["--embedded", "1.5"], "--embedded"),
    (["--embed-noise", "-1"], "--embed-noise"),
])
def test_bad_flags_are_one_line_before_work(tmp_path, one_line_error, flags, expected):
    out = tmp_path / "out"
    one_line_error(lambda: cli(PROG)([*flags, "--out", out]), PROG, expected)
    assert not out.exists()
