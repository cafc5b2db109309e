"""experiments.deepshallow and plots.deepshallow: the --quick preset end to end, equal budgets,
the ranking facts against the saved arrays, figures from saved files, and bad flags."""
import numpy as np
import pytest
from conftest import cli, quick_results
from numpy.testing import assert_array_equal

from engine import MLP
from engine.io import results as store_files
from experiments.deepshallow import Config, rank, unit
from plots.deepshallow import figure_names, render

pytestmark = pytest.mark.slow
PROG = "experiments.deepshallow"


def _main(*argv):
    cli(PROG)(argv)  # python -m PROG ARGV, in process


quick = quick_results("deepshallow", "--jobs", 1)  # the --quick preset, run once for the module


def test_quick_run_keeps_the_result_contract(quick):
    arrays, meta = store_files.load_summary(quick[0], "deepshallow")
    c, s = Config.quick(), meta["summary"]
    n_f, n_d = len(c.functions), len(c.depths)
    n_rec = arrays["function_loss"].shape[-1]  # the longest run's checks
    assert n_rec <= c.function_max_iters // c.record_every + 2
    assert arrays["function_loss"].shape == arrays["function_iters"].shape == (
        n_f, n_d, c.seeds, n_rec)
    assert arrays["function_n_checks"].max() == n_rec
    assert arrays["function_prediction"].shape == (n_f, n_d, c.seeds, c.function_samples - 1)
    for task in ("task", "checkerboard"):
        n_epochs = arrays[f"{task}_train_loss"].shape[-1]
        assert n_epochs <= c.task_max_epochs + 1
        for key in ("train_loss", "test_loss", "train_acc", "test_acc"):
            assert arrays[f"{task}_{key}"].shape == (n_d, c.seeds, n_epochs)
    assert all(np.all(np.isfinite(a)) for a in arrays.values())
    assert sorted(s["functions"]) == sorted(c.functions) and s["dataset"] == "digits"
    assert s["checkerboard"]["dataset"] == "checkerboard"


def test_every_model_says_which_rule_stopped_it(quick):
    arrays, meta = store_files.load_summary(quick[0], "deepshallow")
    c, s = Config.quick(), meta["summary"]
    n_models = (len(c.functions) + 2) * len(c.depths) * c.seeds
    assert sum(s["stopping"]["stopped_by"].values()) == n_models
    for facts in [*s["functions"].values(), s["task"], s["checkerboard"]]:
        assert sum(facts["stopped_by"].values()) == len(c.depths) * c.seeds
    # a run that reached the cap has every check up to it; a stopped one fewer
    for u in range(n_models):
        base = quick[0] / "runs" / f"run_{u:03d}"
        arrays_u, info = store_files.load_npz(base.with_suffix(".npz")), store_files.load_json(
            base.with_suffix(".json"))
        cap = c.function_max_iters if "loss_iters" in arrays_u else c.task_max_epochs
        assert (info["steps"] == cap) == (info["stopped_by"] == "cap")


def test_task_steps_are_each_models_epochs(quick):
    # the report compares depths by these where every model stopped at the target loss
    arrays, meta = store_files.load_summary(quick[0], "deepshallow")
    c, n_f = Config.quick(), len(Config.quick().functions)
    for t, task in enumerate(("task", "checkerboard")):
        steps = [[store_files.load_json(quick[0] / "runs" / f"run_{u:03d}.json")["steps"]
                  for u in range(((n_f + t) * len(c.depths) + d) * c.seeds,
                                 ((n_f + t) * len(c.depths) + d + 1) * c.seeds)]
                 for d in range(len(c.depths))]
        assert_array_equal(arrays[f"{task}_steps"], steps)
        for d, depth in enumerate(c.depths):
            assert meta["summary"][task]["models"][str(depth)]["steps_median"] == float(
                np.median(steps[d]))


def test_models_of_each_target_have_the_same_budget(quick):
    _, meta = store_files.load_summary(quick[0], "deepshallow")
    s, c = meta["summary"], Config.quick()
    budgets = (MLP((1, c.function_width, 1)).n_params, MLP((64, c.task_width, 10)).n_params,
               MLP((2, c.checker_width, 2)).n_params)
    for facts, budget in [(s["functions"][f], budgets[0]) for f in c.functions] + [
            (s["task"], budgets[1]), (s["checkerboard"], budgets[2])]:
        for depth, model in facts["models"].items():
            assert len(model["sizes"]) == int(depth) + 2
            assert MLP(tuple(model["sizes"])).n_params == model["n_params"]
            assert abs(model["n_params"] - budget) <= 0.02 * budget
    assert s["budget_spread"] <= 0.04 + 1e-12


def test_ranking_facts_are_the_saved_losses(quick):
    arrays, meta = store_files.load_summary(quick[0], "deepshallow")
    final = arrays["function_loss"][0, :, :, -1]
    facts = meta["summary"]["functions"][Config.quick().functions[0]]
    median = np.median(final, axis=1)
    assert facts["best_depth"] == Config.quick().depths[int(np.argmin(median))]
    assert facts["factor_to_runner_up"] == pytest.approx(np.sort(median)[1] / median.min())


def test_rank_counts_seeds_and_orders():
    infos = [{"sizes": [1, 3, 1], "n_params": 10}, {"sizes": [1, 2, 2, 1], "n_params": 11}]
    final = np.array([[1.0, 1.0, 0.1], [0.5, 0.5, 0.5]])  # depth 2 wins the median, 2 of 3 seeds
    facts = rank((1, 2), final, infos)
    assert facts["best_depth"] == 2 and facts["best_in_seeds"] == 2
    assert facts["factor_to_runner_up"] == 2.0 and not facts["same_ranking_every_seed"]


def test_unit_is_pure_and_reproducible():
    config = Config.quick()
    first, second = unit(config, 1), unit(config, 1)
    for key in first[0]:
        assert_array_equal(first[0][key], second[0][key])


def test_figures_are_drawn_from_saved_files(quick, tmp_path):
    names = sorted(p.name for p in render(quick[0], tmp_path))
    assert names == sorted(f"deepshallow_{n}.{e}" for n in ("functions_loss", "functions_fit",
                                                             "task", "checkerboard")
                           for e in ("png", "pdf"))
    assert all((tmp_path / n).stat().st_size > 1000 for n in names)
    # the names the report reads are the files render writes, in its order
    written = [p.stem for p in render(quick[0], tmp_path) if p.suffix == ".png"]
    assert figure_names(store_files.load_summary(quick[0], "deepshallow")[1]) == written


@pytest.mark.parametrize("config, expected", [
    ({"functions": [], "second_task": ""}, ["deepshallow_task"]),
    ({"functions": ["sinc"]}, ["deepshallow_functions_loss", "deepshallow_functions_fit",
                               "deepshallow_task"]),
    ({"functions": [], "second_task": "checkerboard"},
     ["deepshallow_task", "deepshallow_checkerboard"])])
def test_figure_names_follow_the_config(config, expected):
    assert figure_names({"config": config}) == expected


@pytest.mark.parametrize("argv, expected", [
    (["--depths", "2"], "--depths"), (["--functions", "cosh"], "--functions"),
    (["--depths", "1", "9"], "at most 8"), (["--seeds", "0"], "--seeds")])
def test_bad_flags_are_one_line(one_line_error, tmp_path, argv, expected):
    one_line_error(lambda: _main("--quick", *argv, "--out", tmp_path / "r"), PROG, expected)
    assert not (tmp_path / "r").exists()


def test_figures_are_readable_on_paper(quick, tmp_path, monkeypatch):
    # issue 22.4: no literal '_'/'^', no overlapping texts, no legend over the data, ≥ 2
    # labels on every log axis — in every figure, as saved at its print size
    from figurefaults import rendered_faults

    import plots.deepshallow

    faults = rendered_faults(plots.deepshallow, quick[0], tmp_path, monkeypatch)
    assert not any(faults.values()), faults
