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
# # HW1-3 Generalization
#
# **The questions, as the course asks them.** *Random labels*: can the network fit data whose
# labels were shuffled? Train and test loss against epochs. *Number of parameters vs
# generalization*: ≥ 10 structures; train and test loss and accuracy against the parameter
# count; comment. *Flatness*: interpolate between two solutions trained differently (loss and
# accuracy against the interpolation ratio), and measure the sensitivity of ≥ 5 models against
# the chosen variable (here the batch size); comment.
#
# `experiments.generalization` on digits at a small size (≈ 15 s on 2 cores).

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
from experiments.generalization import Config, run  # noqa: E402
from plots.generalization import render  # noqa: E402

# results and figure files go to a temporary folder, deleted in the last cell
WORK = pathlib.Path(tempfile.mkdtemp(prefix="losslab-notebook-"))


def show(paths, name):
    """Display the PNG called `name` among the paths render returned."""
    display(Image(filename=str(next(p for p in paths if p.name == f"{name}.png"))))


# %% [markdown]
# ## The settings
#
# From `Config.quick()`, raised: two hidden layers of 256 units (85 002 parameters, ≫ 1438
# training digits) for the random labels, 7 widths from 1 to 64, and 4 batch sizes from 16 to
# 1024 each trained to the same training loss.

# %%
config = dataclasses.replace(
    Config.quick(), n_train=0, random_hidden=(256, 256), random_max_epochs=150, stop_window=10,
    widths=(1, 2, 4, 8, 16, 32, 64), width_seeds=1, width_max_epochs=60,
    hidden=(32,), batch_sizes=(16, 64, 256, 1024), target_loss=0.05, max_steps=3000,
    check_every=20, interp_pair=(64, 1024), n_alphas=31, sharpness_starts=2, sharpness_iters=5)
print(config)

# %%
results = run(config, WORK / "generalization")
paths = render(results, WORK / "figures")
arrays, meta = load_summary(results, "generalization")
random, params, flat = (meta["summary"][k] for k in ("random", "parameters", "flatness"))
print(f"random labels: {random['n_params']} parameters, stopped by {random['stopped_by']} after "
      f"{random['epochs']} epochs: train accuracy {random['final_train_acc']:.2f}, "
      f"test accuracy {random['final_test_acc']:.2f} (chance 0.10)")
print(f"widths: {params['n_params_min']} … {params['n_params_max']} parameters; test accuracy "
      f"{params['test_acc_smallest']:.2f} (smallest) → {params['test_acc_largest']:.2f} (largest)")
for name in ("sensitivity", "lambda_max", "sharpness"):
    f = flat[name]
    print(f"{name} from batch 16 to 1024: {f['smallest_batch']:.3g} → {f['largest_batch']:.3g} "
          f"(Spearman {f['spearman']:+.2f} over {flat['n_models']} models)")

# %% [markdown]
# ## Random labels

# %%
show(paths, "generalization_random")

# %% [markdown]
# **What you should see.** The training accuracy climbs far above chance — the network is
# memorizing labels that carry no information — while the test accuracy stays at chance and
# the test loss rises: whatever it learns cannot transfer. At this size the printed stop
# reason says whether it memorized fully (training accuracy ≥ 0.99) or hit the epoch cap
# first; a wider or deeper net, or more epochs, gets further (Zhang et al. 2017).
#
# ## Number of parameters

# %%
show(paths, "generalization_params")

# %% [markdown]
# **What you should see.** Test accuracy rises with the parameter count over the whole range
# here, and the gap between train and test stays small: more parameters do not overfit the
# way the classical bias–variance picture expects. (With only 7 widths and one seed each, read
# the trend, not the individual points.)
#
# ## Flatness: interpolation and sensitivity

# %%
show(paths, "generalization_interp")

# %%
show(paths, "generalization_flatness")

# %% [markdown]
# **What you should see.** Along the line between the batch-64 and the batch-1024 solutions
# (α = 0 and 1), the loss rises between them and steeply beyond them. The three flatness
# measures, against the batch size, need not agree — compare the printed Spearman signs: the
# sensitivity ‖∂softmax/∂x‖ (Novak et al. 2018) is about the *input*, λ_max and ε-sharpness
# about the *parameters*, and λ_max changes when the weights are rescaled without changing the
# function. With 4 models a rank correlation is weak evidence — even ρ = ±1 arises by chance
# for 1 in 12 random orderings — which is why the full run uses 6 batch sizes and why a good
# comment says how sure it is.
#
# **The full-size run.** `make all` uses two hidden layers of 256 for the random labels, 10
# widths with 2 seeds each, and 6 batch sizes from 8 to 1024, each model trained until the
# shared stop rule ends it. The report (HW1-3) states what it shows, each trend claimed only when
# its rank correlation's bootstrap interval excludes 0 — with 6 models, many are not.

# %% [markdown]
# ## Try this
#
# 1. **Memorize fully.** `random_max_epochs=400`. Predict: does the test accuracy move at all
#    while the training accuracy reaches 0.99?
# 2. **Wider widths.** `widths=(1, 4, 16, 64, 256)`. Predict the test *loss* at the largest
#    width compared with the test *accuracy*.
# 3. **Another pair.** `interp_pair=(16, 1024)`. Predict whether the bump between the two
#    solutions gets higher or lower.
#
# Answers: `answers.md`, section *06 HW1-3 generalization*.

# %%
shutil.rmtree(WORK)
