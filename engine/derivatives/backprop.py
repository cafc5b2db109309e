"""The MLP's MSE gradient by backpropagation, as engine.derivatives offers it: the pass itself,
`mlp_mse_gradient`, is in engine.nets.passes beside the network's other hand-written passes (one
notation, each checked against autograd).
"""
from engine.nets.passes import mlp_mse_gradient

__all__ = ["mlp_mse_gradient"]
