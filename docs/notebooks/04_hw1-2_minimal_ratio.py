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
# # HW1-2 What happens when the gradient is almost zero
#
# **The question, as the course asks it.** Find weights where the gradient norm is zero (as
# small as possible); compute their "minimal ratio" — how likely they are to be a minimum, as
# the proportion of Hessian eigenvalues greater than zero (or the share of random neighbours
# with a higher loss); train 100 times and plot the minimal ratio against the loss. Report:
# how you reached ∇L = 0 and how you define the ratio (2 %), the figure (2 %), a comment.
#
# `experiments.minratio` at a small size: 30 runs instead of 100 (≈ 30 s on 2 cores). Read
# `00_engine` first for the tolerance τ.

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
from experiments.minratio import Config, run  # noqa: E402
from plots.minratio import render  # noqa: E402

# results and figure files go to a temporary folder, deleted in the last cell
WORK = pathlib.Path(tempfile.mkdtemp(prefix="losslab-notebook-"))


def show(paths, name):
    """Display the PNG called `name` among the paths render returned."""
    display(Image(filename=str(next(p for p in paths if p.name == f"{name}.png"))))


# %% [markdown]
# ## The settings
#
# The homework's small net, 1-8-8-1 tanh (97 parameters) on sin(5πx)/(5πx); each run trains
# for its own seeded number of steps, log-uniform in [2, 1000], then searches for ∇L = 0 with
# Levenberg–Marquardt and then Newton-MR (the slides' method ii). Each end point is labelled:
# *critical* (‖∇L‖² ≤ 1e-10 and the Newton step ≤ 1e-6), *gradient-flat* (∇L lies in the
# Hessian's near-null space: a minimum of ‖∇L‖, not a zero), or *not converged*.

# %%
config = dataclasses.replace(Config.quick(), runs=30, hidden=(8, 8), n_samples=100,
                             switch_max=1000, n_directions=300, continue_evals=100)
print(config)

# %%
results = run(config, WORK / "minratio")
paths = render(results, WORK / "figures")
arrays, meta = load_summary(results, "minratio")
summary = meta["summary"]
print("end points:", summary["counts"], "| critical saddles:", summary["critical_saddles"])
fit = summary["index_loss_fit"]
if fit["spearman"] is None:  # the fit needs enough critical points that do not escape
    print(f"index n₋/n vs loss: {fit['n_points']} points, too few for a rank correlation")
else:
    rho = fit["spearman"]
    print(f"index n₋/n vs loss, {fit['n_points']} critical points: Spearman ρ = {rho['rho']:.2f} "
          f"(95 % {rho['low']:.2f} … {rho['high']:.2f})")
critical = arrays["label"].astype(str) == "critical"
ratio, resolved = arrays["minimal_ratio"][critical], arrays["resolved_ratio"][critical]
print(f"minimal ratio n₊/n of the critical points: {ratio.min():.2f} … {ratio.max():.2f}; "
      f"resolved ratio n₊/(n₊ + n₋): {resolved.min():.2f} … {resolved.max():.2f}")

# %%
show(paths, "minratio")

# %% [markdown]
# **What you should see, and why.** Panel (a) is the figure the homework asks for. The minimal
# ratio n₊/n is far below 1 even at the lowest losses, and it is *not* a probability of being
# a minimum: most of the 97 eigenvalues are within ±τ of zero (n₀, flat directions), so
# n₊/n measures how many directions curve up at all. Panel (b) separates the two things: the
# resolved ratio n₊/(n₊ + n₋) is 1 at a minimum, and the index n₋/n counts the directions
# that go down. Panel (d) asks whether lower loss goes with a smaller index (more like a
# minimum), as the lecture expects; with 30 runs only a handful of critical points qualify, so
# read the printed line: a wide interval, or too few points for any fit.
#
# Panel (c) shows why the slides' sampling definition says something else: at most end
# points almost every random neighbour has a higher loss, while n₊/n is small (printed above),
# because along a random direction d the curvature dᵀHd = Σ λᵢ dᵢ² is dominated by the few
# large positive eigenvalues. Only at the smallest radius and the lowest ratios (the saddles)
# does the sampled share drop well below 1.
#
# Half of the searches end *gradient-flat*: ‖∇L‖ stops decreasing at a point where the
# gradient lies in the flat directions of H, so Newton's method has nothing to push against.
# That is a real property of these losses (Frye et al. 2019), not a bug — and the reason
# "‖∇L‖ small" alone does not identify a critical point. The search traces:

# %%
show(paths, "minratio_traces")

# %% [markdown]
# **The full-size run.** `make all` runs the 100 searches of the homework, and again with a
# weight decay λ = 1e-5 (`minratio_wd`), where the searches reach saddles of many indices. The
# report (HW1-2, question 3) and the README's measured table (written from the results by
# `make docs`) give the counts of each class and the rank correlation of the index with the
# loss, each with its interval.

# %% [markdown]
# ## Try this
#
# 1. **The slides' method i.** `finder="gradnorm"` (minimize ½‖∇L‖² by gradient descent).
#    Predict: more or fewer critical end points than LM + Newton?
# 2. **A weight decay.** `weight_decay=1e-5`. Predict what happens to the minimal ratio of the
#    minima, and why (think of what λ adds to every eigenvalue).
# 3. **A looser tolerance.** `rtol=1e-3`. Which panel changes, and which end-point labels stay?
#
# Answers: `answers.md`, section *04 HW1-2 minimal ratio*.

# %%
shutil.rmtree(WORK)
