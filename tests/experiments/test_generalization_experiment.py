"""experiments.generalization and plots.generalization: the --quick preset end to end, the results
contract, the shared stopping rules, the summary facts against the saved arrays, the
interpolation ends against the saved models, figures from saved files, and bad flags."""
import numpy as np
import pytest
from conftest import cli, quick_results

from engine import MLP, evaluate
from engine.io import results as store_files
from engine.training.stopping import STOPPED_BY, StopRule
from experiments.generalization.experiment import Config, loss_rule, memorized
from experiments.harness.datasets import load_data
from plots.generalization import figure_names, render

pytestmark = pytest.mark.slow
PROG = "experiments.generalization"


def _main(*argv):
    cli(PROG)(argv)  # python -m PROG ARGV, in process


quick = quick_results("generalization", "--jobs", 1)  # the --quick preset, run once for the module


def test_quick_run_keeps_the_result_contract(quick):
    arrays, meta = store_files.load_summary(quick[0], "generalization")
    c, s = Config.quick(), meta["summary"]
    assert arrays["width_test_acc"].shape == (len(c.widths), c.width_seeds)
    for key in ("sensitivity", "lambda_max", "sharpness", "test_acc", "steps"):
        assert arrays[f"batch_{key}"].shape == (len(c.batch_sizes),)
    for name in ("batch", "lr"):
        assert arrays[f"interp_{name}_alpha"].shape == (c.n_alphas,)
        assert arrays[f"interp_{name}_alpha"][[0, -1]].tolist() == [-1.0, 2.0]
    assert all(np.all(np.isfinite(a)) for a in arrays.values())
    assert np.all(arrays["batch_sensitivity"] > 0) and np.all(arrays["batch_sharpness"] >= 0)
    assert s["random"]["stopped_by"] in STOPPED_BY and s["n_train"] == c.n_train
    # the random-label net holds more parameters than there are training samples
    assert s["random"]["n_params"] > s["n_train"]


def test_interpolation_ends_are_the_saved_models(quick):
    arrays, meta = store_files.load_summary(quick[0], "generalization")
    c = Config.quick()
    store = store_files.Store(quick[0], "generalization", c)
    data = load_data("digits", "", c.n_train)
    ids = [i for i, u in enumerate(c.units) if u[:2] in (("batch", c.interp_pair[0]),
                                                            ("batch", c.interp_pair[1]))]
    alpha = arrays["interp_batch_alpha"]
    for i, a in zip(ids, (0.0, 1.0), strict=True):
        saved, info = store.load_run(i)
        net = MLP(tuple(info["sizes"]), c.activation, "cross_entropy")
        want = evaluate(net, saved["theta"], data)
        k = int(np.argmin(np.abs(alpha - a)))
        assert arrays["interp_batch_train_loss"][k] == pytest.approx(want["train_loss"],
                                                                     rel=1e-12)
        assert arrays["interp_batch_test_acc"][k] == want["test_acc"]


def test_trend_facts_are_the_saved_measures(quick):
    arrays, meta = store_files.load_summary(quick[0], "generalization")
    facts = meta["summary"]["flatness"]
    for key in ("sensitivity", "lambda_max", "sharpness"):
        values = arrays[f"batch_{key}"]
        assert facts[key]["smallest_batch"] == values[0]
        assert facts[key]["largest_batch"] == values[-1]
        assert facts[key]["trend"] in ("rises", "falls", "is flat")


def test_each_part_stops_by_the_shared_rule():
    rule = StopRule(window=2, rel_tol=0.01, target=1e-3)
    stop = loss_rule(rule)
    records = [{"train_loss": v, "train_acc": 0.5} for v in (0.5, 0.499, 0.499, 0.498)]
    assert stop(records) == "plateau"  # median 0.4985 is < 1 % below the median 0.4995
    assert stop(records[:3]) is None   # fewer than two windows
    assert stop(records[:2] + [{"train_loss": 0.3}] * 2) is None  # 40 % lower: keeps going
    assert stop([{"train_loss": 1e-4}]) == "target"
    flat = [{"train_loss": 0.5, "train_acc": a} for a in (0.5, 0.5, 0.5, 0.995)]
    assert memorized(0.99, StopRule(window=2, rel_tol=0.01))(flat) == "target"
    assert memorized(0.99, StopRule(window=2, rel_tol=0.01))(flat[:3]) is None


def test_summary_counts_what_stopped_each_model(quick):
    _, meta = store_files.load_summary(quick[0], "generalization")
    s, c = meta["summary"], Config.quick()
    assert sum(s["stopping"]["stopped_by"].values()) == len(c.units)
    assert sum(s["parameters"]["stopped_by"].values()) == s["parameters"]["n_models"]
    assert s["parameters"]["stopped_by_rule"] == s["parameters"]["n_models"] - s["parameters"][
        "stopped_by"]["cap"]


def test_figures_are_drawn_from_saved_files(quick, tmp_path):
    names = sorted(p.name for p in render(quick[0], tmp_path))
    kinds = ("random", "params", "interp", "flatness")
    assert names == sorted(f"generalization_{n}.{e}" for n in kinds for e in ("png", "pdf"))
    # the names the report reads are the files render writes, in its order
    written = [p.stem for p in render(quick[0], tmp_path) if p.suffix == ".png"]
    assert figure_names(store_files.load_summary(quick[0], "generalization")[1]) == written


@pytest.mark.parametrize("argv, expected", [
    (["--interp-pair", "16", "1000"], "--interp-pair"), (["--batch-sizes", "16", "256"], "64"),
    (["--random-target-acc", "1.5"], "--random-target-acc"), (["--widths", "4"], "--widths")])
def test_bad_flags_are_one_line(one_line_error, tmp_path, argv, expected):
    one_line_error(lambda: _main("--quick", *argv, "--out", tmp_path / "r"), PROG, expected)
    assert not (tmp_path / "r").exists()


def test_figures_are_readable_on_paper(quick, tmp_path, monkeypatch):
    # issue 22.4: no literal '_'/'^', no overlapping texts, no legend over the data, ≥ 2
    # labels on every log axis — in every figure, as saved at its print size
    from figurefaults import rendered_faults

    import plots.generalization

    faults = rendered_faults(plots.generalization, quick[0], tmp_path, monkeypatch)
    assert not any(faults.values()), faults
