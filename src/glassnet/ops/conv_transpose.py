"""Transposed convolution over 1 or 2 spatial dimensions: one matrix product, then col2im.

PyTorch's ``conv_transpose1d``/``conv_transpose2d`` compute the adjoint of ``conv``: every
input value x[n, c, i] is spread through the kernel onto the outputs i*s + k*d,

    y_pad[n, g*Cog + o, i*s + k*d] += x[n, g*Cg + c, i] * w[g*Cg + c, o, k]

(Cg = C_in / groups, Cog = C_out / groups), then the padding p is cut from both ends, so
L_out = (L_in - 1) s - 2 p + d (k - 1) + output_padding + 1. It is the input gradient of a
``conv`` with the same weight, stride, padding and dilation: the layer that upsamples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.conv import (
    _batch_of,
    _check_one_dtype,
    _col2im,
    _stride_dilation,
    _tuple,
    _windows,
)


def _rows(a: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, *spatial) -> (G, N * positions, C / G): one row per sample and position."""
    n, c, *spatial = a.shape
    nd = len(spatial)
    a = a.reshape(n, groups, c // groups, *spatial)
    return a.transpose(1, 0, *range(3, 3 + nd), 2).reshape(groups, -1, c // groups)


class ConvTranspose(Function):
    """N-d transposed convolution: the input gradient of a convolution, as a layer.

    Forward. A convolution's backward spreads each output gradient back through the kernel
    (grad_X_col = G W, then col2im). The transposed convolution does exactly that to its
    input: with X laid out as rows (N * positions, Cg) per group and W as (Cg, Cog * K),
        Y_col = X W                    one matrix product: row (n, i) holds, for every
                                       output channel o and tap k, the value bound for
                                       y_pad[n, o, i*s + k*d] (computed as its transpose
                                       W^T X, one per sample, to skip two copies);
        y_pad = col2im(Y_col)          each tap's block is added onto the strided slice it
                                       goes to (overlapping taps add up), then the padding
                                       p is cut from both ends; output_padding only makes
                                       y_pad longer at the end, so the last output_padding
                                       positions get no input, only the bias.

    Backward, with G = dL/dy:
        grad_x[n, c, i] = sum_{o, k} G_pad[n, o, i*s + k*d] w[c, o, k]
                 y[i*s + k*d] is where x[i] went, so x[i] collects the gradient from each
                 place it reached: pad G by p (back to y_pad's size), lay its receptive
                 fields out as rows (im2col) and multiply by W^T. That is an ordinary
                 convolution of G with w (as PyTorch's conv, the kernel not flipped):
                 the transpose of a transpose.
        grad_w[c, o, k] = sum_{n, i} x[n, c, i] G_pad[n, o, i*s + k*d]
                 = X^T im2col(G_pad): the input correlated with the output gradient, as
                 for conv with the roles of x and G swapped.
        grad_b = sum of G over the batch and positions.
    Saved: x only if W needs a gradient, W only if x does.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, *, stride, padding, output_padding, dilation, groups):
        need_x, need_w, _ = ctx.needs_input_grad
        n, _, *size_in = x.shape
        c_in, c_og, *kernel = weight.shape
        nd = len(kernel)
        c_g = c_in // groups
        # W^T X per sample rather than X W: x is already (N, G, Cg, positions) in memory, and
        # the product comes out (N, G, Cog * K, positions), the layout col2im reads, so
        # neither side is transposed and copied first
        w_t = weight.reshape(groups, c_g, c_og * math.prod(kernel)).transpose(0, 2, 1)
        cols = np.matmul(w_t, x.reshape(n, groups, c_g, -1))  # (N, G, Cog * K, positions)
        cols = cols.reshape(n, groups, c_og, *kernel, *size_in)
        full = tuple(
            (i - 1) * s + d * (k - 1) + 1 + op
            for i, s, d, k, op in zip(size_in, stride, dilation, kernel, output_padding)
        )
        pads = tuple((p, p) for p in padding)
        y = _col2im(cols, full, pads, stride, dilation)
        y = y.reshape(n, groups * c_og, *y.shape[3:])
        if bias is not None:
            y = y + bias.reshape(-1, *(1,) * nd)
        ctx.layout = (tuple(size_in), tuple(kernel), padding, stride, dilation, groups)
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        size_in, kernel, padding, stride, dilation, groups = ctx.layout
        n, c_out, *_ = grad_y.shape
        nd = len(size_in)
        grad_x = grad_w = grad_b = None
        if need_x or need_w:
            g_pad = np.pad(grad_y, ((0, 0), (0, 0), *((p, p) for p in padding)))
            # (N, C_out, *positions, *kernel); an output_padding >= stride (allowed when
            # dilation is larger) leaves windows past the last input position: drop them
            win = _windows(g_pad, kernel, stride, dilation)
            win = win[(Ellipsis, *(slice(0, i) for i in size_in), *(slice(None),) * nd)]
            c_og = c_out // groups
            win = win.reshape(n, groups, c_og, *size_in, *kernel)
            order = (1, 0, *range(3, 3 + nd), 2, *range(3 + nd, 3 + 2 * nd))
            g_cols = win.transpose(order).reshape(groups, n * math.prod(size_in), -1)
            if need_x:
                w = weight.reshape(groups, weight.shape[0] // groups, -1)
                grad_rows = np.matmul(g_cols, w.transpose(0, 2, 1))  # (G, N * positions, Cg)
                grad_x = grad_rows.reshape(groups, n, *size_in, -1)
                grad_x = grad_x.transpose(1, 0, 2 + nd, *range(2, 2 + nd))
                grad_x = np.ascontiguousarray(grad_x).reshape(n, -1, *size_in)
            if need_w:
                rows = _rows(x, groups)  # (G, N * positions, Cg)
                grad_w = np.matmul(rows.transpose(0, 2, 1), g_cols)  # (G, Cg, Cog * K)
                grad_w = grad_w.reshape(-1, c_og, *kernel)
        if need_b:
            grad_b = grad_y.sum(axis=(0, *range(2, 2 + nd)))
        return grad_x, grad_w, grad_b


def output_padding_for(
    output_size: Sequence[int],
    input_shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    where: str,
) -> tuple[int, ...]:
    """The output_padding that makes the output ``output_size``, as PyTorch's ConvTranspose
    ``forward(input, output_size)``: a stride s > 1 maps s input sizes onto one output size,
    and output_size says which one was meant. It is the spatial sizes, or the whole output
    shape ((N, C, *spatial), or (C, *spatial) for an unbatched input)."""
    nd = len(kernel)
    lead = len(input_shape) - nd  # 2 batched, 1 unbatched
    size_in = input_shape[lead:]
    wanted = tuple(int(v) for v in output_size)
    if len(wanted) == lead + nd:
        wanted = wanted[lead:]
    if len(wanted) != nd:
        raise ValueError(
            f"{where}: for an input of shape {tuple(input_shape)}, output_size must have "
            f"{nd} or {lead + nd} elements (the spatial sizes, or the whole output shape), "
            f"got {tuple(output_size)}"
        )
    smallest = tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + 1
        for i, s, p, d, k in zip(size_in, stride, padding, dilation, kernel)
    )
    largest = tuple(lo + s - 1 for lo, s in zip(smallest, stride))
    if any(not lo <= w <= hi for w, lo, hi in zip(wanted, smallest, largest)):
        raise ValueError(
            f"{where}: output_size {wanted} is not reachable from an input of spatial size "
            f"{tuple(size_in)}: each size must lie between {smallest} and {largest} (the "
            "stride decides how many sizes one input can give); pick an output_size in "
            "that range or change stride/padding"
        )
    return tuple(w - lo for w, lo in zip(wanted, smallest))


def _conv_transpose(
    nd: int,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    output_padding: int | Sequence[int],
    groups: int,
    dilation: int | Sequence[int],
) -> Tensor:
    where = f"conv_transpose{nd}d"
    x, unbatched = _batch_of(x, nd, where)
    if weight.ndim != nd + 2:
        kdims = "(C_in, C_out / groups, k)" if nd == 1 else "(C_in, C_out / groups, kH, kW)"
        raise ValueError(
            f"{where}: weight must have shape {kdims} (in channels first, the transpose of "
            f"conv{nd}d's), got {weight.shape}"
        )
    c_in, c_og, *kernel = weight.shape
    kernel = tuple(kernel)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    if c_in % groups:
        raise ValueError(
            f"{where}: in_channels = {c_in} (weight.shape[0]) must be divisible by groups = "
            f"{groups}; change groups or the weight"
        )
    if x.shape[1] != c_in:
        raise ValueError(
            f"{where}: input of shape {x.shape} has {x.shape[1]} channels, but weight of shape "
            f"{weight.shape} expects C_in = weight.shape[0] = {c_in}; check the channel "
            "dimension (channels come first, after the batch)"
        )
    c_out = c_og * groups
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(
            f"{where}: bias must have shape (C_out,) = ({c_out},) (weight.shape[1] * groups), "
            f"got {bias.shape}; pass bias=None for no bias"
        )
    _check_one_dtype(x, weight, bias, where)
    if isinstance(padding, str):
        raise ValueError(
            f"{where}: padding must be an int or a tuple of {nd} ints, got {padding!r}; "
            "'same' and 'valid' exist only for conv, not for its transpose"
        )
    stride, dilation = _stride_dilation(stride, dilation, nd, where)
    pads = _tuple(padding, nd, "padding", where)
    extra = _tuple(output_padding, nd, "output_padding", where)
    if any(p < 0 for p in pads) or any(e < 0 for e in extra):
        raise ValueError(
            f"{where}: padding and output_padding must be >= 0, got padding={pads}, "
            f"output_padding={extra}; pass 0 for none"
        )
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise ValueError(
            f"{where}: output_padding must be smaller than either stride or dilation, got "
            f"output_padding={extra}, stride={stride}, dilation={dilation}; it only picks "
            "one of the stride's possible output sizes, so use an output_padding below the "
            "stride (or pass output_size to the module)"
        )
    out = tuple(
        (i - 1) * s - 2 * p + d * (k - 1) + 1 + e
        for i, s, p, d, k, e in zip(x.shape[2:], stride, pads, dilation, kernel, extra)
    )
    if any(o < 1 for o in out):
        raise ValueError(
            f"{where}: an input of spatial size {tuple(x.shape[2:])} gives an output of "
            f"size {out}, which is empty: padding {pads} cuts more than the transposed "
            "convolution makes; use less padding"
        )
    y = ConvTranspose.apply(
        x,
        weight,
        bias,
        stride=stride,
        padding=pads,
        output_padding=extra,
        dilation=dilation,
        groups=int(groups),
    )
    return y.reshape(*y.shape[1:]) if unbatched else y


def conv_transpose1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """1-D transposed convolution (as ``torch.nn.functional.conv_transpose1d``).

    The input gradient of ``conv1d`` with the same weight and arguments, used as a layer.

    Args:
        input: (N, C_in, L) or (C_in, L).
        weight: (C_in, C_out / groups, k), in channels first (conv1d's weight transposed).
        bias: (C_out,) or None.
        stride, padding, dilation: ints or 1-tuples, as for the conv1d this is the transpose of.
        output_padding: added to one end of the output, < stride or dilation: with stride
            s, s input sizes of a conv1d give the same output size, and this picks one.
        groups: split the channels into this many independent transposed convolutions.

    Returns:
        (N, C_out, L_out), L_out = (L - 1) stride - 2 padding + dilation (k - 1)
        + output_padding + 1.

    Raises:
        ValueError: shapes that do not fit, or output_padding >= max(stride, dilation).
        TypeError: input, weight and bias of different dtypes.
    """
    args = (stride, padding, output_padding, groups, dilation)
    return _conv_transpose(1, input, weight, bias, *args)


def conv_transpose2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """2-D transposed convolution (as ``torch.nn.functional.conv_transpose2d``).

    The input gradient of ``conv2d`` with the same weight and arguments, used as a layer:
    ``conv_transpose2d(g, w, stride=s, padding=p)`` is ``x.grad`` after
    ``conv2d(x, w, stride=s, padding=p).backward(g)``.

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_in, C_out / groups, kH, kW), in channels first (conv2d's weight transposed).
        bias: (C_out,) or None.
        stride, padding, dilation: ints or 2-tuples, as for the conv2d this is the transpose of.
        output_padding: added to the bottom and right of the output, < stride or dilation.
        groups: split the channels into this many independent transposed convolutions.

    Returns:
        (N, C_out, H_out, W_out), each size (n - 1) stride - 2 padding + dilation (k - 1)
        + output_padding + 1.

    Raises:
        ValueError: shapes that do not fit, or output_padding >= max(stride, dilation).
        TypeError: input, weight and bias of different dtypes.
    """
    args = (stride, padding, output_padding, groups, dilation)
    return _conv_transpose(2, input, weight, bias, *args)
