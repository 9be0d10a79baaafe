"""Convolution layers with PyTorch's names, arguments, defaults and initialisation:
``Conv1d`` and ``Conv2d`` (weight of shape (out_channels, in_channels / groups, *kernel))."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.nn import functional as F
from glassnet.nn import init
from glassnet.nn.module import Module
from glassnet.nn.parameter import Parameter


def _tuple(value: int | Sequence[int], nd: int, name: str, layer: str) -> tuple[int, ...]:
    values = (value,) * nd if isinstance(value, (int, np.integer)) else tuple(value)
    if len(values) != nd or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{layer}: {name} must be an int or a tuple of {nd} ints, got {value!r}")
    return tuple(int(v) for v in values)


class _ConvNd(Module):
    """What Conv1d and Conv2d share: the arguments, the parameters and their initialisation."""

    _nd = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        nd, layer = self._nd, type(self).__name__
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
        if not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{layer}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{layer}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"{layer}: padding_mode={padding_mode!r} is not implemented; only 'zeros' is "
                "(pad the input yourself first for the other modes)"
            )
        if device not in (None, "cpu"):
            raise ValueError(f"{layer}: glassnet runs on the CPU only, got device={device!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size", layer)
        self.stride = _tuple(stride, nd, "stride", layer)
        self.dilation = _tuple(dilation, nd, "dilation", layer)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{layer}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{layer}: padding='same' needs stride 1, got stride="
                    f"{self.stride}; pass the padding as a number instead"
                )
            self.padding: str | tuple[int, ...] = padding
        else:
            self.padding = _tuple(padding, nd, "padding", layer)
        self.groups, self.padding_mode = int(groups), padding_mode
        dtype = np.float32 if dtype is None else dtype
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        # registered even when absent, as PyTorch does: named_parameters lists no None
        self.register_parameter(
            "bias", Parameter(np.empty((out_channels,), dtype=dtype)) if bias else None
        )
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's default: W from kaiming_uniform_(a = sqrt 5), which is
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels / groups * prod(kernel),
        and b from the same interval."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound, generator)

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._nd:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s

    def _check(self, x: Tensor, dims: str) -> None:
        if x.ndim not in (self._nd + 1, self._nd + 2) or x.shape[-self._nd - 1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}({self.in_channels} -> {self.out_channels}) expects input "
                f"{dims} with C_in = {self.in_channels} (or without N), got {x.shape}; "
                "channels come first after the batch dimension (use permute for channels-last)"
            )


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L): ``F.conv1d`` with a weight of shape
    (out_channels, in_channels / groups, kernel_size) and a bias of shape (out_channels,)."""

    _nd = 1

    def forward(self, x: Tensor) -> Tensor:
        self._check(x, "(N, C_in, L)")
        return F.conv1d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W): ``F.conv2d`` with a weight of shape
    (out_channels, in_channels / groups, kH, kW) and a bias of shape (out_channels,)."""

    _nd = 2

    def forward(self, x: Tensor) -> Tensor:
        self._check(x, "(N, C_in, H, W)")
        return F.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )
