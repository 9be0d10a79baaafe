"""Normalisation layers: LayerNorm, BatchNorm1d/2d, GroupNorm, RMSNorm, with PyTorch's
semantics."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.device import check_device
from glassnet.autograd.tensor import Tensor
from glassnet.nn import functional as F
from glassnet.nn import init
from glassnet.nn.module import Module
from glassnet.nn.parameter import Parameter


def _check_dtype(place: str, x: Tensor, like: Tensor | None) -> None:
    """The input must have the parameters' (or running statistics') dtype, as PyTorch's
    "mixed dtype" error: a float64 input would silently upcast the float32 layer."""
    if like is not None and x.dtype != like.dtype:
        fix = ".float()" if like.dtype == np.float32 else f".to({np.dtype(like.dtype).name})"
        raise TypeError(
            f"{place}: input has dtype {x.dtype} but the layer's parameters are {like.dtype}; "
            f"convert the input with {fix} (or the layer with .double() / dtype=...)"
        )


class LayerNorm(Module):
    """Normalise each sample over its last dimensions, then scale (weight) and shift (bias).

    y = (x - mean) / sqrt(var + eps) * weight + bias, statistics per sample, so it behaves
    the same in training and evaluation and for any batch size.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        shape = F.as_shape(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        dtype = np.float32 if dtype is None else dtype
        weight = Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None
        self.register_parameter("weight", weight)  # registered even as None, as in PyTorch
        with_bias = elementwise_affine and bias
        self.register_parameter(
            "bias", Parameter(np.zeros(shape, dtype=dtype)) if with_bias else None
        )

    def forward(self, x: Tensor) -> Tensor:
        F.check_normalized_shape(f"LayerNorm({self.normalized_shape})", x, self.normalized_shape)
        _check_dtype(f"LayerNorm({self.normalized_shape})", x, self.weight)
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class _BatchNorm(Module):
    """Normalise each channel (dim 1) over the batch and any spatial dimensions.

    Training: batch statistics normalise; running_mean and running_var follow them with
    ``running = (1 - momentum) running + momentum * batch`` (unbiased variance), and
    num_batches_tracked counts the updates (momentum=None averages over all batches).
    Evaluation: the running statistics normalise. Subclasses only say which input shapes
    they accept (``_check_input``).
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_device(device)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.with_bias = affine and bias
        dtype = np.float32 if dtype is None else dtype
        # registered even as None, as in PyTorch
        self.register_parameter(
            "weight", Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        )
        self.register_parameter(
            "bias", Parameter(np.zeros(num_features, dtype=dtype)) if self.with_bias else None
        )
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        """Forget the running statistics."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked.data[...] = 0

    def _check_input(self, x: Tensor) -> None:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        like = self.weight if self.weight is not None else self.running_mean
        _check_dtype(f"{type(self).__name__}({self.num_features})", x, like)
        use_batch_stats = self.training or not self.track_running_stats
        tracked = self.track_running_stats
        return F.batch_norm_counted(
            x,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            use_batch_stats,
            self.momentum,  # None: the cumulative moving average, 1 / num_batches_tracked
            self.eps,
            # advanced with the running statistics (training), inside the op
            self.num_batches_tracked if tracked and self.training else None,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.with_bias}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Normalise each feature (channel) over the batch, for input (N, C) or (N, C, L)."""

    def _check_input(self, x: Tensor) -> None:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects input (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {x.shape}"
            )


class BatchNorm2d(_BatchNorm):
    """Normalise each channel over the batch and both spatial dimensions, for images
    (N, C, H, W): statistics over (N, H, W), one mean and variance per channel."""

    def _check_input(self, x: Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm2d({self.num_features}) expects input (N, {self.num_features}, H, W), "
                f"got {x.shape}; for (N, C) or (N, C, L) use BatchNorm1d"
            )


class GroupNorm(Module):
    """Normalise each sample over groups of channels (and all spatial positions), then
    scale and shift per channel. Input (N, C, *); C must be divisible by num_groups.

    num_groups=1 normalises each whole sample (like LayerNorm over (C, *)); num_groups=C
    normalises each channel on its own (instance norm). No running statistics.
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_device(device)
        if num_channels % num_groups != 0:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups}); pick num_groups dividing the channel count"
            )
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.affine, self.with_bias = affine, affine and bias
        dtype = np.float32 if dtype is None else dtype
        self.register_parameter(
            "weight", Parameter(np.ones(num_channels, dtype=dtype)) if affine else None
        )
        self.register_parameter(
            "bias", Parameter(np.zeros(num_channels, dtype=dtype)) if self.with_bias else None
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm({self.num_groups}, {self.num_channels}) expects input "
                f"(N, {self.num_channels}, *), got {x.shape}"
            )
        _check_dtype(f"GroupNorm({self.num_groups}, {self.num_channels})", x, self.weight)
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.with_bias}"
        )


class RMSNorm(Module):
    """Divide each sample by its root mean square over the last dimensions, then scale:
    ``y = x / sqrt(mean(x^2) + eps) * weight``. No centring and no bias, unlike LayerNorm.

    ``eps=None`` uses the machine epsilon of the input's dtype, as PyTorch does.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        check_device(device)
        shape = F.as_shape(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.elementwise_affine = elementwise_affine
        dtype = np.float32 if dtype is None else dtype
        weight = Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None
        self.register_parameter("weight", weight)

    def forward(self, x: Tensor) -> Tensor:
        F.check_normalized_shape(f"RMSNorm({self.normalized_shape})", x, self.normalized_shape)
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
