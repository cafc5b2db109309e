"""Checks at the finders' door: what the caller's callables return, refused in our words.

scipy's solvers fail on a gradient or Hessian of the wrong shape with their own words, deep in
their code ("operands could not be broadcast…"); a wrapper names the function and the shape it
must return instead, at no extra evaluation (the search calls the caller's function as often as
before, so its evaluation counts stay true).
"""
from __future__ import annotations

import numpy as np


def shape_checked(fn, name: str, shape: tuple[int, ...]):
    """fn(θ), with a ValueError naming `name` whenever its value is not of `shape`; None stays
    None. Cost: np.shape of each value."""
    if fn is None:
        return None

    def checked(theta):
        value = fn(theta)
        if np.shape(value) != shape:
            raise ValueError(f"{name} returned an array of shape {np.shape(value)}; at θ of "
                             f"{shape[0]} entries it must return {shape}")
        return value

    return checked
