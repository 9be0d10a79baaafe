"""Elementwise ops and broadcasting.

When NumPy broadcasts an input of shape (3, 1) against (3, 4), every input element is used
four times, so its gradient is the *sum* of the four output gradients: ``unbroadcast``
sums the gradient back down to each input's shape. It is the one helper every binary op
shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.function import Function, Node
from glassnet.autograd.tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the dimensions that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _needs(ctx: Node, i: int) -> bool:
    return ctx.needs_input_grad[i]


class Add(Function):
    """y = a + b.   dy/da = 1, dy/db = 1: the gradient passes through unchanged."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return a + b

    @staticmethod
    def backward(ctx, grad_y):
        sa, sb = ctx.shapes
        return (
            unbroadcast(grad_y, sa) if _needs(ctx, 0) else None,
            unbroadcast(grad_y, sb) if _needs(ctx, 1) else None,
        )


class Sub(Function):
    """y = a - b.   dy/da = 1, dy/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (np.shape(a), np.shape(b))
        return a - b

    @staticmethod
    def backward(ctx, grad_y):
        sa, sb = ctx.shapes
        return (
            unbroadcast(grad_y, sa) if _needs(ctx, 0) else None,
            unbroadcast(-grad_y, sb) if _needs(ctx, 1) else None,
        )


class Mul(Function):
    """y = a * b.   dy/da = b, dy/db = a: each input's gradient is scaled by the other."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        return (
            unbroadcast(grad_y * b, np.shape(a)) if _needs(ctx, 0) else None,
            unbroadcast(grad_y * a, np.shape(b)) if _needs(ctx, 1) else None,
        )


class Div(Function):
    """y = a / b.   dy/da = 1/b, dy/db = -a/b^2 = -y/b."""

    @staticmethod
    def forward(ctx, a, b):
        y = a / b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        a, b, y = ctx.saved_tensors
        return (
            unbroadcast(grad_y / b, np.shape(a)) if _needs(ctx, 0) else None,
            unbroadcast(-grad_y * y / b, np.shape(b)) if _needs(ctx, 1) else None,
        )


class Neg(Function):
    """y = -x.   dy/dx = -1."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_y):
        return -grad_y


class Pow(Function):
    """y = a^b.   dy/da = b a^(b-1) (0 where b = 0), dy/db = a^b ln a = y ln a.

    As in PyTorch, the gradient for b is 0 where a = 0 and b >= 0 (the limit of
    a^b ln a), and NaN where a < 0 (a real log does not exist there).
    """

    @staticmethod
    def forward(ctx, a, b):
        y = np.power(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        a, b, y = ctx.saved_tensors
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if _needs(ctx, 0):
                grad_a = np.where(b == 0, 0, grad_y * b * np.power(a, b - 1))
                grad_a = unbroadcast(grad_a.astype(grad_y.dtype, copy=False), np.shape(a))
            if _needs(ctx, 1):
                grad_b = np.where((a == 0) & (b >= 0), 0, grad_y * y * np.log(a))
                grad_b = unbroadcast(grad_b.astype(grad_y.dtype, copy=False), np.shape(b))
        return grad_a, grad_b


class Exp(Function):
    """y = e^x.   dy/dx = e^x = y, so backward needs only the output."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * y


class Log(Function):
    """y = ln x.   dy/dx = 1/x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y / x


class Sqrt(Function):
    """y = sqrt(x).   dy/dx = 1 / (2 sqrt(x)) = 1 / (2y)."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y / (2 * y)


class Abs(Function):
    """y = |x|.   dy/dx = sign(x), taken as 0 at x = 0 (as PyTorch does)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * np.sign(x)


class Clamp(Function):
    """y = min(max(x, lo), hi).   dy/dx = 1 where lo <= x <= hi, else 0 (ends included)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        inside = np.ones(x.shape, dtype=bool)
        if ctx.lo is not None:
            inside &= x >= ctx.lo
        if ctx.hi is not None:
            inside &= x <= ctx.hi
        return grad_y * inside


def _shares(ctx, grad_y, share_a):
    """Gradients of max/min: input a gets ``share_a`` of grad_y (1, 0, or 1/2 on a tie),
    b the rest, each summed back to its own shape."""
    a, b = ctx.saved_tensors
    share_a = share_a.astype(grad_y.dtype)
    return (
        unbroadcast(grad_y * share_a, np.shape(a)) if _needs(ctx, 0) else None,
        unbroadcast(grad_y * (1 - share_a), np.shape(b)) if _needs(ctx, 1) else None,
    )


class Maximum(Function):
    """y = max(a, b) elementwise.   The gradient goes to the larger input; ties split it."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        return _shares(ctx, grad_y, (a > b) + 0.5 * (a == b))


class Minimum(Function):
    """y = min(a, b) elementwise.   The gradient goes to the smaller input; ties split it."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        return _shares(ctx, grad_y, (a < b) + 0.5 * (a == b))


class Where(Function):
    """y = a where cond else b.   The gradient goes to a where cond holds, to b elsewhere."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad_y):
        zero = np.zeros((), dtype=grad_y.dtype)
        return (
            None,
            unbroadcast(np.where(ctx.cond, grad_y, zero), ctx.shapes[0])
            if _needs(ctx, 1)
            else None,
            unbroadcast(np.where(ctx.cond, zero, grad_y), ctx.shapes[1])
            if _needs(ctx, 2)
            else None,
        )


class Cast(Function):
    """y = x converted to another dtype.   The gradient is converted back to x's dtype."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y.astype(ctx.dtype)


# ------------------------------------------------------------------ the functions users call
def as_operand(value: Any, like: Any = None) -> Any:
    """A Tensor stays a Tensor; a number (Python or NumPy) takes the float dtype of ``like``.

    Turning ``2.0`` into a float32 scalar before NumPy sees it keeps ``x * 2.0`` in float32
    under every NumPy version (older ones upcast 0-d float32 arrays to float64).
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        # a single number never changes a float tensor's dtype (x / np.int64(3) stays
        # float32), as PyTorch treats scalars
        if isinstance(like, Tensor) and like.dtype.kind == "f":
            return np.asarray(value, dtype=like.dtype)
        return Tensor(value)
    return Tensor(value)


def _binary(op: type, a: Any, b: Any) -> Tensor:
    return op.apply(as_operand(a, b), as_operand(b, a))


def add(a: Any, b: Any) -> Tensor:
    """Elementwise ``a + b`` with broadcasting."""
    return _binary(Add, a, b)


def sub(a: Any, b: Any) -> Tensor:
    """Elementwise ``a - b`` with broadcasting."""
    return _binary(Sub, a, b)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise ``a * b`` with broadcasting."""
    return _binary(Mul, a, b)


def div(a: Any, b: Any) -> Tensor:
    """Elementwise ``a / b`` with broadcasting."""
    return _binary(Div, a, b)


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """Elementwise ``a ** b``; either may be a tensor or a number."""
    return _binary(Pow, a, b)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum of two tensors."""
    return _binary(Maximum, a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum of two tensors."""
    return _binary(Minimum, a, b)


def neg(x: Tensor) -> Tensor:
    """Elementwise ``-x``."""
    return Neg.apply(x)


def exp(x: Tensor) -> Tensor:
    """Elementwise e^x."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root."""
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """Elementwise absolute value."""
    return Abs.apply(x)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
    """Limit every value to [min, max]; either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp needs at least one of min= and max=")
    return Clamp.apply(x, min, max)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Take ``a`` where ``condition`` is true and ``b`` elsewhere (all broadcast together)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    return Where.apply(cond, as_operand(a, b), as_operand(b, a))


def cast(x: Tensor, dtype: Any) -> Tensor:
    """Convert to ``dtype``; the gradient flows back converted to x's dtype."""
    if np.dtype(dtype) == x.dtype:
        return x
    return Cast.apply(x, np.dtype(dtype))
