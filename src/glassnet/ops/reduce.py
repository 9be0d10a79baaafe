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
from glassnet.ops.checks import require_float
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
        if ctx.n == 0:  # the mean of nothing is NaN (PyTorch's answer), without NumPy's warning
            return np.full(np.sum(x, axis=axes, keepdims=keepdim).shape, np.nan, dtype=x.dtype)
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        # n = 0 leaves nothing to spread over; dividing by 1 then avoids a 1/0 warning
        return _spread(grad_y / builtins.max(ctx.n, 1), ctx.axes, ctx.keepdim, ctx.shape)


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

    With n <= correction the divisor is taken as 0 (PyTorch's rule): the variance is NaN
    for constant input (0/0) and inf otherwise, and the gradient is PyTorch's too (see
    ``_variance_backward``).
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, all_dims=False):
        deviation, variance = _variance_forward(ctx, x, axes, correction, all_dims)
        ctx.save_for_backward(deviation)
        ctx.keepdim = keepdim
        return variance if keepdim else np.squeeze(variance, axis=axes)

    @staticmethod
    def backward(ctx, grad_y):
        (deviation,) = ctx.saved_tensors
        return _variance_backward(ctx, grad_y, deviation, ctx.keepdim)


class Std(Function):
    """y = sqrt(var(x)).   dy/dx_i = (x_i - m) / ((n - correction) y).

    That is dvar/dx_i times 1 / (2y); at y = 0 (constant input) PyTorch takes 1 / (2y) as
    0, so the gradient there is 0, not 0/0.
    """

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, all_dims=False):
        deviation, variance = _variance_forward(ctx, x, axes, correction, all_dims)
        y = np.sqrt(variance)
        ctx.save_for_backward(deviation, y)
        ctx.keepdim = keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad_y):
        deviation, y = ctx.saved_tensors
        g = grad_y if ctx.keepdim else np.expand_dims(grad_y, ctx.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_var = np.where(y == 0, 0, g / (2 * y)).astype(grad_y.dtype, copy=False)
        return _variance_backward(ctx, grad_var, deviation, True)


def _variance_forward(ctx, x, axes, correction, all_dims):
    """The deviations x - m and the variance (reduced dims kept) for Var and Std."""
    n = _count(x.shape, axes)
    ctx.shape, ctx.axes, ctx.dof = x.shape, axes, n - correction
    ctx.all_dims = all_dims or x.ndim == 0
    # n = 0 makes the mean 0/0, n <= correction the divisor 0: NaN or inf, as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        deviation = x - x.sum(axis=axes, keepdims=True) / np.asarray(n, dtype=x.dtype)
        squares = (deviation * deviation).sum(axis=axes, keepdims=True)
        return deviation, squares / np.asarray(builtins.max(ctx.dof, 0), dtype=x.dtype)


def _variance_backward(ctx, grad_var, deviation, keepdim):
    """PyTorch's var_backward: grad_var spread over the inputs times 2 (x - m) / dof.

    Its edges, kept so results agree: reducing over all dims with dof = n - correction
    <= 0 gives NaN where x equals the mean and inf elsewhere; with ``dim`` given, the
    factor 2 / dof is used as it is (inf at dof = 0, negative for dof < 0).
    """
    grad = _spread(grad_var, ctx.axes, keepdim, ctx.shape)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 * inf, 2 / 0: as PyTorch
        if ctx.all_dims and ctx.dof <= 0:
            return grad * np.where(deviation == 0, np.nan, np.inf).astype(grad.dtype)
        scale = np.asarray(np.divide(2.0, ctx.dof), dtype=grad.dtype)
        return grad * deviation * scale


class LogSumExp(Function):
    """y = log sum_i e^{x_i}, computed as m + log sum_i e^{x_i - m} with m = max_i x_i.

    Subtracting m keeps every exponent <= 0, so nothing overflows; it changes nothing
    mathematically because e^m factors out of the sum.
    dy/dx_i = e^{x_i} / sum_j e^{x_j} = e^{x_i - y}: the softmax of x.
    """

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        m = x.max(axis=axes, keepdims=True, initial=-np.inf)  # -inf over an empty dim
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf) row: nothing to shift by
        with np.errstate(divide="ignore"):  # an empty or all -inf sum: log 0 = -inf
            y = np.log(np.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved_tensors
        with np.errstate(invalid="ignore"):  # -inf - (-inf) for an all -inf row, as PyTorch
            return _spread(grad_y, ctx.axes, ctx.keepdim, x.shape) * np.exp(x - y)


# ------------------------------------------------------------------ the functions users call
def _reduce(op: type, x: Tensor, dim: Any, keepdim: bool, name: str, *extra: Any) -> Tensor:
    axes = normalize_dims(dim, x.ndim, name)
    return op.apply(x, axes, *extra, keepdim)


def sum(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``dim`` (an int, a tuple of ints, or None for all)."""
    return _reduce(Sum, x, dim, keepdim, "sum")


def mean(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (an int, a tuple of ints, or None for all)."""
    require_float(x, "mean()")
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
    require_float(x, "var()")
    axes = normalize_dims(dim, x.ndim, "var")
    return Var.apply(x, axes, correction, keepdim, all_dims=dim is None)


def std(x: Tensor, dim: Any = None, correction: int = 1, keepdim: bool = False) -> Tensor:
    """Standard deviation over ``dim``, dividing by n - correction."""
    require_float(x, "std()")
    axes = normalize_dims(dim, x.ndim, "std")
    return Std.apply(x, axes, correction, keepdim, all_dims=dim is None)


def logsumexp(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, without overflow."""
    require_float(x, "logsumexp()")
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
