"""The engine against the PyTorch curvature libraries a researcher would pick (`python -m
experiments.bench --only peers`): PyHessian (Yao et al. 2020) and hessian-eigenthings, when
importable (neither is a dependency: `pip install pyhessian hessian-eigenthings` into a
throwaway environment or a folder on PYTHONPATH; torch from the `torch` extra).

The nets of experiments.bench.spectra (sinc 1-40-40-1 tanh MSE, N = 1000; digits 64-128-64-10
ReLU cross-entropy) as torch float64 modules with the engine's θ, one thread each, per network:
  product   the median CPU time of one Hessian-vector product (process time: a machine loaded
            by others inflates it less than the wall clock): hvp_operator(net, θ, x, y).matvec
            against PyHessian's hessian_vector_product (its double backward on the graph it
            keeps) and eigenthings' HessianOperator.matvec (torch.autograd, method 'autograd')
  top-5     each library's top 5 as a user calls it — PyHessian's hessian.eigenvalues(top_n=5)
            (deflated power iteration, its defaults maxIter 100, tol 1e-3), eigenthings'
            lanczos(op, k=5) (its defaults: 'LM', 2k steps, tol 1e-4), the engine's verified
            extreme_eigenvalues(k=5, 'LA') — scored against the top 5 of the exact spectrum
            (the structured Hessian, 1-40-40-1) or the verified engine result (digits); the
            error is max |λᵢ − λᵢ*| / |λ₁*| over the 5 (a value off the true list counts)
  twice     PyHessian's top eigenvalue from a second `hessian` object built on the same model,
            over the first: its backward adds into .grad, so anything but 1 is its bug
"""
from __future__ import annotations

import importlib.util
import time

import numpy as np
from threadpoolctl import threadpool_limits

from engine.derivatives.curvature import exact_hessian
from engine.spectra.eigenpairs import extreme_eigenvalues
from engine.spectra.lanczos import hvp_operator
from experiments.bench.hvp import _problems, one_core

NETWORKS = ("1-40-40-1", "64-128-64-10")
TOP_K = 5
PEERS = ("pyhessian", "hessian_eigenthings")


def bench_peers(repeats: int = 5, seed: int = 0) -> dict:
    """{'found': {peer: bool}, 'rows': one dict per network with {network, params, ours_ms,
    <peer>_ms, ours_error, <peer>_error, pyhessian_twice}} (None where a peer is missing)."""
    found = {peer: importlib.util.find_spec(peer) is not None for peer in PEERS}
    rows = []
    if importlib.util.find_spec("torch") is None:
        return {"found": found, "torch": None, "rows": rows}
    import torch
    torch.set_num_threads(1)
    with one_core(), threadpool_limits(limits=1):
        for net, theta, x, y in _problems(seed):
            name = "-".join(map(str, net.sizes))
            if name in NETWORKS:
                rows.append(_bench_network(torch, found, net, theta, x, y, repeats, seed))
    return {"found": found, "torch": torch.__version__, "rows": rows}


def print_table(result: dict) -> None:
    """The rows as a Markdown table: ms per product, top-5 error, PyHessian's second object."""
    peers = ", ".join(f"{p} {'found' if ok else 'not installed'}"
                      for p, ok in result["found"].items())
    print(f"\nAgainst the PyTorch peers (torch {result['torch'] or 'not installed'}; {peers}); "
          f"1 thread, one CPU, medians\n")
    print("| network | params | HVP CPU ms engine | PyHessian (ratio) | eigenthings (ratio) | "
          "top-5 error engine | PyHessian | eigenthings | PyHessian 2nd object / 1st |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        cells = [f"{r['ours_ms']:.3f}"]
        for peer in PEERS:
            t = r[f"{peer}_ms"]
            cells.append("–" if t is None else f"{t:.3f} ({r['ours_ms'] / t:.2f}×)")
        cells += ["–" if r[f"{who}_error"] is None else f"{r[f'{who}_error']:.1e}"
                  for who in ("ours",) + PEERS]
        cells.append("–" if r["pyhessian_twice"] is None else f"{r['pyhessian_twice']:.3f}")
        print(f"| {r['network']} | {r['params']} | " + " | ".join(cells) + " |")


def _bench_network(torch, found, net, theta, x, y, repeats, seed):
    op = hvp_operator(net, theta, x, y)
    ours = extreme_eigenvalues(op, TOP_K, "LA", rng=np.random.default_rng(seed))
    if net.n_params <= 5000:
        truth = np.linalg.eigvalsh(exact_hessian(net, theta, x, y))[::-1][:TOP_K]
    else:  # too large to form: the verified engine result is the reference
        truth = ours.values
    v = np.random.default_rng(seed + 1).standard_normal(net.n_params)
    xt, yt = torch.from_numpy(np.array(x)), torch.from_numpy(np.array(y))
    labels = yt.argmax(axis=1) if net.loss_name == "cross_entropy" else yt

    def criterion(out, target):
        if net.loss_name == "mse":
            return 0.5 * ((out - target) ** 2).sum(-1).mean()
        return torch.nn.functional.cross_entropy(out, target)

    calls = {"ours": lambda: op.matvec(v)}
    tops = {"ours": ours.values}
    twice = None
    if found["pyhessian"]:
        from pyhessian import hessian
        from pyhessian.utils import hessian_vector_product
        model = _module(torch, net, theta)
        first = hessian(model, criterion, data=(xt, labels), cuda=False)
        second = hessian(model, criterion, data=(xt, labels), cuda=False)  # as a user might
        vt = _split(torch, model, v)
        calls["pyhessian"] = lambda: hessian_vector_product(first.gradsH, first.params, vt)
        torch.manual_seed(seed)
        tops["pyhessian"] = np.sort(first.eigenvalues(top_n=TOP_K)[0])[::-1]
        torch.manual_seed(seed)
        top1 = first.eigenvalues(top_n=1)[0][0]
        torch.manual_seed(seed)
        twice = second.eigenvalues(top_n=1)[0][0] / top1
    if found["hessian_eigenthings"]:
        import hessian_eigenthings as he
        model = _module(torch, net, theta)
        heop = he.HessianOperator(model, [(xt, labels)],
                                  lambda m, batch: criterion(m(batch[0]), batch[1]))
        vflat = torch.from_numpy(v)
        calls["hessian_eigenthings"] = lambda: heop.matvec(vflat)
        found_e = he.lanczos(heop, k=TOP_K, seed=seed)
        tops["hessian_eigenthings"] = np.sort(np.asarray(found_e.eigenvalues))[::-1]
    times = {f"{name}_ms": None for name in ("ours",) + PEERS}
    for name, call in calls.items():
        call()
        samples = []
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(5):
                call()
            samples.append((time.process_time() - start) / 5)
        times[f"{name}_ms"] = 1e3 * float(np.median(samples))
    errors = {f"{name}_error": None for name in ("ours",) + PEERS}
    for name, top in tops.items():
        top = np.pad(np.asarray(top, dtype=np.float64)[:TOP_K], (0, TOP_K - min(len(top), TOP_K)),
                     constant_values=np.nan)
        errors[f"{name}_error"] = float(np.nanmax(np.abs(top - truth)) / abs(truth[0]))
    return {"network": "-".join(map(str, net.sizes)), "params": net.n_params, **times, **errors,
            "pyhessian_twice": twice}


def _module(torch, net, theta):
    """A float64 torch.nn.Sequential equal to the MLP at θ (Linear weights are Wᵀ)."""
    layers = []
    for layer, (W, b) in enumerate(net.layout.unpack(theta)):
        linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(np.array(b)))
        layers.append(linear)
        if layer < net.layout.n_layers - 1:
            layers.append(torch.nn.Tanh() if net.activation == "tanh" else torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def _split(torch, model, v):
    """The flat v in the engine's layout as a list of tensors shaped like the parameters
    (weights transposed, as _module stores them)."""
    out, start = [], 0
    for p in model.parameters():
        size = p.numel()
        block = torch.from_numpy(v[start:start + size].copy())
        out.append(block.reshape(p.shape[::-1]).T.contiguous() if p.ndim == 2 else block)
        start += size
    return out


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_peers(repeats=opts.repeats)), only="peers",
              description=__doc__)
