"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from glassnet.autograd.tensor import Tensor


def _with_grads(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _vector_norm(x: np.ndarray, norm_type: float) -> float:
    """The p-norm of all elements of ``x`` as one vector, with PyTorch's conventions::

        p = inf:   max |x_i|          p = -inf:  min |x_i|
        p = 0:     number of x_i != 0 (NaN counts)
        otherwise: (sum |x_i|^p)^(1/p)   (p < 0 too: a zero element makes the norm 0)

    NaN anywhere gives NaN (except for p = 0); an inf element gives inf for p > 0.
    Summed in float64.
    """
    x = np.abs(np.asarray(x, dtype=np.float64).ravel())
    if x.size == 0 and (norm_type < 0 or math.isinf(norm_type)):
        raise RuntimeError(
            f"clip_grad_norm_: the {norm_type} norm of an empty gradient is undefined (there is "
            "no maximum or minimum of nothing); leave empty parameters out of the list"
        )
    if norm_type == math.inf:
        return float(np.max(x))  # np.max propagates NaN, unlike Python's max()
    if norm_type == -math.inf:
        return float(np.min(x))
    if norm_type == 0:
        return float(np.count_nonzero(x))
    if norm_type == 2:
        return float(np.sqrt(np.dot(x, x)))
    if norm_type == 1:
        return float(np.sum(x))
    with np.errstate(divide="ignore", over="ignore"):  # 0^-p = inf and overflow give 0, inf
        return float(np.sum(x**norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    As PyTorch: the norm of each gradient is taken, then the norm of those norms (for the
    p-norms equal to the norm of all gradients concatenated into one vector)::

        total = || (||g_1||_p, ..., ||g_n||_p) ||_p
        g_i = g_i * min(max_norm / (total + 1e-6), 1)

    The direction of the gradient is kept, only its length is limited. A NaN in any gradient
    makes ``total`` NaN and, scaled by NaN, every gradient NaN; an inf makes ``total`` inf
    and scales the finite gradients to 0. Returns ``total`` (watch it: a sudden jump is the
    first sign of divergence). Parameters without a gradient are skipped.

    Raises:
        RuntimeError: if ``error_if_nonfinite`` and the total norm is NaN or inf; nothing
            is scaled then.
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor(0.0)
    norm_type = float(norm_type)
    norms = np.array([_vector_norm(p.grad.data, norm_type) for p in params])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped; find where it starts (gn.autograd."
            "detect_anomaly()) or pass error_if_nonfinite=False"
        )
    # NaN stays NaN here (min() would drop it): PyTorch then scales every gradient by NaN.
    coefficient = float(np.minimum(max_norm / (total + 1e-6), 1.0))
    for p in params:
        with np.errstate(invalid="ignore"):  # inf * 0 = NaN, as in PyTorch
            p.grad.data *= np.asarray(coefficient, dtype=p.grad.dtype)
        p.grad._bump_version()
    return Tensor(total, dtype=params[0].grad.dtype)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place (NaN stays NaN)."""
    for p in _with_grads(parameters):
        np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
        p.grad._bump_version()
