"""Classify a point you bring: `python -m experiments.minratio.classify POINT [--data FILE|--target
sinc] [--module package.module:factory --loss mse|cross_entropy]`.

POINT is a parameter vector with its network: an `.npz` holding `theta`, `sizes` and (or the
--activation flag) `activation`; or an `.npz` of per-layer weights `W0, b0, W1, b1, …` (W_l of
shape (d_l, d_{l+1}), engine.nets.layout's convention); or, when torch is installed (never
required), a PyTorch state dict (`.pt`/`.pth`): of `Linear` layers with biases, read as an MLP
(weights (out, in) transposed), or of any nn.Module with --module, the import path of a callable
that returns the module (engine.adapters.from_torch; experiments.minratio.module_point).
The data: an `.npz` with `x` (N, d_in) and `y` (N, d_out), or a named target of
engine.data.datasets on a grid of --n-samples points. The loss is the MSE, or with --module
--loss (mse or cross_entropy, engine.nets.losses' definitions).

Printed: ‖∇L‖², the exact spectrum's counts with the sign tolerance τ (engine.spectra.dense), the
honest label (minimum, saddle with its index, gradient-flat, not converged, escaping — engine.
critical, with a continuation from a critical point), the minimal ratio n₊/n, and, side by side,
a later version of this course's rule: "‖∇L‖ < 1e-3 and the share of positive eigenvalues of
the weights-only Gauss–Newton block (float32) > 0.5 ⇒ local minimum, ≤ 0.5 ⇒ saddle point", with
one sentence on why the two differ. That rule cannot work: a Gauss–Newton block JᵀJ/N is positive
semi-definite (no eigenvalue is truly negative) and has rank ≤ N·d_out, so with a handful of
samples at most that many of its eigenvalues are truly positive; a share above N·d_out/n_w is
impossible, and its printed shares near 0.5 are the rounding noise of the zero eigenvalues.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from engine import MLP, exact_hessian, mlp_gradient
from engine.critical.classification import classify, continuation
from engine.derivatives.curvature import output_jacobian
from engine.io.cli import OneLineParser, guarded
from engine.io.results import UsageError
from engine.nets.activations import ACTIVATIONS
from experiments.minratio.inputs import check_sizes, load_data, load_point  # noqa: F401
from experiments.minratio.module_point import LOSS_NAMES, load_module_point

PROG = "experiments.minratio.classify"
COURSE_GRAD_TOL = 1e-3  # the course rule's "gradient is small"


def course_rule(net, theta, x, y):
    """The course's rule on the weights-only Gauss–Newton block G_w = J_wᵀJ_w/N in float32,
    eigenvalues by a general `eig` as in its public solutions: {grad_norm, share (of
    eigenvalues > 0), n_weights, rank_bound (N·d_out), verdict}."""
    g_norm = float(np.linalg.norm(mlp_gradient(net, theta, x, y)))
    layout = net.layout
    cols = np.concatenate([np.arange(n_params)[layout.weight_slice(l)]
                           for l, n_params in enumerate([layout.n_params] * layout.n_layers)])
    J = output_jacobian(net, theta, x).reshape(-1, layout.n_params)[:, cols]
    return course_verdict(g_norm, J, len(x))


def course_verdict(g_norm: float, J: np.ndarray, n_samples: int) -> dict:
    """The course rule from ‖∇L‖ and the outputs' Jacobian in the weights J (N·d_out, n_w),
    which it rounds to float32 as its public solutions do (course_rule's dict)."""
    J = J.astype(np.float32)
    G = (J.T @ J) / np.float32(n_samples)
    share = float(np.mean(np.real(np.linalg.eigvals(G)) > 0))
    if g_norm >= COURSE_GRAD_TOL:
        verdict = "not applicable (‖∇L‖ ≥ 1e-3)"
    else:
        verdict = "local minimum" if share > 0.5 else "saddle point"
    return {"grad_norm": g_norm, "share": share, "n_weights": int(J.shape[1]),
            "rank_bound": int(min(J.shape)), "verdict": verdict}


def assess(net, theta, x, y, *, rtol=1e-6, continue_evals=100):
    """The honest label and the course rule's verdict side by side, with the explanation."""
    return assess_functions(theta, lambda t: mlp_gradient(net, t, x, y),
                            lambda t: exact_hessian(net, t, x, y),
                            lambda t: float(net.loss(t, x, y)),
                            lambda: course_rule(net, theta, x, y), rtol=rtol,
                            continue_evals=continue_evals)


def assess_module(point, n_samples, *, rtol=1e-6, continue_evals=100):
    """assess for a module_point.ModulePoint: its FlatLoss's ∇L, ∇²L and L, and the course rule
    on the Jacobian of its outputs in its weights (≥ 2-D parameters)."""
    f = point.flat
    return assess_functions(point.theta, f.gradient, f.hessian, f.loss,
                            lambda: course_verdict(float(np.linalg.norm(f.gradient(point.theta))),
                                                   point.jacobian(point.theta), n_samples),
                            rtol=rtol, continue_evals=continue_evals)


def assess_functions(theta, gradient, hessian, loss, course_of, *, rtol=1e-6,
                     continue_evals=100):
    """The honest label (classify, then the continuation from a critical point) of θ under
    gradient(θ) → (n,), hessian(θ) → (n, n), loss(θ) → float, beside course_of() (the course
    rule's dict), with the explanation of why they differ."""
    g = gradient(theta)
    H = hessian(theta)
    point = classify(theta, g, H, rtol=rtol)
    spec = point.spectrum
    label, verdict = point.label, None
    if label == "critical":
        verdict = continuation(theta, gradient, hessian, loss, max_eval=continue_evals).verdict
        if verdict == "escaping":
            label = "escaping"
        elif spec.n_neg:
            label = f"saddle (index {spec.n_neg})"
        elif spec.n_zero:  # higher-order terms decide along the flat directions
            label = (f"minimum or degenerate saddle: {spec.n_zero} of {spec.n} eigenvalues lie "
                     "within ±τ, where the second-order test cannot tell")
        else:
            label = "minimum (strict)"
    course = course_of()
    bound, n_w = course["rank_bound"], course["n_weights"]
    if bound < n_w:  # the rank argument: more weights than N·d_out
        why = (f"The course rule reads signs of the {n_w} eigenvalues of a weights-only "
               f"Gauss–Newton block: it is positive semi-definite (no eigenvalue is truly "
               f"negative) and has rank ≤ N·d_out = {bound}, so at most {bound} of {n_w} are "
               f"truly positive and a share above {bound / n_w:.3f} is impossible; its "
               f"{course['share']:.2f} is the rounding noise of the {n_w - bound} zero "
               "eigenvalues in float32, and says nothing about the point.")
    else:  # N·d_out ≥ n_w: every eigenvalue may be positive, the rank bound says nothing
        why = (f"The course rule reads signs of the {n_w} eigenvalues of a weights-only "
               "Gauss–Newton block, which is positive semi-definite: none is truly negative, so "
               f"its share {course['share']:.2f} counts the eigenvalues float32 resolves above "
               "rounding, not the loss's curvature; whether the point is a minimum is decided "
               "by the whole Hessian, whose residual part and bias directions the block omits.")
    if point.label != "critical":
        why += (f" And ‖∇L‖ < 1e-3 is not a critical point: that needs ‖∇L‖² ≤ 1e-10 and a "
                f"Newton step ≤ 1e-6 (here {point.grad_sq:.2g} and {point.newton_norm:.2g}).")
    return {"label": label, "continuation": verdict, "point": point, "course": course,
            "explanation": why,
            "minimal_ratio": spec.minimal_ratio if spec else float("nan")}


def network_lines(net) -> list[str]:
    """The lines that say which MLP was classified (and a warning for relu)."""
    lines = [f"network {'-'.join(map(str, net.sizes))} {net.activation}, "
             f"{net.n_params} parameters"]
    if net.activation == "relu":
        lines.append("warning: relu is piecewise linear: its Hessian exists almost everywhere "
                     "and carries no curvature of the kinks")
    return lines


def report_lines(net, result) -> list[str]:
    """The lines the command prints for `result` of assess: the network (an MLP, or the header
    lines of another model), ‖∇L‖² and the Newton step, the spectrum's counts with τ, the honest
    label, the course rule's verdict and why the two differ."""
    point, course, spec = result["point"], result["course"], result["point"].spectrum
    lines = list(net) if isinstance(net, list) else network_lines(net)
    lines.append(f"‖∇L‖² = {point.grad_sq:.3g}, truncated Newton step ‖H_τ⁺∇L‖ = "
                 f"{point.newton_norm:.3g}")
    if spec is not None:
        lines.append(f"spectrum: τ = {spec.tau:.3g}; n₊ = {spec.n_pos}, n₋ = {spec.n_neg}, "
                     f"n₀ = {spec.n_zero}; minimal ratio n₊/n = {spec.minimal_ratio:.3f}")
    lines.append(f"honest label: {result['label']}" + (
        f" (continuation: {result['continuation']})" if result["continuation"] else ""))
    lines.append(f"course rule: {course['verdict']} (‖∇L‖ = {course['grad_norm']:.3g}, share of "
                 f"positive Gauss–Newton eigenvalues {course['share']:.3f})")
    lines.append(f"why: {result['explanation']}")
    return lines


def main(argv=None):
    """`python -m experiments.minratio.classify POINT …` under engine.io.cli's contract (bad input:
    one line, exit 2)."""
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("point", help="θ (.npz with theta, sizes[, activation]; or W0, b0, …; "
                                      "or a torch state dict .pt)")
    parser.add_argument("--module", default=None, metavar="PACKAGE.MODULE:FACTORY",
                        help="POINT is the state dict of the nn.Module this callable returns "
                             "(needs torch)")
    parser.add_argument("--loss", choices=LOSS_NAMES, default=None,
                        help="with --module: the loss (default: mse; without --module always "
                             "mse)")
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS), default=None,
                        help="the hidden activation, when the point file does not say")
    parser.add_argument("--data", default=None, help=".npz with x (N, d_in) and y (N, d_out)")
    parser.add_argument("--target", default=None,
                        help="named target on a grid (no --data; default: sinc)")
    parser.add_argument("--n-samples", type=int, default=None,
                        help="grid size for --target (default: 100, minratio's grid)")
    parser.add_argument("--rtol", type=float, default=1e-6, help="eigenvalue sign tolerance")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)

    def action():
        if not (np.isfinite(args.rtol) and 0 < args.rtol < 1):
            raise UsageError(f"--rtol {args.rtol}: give a number in (0, 1)")
        if args.data is not None:
            given = [f for f, v in (("--target", args.target), ("--n-samples", args.n_samples))
                     if v is not None]
            if given:  # read for the grid only: --data would silently override them
                raise UsageError(f"{' and '.join(given)} make a grid, which --data {args.data} "
                                 "replaces; drop one of the two")
        args.target = "sinc" if args.target is None else args.target
        # minratio's own default grid: its end points are classified on the data they came from
        args.n_samples = 100 if args.n_samples is None else args.n_samples
        if args.module is not None:
            return module_action()
        if args.loss not in (None, "mse"):
            raise UsageError(f"--loss {args.loss}: the MLP read from POINT is classified on the "
                             "MSE; give --module package.module:factory for another loss")
        sizes, activation, theta = load_point(args.point, args.activation)
        if args.data is None:  # the grid's size, before making it
            check_sizes(sizes, max(args.n_samples, 1), sizes[-1])
        x, y = load_data(args.data, args.target, args.n_samples)
        if x.shape[1] != sizes[0] or y.shape[1] != sizes[-1]:
            raise UsageError(f"the data (x {x.shape}, y {y.shape}) do not fit the network "
                             f"{sizes}")
        check_sizes(sizes, len(x), y.shape[1])
        net = MLP(sizes, activation, "mse")
        print("\n".join(report_lines(net, assess(net, theta, x, y, rtol=args.rtol))))

    def module_action():
        if args.activation is not None:
            raise UsageError("--activation is the MLP's; with --module the module computes its "
                             "own activations: drop --activation")
        if not Path(args.point).is_file():
            raise UsageError(f"POINT {args.point}: no such file; give the module's state dict "
                             "(.pt)")
        x, y = load_data(args.data, args.target, args.n_samples)
        loss = args.loss or "mse"
        point = load_module_point(args.point, args.module, loss, x, y)
        header = [f"module {point.describe}, {point.flat.n_params} parameters, loss {loss}"]
        result = assess_module(point, len(x), rtol=args.rtol)
        print("\n".join(report_lines(header, result)))

    guarded(PROG, action, debug=args.debug)


if __name__ == "__main__":
    main(sys.argv[1:])
