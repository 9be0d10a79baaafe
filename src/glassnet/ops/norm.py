"""Normalisation: (x - mean) / sqrt(var + eps) over some axes, the core of LayerNorm and
BatchNorm (their scale and shift are ordinary elementwise ops on top)."""

from __future__ import annotations

import numpy as np

from glassnet.autograd.function import Function


class Normalize(Function):
    """x_hat = (x - mu) / sigma, with mu the mean and sigma = sqrt(var + eps) over ``axes``
    (var biased: divided by n).

    Backward. x_i moves x_hat_i directly (1/sigma), and every x_hat_j through mu and
    sigma. With g = dL/dx_hat and means taken over the same axes, the three paths add up to

        dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sigma

    The mean(g) term is the path through mu (shifting all inputs shifts nothing out), the
    mean(g x_hat) term the path through sigma (scaling all inputs scales nothing out).
    """

    @staticmethod
    def forward(ctx, x, axes, eps):
        mu = x.mean(axis=axes, keepdims=True)
        centred = x - mu
        var = (centred * centred).mean(axis=axes, keepdims=True)
        inv_sigma = 1 / np.sqrt(var + np.asarray(eps, dtype=x.dtype))
        x_hat = centred * inv_sigma
        ctx.save_for_backward(x_hat, inv_sigma)
        ctx.axes = axes
        return x_hat

    @staticmethod
    def backward(ctx, grad_y):
        x_hat, inv_sigma = ctx.saved_tensors
        axes = ctx.axes
        mean_g = grad_y.mean(axis=axes, keepdims=True)
        mean_gx = (grad_y * x_hat).mean(axis=axes, keepdims=True)
        return (grad_y - mean_g - x_hat * mean_gx) * inv_sigma
