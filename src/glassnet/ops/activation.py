"""Activation functions, each with its derivative.

Most are elementwise, so their Jacobian is diagonal and the vector-Jacobian product is a
plain elementwise multiply: grad_x = grad_y * f'(x). Softmax and log-softmax are not
elementwise (every output depends on every input of its row); their docstrings show how
the full Jacobian collapses to a cheap formula.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.checks import require_float
from glassnet.ops.dims import normalize_dim
from glassnet.ops.special import erf as _erf

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) without overflow: only e^-|x| (always <= 1) is ever formed.

    For x >= 0 use 1 / (1 + e^-x); for x < 0 the same value written as e^x / (1 + e^x).
    """
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def stable_log_softmax(x: np.ndarray, axis: int | None) -> np.ndarray:
    """x - logsumexp(x) along ``axis``, with the max subtracted first so no e^x overflows.

    A -inf logit (a masked class) stays -inf (its e^x is 0) and leaves the rest finite;
    only a row with no finite maximum (all -inf, or a +inf) gives NaN, as in PyTorch.
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


class ReLU(Function):
    """y = max(x, 0).   dy/dx = 1 where x > 0, else 0.

    At exactly x = 0 the function has a kink and no derivative; any value in [0, 1] is a
    valid subgradient. glassnet, like PyTorch, uses 0. Backward needs only the output:
    y > 0 exactly where x > 0.
    """

    @staticmethod
    def forward(ctx, x):
        y = np.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * (y > 0)

    @staticmethod
    def emit(e, needs, x):
        """gn.compile: the same two rules, into arrays made once."""
        y = e.like(x, "relu")
        e.line(f"np.maximum({x}, 0, out={y})")

        def backward(g):
            grad_x, positive = e.grad(x), e.like(x, "positive", dtype=bool)
            e.line(f"np.greater({y}, 0, out={positive})")
            e.line(f"np.multiply({g}, {positive}, out={grad_x})  # pass g where x > 0")
            return grad_x

        return y, backward


class LeakyReLU(Function):
    """y = x where x > 0, else slope * x.   dy/dx = 1 where x > 0, else slope (also at 0)."""

    @staticmethod
    def forward(ctx, x, negative_slope):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * np.asarray(negative_slope, dtype=x.dtype))

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return np.where(x > 0, grad_y, grad_y * np.asarray(ctx.slope, dtype=grad_y.dtype))

    @staticmethod
    def emit(e, needs, x, negative_slope):
        """gn.compile: slope x everywhere, then x itself where x > 0 (np.where's choice)."""
        slope = e.bind(np.asarray(negative_slope, dtype=x.dtype), "negative_slope")
        y, positive = e.like(x, "leaky_relu"), e.like(x, "positive", dtype=bool)
        e.line(f"np.greater({x}, 0, out={positive})")
        e.line(f"np.multiply({x}, {slope}, out={y})")
        e.line(f"np.copyto({y}, {x}, where={positive})")

        def backward(g):
            grad_x = e.grad(x)
            e.line(f"np.multiply({g}, {slope}, out={grad_x})  # slope g, and g where x > 0")
            e.line(f"np.copyto({grad_x}, {g}, where={positive})")
            return grad_x, None

        return y, backward


class ELU(Function):
    """y = x where x > 0, else alpha (e^x - 1).

    dy/dx = 1 where x > 0, else alpha e^x = y + alpha (so backward can reuse the output).
    """

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        alpha = np.asarray(alpha, dtype=x.dtype)
        # min(x, 0) keeps expm1 from overflowing on large positive x, whose branch is unused.
        y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved_tensors
        alpha = np.asarray(ctx.alpha, dtype=grad_y.dtype)
        return np.where(x > 0, grad_y, grad_y * (y + alpha))


class GELU(Function):
    """y = x Phi(x), Phi the standard normal CDF: Phi(x) = (1 + erf(x / sqrt 2)) / 2.

    dy/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi) the normal density.
    With approximate='tanh': Phi(x) ~ (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3),
    so dy/dx = (1 + t)/2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2, t = tanh(u).
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            ctx.save_for_backward(x, t)
            return (0.5 * x * (1 + t)).astype(x.dtype, copy=False)
        cdf = (0.5 * (1 + _erf(x / _SQRT_2))).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx, grad_y):
        x, c = ctx.saved_tensors
        if ctx.approximate == "tanh":
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
            slope = 0.5 * (1 + c) + 0.5 * x * (1 - c * c) * du
        else:
            slope = c + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return grad_y * slope.astype(grad_y.dtype, copy=False)


class SiLU(Function):
    """y = x sigmoid(x) (also called swish).   dy/dx = s (1 + x (1 - s)), s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        s = stable_sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_y):
        x, s = ctx.saved_tensors
        return grad_y * s * (1 + x * (1 - s))


class Sigmoid(Function):
    """y = 1 / (1 + e^-x).   dy/dx = y (1 - y), so backward needs only the output.

    Stable for large |x|: see ``stable_sigmoid``. Note y (1 - y) <= 1/4 (equality at x = 0):
    the sigmoid's own factor in the chain rule is at most 1/4. A layer's backward also
    multiplies by its weights (grad_x = (grad_z) W), which can amplify: sigmoid(w x) has
    slope w/4 at 0. With the usual small initial weights the product shrinks layer after
    layer, the vanishing gradient of deep sigmoid nets.
    """

    @staticmethod
    def forward(ctx, x):
        y = stable_sigmoid(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * y * (1 - y)

    @staticmethod
    def emit(e, needs, x):
        """gn.compile: ``stable_sigmoid`` written out (z = e^-|x|, then 1 / (1 + z) where
        x >= 0 and z / (1 + z) elsewhere: the same divisions); backward g y (1 - y)."""
        y, one_plus_z = e.like(x, "sigmoid"), e.like(x, "one_plus_z")
        e.line(f"np.abs({x}, out={y})")
        e.line(f"np.negative({y}, out={y})")
        e.line(f"np.exp({y}, out={y})  # z = e^-|x| <= 1: never overflows")
        e.line(f"np.add(1, {y}, out={one_plus_z})")
        e.line(f"np.copyto({y}, 1, where={x} >= 0)  # numerator: 1 where x >= 0, else z")
        e.line(f"np.divide({y}, {one_plus_z}, out={y})")

        def backward(g):
            grad_x, one_minus_y = e.grad(x), e.like(x, "one_minus_y")
            e.line(f"np.multiply({g}, {y}, out={grad_x})")
            e.line(f"np.subtract(1, {y}, out={one_minus_y})")
            e.line(f"np.multiply({grad_x}, {one_minus_y}, out={grad_x})  # g y (1 - y)")
            return grad_x

        return y, backward


class Tanh(Function):
    """y = tanh(x).   dy/dx = 1 - y^2, so backward needs only the output."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * (1 - y * y)

    @staticmethod
    def emit(e, needs, x):
        """gn.compile: the same rules, into arrays made once."""
        y = e.like(x, "tanh")
        e.line(f"np.tanh({x}, out={y})")

        def backward(g):
            grad_x = e.grad(x)
            e.line(f"np.multiply({y}, {y}, out={grad_x})")
            e.line(f"np.subtract(1, {grad_x}, out={grad_x})")
            e.line(f"np.multiply({grad_x}, {g}, out={grad_x})  # g (1 - y^2)")
            return grad_x

        return y, backward


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, a smooth ReLU.   dy/dx = sigmoid(beta x).

    Computed as (max(z, 0) + log1p(e^-|z|)) / beta with z = beta x, which never overflows;
    where z > threshold, y = x exactly (as PyTorch does), with slope 1.
    """

    @staticmethod
    def forward(ctx, x, beta, threshold):
        z = x * np.asarray(beta, dtype=x.dtype)
        ctx.save_for_backward(z)
        ctx.threshold = threshold
        smooth = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / np.asarray(beta, x.dtype)
        return np.where(z > threshold, x, smooth)

    @staticmethod
    def backward(ctx, grad_y):
        (z,) = ctx.saved_tensors
        return np.where(z > ctx.threshold, grad_y, grad_y * stable_sigmoid(z))


class Softmax(Function):
    """s_i = e^(x_i) / sum_j e^(x_j) along ``dim``.

    Forward subtracts the row max m first: e^(x_i - m) / sum_j e^(x_j - m) is the same
    value (e^-m cancels), but every exponent is <= 0, so e^1000 never overflows to inf
    and inf/inf never gives nan. softmax([1000, 2000, 3000]) = [0, 0, 1].

    Jacobian: ds_i/dx_j = s_i (1 - s_i) if i = j, and -s_i s_j if i != j; together
    J = diag(s) - s s^T. Backward never builds J (n^2 numbers per row): the
    vector-Jacobian product is
        grad_x = J^T g = s * g - s (s . g) = s * (g - sum_j g_j s_j).
    """

    @staticmethod
    def forward(ctx, x, dim):
        e = np.exp(x - x.max(axis=dim, keepdims=True))
        s = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(s)
        ctx.dim = dim
        return s

    @staticmethod
    def backward(ctx, grad_y):
        (s,) = ctx.saved_tensors
        return s * (grad_y - (grad_y * s).sum(axis=ctx.dim, keepdims=True))

    @staticmethod
    def emit(e, needs, x, dim):
        """gn.compile: the same steps, into arrays made once; backward is the
        vector-Jacobian product s * (g - sum(g s)), never J."""
        s, row = e.like(x, "softmax"), e.new(_kept(x.shape, dim), x.dtype, "row")
        e.line(f"np.max({x}, axis={dim}, keepdims=True, out={row})")
        e.line(f"np.subtract({x}, {row}, out={s})  # every exponent <= 0")
        e.line(f"np.exp({s}, out={s})")
        e.line(f"np.sum({s}, axis={dim}, keepdims=True, out={row})")
        e.line(f"np.divide({s}, {row}, out={s})")

        def backward(g):
            gs, total = e.like(x, "g_times_s"), e.new(_kept(x.shape, dim), x.dtype, "g_dot_s")
            grad_x = e.grad(x)
            e.line(f"np.multiply({g}, {s}, out={gs})")
            e.line(f"np.sum({gs}, axis={dim}, keepdims=True, out={total})  # g . s per row")
            e.line(f"np.subtract({g}, {total}, out={gs})")
            e.line(f"np.multiply({s}, {gs}, out={grad_x})  # s * (g - g . s)")
            return grad_x, None

        return s, backward


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e^(x_j) = x_i - logsumexp(x), along ``dim``.

    Never log(softmax(x)): a tiny probability rounds to 0 and its log to -inf. The
    log-sum-exp form subtracts the max first, so it is finite for any finite x.
    dy_i/dx_j = [i = j] - s_j, so grad_x = g - s * sum_i g_i, with s = e^y the softmax.
    """

    @staticmethod
    def forward(ctx, x, dim):
        y = stable_log_softmax(x, dim)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y - np.exp(y) * grad_y.sum(axis=ctx.dim, keepdims=True)

    @staticmethod
    def emit(e, needs, x, dim):
        """gn.compile: ``stable_log_softmax``'s steps, then g - e^y sum(g), into arrays
        made once."""
        y, row = e.like(x, "log_softmax"), e.new(_kept(x.shape, dim), x.dtype, "row")
        exps = e.like(x, "exps")
        e.line(f"np.max({x}, axis={dim}, keepdims=True, out={row})")
        e.line(f"np.subtract({x}, {row}, out={y})  # every exponent <= 0")
        e.line(f"np.exp({y}, out={exps})")
        e.line(f"np.sum({exps}, axis={dim}, keepdims=True, out={row})")
        e.line(f"np.log({row}, out={row})")
        e.line(f"np.subtract({y}, {row}, out={y})  # x - logsumexp(x): never log(softmax)")

        def backward(g):
            total, grad_x = e.new(_kept(x.shape, dim), x.dtype, "g_sum"), e.grad(x)
            e.line(f"np.sum({g}, axis={dim}, keepdims=True, out={total})")
            e.line(f"np.exp({y}, out={exps})  # s = e^y")
            e.line(f"np.multiply({exps}, {total}, out={exps})")
            e.line(f"np.subtract({g}, {exps}, out={grad_x})  # g - s sum(g)")
            return grad_x, None

        return y, backward


def _kept(shape: tuple[int, ...], dim: int) -> tuple[int, ...]:
    """``shape`` reduced along ``dim`` with keepdims (the per-row arrays of a softmax)."""
    dim %= len(shape)
    return tuple(1 if i == dim else n for i, n in enumerate(shape))


# ------------------------------------------------------------------ the functions users call
def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise; gradient 1 where x > 0, else 0 (also at 0)."""
    require_float(x, "relu")
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else ``negative_slope * x``."""
    require_float(x, "leaky_relu")
    return LeakyReLU.apply(x, negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x where x > 0, else ``alpha * (e^x - 1)``."""
    require_float(x, "elu")
    return ELU.apply(x, alpha)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x); ``approximate='tanh'`` uses the tanh approximation of Phi."""
    require_float(x, "gelu")
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(x, approximate)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x)."""
    require_float(x, "silu")
    return SiLU.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + e^-x), stable for any x."""
    require_float(x, "sigmoid")
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    require_float(x, "tanh")
    return Tanh.apply(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, linear where beta * x > threshold."""
    require_float(x, "softplus")
    return Softplus.apply(x, beta, threshold)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """e^x / sum(e^x) along ``dim`` (the last by default), stable for any finite input."""
    require_float(x, "softmax")
    axis = normalize_dim(dim, x.ndim, "softmax") if x.ndim else None
    return Softmax.apply(x, axis)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """x - logsumexp(x) along ``dim`` (the last by default), finite for any finite input."""
    require_float(x, "log_softmax")
    axis = normalize_dim(dim, x.ndim, "log_softmax") if x.ndim else None
    return LogSoftmax.apply(x, axis)
