"""Unary math beyond exp/log/sqrt/abs: sin, cos, log1p, expm1, erf, and the step functions
sign, floor and round.

Each is elementwise, so its Jacobian is diagonal and backward is grad_x = grad_y * f'(x).
The step functions are flat almost everywhere and jump where they are not: their
derivative is 0 wherever it exists, and PyTorch (so glassnet) uses 0 at the jumps too. A
gradient of exactly zero is what a user gets when they put ``round`` in a loss; to train
through a rounding, use the straight-through trick ``x + (x.round() - x).detach()``.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.special import erf as _erf

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Sin(Function):
    """y = sin x.   dy/dx = cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * np.cos(x)


class Cos(Function):
    """y = cos x.   dy/dx = -sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return -grad_y * np.sin(x)


class Log1p(Function):
    """y = ln(1 + x), exact for tiny x (where 1 + x would round away x).   dy/dx = 1/(1 + x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log1p(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y / (1 + x)


class Expm1(Function):
    """y = e^x - 1, exact for tiny x.   dy/dx = e^x = y + 1, so backward needs only y."""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return grad_y * (y + 1)


class Erf(Function):
    """y = erf(x) = 2/sqrt(pi) integral_0^x e^(-t^2) dt.   dy/dx = 2/sqrt(pi) e^(-x^2).

    The forward is a vectorised rational approximation within about 1 ulp in float64
    (``glassnet.ops.special.erf``); float32 inputs are computed in float64 and rounded.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return _erf(x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved_tensors
        return grad_y * (_TWO_OVER_SQRT_PI * np.exp(-x * x))


class ZeroGradient:
    """The backward the step functions share (``class Sign(ZeroGradient, Function)``): flat
    between its jumps, a step function has dy/dx = 0 there, and PyTorch takes 0 at the jumps
    too, so grad_x = 0 everywhere. A mix-in, not an op: it has no forward of its own."""

    @staticmethod
    def backward(ctx, grad_y):
        return np.zeros_like(grad_y)


class Sign(ZeroGradient, Function):
    """y = sign(x): -1, 0 or 1.   dy/dx = 0 (also at the jump x = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        return np.sign(x)


class Floor(ZeroGradient, Function):
    """y = floor(x), the largest integer <= x.   dy/dx = 0 (also at the integers)."""

    @staticmethod
    def forward(ctx, x):
        return np.floor(x)


class Round(ZeroGradient, Function):
    """y = x rounded to ``decimals`` places, halves to even (2.5 -> 2).   dy/dx = 0.

    With decimals d > 0: rint(x * 10^d) / 10^d; with d < 0: rint(x / 10^-d) * 10^-d, the
    same two formulas as PyTorch, so that the halfway cases round the same way.
    """

    @staticmethod
    def forward(ctx, x, decimals):
        if decimals == 0:
            return np.rint(x)
        scale = np.asarray(10.0 ** abs(decimals), dtype=x.dtype)
        return np.rint(x * scale) / scale if decimals > 0 else np.rint(x / scale) * scale


# ------------------------------------------------------------------ the functions users call
def _floating(x: Tensor) -> Tensor:
    """Integer and bool tensors become float32 first, as PyTorch does for sin, erf, ..."""
    if x.dtype.kind in "fc":
        return x
    return Tensor._make(x.data.astype(np.float32))


def sin(x: Tensor) -> Tensor:
    """Elementwise sine (radians)."""
    return Sin.apply(_floating(x))


def cos(x: Tensor) -> Tensor:
    """Elementwise cosine (radians)."""
    return Cos.apply(_floating(x))


def log1p(x: Tensor) -> Tensor:
    """Elementwise ln(1 + x), accurate for |x| much smaller than 1."""
    return Log1p.apply(_floating(x))


def expm1(x: Tensor) -> Tensor:
    """Elementwise e^x - 1, accurate for |x| much smaller than 1."""
    return Expm1.apply(_floating(x))


def erf(x: Tensor) -> Tensor:
    """Elementwise error function."""
    return Erf.apply(_floating(x))


def sign(x: Tensor) -> Tensor:
    """Elementwise sign: -1, 0 or 1 (same dtype as x). Its gradient is zero."""
    return Sign.apply(x)


def floor(x: Tensor) -> Tensor:
    """Elementwise floor; an integer tensor comes back unchanged. Its gradient is zero."""
    if x.dtype.kind in "iub":
        return Tensor._make(x.data.copy())
    return Floor.apply(x)


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even (PyTorch's rule: 0.5 -> 0, 1.5 -> 2), to ``decimals`` places.

    Args:
        x: the tensor to round; an integer tensor comes back unchanged when decimals is 0.
        decimals: places after the point; negative rounds to tens, hundreds, ...

    Returns:
        A tensor of x's dtype. Its gradient is zero.

    Raises:
        TypeError: if decimals is not an int, or if an integer tensor is rounded to
            nonzero decimals (PyTorch refuses that too).
    """
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    if x.dtype.kind in "iub":
        if decimals != 0:
            raise TypeError(
                f"round: decimals={decimals} needs a floating-point tensor, got dtype "
                f"{x.dtype}; convert with .float() first"
            )
        return Tensor._make(x.data.copy())
    return Round.apply(x, int(decimals))
