"""Dropout: each unit (or each whole channel) zeroed at random during training.

Inverted dropout: y = x * m / (1 - p), with m_i ~ Bernoulli(1 - p) drawn fresh on every
call from the generator (glassnet's default one unless given). The scaling keeps every
unit's expected value, so evaluation needs no rescaling: in eval mode dropout is the
identity (the functions that call this op return the input itself then).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.function import Function
from glassnet.random import resolve_generator


class Dropout(Function):
    """y = x * mask, mask = keep / (1 - p) with keep ~ Bernoulli(1 - p) drawn per call.

    ``mask_shape`` is x's shape (dropout) or (N, C, 1, ...) (dropout2d: one draw per
    channel, broadcast over its positions). Linear in x for the mask drawn, so
        grad_x = grad_y * mask
    (a dropped unit passes no gradient back; a kept one passes it scaled by 1 / (1 - p)).
    Saved: the mask. ``random`` tells gn.compile that this op draws numbers: its code
    replays the same draws from the same generator.
    """

    random = True

    @staticmethod
    def forward(ctx, x, p, mask_shape, generator):
        keep = resolve_generator(generator).random(mask_shape) >= p
        mask = keep.astype(x.dtype) / np.asarray(1 - p, dtype=x.dtype)
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad_y):
        (mask,) = ctx.saved_tensors
        return grad_y * mask, None, None, None

    @staticmethod
    def emit(e, needs, x, p, mask_shape, generator):
        """gn.compile: the same draws (float64, from the generator resolved each step, as
        eager), the same mask arithmetic, into arrays made once."""
        resolve = e.bind(resolve_generator, "resolve_generator", exact=True)
        uniform = e.new(mask_shape, np.float64, "uniform")
        keep = e.new(mask_shape, bool, "keep")
        mask = e.new(mask_shape, x.dtype, "mask")
        scale = e.bind(np.asarray(1 - p, dtype=x.dtype), "one_minus_p")
        y = e.like(x, "dropout")
        e.line(f"{resolve}({e.ref(generator)}).random(out={uniform})  # eager's very draws")
        e.line(f"np.greater_equal({uniform}, {p!r}, out={keep})  # kept with probability 1 - p")
        e.line(f"np.divide({keep}, {scale}, out={mask})  # keep / (1 - p)")
        e.line(f"np.multiply({x}, {mask}, out={y})")

        def backward(g):
            grad_x = e.grad(x)
            e.line(f"np.multiply({g}, {mask}, out={grad_x})  # dropped units pass nothing")
            return grad_x, None, None, None

        return y, backward


def dropout_op(x: Any, p: float, mask_shape: tuple[int, ...], generator: Any) -> Any:
    """``Dropout.apply`` (the functions check p and the training flag first)."""
    return Dropout.apply(x, p, tuple(mask_shape), generator)
