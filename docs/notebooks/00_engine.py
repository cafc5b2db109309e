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
# # How the engine works
#
# Every experiment of this lab is built from a handful of functions of one flat float64
# vector θ. This notebook walks through them on a small network you can hold in your head:
#
# 1. θ as one flat vector, and where each layer's weights live in it;
# 2. a loss and its gradient, by autograd;
# 3. the gradient checked against finite differences;
# 4. a Hessian-vector product (HVP), H never formed;
# 5. the exact Hessian from its Gauss–Newton and residual parts, checked against autograd's;
# 6. the eigenvalue sign tolerance τ, and why the raw share of positive eigenvalues is noise.
#
# It runs in a few seconds. Only `from engine import …` is used: the public names of the
# library.

# %%
import os
import pathlib
import sys
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the saved outputs
warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm.auto without ipywidgets
# the repository root (the folder holding engine/) on the import path, wherever this runs from
HERE = pathlib.Path.cwd()
ROOT = next(p for p in [HERE, *HERE.parents] if (p / "engine").is_dir())
sys.path.insert(0, str(ROOT))

from engine import (  # noqa: E402
    MLP,
    exact_hessian,
    fit_lbfgs,
    function_dataset,
    hessian_parts,
    mlp_gradient,
    mlp_hessian_autograd,
    mlp_hvp,
    mlp_value_and_gradient,
    spectrum,
)

rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. θ is one flat vector
#
# A network of sizes (d₀, d₁, …, d_L) has layers computing `h @ W_l + b_l`, with `W_l` of
# shape (d_l, d_{l+1}). θ concatenates, layer by layer, `W_l` flattened row by row and then
# `b_l`. We take a 1-10-10-1 tanh net (the homework's sin(5πx)/(5πx) fitter) with the mean
# squared error L = 1/(2N) Σᵢ (f(xᵢ) − yᵢ)².

# %%
net = MLP((1, 10, 10, 1), "tanh", loss_name="mse")
layout = net.layout
print("n_params =", net.n_params, "= Σ (d_l + 1)·d_{l+1} =",
      (1 + 1) * 10 + (10 + 1) * 10 + (10 + 1) * 1)
for layer in range(layout.n_layers):
    print(f"layer {layer}: W {layout.shape_of(layer)}, block θ[{layout.slice_of(layer)}]")

# %% [markdown]
# `unpack` turns θ into the list of (W, b), `pack` goes back. Entry W₁[i, j] sits at
# θ[offset₁ + i·d₂ + j]:

# %%
theta = net.init(rng)                      # LeCun init: W ~ N(0, 1/d_in), b = 0
params = layout.unpack(theta)
W1 = params[1][0]
offset = layout.slice_of(1).start
i, j = 3, 7
print("W1[3, 7] =", W1[i, j], "  θ[offset + 3·10 + 7] =", theta[offset + i * 10 + j])
print("pack(unpack(θ)) == θ:", np.array_equal(layout.pack(params), theta))

# %% [markdown]
# ## 2. A loss and its gradient
#
# The data: 20 points of sin(5πx)/(5πx) on [−1, 1]. `net.loss` accepts one θ of shape (n,) or
# a whole batch of shape (B, n) and then returns B losses — that is how the lab evaluates a
# loss surface on thousands of points in one call. The gradient comes from autograd's
# reverse mode.

# %%
data = function_dataset("sinc", n_samples=20)
x, y = data.x_train, data.y_train
L = net.loss(theta, x, y)
g = mlp_gradient(net, theta, x, y)
print(f"L(θ) = {L:.6f}, ‖∇L‖ = {np.linalg.norm(g):.4f}, ∇L has shape {g.shape}")
batch = np.stack([theta, 0.5 * theta, 0 * theta])
print("a batch of 3 θ gives losses of shape", net.loss(batch, x, y).shape)

# %% [markdown]
# ## 3. Check the gradient against finite differences
#
# The central difference (L(θ + h eᵢ) − L(θ − h eᵢ)) / 2h approximates ∂L/∂θᵢ with an error of
# order h² (truncation) plus ε·L/h (rounding). With h = 1e-5 both are around 1e-10. All 2n
# shifted vectors go into **one** batched loss call.

# %%
h = 1e-5
shifts = h * np.eye(net.n_params)
fd = (net.loss(theta + shifts, x, y) - net.loss(theta - shifts, x, y)) / (2 * h)
grad_error = np.linalg.norm(fd - g) / np.linalg.norm(g)
print(f"‖FD − autograd‖ / ‖autograd‖ = {grad_error:.1e}")

# %% [markdown]
# ## 4. A Hessian-vector product
#
# Second-order tools (Lanczos for λ_max, Newton steps) need only products Hv, never H itself.
# `mlp_hvp` computes Hv exactly, at the cost of about two gradients (Pearlmutter's R-operator).
# The check: Hv is the directional derivative of the gradient,
# (∇L(θ + hv) − ∇L(θ − hv)) / 2h.

# %%
v = rng.normal(size=net.n_params)
Hv = mlp_hvp(net, theta, x, y, v)
Hv_fd = (mlp_gradient(net, theta + h * v, x, y) - mlp_gradient(net, theta - h * v, x, y)) / (2 * h)
hvp_error = np.linalg.norm(Hv - Hv_fd) / np.linalg.norm(Hv)
print(f"‖Hv − FD of ∇L‖ / ‖Hv‖ = {hvp_error:.1e}")

# %% [markdown]
# This error is larger than the gradient's: a finite difference of a *gradient* divides its
# rounding error by h, and ∇L is itself a sum of rounded terms. It is still far below anything
# that could hide a bug.
#
# ## 5. The exact Hessian: Gauss–Newton plus residual
#
# With the per-sample output Jacobian J = ∂f/∂θ, the MSE's Hessian splits into
#
# * **G = JᵀJ / N**, the Gauss–Newton part: what you get if the network were linear in θ. It is
#   positive semi-definite by construction, and its rank is at most N (one row of J per sample);
# * **R**, the residual part: the curvature of the network itself, weighted by the errors
#   f(xᵢ) − yᵢ. It vanishes where the fit is exact.
#
# `hessian_parts` builds both in one forward sweep; `exact_hessian` their sum. autograd's
# `mlp_hessian_autograd` (n reverse passes) is the reference.

# %%
start = time.perf_counter()
H_autograd = mlp_hessian_autograd(net, theta, x, y)
t_autograd = time.perf_counter() - start
start = time.perf_counter()
G, R = hessian_parts(net, theta, x, y)
t_parts = time.perf_counter() - start
H = exact_hessian(net, theta, x, y)
hess_error = np.linalg.norm(H - H_autograd) / np.linalg.norm(H_autograd)
print(f"‖H − H_autograd‖_F / ‖H_autograd‖_F = {hess_error:.1e}")
print(f"max |G + R − H| = {np.abs(G + R - H).max():.1e}")
hv_vs_H = np.linalg.norm(Hv - H_autograd @ v) / np.linalg.norm(Hv)
print(f"‖Hv − H_autograd v‖ / ‖Hv‖ = {hv_vs_H:.1e}")
print(f"time: autograd {t_autograd:.3f} s, structured (G and R) {t_parts:.3f} s")

# %% [markdown]
# The two Hessians agree to rounding (≈ 1e-16, the precision of float64). The timings are
# single calls on a shared machine, so read them as orders of magnitude; `make bench` measures
# properly.
#
# ## 6. The sign of an eigenvalue needs a tolerance
#
# The homework's *minimal ratio* is the share of Hessian eigenvalues that are "greater than
# zero". But `eigvalsh` returns every eigenvalue with an error of about n·ε·‖H‖₂ (ε ≈ 2.2e-16):
# the sign of a smaller eigenvalue is decided by rounding. The lab counts with
# τ = max(n·ε, rtol)·‖H‖₂, rtol = 1e-6: n₊ = #{λ > τ}, n₋ = #{λ < −τ}, n₀ the rest.
#
# To see why it matters, train the net until it fits the 20 points (full-batch L-BFGS), then
# look at the spectra of H and of G there.

# %%
fit = fit_lbfgs(lambda t: mlp_value_and_gradient(net, t, x, y), theta, iterations=2000)
theta_star = fit.x
g_star = mlp_gradient(net, theta_star, x, y)
print(f"after L-BFGS: L = {fit.fun:.1e}, ‖∇L‖ = {np.linalg.norm(g_star):.1e}")
G_star, R_star = hessian_parts(net, theta_star, x, y)
H_star = G_star + R_star

# %%
rows = []
for name, M in [("H", H_star), ("G", G_star)]:
    lam = np.linalg.eigvalsh(M)
    s = spectrum(M)
    rows.append((name, lam, s))
    print(f"{name}: raw share λ > 0: {np.mean(lam > 0):.2f}   with τ = {s.tau:.1e}: "
          f"n₊ = {s.n_pos}, n₋ = {s.n_neg}, n₀ = {s.n_zero} of n = {s.n}, "
          f"minimal ratio n₊/n = {s.minimal_ratio:.2f}")
lam_G, tau_G = rows[1][1], rows[1][2].tau
zeros_G = lam_G[np.abs(lam_G) <= tau_G]
print(f"N = {len(x)} samples, so rank G ≤ {len(x)}; of G's {zeros_G.size} eigenvalues within ±τ, "
      f"{np.sum(zeros_G > 0)} are > 0 and {np.sum(zeros_G < 0)} are < 0")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for ax, (name, lam, s) in zip(axes, rows, strict=True):
    k = np.arange(lam.size)
    ax.semilogy(k[lam > 0], lam[lam > 0], "o", ms=3, color="C0", label="λ > 0")
    ax.semilogy(k[lam <= 0], -lam[lam <= 0], "x", ms=4, color="C3", label="λ < 0 (|λ| shown)")
    ax.axhline(s.tau, color="k", lw=1, ls="--", label=f"τ = {s.tau:.1e}")
    ax.set_title(f"{name} at the trained θ: |eigenvalues|, ascending")
    ax.set_xlabel("eigenvalue number")
axes[0].set_ylabel("|λ|")
axes[0].legend(loc="upper left", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# What you see (eigenvalues in ascending order, so the negative ones come first):
#
# * **G** (right): 20 eigenvalues above τ — exactly N, its largest possible rank — then a cliff
#   down to |λ| ≈ 1e-14 … 1e-19. G is positive semi-definite with rank ≤ 20, so the other 121
#   eigenvalues are exactly zero in exact arithmetic: the signs `eigvalsh` gives them are
#   rounding, and about half come out positive. That is why the raw share of positive
#   eigenvalues sits near ½ + (rank / n) at every point, trained or not.
# * **H** (left) = G + R: at this good fit the residual part R is small but not zero, so the
#   zero eigenvalues of G spread out into small ones of both signs, from about τ down to 1e-20.
#   Their signs are not all rounding, but they are curvatures a million times below ‖H‖₂:
#   directions along which the loss is flat for any practical purpose. With τ they are counted
#   as n₀, neither up nor down.
#
# One more way to see that the raw signs are noise: add to G a random symmetric matrix of the
# size of its rounding error, ‖E‖₂ = ε‖G‖₂ — a change no float64 computation of G can rule out.
# The raw count moves; the counts with τ do not.

# %%
for trial in range(3):
    A = rng.normal(size=G_star.shape)
    E = (A + A.T) / 2
    E *= np.finfo(float).eps * np.abs(rows[1][1]).max() / np.linalg.norm(E, 2)
    lam = np.linalg.eigvalsh(G_star + E)
    s = spectrum(G_star + E)
    print(f"G + E, draw {trial}: #λ > 0 raw = {np.sum(lam > 0)}, n₊ with τ = {s.n_pos}, "
          f"n₋ with τ = {s.n_neg}")

# %% [markdown]
# ## Try this
#
# 1. **Step size of the finite difference.** Before running, predict how the gradient check's
#    error changes for h = 1e-2, 1e-8 and 1e-12. Then change `h` in section 3 and rerun.
# 2. **More samples than parameters.** Set `n_samples=300` in `function_dataset` (section 2),
#    more samples than the 141 parameters. Predict n₊ of G before looking.
# 3. **A ReLU network.** Build `MLP((1, 10, 10, 1), "relu", loss_name="mse")`. Which part of the
#    Hessian changes, and why is the finite-difference check of the HVP less reliable there?
#
# Answers: `answers.md`, section *00 engine*.
