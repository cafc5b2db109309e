"""A PyTorch model as a FlatLoss: any nn.Module, a loss function and the data, via torch.func.

    import torch
    from engine.adapters import from_torch
    f = from_torch(model, torch.nn.MSELoss(), (x, y))      # x, y: tensors or arrays
    H = Hessian(f)                                          # at f.theta0, the model's weights

θ is the module's trainable parameters (requires_grad) flattened in `named_parameters()` order,
each tensor row-major (torch.nn.utils.parameters_to_vector's layout; an nn.Linear weight is
(out, in), the transpose of engine.nets.layout's W). L(θ) = loss_fn(model(x; θ), y), evaluated by
torch.func.functional_call in float64 (parameters, buffers and data cast; the module itself is
never modified); ∇L is torch.func.grad, Hv the reverse-over-reverse vjp(grad) (the graph built
once per θ, vmapped over a stack of directions), and ∇²L jacrev(grad) (n backward passes, vmapped;
not torch.func.hessian's forward-over-reverse, which mse_loss's double backward refuses).
The model runs in the mode it is in: call model.eval() first if it has dropout or batch norm
(in training mode their randomness and batch statistics make L a different function per call).
Needs the optional extra `torch` (pip install -e '.[torch]'); engine never imports this module
unless asked.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import functional_call, grad, jacrev, vjp, vmap

from engine.adapters.base import FlatLoss, blocks
from engine.io.errors import check_numeric


def from_torch(model, loss_fn, data, *, block: int = 64) -> FlatLoss:
    """A FlatLoss for L(θ) = loss_fn(model(x), y), data = (x, y) (tensors or arrays; or a tuple
    (inputs..., targets) when the model takes several inputs). θ₀ = the model's parameters.

    block: directions per vmapped pass (memory: block copies of the activations).
    Raises ValueError when model is not an nn.Module, it has no trainable parameters, data is
    not a (inputs, targets) pair of numbers, or loss_fn does not return one number on it. Cost of
    the functions: those of torch.func, one Python call each (no per-product tracing)."""
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model is a {type(model).__name__}; give a torch.nn.Module")
    if not callable(loss_fn):
        raise ValueError(f"loss_fn is a {type(loss_fn).__name__}; give a function "
                         "(outputs, targets) -> scalar tensor, e.g. torch.nn.MSELoss()")
    if not (isinstance(data, (tuple, list)) and len(data) >= 2):
        raise ValueError("data must be a pair (inputs, targets) (or (inputs..., targets))")
    for i, d in enumerate(data):
        if not torch.is_tensor(d):
            check_numeric(f"data[{i}]", d, "give tensors or arrays of numbers")
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    if not named:
        raise ValueError("model has no trainable parameters (requires_grad)")
    names = [name for name, _ in named]
    shapes = [tuple(p.shape) for _, p in named]
    sizes = [int(np.prod(s)) for s in shapes]
    n = sum(sizes)
    buffers = {k: _f64(b) for k, b in model.named_buffers()}
    *inputs, targets = (_f64(torch.as_tensor(np.asarray(d) if not torch.is_tensor(d) else d))
                        for d in data)

    def unflatten(theta):
        parts = torch.split(theta, sizes)
        return {name: part.reshape(shape)
                for name, part, shape in zip(names, parts, shapes, strict=True)}

    def flat_loss(theta):
        out = functional_call(model, (unflatten(theta), buffers), tuple(inputs))
        return loss_fn(out, targets)

    theta0 = torch.cat([p.detach().to(torch.float64).reshape(-1) for _, p in named])
    value = flat_loss(theta0)
    if not (torch.is_tensor(value) and value.numel() == 1):
        raise ValueError(f"loss_fn returned shape {tuple(getattr(value, 'shape', ()))}; it must "
                         "return one number (reduction='mean' or 'sum')")
    grad_fn = grad(flat_loss)

    def hvp_at(theta):
        # reverse-over-reverse: the gradient's graph is built once per θ, each product is one
        # backward pass over it (forward-over-reverse jvp fails in mse_loss's double backward)
        _, product = vjp(grad_fn, torch.from_numpy(theta))
        product = _first(product)
        stacked = vmap(product)

        def apply(v):
            v = torch.from_numpy(np.ascontiguousarray(v))
            if v.ndim == 1:
                return product(v).detach().numpy()
            return np.concatenate([stacked(v[a:b]).detach().numpy()
                                   for a, b in blocks(len(v), block)])

        return apply

    hess_fn = jacrev(grad_fn)  # n backward passes of the gradient, vmapped
    batched_loss = vmap(flat_loss)

    def loss_batched(thetas):
        T = torch.from_numpy(np.ascontiguousarray(thetas))
        return np.concatenate([batched_loss(T[a:b]).detach().numpy()
                               for a, b in blocks(len(T), block)])

    def to_parameters(theta):
        return {k: v.clone() for k, v in unflatten(torch.from_numpy(theta.copy())).items()}

    def from_parameters(params):
        missing = [name for name in names if name not in params]
        if missing:
            raise ValueError(f"params lacks {missing}; give the module's state dict or "
                             "named parameters")
        return torch.cat([torch.as_tensor(params[name]).detach().to(torch.float64).reshape(-1)
                          for name in names]).numpy()

    numpy_of = lambda fn: lambda theta: fn(torch.from_numpy(theta)).detach().numpy()  # noqa: E731
    return FlatLoss("torch", n, type(model).__name__, numpy_of(flat_loss), numpy_of(grad_fn),
                    hvp_at, numpy_of(hess_fn), loss_batched, theta0=theta0.numpy(),
                    _to_parameters=to_parameters, _from_parameters=from_parameters)


def _first(fn):
    return lambda v: fn(v)[0]


def _f64(t):
    return t.detach().to(torch.float64) if t.is_floating_point() else t
