"""Numerical checks of every op's gradient, for ``glassnet gradcheck``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from glassnet.autograd.gradcheck import gradient_errors
from glassnet.autograd.tensor import Tensor
from glassnet.nn import functional as F
from glassnet.ops import activation, elementwise, linalg, reduce, shape


@dataclass(frozen=True)
class Check:
    fn: Callable[..., Tensor]
    shapes: tuple[tuple[int, ...], ...]
    positive: bool = False  # inputs in [0.5, 2] (log, sqrt, ...), else in [-2, 2] off kinks


_LABELS = np.array([0, 2, 1])
CHECKS = {
    "add": Check(elementwise.add, ((3, 4), (4,))),
    "sub": Check(elementwise.sub, ((3, 4), (3, 1))),
    "mul": Check(elementwise.mul, ((3, 4), (3, 4))),
    "div": Check(elementwise.div, ((3, 4), (3, 4)), positive=True),
    "neg": Check(elementwise.neg, ((3, 4),)),
    "pow": Check(elementwise.pow, ((3, 4), (3, 4)), positive=True),
    "exp": Check(elementwise.exp, ((3, 4),)),
    "log": Check(elementwise.log, ((3, 4),), positive=True),
    "sqrt": Check(elementwise.sqrt, ((3, 4),), positive=True),
    "abs": Check(elementwise.abs, ((3, 4),)),
    "clamp": Check(lambda x: elementwise.clamp(x, -0.5, 0.5), ((3, 4),)),
    "maximum": Check(elementwise.maximum, ((3, 4), (3, 4))),
    "minimum": Check(elementwise.minimum, ((3, 4), (3, 4))),
    "where": Check(lambda a, b: elementwise.where(a.data > 0, a, b), ((3, 4), (3, 4))),
    "sum": Check(lambda x: reduce.sum(x, dim=1), ((3, 4),)),
    "mean": Check(lambda x: reduce.mean(x, dim=0), ((3, 4),)),
    "amax": Check(lambda x: reduce.amax(x, dim=1), ((3, 4),)),
    "amin": Check(lambda x: reduce.amin(x, dim=1), ((3, 4),)),
    "var": Check(lambda x: reduce.var(x, dim=1), ((3, 4),)),
    "std": Check(lambda x: reduce.std(x, dim=1), ((3, 4),)),
    "logsumexp": Check(lambda x: reduce.logsumexp(x, dim=1), ((3, 4),)),
    "reshape": Check(lambda x: shape.reshape(x, 4, 3), ((3, 4),)),
    "transpose": Check(lambda x: shape.transpose(x, 0, 1), ((3, 4),)),
    "permute": Check(lambda x: shape.permute(x, 2, 0, 1), ((2, 3, 4),)),
    "expand": Check(lambda x: shape.expand(x, 2, 3, 4), ((3, 1),)),
    "getitem": Check(lambda x: shape.getitem(x, ([0, 2, 0], slice(1, 3))), ((3, 4),)),
    "cat": Check(lambda a, b: shape.cat([a, b], dim=1), ((3, 2), (3, 4))),
    "stack": Check(lambda a, b: shape.stack([a, b], dim=0), ((3, 4), (3, 4))),
    "matmul": Check(linalg.matmul, ((2, 3, 4), (4, 5))),
    "linear": Check(linalg.linear, ((5, 3), (4, 3), (4,))),
    "relu": Check(activation.relu, ((3, 4),)),
    "leaky_relu": Check(lambda x: activation.leaky_relu(x, 0.1), ((3, 4),)),
    "elu": Check(activation.elu, ((3, 4),)),
    "gelu": Check(activation.gelu, ((3, 4),)),
    "silu": Check(activation.silu, ((3, 4),)),
    "sigmoid": Check(activation.sigmoid, ((3, 4),)),
    "tanh": Check(activation.tanh, ((3, 4),)),
    "softplus": Check(activation.softplus, ((3, 4),)),
    "softmax": Check(lambda x: activation.softmax(x, dim=1), ((3, 4),)),
    "log_softmax": Check(lambda x: activation.log_softmax(x, dim=1), ((3, 4),)),
    "cross_entropy": Check(lambda z: F.cross_entropy(z, _LABELS, label_smoothing=0.1), ((3, 4),)),
    "nll_loss": Check(lambda z: F.nll_loss(z, _LABELS), ((3, 4),)),
    "binary_cross_entropy": Check(
        lambda x, y: F.binary_cross_entropy(activation.sigmoid(x), activation.sigmoid(y)),
        ((3, 4), (3, 4)),
    ),
    "binary_cross_entropy_with_logits": Check(
        lambda x, y: F.binary_cross_entropy_with_logits(
            x, activation.sigmoid(y), pos_weight=Tensor(np.arange(1.0, 5.0))
        ),
        ((3, 4), (3, 4)),
    ),
    "normalize": Check(lambda x: F.layer_norm(x, 4), ((3, 4),)),
    "embedding": Check(lambda w: F.embedding(np.array([1, 3, 1]), w), ((5, 2),)),
}


def sample(shape_: tuple[int, ...], positive: bool, rng: np.random.Generator) -> np.ndarray:
    """Inputs away from the kinks at 0, +-0.5 and +-1 (or positive ones)."""
    if positive:
        return rng.uniform(0.5, 2.0, shape_)
    x = rng.uniform(-2, 2, shape_)
    near = np.abs(x[..., None] - np.array([0, 0.5, -0.5, 1, -1])).min(axis=-1) < 0.05
    return np.where(near, x + 0.1, x)


def run_check(name: str, seed: int = 0) -> tuple[float, float]:
    """(max abs error, max rel error) of op ``name``'s gradient against central differences."""
    check = CHECKS[name]
    rng = np.random.default_rng(seed)
    inputs = [Tensor(sample(s, check.positive, rng), requires_grad=True) for s in check.shapes]
    return gradient_errors(check.fn, inputs)
