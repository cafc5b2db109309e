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
# # HW1-2 Observe the gradient norm during training
#
# **The question, as the course asks it.** Record the gradient norm
# ‖∇L‖₂ = (Σᵢ (∂L/∂θᵢ)²)^{1/2} and the loss during training, and plot them on **one** figure
# (the slides: sin(5πx)/(5πx) and MNIST); comment. The lecture's point to discuss: why can the
# gradient norm *rise* while the loss still falls?
#
# `experiments.gradnorm` at a small size (≈ 15 s on 2 cores): the 1-10-10-1 tanh net on
# sin(5πx)/(5πx) with full-batch Adam, and a 64-32-10 ReLU net on digits with minibatches.

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
from experiments.gradnorm import Config, run  # noqa: E402
from plots.gradnorm import render  # noqa: E402

# results and figure files go to a temporary folder, deleted in the last cell
WORK = pathlib.Path(tempfile.mkdtemp(prefix="losslab-notebook-"))


def show(paths, name):
    """Display the PNG called `name` among the paths render returned."""
    display(Image(filename=str(next(p for p in paths if p.name == f"{name}.png"))))


# %% [markdown]
# ## The settings
#
# From `Config.quick()`, raised: the sinc task at its full size (8000 full-batch steps, ~5 s),
# the digits task with one hidden layer of 32 units for 1500 minibatch steps, the loss and
# gradient on the whole training set 30 times along the way.

# %%
config = dataclasses.replace(Config.quick(), sinc_hidden=(10, 10), sinc_samples=1000,
                             sinc_steps=8000, hidden=(32,), n_train=0, steps=1500,
                             batch_size=64, full_evals=30)
print(config)

# %%
results = run(config, WORK / "gradnorm")
paths = render(results, WORK / "figures")
arrays, meta = load_summary(results, "gradnorm")
for task, info in meta["summary"]["tasks"].items():
    facts = info["facts"]["full"]
    low, rise = facts["min_grad_norm"], facts["rise"]
    print(f"{task} ({info['dataset']}): smallest ‖∇L‖ = {low['value']:.1e} "
          f"at step {low['step']}, "
          f"final loss {facts['final']['loss']:.1e}")
    detail = (f" — ×{rise['ratio']:.1f} from step {rise['from_step']} to {rise['to_step']}, "
              f"loss {rise['loss_from']:.1e} → {rise['loss_to']:.1e}") if rise["occurred"] else ""
    print("    rise of the smoothed ‖∇L‖ while the loss still fell ≥ 5 %:",
          f"{rise['occurred']}{detail}")

# %% [markdown]
# ## sin(5πx)/(5πx)

# %%
show(paths, "gradnorm_sinc")

# %% [markdown]
# **What you should see, and why.** The loss falls by orders of magnitude, but ‖∇L‖ does not
# follow it down: after the first drop it wanders, with spikes, and over a long stretch it
# *rises* (the shaded band and the printed ratio) while the loss keeps falling. Nothing is
# wrong. The gradient's size is the slope, not the height: as training goes on, Adam moves
# into narrow valleys whose walls are steep (large Hessian eigenvalues) while their floor still
# slopes down. A small step across such a valley meets a large slope; the loss can fall while
# the slope grows. A small gradient does not mean "nearly done", and a large one does not mean
# "far from done" — which is why the next notebook needs more than ‖∇L‖ to say what a point is.
#
# ## Digits, minibatches

# %%
dnn_figure = next(p.stem for p in paths if p.suffix == ".png" and p.stem != "gradnorm_sinc")
show(paths, dnn_figure)

# %% [markdown]
# **What you should see.** The minibatch gradient (faint) is noisy and stays large: each
# minibatch pulls in its own direction, even when the gradient on the whole training set
# (measured 30 times along the way) is small. The whole-data loss falls steadily and its
# gradient falls less; whether the smoothed whole-data norm rises while the loss still falls is
# the printed "rise … True/False" — on this small net and few whole-data points it may not.
#
# **The full-size run.** `make all` trains the sinc task exactly as here (the same figure) and
# the slides' 64-128-64-10 DNN on digits (MNIST with `DATA_ROOT`). The report (HW1-2, question
# 2) says whether its gradient norm rises while the loss falls, judged on the smoothed curve
# away from its ends, where a moving average has a full window.

# %% [markdown]
# ## Try this
#
# 1. **Another norm.** `p="inf"` (the largest |∂L/∂θᵢ|). Predict first: the same shape of
#    curve, or a different one?
# 2. **Minibatches on sinc.** `sinc_minibatch=True`. Predict the gradient norm's level at the
#    end compared with full batch.
# 3. **A smaller step.** `sinc_lr=1e-3`. Does the rise of ‖∇L‖ go away, come later, or stay?
#
# Answers: `answers.md`, section *03 HW1-2 gradient norm*.

# %%
shutil.rmtree(WORK)
