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


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients as if concatenated into one vector; the
    direction of the gradient is kept, only its length is limited. Returns the norm
    before clipping (watch it: a sudden jump is the first sign of divergence).

    Raises:
        RuntimeError: if ``error_if_nonfinite`` and the norm is nan or inf.
    """
    params = _with_grads(parameters)
    if not params:
        return Tensor(0.0)
    if norm_type == math.inf:
        total = max(float(np.abs(p.grad.data).max(initial=0.0)) for p in params)
    else:
        total = sum(
            float((np.abs(p.grad.data.astype(np.float64)) ** norm_type).sum()) for p in params
        ) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
            f"{total}, so they cannot be clipped; find where it starts (gn.autograd."
            "detect_anomaly()) or pass error_if_nonfinite=False"
        )
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1:
        for p in params:
            p.grad.data *= np.asarray(coefficient, dtype=p.grad.dtype)
    return Tensor(total, dtype=params[0].grad.dtype)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    for p in _with_grads(parameters):
        np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
