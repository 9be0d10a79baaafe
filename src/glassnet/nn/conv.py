"""Convolution layers with PyTorch's names, arguments, defaults and initialisation:
``Conv1d`` and ``Conv2d`` (weight of shape (out_channels, in_channels / groups, *kernel)),
``ConvTranspose1d`` and ``ConvTranspose2d`` (weight of shape (in_channels,
out_channels / groups, *kernel))."""

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
from glassnet.ops.conv import _tuple
from glassnet.ops.conv_transpose import output_padding_for
from glassnet.ops.indexing import index_select

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
# padding_mode -> np.pad's mode for the positions each padded place copies
_NP_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class _ConvNd(Module):
    """What Conv1d, Conv2d and their transposes share: the arguments, the parameters and their
    initialisation (output_padding is only for the transposes, as in PyTorch)."""

    _nd = 0
    _transposed = False

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
        output_padding: int | Sequence[int] = 0,
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
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"{layer}: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, "
                f"got {padding_mode!r}"
            )
        if self._transposed and padding_mode != "zeros":
            raise ValueError(
                f"{layer}: only padding_mode='zeros' is supported for a transposed "
                f"convolution (as in PyTorch), got {padding_mode!r}; pad the output instead"
            )
        if device not in (None, "cpu"):
            raise ValueError(f"{layer}: glassnet runs on the CPU only, got device={device!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size", layer)
        if min(self.kernel_size) < 1:
            raise ValueError(
                f"{layer}: kernel_size must be >= 1 in every dimension, got {kernel_size!r}"
            )
        self.stride = _tuple(stride, nd, "stride", layer)
        self.dilation = _tuple(dilation, nd, "dilation", layer)
        self.output_padding = _tuple(output_padding, nd, "output_padding", layer)
        if any(self.output_padding) and not self._transposed:
            raise TypeError(
                f"{layer}: output_padding belongs to ConvTranspose{nd}d, not to {layer}"
            )
        if isinstance(padding, str) and self._transposed:
            raise ValueError(
                f"{layer}: padding must be an int or a tuple of {nd} ints, got {padding!r}; "
                "'same' and 'valid' exist only for Conv, not for its transpose"
            )
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
        if self._transposed:  # the weight of the Conv it is the transpose of, as PyTorch
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
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
        if self.output_padding != (0,) * self._nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _check(self, x: Tensor, dims: str) -> None:
        if x.ndim not in (self._nd + 1, self._nd + 2) or x.shape[-self._nd - 1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}({self.in_channels} -> {self.out_channels}) expects input "
                f"{dims} with C_in = {self.in_channels} (or without N), got {x.shape}; "
                "channels come first after the batch dimension (use permute for channels-last)"
            )

    def _pad(self, x: Tensor) -> tuple[Tensor, str | tuple[int, ...]]:
        """The input and the padding to hand to F.conv: for padding_mode 'zeros' the conv pads
        itself; for the others the input is padded here (as PyTorch's F.pad does) and the conv
        gets padding 0. Each padded place is a copy of an input place, so padding is one
        index_select per spatial dimension and its gradient adds back onto the place copied."""
        if self.padding_mode == "zeros" or self.padding == "valid":
            return x, self.padding
        if self.padding == "same":  # d (k - 1) in all, the odd one after, as F.conv pads it
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            pads = [(t // 2, t - t // 2) for t in totals]
        else:
            pads = [(p, p) for p in self.padding]
        for i, (lo, hi) in enumerate(pads):
            dim = x.ndim - self._nd + i
            size = x.shape[dim]
            # PyTorch's limits: a reflection may not reach past the far edge (nor repeat the
            # edge), a circular pad may not wrap around more than once
            limit = size - 1 if self.padding_mode == "reflect" else size
            if self.padding_mode != "replicate" and max(lo, hi) > limit:
                raise ValueError(
                    f"{type(self).__name__}: padding_mode={self.padding_mode!r} with padding "
                    f"{(lo, hi)} needs a spatial size of at least "
                    f"{max(lo, hi) + (self.padding_mode == 'reflect')} in dimension {dim}, "
                    f"got input {x.shape}; use less padding or padding_mode='zeros'"
                )
            if lo or hi:
                index = np.pad(np.arange(size), (lo, hi), mode=_NP_MODES[self.padding_mode])
                x = index_select(x, dim, index)
        return x, 0


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L): ``F.conv1d`` with a weight of shape
    (out_channels, in_channels / groups, kernel_size) and a bias of shape (out_channels,)."""

    _nd = 1

    def forward(self, x: Tensor) -> Tensor:
        self._check(x, "(N, C_in, L)")
        x, padding = self._pad(x)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W): ``F.conv2d`` with a weight of shape
    (out_channels, in_channels / groups, kH, kW) and a bias of shape (out_channels,)."""

    _nd = 2

    def forward(self, x: Tensor) -> Tensor:
        self._check(x, "(N, C_in, H, W)")
        x, padding = self._pad(x)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share: PyTorch's argument order (output_padding
    after padding, dilation after bias) and ``forward(input, output_size=None)``."""

    _transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
            generator=generator,
            output_padding=output_padding,
        )

    def _output_padding(self, x: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:
        if output_size is None:
            return self.output_padding
        return output_padding_for(
            output_size,
            x.shape,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            type(self).__name__,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L): ``F.conv_transpose1d`` with a weight of
    shape (in_channels, out_channels / groups, kernel_size), the shape of the Conv1d weight it
    is the transpose of, and a bias of shape (out_channels,)."""

    _nd = 1

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """``output_size`` (L_out, or (N, C_out, L_out)) picks one of the stride's possible
        output lengths in place of ``output_padding``."""
        self._check(x, "(N, C_in, L)")
        extra = self._output_padding(x, output_size)
        return F.conv_transpose1d(
            x, self.weight, self.bias, self.stride, self.padding, extra, self.groups, self.dilation
        )


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W): ``F.conv_transpose2d`` with a weight of
    shape (in_channels, out_channels / groups, kH, kW), the shape of the Conv2d weight it is
    the transpose of, and a bias of shape (out_channels,)."""

    _nd = 2

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """``output_size`` ((H_out, W_out), or with N and C_out first) picks one of the stride's
        possible output sizes in place of ``output_padding``."""
        self._check(x, "(N, C_in, H, W)")
        extra = self._output_padding(x, output_size)
        return F.conv_transpose2d(
            x, self.weight, self.bias, self.stride, self.padding, extra, self.groups, self.dilation
        )
