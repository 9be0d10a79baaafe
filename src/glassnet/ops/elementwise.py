"""Elementwise ops and broadcasting.

When NumPy broadcasts an input of shape (3, 1) against (3, 4), every input element is used
four times, so its gradient is the *sum* of the four output gradients: ``unbroadcast``
sums the gradient back down to each input's shape. It is the one helper every binary op
shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor, constant
from glassnet.ops.promotion import DEFAULT_FLOAT, result_type


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
            unbroadcast(grad_y, sa) if ctx.needs_input_grad[0] else None,
            unbroadcast(grad_y, sb) if ctx.needs_input_grad[1] else None,
        )

    @staticmethod
    def emit(e, needs, a, b):
        """gn.compile: one ufunc into an array made once; g passes through (summed back over
        broadcast dimensions)."""
        y = e.out("add")
        e.line(f"np.add({e.ref(a)}, {e.ref(b)}, out={y})")

        def backward(g):
            return (
                e.unbroadcast(g, a) if needs[0] else None,
                e.unbroadcast(g, b) if needs[1] else None,
            )

        return y, backward


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
            unbroadcast(grad_y, sa) if ctx.needs_input_grad[0] else None,
            unbroadcast(-grad_y, sb) if ctx.needs_input_grad[1] else None,
        )

    @staticmethod
    def emit(e, needs, a, b):
        """gn.compile: as Add, with -g for b."""
        y = e.out("sub")
        e.line(f"np.subtract({e.ref(a)}, {e.ref(b)}, out={y})")

        def backward(g):
            grad_b = None
            if needs[1]:
                negated = e.like(g, "negated")
                e.line(f"np.negative({g}, out={negated})")
                grad_b = e.unbroadcast(negated, b)
            return (e.unbroadcast(g, a) if needs[0] else None), grad_b

        return y, backward


class Mul(Function):
    """y = a * b.   dy/da = b, dy/db = a: each input's gradient is scaled by the other."""

    @staticmethod
    def forward(ctx, a, b):
        # Each gradient reads only the other input: save just what a requested gradient
        # needs (as PyTorch does), so changing the rest in place before backward is fine.
        need_a, need_b = ctx.needs_input_grad
        ctx.shapes = (np.shape(a), np.shape(b))
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
        return a * b

    @staticmethod
    def backward(ctx, grad_y):
        b, a = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        return (
            unbroadcast(grad_y * b, shape_a) if ctx.needs_input_grad[0] else None,
            unbroadcast(grad_y * a, shape_b) if ctx.needs_input_grad[1] else None,
        )

    @staticmethod
    def emit(e, needs, a, b):
        """gn.compile: each gradient g times the other input, summed back if broadcast."""
        y = e.out("mul")
        e.line(f"np.multiply({e.ref(a)}, {e.ref(b)}, out={y})")

        def backward(g):
            grads = []
            for mine, other, need in ((a, b, needs[0]), (b, a, needs[1])):
                if not need:
                    grads.append(None)
                    continue
                scaled = e.like(g, "scaled")
                e.line(f"np.multiply({g}, {e.ref(other)}, out={scaled})")
                grads.append(e.unbroadcast(scaled, mine))
            return tuple(grads)

        return y, backward


class Div(Function):
    """y = a / b.   dy/da = 1/b, dy/db = -a/b^2 = -y/b.

    a / 0 is +-inf (IEEE's and PyTorch's answer), given without a NumPy warning.
    """

    @staticmethod
    def forward(ctx, a, b):
        with np.errstate(divide="ignore"):
            y = a / b
        # neither gradient reads a; y only b's (see Mul for why only what is needed)
        ctx.shapes = (np.shape(a), np.shape(b))
        ctx.save_for_backward(b, y if ctx.needs_input_grad[1] else None)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        b, y = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        with np.errstate(divide="ignore"):
            return (
                unbroadcast(grad_y / b, shape_a) if ctx.needs_input_grad[0] else None,
                unbroadcast(-grad_y * y / b, shape_b) if ctx.needs_input_grad[1] else None,
            )

    @staticmethod
    def emit(e, needs, a, b):
        """gn.compile: g / b for a and -g y / b for b, summed back if broadcast."""
        y = e.out("div")
        e.line(f"np.divide({e.ref(a)}, {e.ref(b)}, out={y})")

        def backward(g):
            grad_a = grad_b = None
            if needs[0]:
                scaled = e.like(g, "scaled")
                e.line(f"np.divide({g}, {e.ref(b)}, out={scaled})")
                grad_a = e.unbroadcast(scaled, a)
            if needs[1]:
                scaled = e.like(g, "scaled")
                e.line(f"np.negative({g}, out={scaled})")
                e.line(f"np.multiply({scaled}, {y}, out={scaled})")
                e.line(f"np.divide({scaled}, {e.ref(b)}, out={scaled})  # -g y / b")
                grad_b = e.unbroadcast(scaled, b)
            return grad_a, grad_b

        return y, backward


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
        y = np.power(a, b).astype(a.dtype, copy=False)  # NumPy makes bool ** bool int8
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        a, b, y = ctx.saved_tensors
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                grad_a = np.where(b == 0, 0, grad_y * b * np.power(a, b - 1))
                grad_a = unbroadcast(grad_a.astype(grad_y.dtype, copy=False), np.shape(a))
            if ctx.needs_input_grad[1]:
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
    """y = ln x.   dy/dx = 1/x.   At x = 0: y = -inf, dy/dx = inf (the limits, as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad_y / x


class Sqrt(Function):
    """y = sqrt(x).   dy/dx = 1 / (2 sqrt(x)) = 1 / (2y), inf at x = 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        y = np.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        with np.errstate(divide="ignore"):
            return grad_y / (2 * y)

    @staticmethod
    def emit(e, needs, x):
        """gn.compile: the same rules, into arrays made once."""
        y = e.like(x, "sqrt")
        e.line(f"np.sqrt({x}, out={y})")

        def backward(g):
            grad_x = e.grad(x)
            e.line(f"np.multiply(2, {y}, out={grad_x})")
            e.line(f"np.divide({g}, {grad_x}, out={grad_x})  # g / (2 sqrt(x))")
            return grad_x

        return y, backward


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
    """y = min(max(x, lo), hi), the bounds numbers, tensors (broadcast) or None.

    dy/dx = 1 where lo <= x <= hi, else 0 (ends included, PyTorch's subgradient).
    dy/dlo = 1 where x < lo (and lo < hi), dy/dhi = 1 where x > hi or hi < lo: each bound
    gets the gradient exactly where it is the output (when lo > hi, every y is hi).
    """

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad_y):
        x, lo, hi = ctx.saved_tensors
        inside = np.ones(np.shape(grad_y), dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        zero = np.zeros((), dtype=grad_y.dtype)
        grad_x = grad_lo = grad_hi = None
        if ctx.needs_input_grad[0]:
            grad_x = unbroadcast(np.where(inside, grad_y, zero), np.shape(x))
        if ctx.needs_input_grad[1]:
            lo_wins = (x < lo) & (lo < hi) if hi is not None else x < lo
            grad_lo = unbroadcast(np.where(lo_wins, grad_y, zero), np.shape(lo))
        if ctx.needs_input_grad[2]:
            hi_wins = (x > hi) | (hi < lo) if lo is not None else x > hi
            grad_hi = unbroadcast(np.where(hi_wins, grad_y, zero), np.shape(hi))
        return grad_x, grad_lo, grad_hi


def _shares(ctx, grad_y, share_a):
    """Gradients of max/min: input a gets ``share_a`` of grad_y (1, 0, or 1/2 on a tie),
    b the rest, each summed back to its own shape."""
    a, b = ctx.saved_tensors
    share_a = share_a.astype(grad_y.dtype)
    return (
        unbroadcast(grad_y * share_a, np.shape(a)) if ctx.needs_input_grad[0] else None,
        unbroadcast(grad_y * (1 - share_a), np.shape(b)) if ctx.needs_input_grad[1] else None,
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
        ctx.save_for_backward(cond)
        ctx.shapes = (np.shape(a), np.shape(b))
        return np.where(cond, a, b)

    @staticmethod
    def backward(ctx, grad_y):
        (cond,) = ctx.saved_tensors
        zero = np.zeros((), dtype=grad_y.dtype)
        return (
            None,
            unbroadcast(np.where(cond, grad_y, zero), ctx.shapes[0])
            if ctx.needs_input_grad[1]
            else None,
            unbroadcast(np.where(cond, zero, grad_y), ctx.shapes[1])
            if ctx.needs_input_grad[2]
            else None,
        )


class Cast(Function):
    """y = x converted to another float dtype.   The gradient is converted back to x's dtype.

    Only float -> float casts are recorded: an integer or bool result has no gradient, so
    ``cast`` ends the graph there, as PyTorch does.
    """

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y.astype(ctx.dtype)


# ------------------------------------------------------------------ the functions users call
def as_operand(value: Any, like: Any = None) -> Any:
    """A Tensor stays a Tensor; a number becomes a 0-d tensor of the dtype that ``value``
    and ``like`` promote to (so ``2.0`` next to a float32 tensor is float32); anything
    else (a list, an array) becomes a tensor by ``gn.tensor``'s rules."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return Tensor._make(np.asarray(value, dtype=result_type(value, like)))
    return Tensor(value)


def promote(*operands: Any) -> list[Tensor | None]:
    """The operands as tensors of one dtype, ``result_type``'s (PyTorch's rule).

    A tensor of another float dtype is converted by the differentiable ``cast``, so its
    gradient comes back in its own dtype; None (an absent bound) stays None.
    """
    dtype = result_type(*operands)
    out: list[Tensor | None] = []
    for value in operands:
        if value is None:
            out.append(None)
        elif isinstance(value, Tensor):
            out.append(cast(value, dtype))
        elif isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
            out.append(constant(np.asarray(value, dtype=dtype)))
        else:
            out.append(cast(Tensor(value), dtype))
    return out


def _binary(op: type, a: Any, b: Any) -> Tensor:
    try:
        return _apply_binary(op, a, b)
    except ValueError as error:
        if "broadcast" not in str(error):
            raise
        shape_a, shape_b = np.shape(getattr(a, "data", a)), np.shape(getattr(b, "data", b))
        raise ValueError(
            f"{op.__name__.lower()}: shapes {shape_a} and {shape_b} do not broadcast; sizes "
            "are matched from the last dimension and each pair must be equal or contain a 1. "
            "Reshape one to line them up (e.g. x.unsqueeze(-1) or x.reshape(...))"
        ) from None


def _apply_binary(op: type, a: Any, b: Any) -> Tensor:
    # Fast paths, same result as promote() at half the cost: the common cases are two
    # tensors of one dtype, and a float tensor with a Python number (which keeps its dtype).
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a.data.dtype == b.data.dtype:
                return op.apply(a, b)
        elif isinstance(b, (int, float)) and a.data.dtype.kind == "f":
            return op.apply(a, np.asarray(b, dtype=a.data.dtype))
    elif isinstance(a, (int, float)) and isinstance(b, Tensor) and b.data.dtype.kind == "f":
        return op.apply(np.asarray(a, dtype=b.data.dtype), b)
    return op.apply(*promote(a, b))


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
    """Elementwise ``a / b`` with broadcasting; integers divide to the default float dtype
    (``int64 / int64`` is float32), as PyTorch's true division does."""
    a, b = promote(a, b)
    if a.dtype.kind != "f":
        a, b = cast(a, DEFAULT_FLOAT), cast(b, DEFAULT_FLOAT)
    return Div.apply(a, b)


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


def clamp(x: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Limit every value to [min, max]; either bound may be None, a number or a tensor
    (broadcast against x; a tensor bound gets a gradient where it is the output)."""
    if min is None and max is None:
        raise ValueError("clamp needs at least one of min= and max=")
    return Clamp.apply(*promote(x, min, max))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Take ``a`` where ``condition`` is true and ``b`` elsewhere (all broadcast together)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {cond.dtype}")
    return Where.apply(cond, *promote(a, b))


def cast(x: Tensor, dtype: Any) -> Tensor:
    """Convert to ``dtype``; to a float dtype the gradient flows back converted to x's
    dtype, to an integer or bool dtype the graph ends (the result needs no gradient)."""
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype))
    return Cast.apply(x, dtype)


def _comparison(ufunc: Any) -> Any:
    """``a < b`` and friends: the operands promoted as for arithmetic (float32 0.1 equals a
    0-d float64 0.1, as in PyTorch), the result a bool tensor outside the graph."""

    def compare(a: Any, b: Any) -> Tensor:
        try:
            a, b = promote(a, b)
        except TypeError:
            return NotImplemented  # x == "text": let Python answer (False for ==)
        return Tensor._make(np.asarray(ufunc(a.data, b.data)))

    compare.__name__ = ufunc.__name__
    return compare


eq, ne = _comparison(np.equal), _comparison(np.not_equal)
lt, le = _comparison(np.less), _comparison(np.less_equal)
gt, ge = _comparison(np.greater), _comparison(np.greater_equal)
