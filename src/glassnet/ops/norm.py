"""Normalisation: (x - mean) / sqrt(var + eps) over some axes, the core of LayerNorm and
BatchNorm (their scale and shift are ordinary elementwise ops on top)."""

from __future__ import annotations

import numpy as np

from glassnet.autograd.function import Function


class RunningStats(Function):
    """Training BatchNorm's side step: y = x, while the running statistics follow the
    batch's: running = (1 - momentum) running + momentum * batch (the unbiased variance,
    n / (n - 1), for running_var, as PyTorch). With a ``count`` (num_batches_tracked) it is
    advanced by one, and ``cumulative`` (momentum=None) makes momentum 1 / count: the
    plain mean of every batch so far.

    The identity's backward: grad_x = grad_y. The statistics are buffers, written in place
    here (inside the op, so that gn.compile replays the update as well: ``writes`` names
    the arguments it changes).
    """

    writes = (1, 2, 3)

    @staticmethod
    def forward(ctx, x, running_mean, running_var, count, axes, momentum, cumulative):
        if count is not None:
            count += 1
            if cumulative:
                momentum = 1.0 / float(count)
        n = x.size // x.shape[1]
        mean = x.mean(axis=axes)
        var = x.var(axis=axes) * (n / (n - 1))
        running_mean *= 1 - momentum
        running_mean += momentum * mean.astype(running_mean.dtype)
        running_var *= 1 - momentum
        running_var += momentum * var.astype(running_var.dtype)
        return x.view()

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y, None, None, None, None, None, None

    @staticmethod
    def emit(e, needs, x, running_mean, running_var, count, axes, momentum, cumulative):
        """gn.compile: the same update, in place, each step; y is x itself."""
        n = int(np.prod(x.shape)) // x.shape[1]
        step = "momentum"
        if count is not None:
            e.line(f"np.add({count}, 1, out={count})  # num_batches_tracked")
        if cumulative:
            e.line(f"momentum = 1.0 / float({count})  # momentum=None: the mean of all batches")
        else:
            e.line(f"momentum = {momentum!r}")
        e.line(f"np.multiply({running_mean}, 1 - {step}, out={running_mean})")
        mean = f"{x}.mean(axis={axes}).astype(np.{running_mean.dtype})"
        e.line(f"np.add({running_mean}, {step} * {mean}, out={running_mean})")
        e.line(f"np.multiply({running_var}, 1 - {step}, out={running_var})")
        e.line(
            f"np.add({running_var}, {step} * ({x}.var(axis={axes}) * {n / (n - 1)!r})"
            f".astype(np.{running_var.dtype}), out={running_var})  # unbiased"
        )

        def backward(g):
            passed = type(g)(g.name, g.shape, g.dtype, owned=False)  # g itself, not owned
            return passed, None, None, None, None, None, None

        return x, backward


class RunningNormalize(Function):
    """Evaluation BatchNorm: y = (x - mean) / sqrt(var + eps) per channel (dim 1), with the
    running statistics, which are constants here (buffers, not trained):
        grad_x = grad_y / sqrt(var + eps).
    One op rather than five on the buffers, and so one template for gn.compile.
    """

    @staticmethod
    def forward(ctx, x, mean, var, eps):
        view = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        scale = (1 / np.sqrt(var + np.asarray(eps, dtype=var.dtype))).reshape(view)
        ctx.save_for_backward(scale)
        return (x - mean.reshape(view)) * scale

    @staticmethod
    def backward(ctx, grad_y):
        (scale,) = ctx.saved_tensors
        return grad_y * scale, None, None, None

    @staticmethod
    def emit(e, needs, x, mean, var, eps):
        """gn.compile: the same arithmetic, the scale worked out each call (the running
        statistics may have moved since)."""
        view = (1, x.shape[1]) + (1,) * (len(x.shape) - 2)
        scale, y = e.new(view, var.dtype, "scale"), e.out("normalized")
        epsilon = e.bind(np.asarray(eps, dtype=var.dtype), "eps")
        e.line(f"np.add({var}.reshape({view}), {epsilon}, out={scale})")
        e.line(f"np.sqrt({scale}, out={scale})")
        e.line(f"np.divide(1, {scale}, out={scale})  # 1 / sqrt(var + eps)")
        e.line(f"np.subtract({x}, {mean}.reshape({view}), out={y})")
        e.line(f"np.multiply({y}, {scale}, out={y})")

        def backward(g):
            grad_x = e.grad(x)
            e.line(f"np.multiply({g}, {scale}, out={grad_x})")
            return grad_x, None, None, None

        return y, backward


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
