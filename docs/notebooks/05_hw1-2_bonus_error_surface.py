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
# # HW1-2 Bonus: the error surface
#
# **The question, as the course asks it.** Use any method to visualize the error surface;
# describe the method concretely and comment. The slides' examples: t-SNE of parameters
# sampled around a second-order run (a net of < 50 parameters), each parameter perturbed alone,
# and the loss on the line between the start and the end point.
#
# `experiments.surface` at a small size (≈ 15 s on 2 cores): lines, planes, t-SNE and
# perturbations around the trained sinc net (141 parameters) and a digits net.

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
from experiments.surface import Config, run  # noqa: E402
from plots.surface import render  # noqa: E402

# results and figure files go to a temporary folder, deleted in the last cell
WORK = pathlib.Path(tempfile.mkdtemp(prefix="losslab-notebook-"))


def show(paths, name):
    """Display the PNG called `name` among the paths render returned."""
    display(Image(filename=str(next(p for p in paths if p.name == f"{name}.png"))))


# %% [markdown]
# ## The settings

# %%
config = dataclasses.replace(
    Config.quick(), sinc_hidden=(10, 10), sinc_samples=1000, sinc_epochs=300, n_train=500,
    dnn_hidden=(32,), dnn_epochs=30, every=3, line_points=41, grid=31, perturb_points=21,
    gd_epochs=2000, newton_steps=20, extra_steps=10, neighbours=100, perplexity=30.0,
    tsne_iter=500)
print(config)

# %%
results = run(config, WORK / "surface")
paths = render(results, WORK / "figures")
arrays, meta = load_summary(results, "surface")
summary = meta["summary"]
plane = summary["sinc_plane"]
print(f"sinc net: L(θ*) = {plane['loss0']:.1e}, λ_max = {plane['lam_max']:.2f}, "
      f"λ_min = {plane['lam_min']:.1e}")
print("loss monotone along the line θ₀ → θ*:", summary["sinc_line"]["monotone_train"],
      "(sinc),", summary["dnn_line"]["monotone_train"], "(digits)")

# %% [markdown]
# ## The line from the start to the end (Goodfellow et al. 2015)

# %%
show(paths, "surface_line_sinc")

# %% [markdown]
# The loss along θ(α) = (1 − α)θ₀ + αθ* falls all the way from the start (α = 0) to the
# trained point (α = 1) when the printed flag says "monotone": on this straight line there is
# no barrier, even though the path training took was not straight.
#
# ## A random plane and the plane of the Hessian's extreme eigenvectors

# %%
show(paths, "surface_plane_random_sinc")

# %%
show(paths, "surface_plane_hessian_sinc")

# %% [markdown]
# **What you should see, and why.** The random plane (two filter-normalized random
# directions, Li et al. 2018) shows a bowl: along a random direction the curvature
# dᵀHd = Σ λᵢ dᵢ² is dominated by the large positive eigenvalues. The plane of the
# eigenvectors of λ_max and λ_min shows what the random plane hides: along λ_min's eigenvector
# (printed: negative, and tiny next to λ_max) the surface is almost flat and bends down —
# this trained point is not a strict minimum, but a point with a nearly flat, slightly
# negative direction.
#
# ## The slides' t-SNE example, and each parameter perturbed alone

# %%
show(paths, "surface_tsne")

# %%
show(paths, "surface_perturb_sinc")

# %% [markdown]
# t-SNE keeps neighbourhoods, not distances: the picture says which sampled points are close
# to which, coloured by loss on a log scale, not how far apart they are. The perturbation
# curves show the slides' remark, "scale differences between parameters are significant":
# some parameters change the loss a thousand times more than others for the same δ, and the
# dashed second-order prediction ½H_ii δ² from the exact Hessian diagonal follows each curve
# near δ = 0.
#
# **The full-size run.** `make all` uses the same sinc net and training, finer planes, and the
# digits net on all of digits; it also draws the PCA plane of the training path and the digits
# planes (`figures/surface_*`). The report's bonus section describes each view and what it shows.

# %% [markdown]
# ## Try this
#
# 1. **An untrained point.** `sinc_epochs=1`. Predict: does the Hessian plane still show a
#    direction going down? Is λ_min larger or smaller in size?
# 2. **A bigger random plane.** `plane_radius=3.0`. Predict what appears at the edges.
# 3. **t-SNE perplexity.** `perplexity=5.0`, then `50.0`. Which features of the picture are
#    stable, and what does that tell you about reading t-SNE plots?
#
# Answers: `answers.md`, section *05 HW1-2 error surface*.

# %%
shutil.rmtree(WORK)
