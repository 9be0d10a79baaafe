"""Reductions: sum, mean, prod, amax/amin (max/min), var, std, norm, logsumexp, and the
running sum cumsum; argmax/argmin.

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
from glassnet.ops.elementwise import maximum, minimum

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


class CumSum(Function):
    """y_j = sum_{i <= j} x_i along ``dim``.   grad_x_i = sum_{j >= i} grad_y_j.

    x_i enters every y_j with j >= i, each with slope 1, so its gradient is the running
    total of grad_y taken from the other end: a cumsum of the reversed gradient, reversed
    back.
    """

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return np.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad_y):
        reverse = np.flip(grad_y, axis=ctx.axis)
        return np.flip(np.cumsum(reverse, axis=ctx.axis), axis=ctx.axis)


def _exclusive_cumprod(x: np.ndarray, axis: int) -> np.ndarray:
    """out_i = x_0 x_1 ... x_{i-1} along axis (1 for i = 0)."""
    ones_shape = list(x.shape)
    ones_shape[axis] = 1
    shifted = np.concatenate([np.ones(ones_shape, dtype=x.dtype), x], axis)
    first_n = (slice(None),) * axis + (slice(0, x.shape[axis]),)
    return np.cumprod(shifted, axis)[first_n]


class Prod(Function):
    """y = prod_i x_i along ``dim``.   dy/dx_i = prod_{j != i} x_j, the product of the others.

    The textbook y / x_i divides by zero when x_i = 0. Instead the product of the others
    is (product of those before i) * (product of those after i), two running products
    and no division. It is right with zeros in x: with one zero, only that element's
    gradient is nonzero (the product of the rest); with two or more, every gradient is 0,
    as in PyTorch.
    """

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return np.prod(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        shape, axis = x.shape, ctx.axis
        if axis is None:  # all elements: one long row
            x, axis = x.reshape(-1), 0
        before = _exclusive_cumprod(x, axis)
        after = np.flip(_exclusive_cumprod(np.flip(x, axis), axis), axis)
        axes = tuple(range(len(shape))) if ctx.axis is None else (ctx.axis,)
        spread = _spread(grad_y, axes, ctx.keepdim, shape)
        return spread * (before * after).reshape(shape)


class Norm(Function):
    """y = (sum_i |x_i|^p)^(1/p) over ``dim``.   dy/dx_i = sign(x_i) (|x_i| / y)^(p - 1).

    For p = 2 the gradient is x_i / y, for p = 1 it is sign(x_i). p = inf gives
    y = max_i |x_i|, and the gradient goes to the largest |x_i| (ties share it), with its
    sign.
    At x = 0 (so y = 0) the gradient is 0, as in PyTorch.
    Computed as m (sum_i (|x_i| / m)^p)^(1/p) with m = max_i |x_i|: the same value, but
    |x_i|^p never overflows (1e200 squared would) or underflows to 0.
    """

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        a = np.abs(x)
        m = a.max(axis=axes, keepdims=True, initial=0)  # initial: the norm of nothing is 0
        if p == np.inf:
            y = m
        else:
            safe_m = np.where(m == 0, 1, m)  # an all-zero row has norm 0 whatever we divide by
            y = m * ((a / safe_m) ** p).sum(axis=axes, keepdims=True) ** (1 / p)
        y = y.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        return y if keepdim else np.squeeze(y, axis=axes)

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved_tensors
        p = ctx.p
        grad = _spread(grad_y, ctx.axes, ctx.keepdim, x.shape)
        if p == np.inf:
            winners = np.abs(x) == y
            share = winners / winners.sum(axis=ctx.axes, keepdims=True)
            return grad * np.sign(x) * share.astype(x.dtype)
        if p == 1:
            return grad * np.sign(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.sign(x) * (np.abs(x) / y) ** (p - 1)
        # y = 0 (all x zero) and, for p < 1, x_i = 0: PyTorch's gradient there is 0
        slope = np.where((y == 0) | (x == 0), 0, slope).astype(x.dtype, copy=False)
        return grad * slope


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


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | MaxResult:  # noqa: A001
    """The largest value; with ``dim``, the pair ``(values, indices)`` along it, as in PyTorch.

    ``max(a, b)`` with a tensor as second argument is the elementwise ``maximum(a, b)``, as
    ``torch.max(input, other)`` is (ties split the gradient half and half, as there).
    Unlike PyTorch's ``max(dim)``, which sends the gradient to one of tied maxima,
    the values share it equally among ties (the ``amax`` rule).
    """
    if isinstance(dim, Tensor):
        return _elementwise_pair(maximum, "max", x, dim, keepdim)
    if dim is None:
        return amax(x)
    return MaxResult(amax(x, dim, keepdim), argmax(x, dim, keepdim))


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor | MaxResult:  # noqa: A001
    """The smallest value; with ``dim``, the pair ``(values, indices)`` along it;
    ``min(a, b)`` with a tensor ``b`` is the elementwise ``minimum(a, b)``."""
    if isinstance(dim, Tensor):
        return _elementwise_pair(minimum, "min", x, dim, keepdim)
    if dim is None:
        return amin(x)
    return MaxResult(amin(x, dim, keepdim), argmin(x, dim, keepdim))


def _elementwise_pair(op: Any, name: str, a: Tensor, b: Tensor, keepdim: bool) -> Tensor:
    if keepdim:
        raise TypeError(
            f"{name}(input, other) is elementwise and takes no keepdim; pass an int dim "
            f"for the reduction {name}(input, dim, keepdim)"
        )
    return op(a, b)


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


def cumsum(x: Tensor, dim: int) -> Tensor:
    """Running sum along ``dim``: y_j = x_0 + ... + x_j (same shape as x).

    As in PyTorch, an integer or bool tensor is summed in int64.
    """
    axis = normalize_dim(dim, x.ndim, "cumsum")
    if x.dtype.kind in "iub" and x.dtype != np.int64:
        x = Tensor._make(x.data.astype(np.int64))
    if x.ndim == 0:  # a 0-d tensor is its own running sum
        return CumSum.apply(x.reshape(1), 0).reshape(())
    return CumSum.apply(x, axis)


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Product of all elements, or along one ``dim`` (an int, as in PyTorch).

    The gradient is right with zeros in x (see ``Prod``).
    """
    if dim is None:
        return Prod.apply(x, None, False)
    if x.ndim == 0:
        normalize_dim(dim, 0, "prod")
        return Prod.apply(x, None, False)
    return Prod.apply(x, normalize_dim(dim, x.ndim, "prod"), keepdim)


def norm(x: Tensor, p: float | str = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """Vector p-norm over ``dim`` (all elements when None), as ``torch.norm`` and
    ``torch.linalg.vector_norm``: (sum |x_i|^p)^(1/p).

    Args:
        x: a floating-point tensor.
        p: any p > 0, ``float('inf')`` for max |x_i|, or ``'fro'`` (= 2, PyTorch's default).
        dim: an int, a tuple of ints, or None for all elements.
        keepdim: keep the reduced dimensions with size 1.

    Raises:
        ValueError: for p <= 0, -inf, NaN, or a string other than 'fro' (such as 'nuc').
    """
    require_float(x, "norm()")
    if p == "fro":
        p = 2
    if isinstance(p, (str, bool)) or not (p > 0):
        raise ValueError(
            f"norm: p must be a number > 0, float('inf') or 'fro', got {p!r}; glassnet has "
            "no nuclear norm and no p <= 0 (count nonzeros with (x != 0).sum())"
        )
    axes = normalize_dims(dim, x.ndim, "norm")
    if p == np.inf:
        _require_elements(x, axes, "norm")
    return Norm.apply(x, float(p), axes, keepdim)


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
