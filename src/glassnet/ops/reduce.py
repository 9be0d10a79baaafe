"""Reductions: sum, mean, amax/amin (max/min), var, std, logsumexp; argmax/argmin.

A reduction maps many inputs to one output, so backward does the reverse: it spreads
each output's gradient back over the inputs that produced it (``_spread``), weighted by
how much each input moved the output (1 for sum, 1/n for mean, ...).
"""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.dims import normalize_dim, normalize_dims

MaxResult = namedtuple("MaxResult", ["values", "indices"])


def _spread(grad_y: np.ndarray, axes: tuple[int, ...], keepdim: bool, shape: tuple) -> np.ndarray:
    """Give every input element the gradient of the output it was reduced into."""
    if not keepdim:
        grad_y = np.expand_dims(grad_y, axes)
    return np.broadcast_to(grad_y, shape)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


class Sum(Function):
    """y = sum_i x_i.   dy/dx_i = 1: every input gets the output's gradient."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        return _spread(grad_y, ctx.axes, ctx.keepdim, ctx.shape)


class Mean(Function):
    """y = (1/n) sum_i x_i.   dy/dx_i = 1/n."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.n = _count(x.shape, axes)
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        return _spread(grad_y / ctx.n, ctx.axes, ctx.keepdim, ctx.shape)


def _select(ctx, x, axes, keepdim, y):
    """Forward of amax/amin once the extreme y (kept dims) is known: remember each input's
    share of the gradient, 1/k for each of k tied winners, 0 for the rest."""
    winners = x == y
    ctx.save_for_backward((winners / winners.sum(axis=axes, keepdims=True)).astype(y.dtype))
    ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
    return y if keepdim else np.squeeze(y, axis=axes)


def _to_winners(ctx, grad_y):
    (share,) = ctx.saved_tensors
    return _spread(grad_y, ctx.axes, ctx.keepdim, ctx.shape) * share


class AMax(Function):
    """y = max_i x_i.   dy/dx_i = 1 for the maximal element, 0 elsewhere.

    When several elements tie for the maximum, each gets an equal share 1/k of the
    gradient (PyTorch's ``amax`` rule), so the total passed back is still the output's.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _select(ctx, x, axes, keepdim, x.max(axis=axes, keepdims=True))

    @staticmethod
    def backward(ctx, grad_y):
        return _to_winners(ctx, grad_y)


class AMin(Function):
    """y = min_i x_i.   The gradient goes to the minimal element; ties share it equally."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        return _select(ctx, x, axes, keepdim, x.min(axis=axes, keepdims=True))

    @staticmethod
    def backward(ctx, grad_y):
        return _to_winners(ctx, grad_y)


class Var(Function):
    """y = sum_i (x_i - m)^2 / (n - correction), m the mean.

    dy/dx_i = 2 (x_i - m) / (n - correction): the terms through m cancel, because the
    deviations sum to zero.
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        deviation = x - x.mean(axis=axes, keepdims=True)
        ctx.divisor = builtins.max(_count(x.shape, axes) - correction, 0)
        ctx.save_for_backward(deviation)
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        with np.errstate(divide="ignore", invalid="ignore"):
            return (deviation * deviation).sum(axis=axes, keepdims=keepdim) / np.asarray(
                ctx.divisor, dtype=x.dtype
            )

    @staticmethod
    def backward(ctx, grad_y):
        (deviation,) = ctx.saved_tensors
        # n - correction <= 0 (one value, unbiased): the forward is nan, and so is the
        # gradient, as in PyTorch; a Python 2.0 / 0 would raise ZeroDivisionError instead
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = 2.0 / np.asarray(ctx.divisor, dtype=grad_y.dtype)
            return _spread(grad_y, ctx.axes, ctx.keepdim, ctx.shape) * deviation * scale


class Std(Function):
    """y = sqrt(var(x)).   dy/dx_i = (x_i - m) / ((n - correction) y)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        deviation = x - x.mean(axis=axes, keepdims=True)
        ctx.divisor = builtins.max(_count(x.shape, axes) - correction, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.sqrt(
                (deviation * deviation).sum(axis=axes, keepdims=True)
                / np.asarray(ctx.divisor, dtype=x.dtype)
            )
        ctx.save_for_backward(deviation, y)
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad_y):
        deviation, y = ctx.saved_tensors
        grad = _spread(grad_y, ctx.axes, ctx.keepdim, ctx.shape)
        with np.errstate(divide="ignore", invalid="ignore"):  # nan where y is, as in PyTorch
            return grad * deviation / (y * np.asarray(ctx.divisor, dtype=grad_y.dtype))


class LogSumExp(Function):
    """y = log sum_i e^{x_i}, computed as m + log sum_i e^{x_i - m} with m = max_i x_i.

    Subtracting m keeps every exponent <= 0, so nothing overflows; it changes nothing
    mathematically because e^m factors out of the sum.
    dy/dx_i = e^{x_i} / sum_j e^{x_j} = e^{x_i - y}: the softmax of x.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        m = x.max(axis=axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf) row: nothing to shift by
        y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved_tensors
        return _spread(grad_y, ctx.axes, ctx.keepdim, x.shape) * np.exp(x - y)


# ------------------------------------------------------------------ the functions users call
def _reduce(op: type, x: Tensor, dim: Any, keepdim: bool, name: str, *extra: Any) -> Tensor:
    axes = normalize_dims(dim, x.ndim, name)
    return op.apply(x, axes, *extra, keepdim)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (an int, a tuple of ints, or None for all)."""
    return _reduce(Sum, x, dim, keepdim, "sum")


def _require_float(x: Tensor, name: str) -> None:
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name}() needs a floating-point tensor, got dtype {x.dtype}; convert with .float()"
        )


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (an int, a tuple of ints, or None for all)."""
    _require_float(x, "mean")
    return _reduce(Mean, x, dim, keepdim, "mean")


def _require_elements(x: Tensor, axes: tuple[int, ...], name: str) -> None:
    if any(x.shape[a] == 0 for a in axes) or (x.ndim == 0 and x.numel() == 0):
        raise ValueError(
            f"{name}(): cannot reduce over an empty dimension of a tensor of shape {x.shape}; "
            "there is no maximum or minimum of nothing"
        )


def amax(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Largest value over ``dim``; tied maxima share the gradient equally."""
    axes = normalize_dims(dim, x.ndim, "amax")
    _require_elements(x, axes, "amax")
    return AMax.apply(x, axes, keepdim)


def amin(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim``; tied minima share the gradient equally."""
    axes = normalize_dims(dim, x.ndim, "amin")
    _require_elements(x, axes, "amin")
    return AMin.apply(x, axes, keepdim)


def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxResult:  # noqa: A001
    """The largest value; with ``dim``, the pair ``(values, indices)`` along it, as in PyTorch.

    Unlike PyTorch's ``max(dim)``, which sends the gradient to one of tied maxima,
    the values share it equally among ties (the ``amax`` rule).
    """
    if dim is None:
        return amax(x)
    return MaxResult(amax(x, dim, keepdim), argmax(x, dim, keepdim))


def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor | MaxResult:  # noqa: A001
    """The smallest value; with ``dim``, the pair ``(values, indices)`` along it."""
    if dim is None:
        return amin(x)
    return MaxResult(amin(x, dim, keepdim), argmin(x, dim, keepdim))


def var(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """Variance over ``dim``, dividing by n - correction (1: unbiased, PyTorch's default)."""
    _require_float(x, "var")
    return _reduce(Var, x, dim, keepdim, "var", correction)


def std(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """Standard deviation over ``dim``, dividing by n - correction."""
    _require_float(x, "std")
    return _reduce(Std, x, dim, keepdim, "std", correction)


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, without overflow."""
    _require_float(x, "logsumexp")
    return _reduce(LogSumExp, x, dim, keepdim, "logsumexp")


def _arg(fn: Any, x: Tensor, dim: int | None, keepdim: bool, name: str) -> Tensor:
    if dim is None:
        return Tensor._make(np.asarray(fn(x.data), dtype=np.int64))
    axis = normalize_dim(dim, x.ndim, name) if x.ndim else None
    return Tensor._make(np.asarray(fn(x.data, axis=axis, keepdims=keepdim), dtype=np.int64))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (over the flattened tensor when ``dim`` is None)."""
    return _arg(np.argmax, x, dim, keepdim, "argmax")


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (over the flattened tensor when ``dim`` is None)."""
    return _arg(np.argmin, x, dim, keepdim, "argmin")
