# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # HW1-2 Visualize the optimization process
#
# **The question, as the course asks it.** Collect the weights of the model every n epochs,
# and of different training runs; record the accuracy (loss) of the collected parameters; plot
# them on one figure. The slides: a DNN on MNIST, weights every 3 epochs, train 8 times, reduce
# to 2-D by PCA, one figure for layer 1 and one for the whole model. Report: the settings (how
# often, optimizer, dimension reduction), the two figures, a comment.
#
# This notebook runs `experiments.trajectory` on scikit-learn's 8×8 digits (offline; MNIST
# needs `--data-root`) at a small size, ≈ 15 s on 2 cores.

# %%
import dataclasses
import os
import pathlib
import shutil
import sys
import tempfile
import warnings

from IPython.display import Image, display

os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the saved outputs
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto without ipywidgets
HERE = pathlib.Path.cwd()
ROOT = next(p for p in [HERE, *HERE.parents] if (p / "engine").is_dir())
sys.path.insert(0, str(ROOT))

from engine import load_summary  # noqa: E402
from experiments.trajectory import Config, run  # noqa: E402
from plots.trajectory import render  # noqa: E402

# results and figure files go to a temporary folder, deleted in the last cell
WORK = pathlib.Path(tempfile.mkdtemp(prefix="losslab-notebook-"))


def show(paths, name):
    """Display the PNG called `name` among the paths render returned."""
    display(Image(filename=str(next(p for p in paths if p.name == f"{name}.png"))))


# %% [markdown]
# ## The settings
#
# From `Config.quick()` (the `--quick` preset), raised to the slides' protocol: 8 runs, the
# weights every 3 epochs for 24 epochs (9 points per run), Adam, one hidden layer of 32 ReLU
# units (2410 parameters) on all 1438 training digits.

# %%
config = dataclasses.replace(Config.quick(), runs=8, every=3, epochs=24, n_train=0,
                             hidden=(32,), batch_size=64)
print(config)

# %%
results = run(config, WORK / "trajectory")
paths = render(results, WORK / "figures")
arrays, meta = load_summary(results, "trajectory")
summary = meta["summary"]
whole = summary["whole"]
final = summary["final"]
print(summary["n_params"], "parameters,", summary["n_points"], "points in all")
print(f"whole model: PC1 {whole['explained_variance_pc1']:.1%}, PC2 "
      f"{whole['explained_variance_pc2']:.1%} of the variance; share of each point's "
      f"displacement off the plane: median {whole['off_plane_median']:.0%}")
print(f"median distance a run travels: {whole['travel_median']:.1f}; median distance "
      f"between two runs' starts: {whole['start_distance_median']:.1f}")
train_acc, test_acc = final["train_acc"], final["test_acc"]
print(f"final train accuracy {train_acc['mean']:.3f} ± {train_acc['std']:.3f}, "
      f"test {test_acc['mean']:.3f} ± {test_acc['std']:.3f} (mean ± sd of 8 runs)")

# %% [markdown]
# ## The whole model
#
# One PCA is fitted on the points of all 8 runs together (a PCA per run would give every run
# its own axes, which cannot be compared). Circles are the starts, stars the ends, the labels
# the training accuracy in per cent:

# %%
show(paths, "trajectory_whole")

# %% [markdown]
# ## Layer 1 only
#
# The same, with θ restricted to the block (W₁, b₁) of the first layer:

# %%
show(paths, "trajectory_layer1")

# %% [markdown]
# **What you should see, and why.** Each run stays in its own corner of the picture: the 8
# random initializations are far apart (the printed distance between starts), and each run
# travels only a fraction of that distance while its accuracy climbs from chance (≈ 10 %) to
# above 90 %. Different initializations end in different places with about the same accuracy:
# there are many equally good solutions, and gradient descent finds one near where it starts.
#
# Two warnings are part of the answer. First, the two axes explain only a small share of the
# variance, and most of every displacement lies *off* the plane (the printed median): the
# picture shows the *spread of the starts* more than the paths. Second, the first layer holds
# most of the parameters here (64·32 + 32 of 2410), so its picture looks much like the whole
# model's; with a bigger later layer they would differ.
#
# **The full-size run.** `make all` trains the slides' 64-128-64-10 DNN (on digits offline;
# MNIST with `DATA_ROOT`), the same 8 runs recorded every 3 epochs. Expect the same kind of
# picture: one PCA basis for all runs, whose first components mostly separate where the runs
# *started*, and a second view of each run's displacement θ_t − θ_0 that shows how it moved.
# The report (HW1-2, question 1) gives the distances and explained variances of that run.

# %% [markdown]
# ## Try this
#
# 1. **SGD instead of Adam.** `optimizer="sgd"` (heavy-ball momentum, lr 0.01). Predict first:
#    do the paths get longer or shorter in the picture? Does the accuracy at the end change?
# 2. **One start, different minibatch orders.** What would you change to separate the effect of
#    the initialization from that of the minibatch order? (No flag does this — say why the
#    experiment draws both from one seed.)
# 3. **Longer training.** `epochs=60`. Does the share off the plane go up or down?
#
# Answers: `answers.md`, section *02 HW1-2 optimization path*.

# %%
shutil.rmtree(WORK)
