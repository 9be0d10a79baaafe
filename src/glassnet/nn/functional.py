"""The stateless functions, PyTorch's ``torch.nn.functional`` names: ``import
glassnet.nn.functional as F``.

Activations and losses live in ``glassnet.ops``; this module adds the layer functions
that need a mode or a generator (dropout, normalisation, embedding).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from glassnet.ops.attention import scaled_dot_product_attention
from glassnet.ops.conv import conv1d, conv2d
from glassnet.ops.conv_transpose import conv_transpose1d, conv_transpose2d
from glassnet.ops.dropout import dropout_op
from glassnet.ops.embedding import embedding
from glassnet.ops.linalg import linear
from glassnet.ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from glassnet.ops.norm import Normalize, RunningNormalize, RunningStats
from glassnet.ops.pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "embedding",
    "gelu",
    "group_norm",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "relu",
    "rms_norm",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "tanh",
]


def dropout(
    input: Tensor,  # noqa: A002 - PyTorch's name
    p: float = 0.5,
    training: bool = True,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p).

    The scaling keeps the expected value of every unit unchanged, so evaluation needs no
    rescaling: in eval mode (``training=False``) dropout is the identity.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be a probability in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return dropout_op(input, p, input.shape, generator)


def dropout2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Channel dropout for (N, C, H, W): zero each whole channel (feature map) with
    probability p and scale the kept ones by 1/(1-p); the identity when not training.

    Neighbouring pixels of a feature map are strongly correlated, so zeroing single pixels
    regularises little; dropping whole maps does. One mask value per (sample, channel).

    As PyTorch 2.13, the mask is always one value per (dim 0, dim 1) pair: a 3-D input is
    read as (N, C, L) (channel-wise 1-D dropout, not an unbatched image), with PyTorch's
    warning. Other shapes, deprecated in PyTorch, are refused. ``inplace`` is accepted for
    PyTorch compatibility; the result is always a new tensor.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1], got {p}")
    if input.ndim not in (3, 4):
        # PyTorch still runs these (deprecated, elementwise for 2-D), almost always a mistake
        raise ValueError(
            f"dropout2d: expects input (N, C, H, W), got {input.shape}; add a batch "
            "dimension with x.unsqueeze(0) for a single image, use F.dropout for (N, F)"
        )
    if input.ndim == 3:
        warnings.warn(
            f"dropout2d: received a 3-D input {input.shape}, read as (N, C, L) as PyTorch "
            "does (channel-wise 1-D dropout), not as an unbatched (C, H, W) image; for an "
            "image add the batch dimension with x.unsqueeze(0)",
            UserWarning,
            stacklevel=2,
        )
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    return dropout_op(input, p, input.shape[:2] + (1,) * (input.ndim - 2), generator)


def as_shape(normalized_shape: int | Any) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple: PyTorch takes an int or a sequence of ints."""
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def check_normalized_shape(place: str, x: Tensor, normalized_shape: tuple[int, ...]) -> None:
    """The last dims of ``x`` must be ``normalized_shape``; else an error naming ``place``."""
    if tuple(x.shape[-len(normalized_shape) :]) != normalized_shape:
        raise ValueError(
            f"{place} expects input (..., {', '.join(map(str, normalized_shape))}), "
            f"got {x.shape}; the last dimensions must equal normalized_shape"
        )


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dimensions of each sample, then
    scale by ``weight`` and shift by ``bias``."""
    shape = as_shape(normalized_shape)
    check_normalized_shape("layer_norm:", input, shape)
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    y = Normalize.apply(input, axes, eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) over the batch and any further (length, spatial)
    dimensions: input (N, C), (N, C, L) or (N, C, H, W).

    In training, the batch statistics normalise and the running ones are updated in place:
    ``running = (1 - momentum) running + momentum * batch``, with the unbiased variance
    (n / (n - 1)) for ``running_var``, as PyTorch does. In evaluation the running
    statistics normalise, so one sample's output does not depend on the rest of its batch.
    """
    return batch_norm_counted(
        input, running_mean, running_var, weight, bias, training, momentum, eps
    )


def batch_norm_counted(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float | None,
    eps: float,
    count: Tensor | None = None,
) -> Tensor:
    """``batch_norm``, also advancing ``count`` (a module's num_batches_tracked) when it
    updates the running statistics; momentum None averages all batches (1 / count)."""
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm: expects input (N, C, *), e.g. (N, C) or (N, C, H, W), got {input.shape}"
        )
    channels = input.shape[1]
    axes = (0, *range(2, input.ndim))
    if training or running_mean is None:
        n = input.numel() // channels
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {input.shape}; use a batch of 2 or more, or call model.eval()"
            )
        x = input
        if running_mean is not None and running_var is not None:
            cumulative = momentum is None
            x = RunningStats.apply(
                x, running_mean, running_var, count, axes, momentum or 0.0, cumulative
            )
        y = Normalize.apply(x, axes, eps)
    else:
        y = RunningNormalize.apply(input, running_mean, running_var, eps)
    return _per_channel_affine(y, weight, bias)


def _per_channel_affine(y: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """y * weight + bias with one weight and bias per channel (dim 1), for (N, C, *) input."""
    view = (1, y.shape[1]) + (1,) * (y.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(view)
    if bias is not None:
        y = y + bias.reshape(view)
    return y


def group_norm(
    input: Tensor,  # noqa: A002
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Split the channels (dim 1) of each sample into ``num_groups`` groups and normalise
    each group over its channels and spatial positions, then scale and shift per channel.

    A composition: reshape to (N, G, -1) so each group is one row, Normalize over that row,
    reshape back; the per-sample statistics make it independent of the batch size.
    """
    if input.ndim < 2 or input.shape[1] % num_groups != 0:
        raise ValueError(
            f"group_norm: expects input (N, C, *) with C divisible by num_groups={num_groups}, "
            f"got {input.shape}; pick num_groups dividing the channel count"
        )
    n = input.shape[0]
    y = Normalize.apply(input.reshape(n, num_groups, -1), (2,), eps).reshape(input.shape)
    return _per_channel_affine(y, weight, bias)


def rms_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: Any,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Divide by the root mean square over the last ``len(normalized_shape)`` dimensions:
    ``x / sqrt(mean(x^2) + eps) * weight``; no centring and no bias.

    ``eps=None`` means ``np.finfo(input.dtype).eps``, as in PyTorch. A composition of
    elementwise ops and a mean, so their backwards give the gradient.
    """
    shape = as_shape(normalized_shape)
    check_normalized_shape("rms_norm:", input, shape)
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    # eps inside the root keeps an all-zero row finite (0 / sqrt(eps) = 0)
    y = input / ((input * input).mean(dims, keepdim=True) + eps).sqrt()
    if weight is not None:
        y = y * weight
    return y


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer class indices -> int64 one-hot vectors along a new last dimension."""
    labels = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class indices, got dtype {labels.dtype}")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"one_hot: class values must be in [0, {num_classes}), got values from "
            f"{int(labels.min())} to {int(labels.max())}"
        )
    return Tensor._make(np.eye(num_classes, dtype=np.int64)[labels])
