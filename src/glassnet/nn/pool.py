"""Pooling layers with PyTorch's names, arguments, attributes and repr: ``MaxPool1d/2d``,
``AvgPool1d/2d``, ``AdaptiveAvgPool1d/2d``. They hold no parameters; each calls its
``F.`` function (``glassnet.ops.pool``), where the forward and backward rules live."""

from __future__ import annotations

from collections.abc import Sequence

from glassnet.autograd.tensor import Tensor
from glassnet.nn import functional as F
from glassnet.nn.module import Module

_IntOrTuple = int | Sequence[int]


class _MaxPoolNd(Module):
    """What MaxPool1d and MaxPool2d share; the arguments are stored as given, as PyTorch."""

    def __init__(
        self,
        kernel_size: _IntOrTuple,
        stride: _IntOrTuple | None = None,
        padding: _IntOrTuple = 0,
        dilation: _IntOrTuple = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool1d(_MaxPoolNd):
    """The largest value of each window over (N, C, L): ``F.max_pool1d``; the gradient goes
    to each window's arg-max (the first maximum on a tie, as PyTorch)."""

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )  # fmt: skip


class MaxPool2d(_MaxPoolNd):
    """The largest value of each window over (N, C, H, W): ``F.max_pool2d``; the gradient
    goes to each window's arg-max (the first maximum on a tie, as PyTorch)."""

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
            self.return_indices,
        )  # fmt: skip


def _single(value: _IntOrTuple) -> tuple[int, ...]:
    return (value,) if isinstance(value, int) else tuple(value)


class AvgPool1d(Module):
    """The mean of each window over (N, C, L): ``F.avg_pool1d``. As PyTorch, the sizes are
    stored as 1-tuples."""

    def __init__(
        self,
        kernel_size: _IntOrTuple,
        stride: _IntOrTuple | None = None,
        padding: _IntOrTuple = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each window over (N, C, H, W): ``F.avg_pool2d``."""

    def __init__(
        self,
        kernel_size: _IntOrTuple,
        stride: _IntOrTuple | None = None,
        padding: _IntOrTuple = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average (N, C, L) down (or up) to (N, C, output_size) for any L:
    ``F.adaptive_avg_pool1d``."""

    def __init__(self, output_size: int | Sequence[int]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool1d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(Module):
    """Average (N, C, H, W) to (N, C, *output_size) for any H, W (None keeps that size;
    ``AdaptiveAvgPool2d(1)`` is global average pooling): ``F.adaptive_avg_pool2d``."""

    def __init__(self, output_size: int | Sequence[int | None] | None) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
