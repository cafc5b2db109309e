"""Nothing silent, nothing crashes, over the experiments' and plots' command lines:
one shared check of the error contract over every CLI, every check before any write, damaged
results files healed or named, divergence as a result, flags checked at the library's boundary,
the README's routes, degenerate inputs and the user's umask on every file written."""
import importlib
import json
import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import cli
from numpy.testing import assert_array_equal

from engine import MLP
from engine.io.results import Store, load_summary, save_npz
from engine.training.divergence import RUNAWAY_FACTOR, quiet_overflow
from engine.training.loop import train
from engine.training.optim import make_optimizer, sgd
from experiments.harness.config import parse_config

EXPERIMENTS = ("trajectory", "gradnorm", "spectrum", "surface", "minratio")
PLOTS = ("trajectory", "gradnorm", "spectrum", "surface", "minratio")
CLIS = [f"experiments.{n}" for n in EXPERIMENTS] + ["experiments.report"] + [
    f"plots.{n}" for n in PLOTS]
# the trajectory experiment at its smallest: 2 runs × 2 points, one step per epoch
TINY_TRAJECTORY = ["--quick", "--runs", "2", "--epochs", "1", "--every", "1", "--n-train", "40",
                   "--batch-size", "40", "--hidden", "4", "--jobs", "1"]


def run_trajectory(*argv):
    cli("experiments.trajectory")([*TINY_TRAJECTORY, *argv])


def no_warnings(call):
    """call() with every warning an error: rendering must not warn on valid input."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return call()


# ----------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("prog", CLIS)
def test_every_cli_refuses_a_bad_flag_in_one_line(prog, tmp_path, one_line_error):
    argv = ["--resultz", tmp_path] if prog == "experiments.report" else ["--no-such-flag"]
    if prog.startswith("plots."):
        argv = [tmp_path, *argv]
    one_line_error(lambda: cli(prog)(argv), prog, "unrecognized arguments")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("prog", CLIS)
def test_every_cli_refuses_a_folder_without_results_in_one_line(prog, tmp_path,
                                                                one_line_error):
    folder = tmp_path / "folder"
    folder.mkdir()
    if prog.startswith("plots."):
        argv, expected = [folder, "--figures", tmp_path / "f"], "holds no finished results"
    elif prog == "experiments.report":
        argv, expected = ["--results", folder, "--out", tmp_path / "r"], "is missing: run"
    else:  # a results folder whose config.json is not one: named, with what to do
        (folder / "config.json").write_text("garbage")
        argv = ["--quick", "--out", folder, "--figures", tmp_path / "f"]
        expected = f"{folder / 'config.json'} cannot be read as JSON"
    line = one_line_error(lambda: cli(prog)(argv), prog, expected)
    assert "delete" in line or "run" in line  # what to do
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["folder"] + (["config.json"] if prog.startswith("experiments.") and
                      prog != "experiments.report" else []))


@pytest.mark.parametrize("prog", [f"plots.{n}" for n in PLOTS])
def test_plots_without_an_argument_are_one_line(prog, one_line_error):
    one_line_error(lambda: cli(prog)([]), prog, "the following arguments are required")


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_negative_seed_is_refused_naming_the_flag(name, tmp_path, one_line_error):
    one_line_error(lambda: cli(f"experiments.{name}")(["--quick", "--seed", "-1", "--out",
                                                       tmp_path / "r"]),
                   f"experiments.{name}", "--seed -1: give an integer ≥ 0")
    assert not (tmp_path / "r").exists()


# ----------------------------------------------------------------------------- checks first
@pytest.mark.parametrize("name, argv, message", [
    ("spectrum", ["--lr", "nan"], "--lr nan: give a finite number in (0, inf)"),
    ("gradnorm", ["--dataset", "mnist"], "--dataset mnist needs --data-root"),
    ("spectrum", ["--dataset", "mnist"], "--dataset mnist needs --data-root"),
    ("surface", ["--sinc-hidden", "0", "--view", "line"], "--sinc-hidden 0: give integers ≥ 1"),
    ("gradnorm", ["--dataset", "cifar10"], "--dataset cifar10 needs --data-root"),
    # sizes that cannot fit: refused up front, naming the flag (not a MemoryError mid-run)
    ("trajectory", ["--hidden", "100000", "100000"], "--hidden 100000 100000 with --runs 3 needs"),
    ("gradnorm", ["--hidden", "100000", "100000"], "--hidden 100000 100000 needs about"),
    ("gradnorm", ["--sinc-hidden", "100000", "100000"], "--sinc-hidden 100000 100000 needs"),
    ("spectrum", ["--hidden", "100000", "100000"], "--hidden 100000 100000 with --top-k 3"),
    ("surface", ["--dnn-hidden", "100000", "100000", "--view", "line"], "--dnn-hidden 100000"),
    ("surface", ["--sinc-hidden", "3000", "3000", "--view", "perturb"], "(its exact Hessian)"),
    ("surface", ["--grid", "100001"], "--grid 100001 with --line-points 9 needs about"),
    ("surface", ["--tiny-hidden", "3000", "3000", "--view", "tsne"], "--tiny-hidden 3000 3000"),
    # values the units would have refused only after claiming the folder
    ("surface", ["--sinc-samples", "1", "--view", "line"], "--sinc-samples 1: give an integer ≥ 2"),
    ("surface", ["--tiny-samples", "1", "--view", "tsne"], "--tiny-samples 1: give an integer ≥ 2"),
    ("surface", ["--view", "plane", "--every", "100"],
     "--every 100 with --sinc-epochs 6: the PCA plane needs three points of the path"),
    ("surface", ["--line-points", "10"], "--line-points 10: give 4k + 1 points"),
    ("trajectory", ["--dataset", "sinc", "--n-train", "1"],
     "--dataset sinc --n-train 1: n_train=1: a function's grid needs at least 2 points"),
])
def test_every_check_runs_before_any_write(name, argv, message, tmp_path, one_line_error):
    out = tmp_path / "D"
    one_line_error(lambda: cli(f"experiments.{name}")(["--quick", *argv, "--out", out,
                                                       "--figures", tmp_path / "f"]),
                   f"experiments.{name}", message)
    assert not out.exists() and not (tmp_path / "f").exists()


def test_the_corrected_command_runs_after_a_refused_one(tmp_path, one_line_error):
    out = tmp_path / "D"
    one_line_error(lambda: run_trajectory("--lr", "nan", "--out", out), "experiments.trajectory",
                   "--lr nan")
    run_trajectory("--out", out, "--figures", tmp_path / "f")  # not "another configuration"
    assert load_summary(out, "trajectory")[1]["summary"]["n_runs"] == 2


# ----------------------------------------------------------------------------- library flags


def run_quietly(capsys, prog, argv):
    """Run `python -m prog argv` in process with warnings as errors (no_warnings); the lines
    of stderr it wrote under its own name."""
    capsys.readouterr()
    no_warnings(lambda: cli(prog)(argv))
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith(prog)]


def _config(name, *argv):
    module = importlib.import_module(f"experiments.{name}")
    return parse_config(module.Config, ["--quick", *argv], prog=f"experiments.{name}")[0]


@pytest.mark.parametrize("name, argv, message", [
    # scikit-learn's first 250 t-SNE iterations are early exaggeration: 250 would embed nothing
    ("surface", ["--tsne-iter", "250"], "--tsne-iter 250: give an integer ≥ 251"),
    # the quick t-SNE has at least 31 GD points + 1 Newton step + 2·15 samples = 62 points;
    # scikit-learn looks at 3·perplexity + 1 neighbours
    ("surface", ["--perplexity", "30"], "--perplexity 30 needs more than 91 points, but the "
                                        "t-SNE may have only 62"),
    ("surface", ["--perplexity", "2"], "--perplexity 2.0: give a number in [5, 50]"),
    ("spectrum", ["--probes", "1"], "--probes 1: give an integer ≥ 2"),  # no standard error
    ("spectrum", ["--slq-steps", "1"], "--slq-steps 1: give an integer ≥ 2"),
    # the quick DNN 64-16-10 has 65·16 + 17·10 = 1210 parameters
    ("spectrum", ["--top-k", "605"], "--top-k 605: the DNN has 1210 parameters; give at most 604"),
    ("spectrum", ["--slq-steps", "1211"], "--slq-steps 1211: the DNN has 1210 parameters"),
    ("gradnorm", ["--smooth", "0.6"], "--smooth 0.6: give a finite number in (0, 0.5]"),
    ("gradnorm", ["--full-evals", "16"], "--full-evals 16 with --steps 15"),
    ("gradnorm", ["--task", "sinc", "--sinc-minibatch", "--sinc-steps", "4", "--full-evals", "5"],
     "--full-evals 5 with --sinc-steps 4"),
])
def test_flags_into_libraries_are_checked_at_their_boundary(name, argv, message, tmp_path,
                                                           one_line_error):
    one_line_error(lambda: cli(f"experiments.{name}")(["--quick", *argv, "--out", tmp_path / "D"]),
                   f"experiments.{name}", message)


@pytest.mark.parametrize("name, argv, field, value", [
    ("surface", ["--tsne-iter", "251"], "tsne_iter", 251),
    ("surface", ["--perplexity", "20"], "perplexity", 20.0),  # 61 neighbours of 62 points
    ("spectrum", ["--top-k", "604"], "top_k", 604),
    ("spectrum", ["--slq-steps", "1210"], "slq_steps", 1210),
    ("spectrum", ["--probes", "2"], "probes", 2),
    ("gradnorm", ["--smooth", "0.5"], "smooth", 0.5),
    ("gradnorm", ["--full-evals", "15"], "full_evals", 15),
])
def test_the_boundary_values_themselves_are_accepted(name, argv, field, value):
    assert getattr(_config(name, *argv), field) == value


# ----------------------------------------------------------------------------- damaged files
def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_snapshots(path):
    with np.load(path) as data:
        save_npz(path, {k: data[k] for k in data.files if k != "snapshots"})


@pytest.fixture(scope="module")
def tiny_trajectory(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "results"
    run_trajectory("--out", out, "--figures", out.parent / "figures")
    return out


@pytest.mark.parametrize("damage, file, word", [
    (_truncate, "run_001.npz", "cannot be read as .npz"),
    (lambda p: p.write_bytes(b""), "run_001.npz", "cannot be read as .npz"),
    (_drop_snapshots, "run_001.npz", "lacks the arrays ['snapshots']"),
    (_truncate, "run_001.json", "cannot be read as JSON"),
])
def test_a_damaged_run_is_computed_again_with_a_one_line_notice(tiny_trajectory, tmp_path,
                                                                capsys, damage, file, word):
    out = tmp_path / "results"
    shutil.copytree(tiny_trajectory, out)
    damage(out / "runs" / file)
    capsys.readouterr()
    run_trajectory("--out", out, "--figures", tmp_path / "f")
    notices = [line for line in capsys.readouterr().err.splitlines()
               if line.startswith("trajectory: ")]
    assert len(notices) == 1 and word in notices[0] and "computing run 1 again" in notices[0]
    assert str(out / "runs" / "run_001") in notices[0]
    healed, _ = load_summary(out, "trajectory")
    first, _ = load_summary(tiny_trajectory, "trajectory")
    for key, value in first.items():  # run 1's seed stream gives it again, bit for bit
        assert_array_equal(healed[key], value)


def test_a_damaged_config_is_named_with_what_to_do(tiny_trajectory, tmp_path, one_line_error):
    out = tmp_path / "results"
    shutil.copytree(tiny_trajectory, out)
    (out / "config.json").write_text("garbage")
    line = one_line_error(lambda: run_trajectory("--out", out), "experiments.trajectory",
                          f"{out / 'config.json'} cannot be read as JSON")
    assert "delete" in line and "finished runs are kept" in line


@pytest.mark.parametrize("name", PLOTS)
@pytest.mark.parametrize("damage, message", [
    (lambda out: _truncate(out / "summary.npz"), "summary.npz cannot be read as .npz arrays"),
    (lambda out: (out / "summary.npz").write_bytes(b""), "summary.npz cannot be read as .npz"),
    (lambda out: (out / "summary.json").write_text('{"experiment": "x", "summary": {}}'),
     "summary.json lacks ['config']"),
    (lambda out: (out / "summary.json").write_text("[1, 2"), "summary.json cannot be read as JSON"),
])
def test_plots_name_a_damaged_summary_and_what_to_do(name, damage, message, tmp_path,
                                                    one_line_error):
    out = tmp_path / "results"
    Store(out, name, {"seed": 0}).save_summary({"x": np.zeros(3)}, {"n": 1})
    damage(out)
    line = one_line_error(lambda: cli(f"plots.{name}")([out, "--figures", tmp_path / "f"]),
                          f"plots.{name}", message)
    assert f"run python -m experiments.{name} into it again" in line
    assert not (tmp_path / "f").exists()


def test_a_damaged_summary_is_rewritten_by_the_rerun(tiny_trajectory, tmp_path, one_line_error):
    out = tmp_path / "results"
    shutil.copytree(tiny_trajectory, out)
    _truncate(out / "summary.npz")
    one_line_error(lambda: cli("plots.trajectory")([out]), "plots.trajectory", "summary.npz")
    run_trajectory("--out", out, "--figures", tmp_path / "f")
    for key, value in load_summary(tiny_trajectory)[0].items():
        assert_array_equal(load_summary(out)[0][key], value)


def test_a_gradnorm_task_lacking_an_array_is_computed_again(tmp_path, capsys):
    argv = ["--quick", "--task", "sinc", "--sinc-steps", "20", "--jobs", "1", "--out",
            tmp_path / "r", "--figures", tmp_path / "f"]
    cli("experiments.gradnorm")(argv)
    first, _ = load_summary(tmp_path / "r")
    path = tmp_path / "r" / "runs" / "run_000.npz"
    with np.load(path) as data:
        save_npz(path, {k: data[k] for k in data.files if k != "full_grad_norm"})
    capsys.readouterr()
    cli("experiments.gradnorm")(argv)
    err = capsys.readouterr().err
    assert "lacks the arrays ['full_grad_norm']; computing run 0 again" in err
    for key, value in first.items():
        assert_array_equal(load_summary(tmp_path / "r")[0][key], value)


# ----------------------------------------------------------------------------- divergence
def _first_runaway_step(net, theta0, data, optimizer, **kw):
    """Replay training without stopping: the first step whose loss is not finite or exceeds
    RUNAWAY_FACTOR·max(L₀, 1) — what the experiments must record."""
    losses = []
    with quiet_overflow():
        train(net, theta0, data, optimizer, on_step=lambda s: losses.append(s.loss), **kw)
    losses = np.array(losses)
    bad = ~np.isfinite(losses) | (losses > RUNAWAY_FACTOR * max(losses[0], 1.0))
    return int(np.argmax(bad)) if bad.any() else None


def test_a_diverging_trajectory_is_a_result_not_a_warning(tmp_path, capsys):
    from experiments import trajectory
    from experiments.harness.datasets import load_data

    argv = ["--quick", "--dataset", "sinc", "--optimizer", "sgd", "--lr", "1e3", "--epochs",
            "20", "--every", "5", "--jobs", "1", "--out", tmp_path / "r", "--figures",
            tmp_path / "f"]
    err = run_quietly(capsys, "experiments.trajectory", argv)
    assert len(err) == 1 and err[0].startswith("experiments.trajectory: all 3 runs diverged")
    arrays, meta = load_summary(tmp_path / "r", "trajectory")
    summary = meta["summary"]
    assert summary["pca"] is False and summary["n_points"] == 0 and summary["runs_used"] == []
    # the recorded step is the first non-finite or runaway loss of an independent replay
    config = trajectory.Config(**{k: tuple(v) if isinstance(v, list) else v
                                  for k, v in meta["config"].items()})
    data = load_data("sinc", "", config.n_train)
    for d in summary["diverged"]:
        rng = np.random.default_rng(trajectory.run_seeds(config.seed, config.runs)[d["run"]])
        net = MLP((1, *config.hidden, 1), config.activation, "mse")
        step = _first_runaway_step(net, net.init(rng, config.init), data,
                                   make_optimizer("sgd", 1e3), epochs=config.epochs,
                                   batch_size=config.batch_size, rng=rng)
        assert d["step"] == step and d["epoch"] == step // 3  # ⌈120 / 40⌉ steps an epoch
    assert all(np.all(np.isfinite(v)) for v in arrays.values())
    assert "nan" not in (tmp_path / "r" / "summary.json").read_text()
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == [
        "trajectory_layer1.pdf", "trajectory_layer1.png", "trajectory_whole.pdf",
        "trajectory_whole.png"]


def test_diverged_runs_are_left_out_of_the_pca(rng):
    from engine.landscape.surface import path_pca
    from experiments.trajectory import summarize

    runs = [{"snapshots": rng.normal(size=(3, 6)), "epochs": np.arange(3),
             "train_loss": rng.random(3), "test_loss": rng.random(3)} for _ in range(3)]
    runs[1]["snapshots"][-1] *= 1e150  # the runaway run: its last point would be the picture
    arrays, summary = summarize(runs, slice(0, 4), [None, {"step": 7, "epoch": 2,
                                                           "reason": "r"}, None])
    assert summary["runs_used"] == [0, 2] and summary["diverged"][0]["run"] == 1
    assert_array_equal(arrays["run"], [0, 0, 0, 2, 2, 2])
    kept = np.concatenate([runs[0]["snapshots"], runs[2]["snapshots"]])
    _, ratio, coords, _ = path_pca(kept)
    assert_array_equal(arrays["whole_coords"], coords)
    assert_array_equal(arrays["whole_explained_variance"], ratio)
    assert summary["final"]["train_loss"]["per_run"] == [runs[0]["train_loss"][-1],
                                                         runs[2]["train_loss"][-1]]
    from plots.trajectory import plot_trajectories

    fig = no_warnings(lambda: plot_trajectories(
        arrays["whole_coords"], arrays["run"], arrays["train_loss"],
        arrays["whole_explained_variance"], arrays["whole_off_plane"],
        diverged=summary["diverged"]))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]  # one legend below the panels
    assert legend[:2] == ["run 0", "run 2"] and "run 1: diverged at step 7, left out" in legend


@pytest.mark.parametrize("lr", ["10", "1e3"])
def test_a_diverging_tsne_run_is_a_result_not_a_crash(lr, tmp_path, capsys):
    from experiments.surface import experiment as surface

    argv = ["--quick", "--gd-lr", lr, "--view", "tsne", "--jobs", "1", "--out", tmp_path / "r",
            "--figures", tmp_path / "f"]
    err = run_quietly(capsys, "experiments.surface", argv)
    assert len(err) == 1 and "1 of 1 units diverged (tiny_tsne: loss rose from" in err[0]
    arrays, meta = load_summary(tmp_path / "r", "surface")
    info = meta["summary"]["tiny_tsne"]
    assert info["diverged"]["phase"] == "gradient descent"
    assert not any(k.startswith("tiny_tsne/") for k in arrays)  # nothing was embedded
    config = surface.Config(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in meta["config"].items()})
    net, data = surface.problem(config, "tiny")
    rng = np.random.default_rng(surface.run_seeds(config.seed, len(surface.UNITS))[
        surface.UNITS.index("tiny_tsne")])
    step = _first_runaway_step(net, net.init(rng), data, sgd(float(lr)),
                               epochs=config.gd_epochs, batch_size=len(data.x_train), rng=rng)
    assert info["diverged"]["step"] == step  # full batch: step = epoch
    assert (tmp_path / "f" / "surface_tsne.png").stat().st_size > 1000
    # the rerun computes nothing and draws the same note
    no_warnings(lambda: cli("plots.surface")([tmp_path / "r", "--figures", tmp_path / "g"]))


def test_a_diverging_gradnorm_task_ends_its_series_where_it_diverged(tmp_path, monkeypatch,
                                                                     capsys):
    from experiments import gradnorm

    # Adam's steps are bounded by its lr: plain gradient descent at lr 1e3 leaves the numbers
    monkeypatch.setattr(gradnorm, "adam", lambda lr: sgd(lr))
    argv = ["--quick", "--task", "sinc", "--sinc-lr", "1e3", "--jobs", "1", "--out",
            tmp_path / "r", "--figures", tmp_path / "f"]
    err = run_quietly(capsys, "experiments.gradnorm", argv)
    assert len(err) == 1 and err[0].startswith("experiments.gradnorm: every task diverged")
    arrays, meta = load_summary(tmp_path / "r", "gradnorm")
    info = meta["summary"]["tasks"]["sinc"]
    step = info["diverged"]["step"]
    assert info["n_steps"] == step and arrays["sinc_step_loss"].shape == (step,)
    assert np.all(arrays["sinc_full_step"] < step)
    for key in ("step_loss", "step_grad_norm", "full_loss", "full_grad_norm"):
        assert np.all(np.isfinite(arrays[f"sinc_{key}"]))
    assert (tmp_path / "f" / "gradnorm_sinc.png").stat().st_size > 1000


def test_a_diverging_spectrum_dnn_has_no_spectrum_and_says_so(tmp_path, monkeypatch, capsys):
    from experiments import spectrum

    monkeypatch.setattr(spectrum, "adam", lambda lr: sgd(lr))
    argv = ["--quick", "--lr", "1e4", "--epochs", "20", "--sinc-iterations", "5", "--jobs", "1",
            "--out",
            tmp_path / "r", "--figures", tmp_path / "f"]
    err = run_quietly(capsys, "experiments.spectrum", argv)
    assert len(err) == 1 and "the DNN diverged" in err[0]
    arrays, meta = load_summary(tmp_path / "r", "spectrum")
    assert meta["summary"]["dnn"]["diverged"]["step"] >= 0
    assert not any(k.startswith("dnn_") for k in arrays) and "sinc_eigenvalues_H" in arrays
    assert (tmp_path / "f" / "spectrum_dnn.png").stat().st_size > 1000


# ----------------------------------------------------------------------------- README routes
def _readme_commands():
    text = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [line.split("#")[0].split() for block in blocks for line in block.splitlines()
            if line.startswith("python -m ")]


def test_the_readme_shows_the_commands_tested_here():
    modules = {cmd[2] for cmd in _readme_commands()}
    assert {"experiments.trajectory", "experiments.gradnorm", "experiments.surface"} <= modules


@pytest.mark.parametrize("command", [c for c in _readme_commands() if c[2] in (
    "experiments.trajectory", "experiments.gradnorm", "experiments.surface")],
    ids=lambda c: " ".join(c[2:]))
def test_readme_commands_work_from_a_fresh_state(command, tmp_path):
    # as written, at the --quick size, into a fresh folder (the last --out wins)
    prog, argv = command[2], command[3:]
    cli(prog)([*argv, "--quick", "--jobs", "1", "--out", tmp_path / "r", "--figures",
               tmp_path / "f"])
    _, meta = load_summary(tmp_path / "r", prog.split(".")[1])
    flags = dict(zip(argv[::2], argv[1::2], strict=True))
    # the flags as written reached the saved config (surface's --view is not stored: views share
    # one folder)
    for flag, value in flags.items():
        if flag in ("--out", "--figures"):  # where, not what: replaced by fresh folders here
            continue
        if flag == "--view":
            assert meta["summary"].get(f"tiny_{value}") or value != "tsne"
            continue
        saved = meta["config"][flag[2:].replace("-", "_")]
        assert str(saved) == value or float(saved) == float(value)
    cli(prog.replace("experiments", "plots"))([tmp_path / "r", "--figures", tmp_path / "g"])
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == sorted(
        p.name for p in (tmp_path / "f").iterdir())


def test_a_data_root_typo_is_refused_not_replaced_by_digits(tmp_path, one_line_error):
    one_line_error(lambda: cli("experiments.trajectory")(
        ["--data-root", "/typo", "--runs", "2", "--out", tmp_path / "r"]),
        "experiments.trajectory", "--data-root /typo is not a folder")
    assert not (tmp_path / "r").exists()


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    from filewriters import write_mnist

    root = tmp_path_factory.mktemp("mnist")
    write_mnist(root, np.random.default_rng(0), n_train=320, n_test=40)
    return root


@pytest.mark.parametrize("name, argv, key", [
    ("trajectory", ["--runs", "2", "--epochs", "1"], lambda s: s["dataset"]),
    ("gradnorm", ["--task", "dnn"], lambda s: s["tasks"]["dnn"]["dataset"]),
])
def test_quick_with_a_data_root_uses_mnist(name, argv, key, mnist_root, tmp_path):
    cli(f"experiments.{name}")(["--quick", "--data-root", mnist_root, *argv, "--jobs", "1",
                                "--out", tmp_path / "r", "--figures", tmp_path / "f"])
    arrays, meta = load_summary(tmp_path / "r", name)
    assert key(meta["summary"]) == "mnist"
    if name == "trajectory":  # 784 inputs: the MNIST net, not the digits one
        assert meta["summary"]["sizes"][0] == 784


def test_gradnorm_runs_on_cifar10(tmp_path):
    from filewriters import write_cifar

    write_cifar(tmp_path / "data", np.random.default_rng(0), n_per_batch=6)
    cli("experiments.gradnorm")(["--quick", "--task", "dnn", "--dataset", "cifar10",
                                 "--data-root", tmp_path / "data", "--n-train", "20", "--steps",
                                 "5", "--jobs", "1", "--out", tmp_path / "r", "--figures",
                                 tmp_path / "f"])
    _, meta = load_summary(tmp_path / "r", "gradnorm")
    info = meta["summary"]["tasks"]["dnn"]
    assert info["dataset"] == "cifar10" and info["sizes"][0] == 3072 and info["n_train"] == 20


# ----------------------------------------------------------------------------- degenerate input
def test_a_single_run_of_one_hidden_layer_renders_without_warnings(tmp_path, monkeypatch):
    import plots.trajectory as pt

    cli("experiments.trajectory")(["--quick", "--runs", "1", "--epochs", "3", "--every", "1",
                                   "--jobs", "1", "--out", tmp_path / "r", "--figures",
                                   tmp_path / "f"])
    _, meta = load_summary(tmp_path / "r")
    summary = meta["summary"]
    assert summary["n_points"] == 4 and summary["final"]["test_acc"]["std"] is None
    assert summary["whole"]["start_distance_median"] is None  # one run: no distance
    figures, save = [], pt.save_figure
    monkeypatch.setattr(pt, "save_figure",
                        lambda fig, *a, **k: (figures.append(fig), save(fig, *a, **k))[1])
    no_warnings(lambda: pt.render(tmp_path / "r", tmp_path / "g"))
    # the setting heads the figure (Figure.get_suptitle is matplotlib ≥ 3.8; the floor is 3.7)
    title = figures[0]._suptitle.get_text().replace("\n", " ")
    assert "1 run;" in title and "64-8-10 relu" in title


def test_a_network_without_hidden_layers_renders_with_a_true_title(tmp_path):
    import dataclasses

    from experiments import trajectory
    from experiments.harness.parallel import RunOptions
    from plots.trajectory import _setting, render

    config = dataclasses.replace(trajectory.Config.quick(), hidden=(), runs=1, epochs=3)
    trajectory.run(config, out_dir=tmp_path / "r", options=RunOptions(jobs=1))
    _, meta = load_summary(tmp_path / "r")
    assert meta["summary"]["sizes"] == [64, 10] and meta["summary"]["n_params"] == 650
    no_warnings(lambda: render(tmp_path / "r", tmp_path / "f"))
    assert "64-10 relu" in _setting(meta["summary"], meta["config"])


def test_identical_runs_give_zero_variance_without_warnings(tmp_path):
    from experiments.trajectory import summarize
    from plots.trajectory import render

    theta = np.linspace(-1, 1, 650)
    runs = [{"snapshots": np.tile(theta, (2, 1)), "epochs": np.arange(2),
             "train_loss": np.full(2, 0.5), "test_loss": np.full(2, 0.5),
             "train_acc": np.full(2, 0.9), "test_acc": np.full(2, 0.9)} for _ in range(2)]
    arrays, summary = no_warnings(lambda: summarize(runs, slice(0, 650)))
    assert_array_equal(arrays["whole_explained_variance"], [0.0, 0.0])
    assert_array_equal(arrays["whole_off_plane"], np.zeros(4))
    assert summary["final"]["train_loss"]["std"] == 0.0
    summary |= {"dataset": "digits", "sizes": [64, 10], "n_params": 650, "n_train": 120,
                "lr": 1e-3}
    config = {"every": 1, "dataset": "", "data_root": "", "hidden": [], "optimizer": "adam",
              "activation": "relu", "batch_size": 40}
    Store(tmp_path / "r", "trajectory", config).save_summary(arrays, summary)
    no_warnings(lambda: render(tmp_path / "r", tmp_path / "f"))


# ----------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_results_and_figures_follow_the_umask(umask, mode, tmp_path):
    old = os.umask(umask)
    try:
        run_trajectory("--out", tmp_path / "r", "--figures", tmp_path / "f")
        cli("plots.trajectory")([tmp_path / "r", "--figures", tmp_path / "g"])
    finally:
        os.umask(old)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1 + 1 + 4 + 2 + 4 + 4  # lock, config, 2 runs, summary, 2 × 4 figures
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(mode)}
    assert json.loads((tmp_path / "r" / "config.json").read_text())["experiment"] == "trajectory"


def _flat_surface_figures():
    """Every surface plot on a flat loss (0.3 everywhere, zero curvature and gradient)."""
    from plots import surface as ps

    n, a = 7, np.linspace(-1, 1, 7)
    flat = np.full((n, n), 0.3)
    title = ps._title({"sizes": [1, 4, 1], "n_params": 13, "data": "sinc", "n_train": 100})
    plane = {f"{p}_{k}": v for p in ("random", "pca", "hessian")
             for k, v in (("a", a), ("b", a), ("Z", flat))}
    plane |= {"pca_ratio": np.array([1.0, 0.0]), "pca_coords": np.zeros((3, 2)),
              "lam": np.zeros(2), "loss0": np.array(0.3), "slopes": np.zeros(2)}
    config = {"tiny_hidden": [5, 5], "tiny_samples": 64, "gd_epochs": 3, "extra_steps": 1,
              "perplexity": 5, "sample_radius": 0.2}
    return {
        "line": lambda: ps.plot_line({"alphas": a, "train_loss": np.full(n, 0.3),
                                      "test_loss": np.full(n, 0.3)}, title),
        "random": lambda: ps.plot_random_plane(plane, title),
        "pca": lambda: ps.plot_pca_plane(plane, {"epochs": np.arange(3)}, title),
        "hessian": lambda: ps.plot_hessian_plane(plane, title),
        "tsne": lambda: ps.plot_tsne({"embedding": np.zeros((5, 2)), "loss": np.full(5, 0.3),
                                      "kind": np.array([0, 0, 1, 2, 2])},
                                     {"newton_iterations": 1, "gd_loss": 0.3,
                                      "newton_loss": 0.3}, config),
        "perturb": lambda: ps.plot_perturbation({"deltas": np.linspace(-0.5, 0.5, 5),
                                                 "curves": np.full((13, 5), 0.3),
                                                 "H_diag": np.zeros(13), "grad": np.zeros(13),
                                                 "loss0": np.array(0.3)}, [1, 4, 1], title),
    }


@pytest.mark.parametrize("name", sorted(_flat_surface_figures()))
def test_surface_figures_of_a_flat_loss_render_without_warnings(name):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = no_warnings(_flat_surface_figures()[name])
    no_warnings(FigureCanvasAgg(fig).draw)


def test_gradnorm_figure_of_constant_curves_renders_without_warnings():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from experiments.gradnorm import series_facts
    from plots.gradnorm import task_figure

    steps = np.arange(11)
    arrays = {"full_step": steps, "epoch_start": steps[:-1]}
    for q, v in (("loss", 0.5), ("grad_norm", 0.1)):
        arrays[f"full_{q}"] = arrays[f"full_{q}_smooth"] = np.full(11, v)
    facts = series_facts(steps, arrays["full_loss"], arrays["full_grad_norm"],
                         arrays["full_loss_smooth"], arrays["full_grad_norm_smooth"], 1.5, 0.05)
    assert facts["rise"]["occurred"] is False and facts["min_grad_norm"]["step"] == 0
    info = {"loss": "mse", "facts": {"full": {"window": 3, **facts}}, "full_batch": True,
            "n_steps": 10, "sizes": [1, 4, 1], "activation": "tanh", "n_train": 100,
            "batch_size": 100, "dataset": "sinc", "lr": 1e-3}
    fig = no_warnings(lambda: task_figure(arrays, info, "2", {"rise_factor": 1.5,
                                                             "dataset": ""}))
    no_warnings(FigureCanvasAgg(fig).draw)
    assert fig._suptitle.get_text().startswith("sin(5πx)/(5πx): 1-4-1 tanh")


def test_the_readme_mnist_command_with_its_defaults(mnist_root, tmp_path):
    # `python -m experiments.trajectory --data-root ROOT` with the default network and epochs,
    # 2 runs instead of 8 (the 320 images written here; 8 runs take 30 s on a busy machine)
    cli("experiments.trajectory")(["--data-root", mnist_root, "--runs", "2", "--jobs", "1",
                                   "--out", tmp_path / "r", "--figures", tmp_path / "f"])
    arrays, meta = load_summary(tmp_path / "r", "trajectory")
    summary = meta["summary"]
    assert summary["dataset"] == "mnist" and summary["n_train"] == 320
    assert summary["sizes"] == [784, 128, 64, 10] and summary["n_points"] == 2 * 9
    assert np.all(np.isfinite(arrays["whole_coords"]))


@pytest.mark.parametrize("name", ["trajectory", "gradnorm", "spectrum", "surface"])
def test_a_damaged_data_file_is_named_before_any_write(name, tmp_path, one_line_error):
    from filewriters import write_mnist

    write_mnist(tmp_path / "data", np.random.default_rng(0), n_train=50, n_test=10)
    images = tmp_path / "data" / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:1000])
    one_line_error(lambda: cli(f"experiments.{name}")(
        ["--quick", "--data-root", tmp_path / "data", "--n-train", "20", "--out", tmp_path / "o"]),
        f"experiments.{name}", f"{images} is truncated: sizes (50, 28, 28) need 39216 bytes, "
                               "found 1000")
    assert not (tmp_path / "o").exists()
