"""Numerical checks of every op's gradient, for ``glassnet gradcheck``.

The ops and how to call them come from the one registry, ``glassnet.ops.registry``.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd.gradcheck import gradient_errors
from glassnet.autograd.tensor import Tensor
from glassnet.ops.registry import OPS

CHECKS = OPS


def sample(shape_: tuple[int, ...], positive: bool, rng: np.random.Generator) -> np.ndarray:
    """Inputs away from the kinks at 0, +-0.5 and +-1 (or positive ones)."""
    if positive:
        return rng.uniform(0.5, 2.0, shape_)
    x = rng.uniform(-2, 2, shape_)
    near = np.abs(x[..., None] - np.array([0, 0.5, -0.5, 1, -1])).min(axis=-1) < 0.05
    return np.where(near, x + 0.1, x)


def run_check(name: str, seed: int = 0) -> tuple[float, float]:
    """(max abs error, max rel error) of op ``name``'s gradient against central differences."""
    op = OPS[name]
    rng = np.random.default_rng(seed)
    inputs = [Tensor(sample(s, op.positive, rng), requires_grad=True) for s in op.shapes]
    return gradient_errors(op.call, inputs)
