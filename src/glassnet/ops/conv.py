"""Convolution over 1 or 2 spatial dimensions, as im2col plus one matrix product.

PyTorch's ``conv1d``/``conv2d`` compute a cross-correlation (the kernel is not flipped):

    y[n, o, p] = b[o] + sum_{c, k} w[o, c, k] * x_pad[n, g*Cg + c, p*s + k*d]

for output position p, kernel offset k, stride s, dilation d, and o in group g (each
group of Cg = C_in / groups input channels feeds C_out / groups output channels).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor


def _windows(
    x_pad: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> np.ndarray:
    """A read-only strided view (N, C, *out, *kernel) of every receptive field; nothing is
    copied. Window p, tap k is x_pad[..., p*s + k*d]: one step along an output dimension
    moves s inputs, one step along a kernel dimension d inputs. (``sliding_window_view``
    builds the same view with several times the per-call overhead, which shows on the
    MNIST-1D CNN's small convolutions.)"""
    size, steps = x_pad.shape[2:], x_pad.strides[2:]
    reach = (d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    out = tuple((n - r) // s + 1 for n, r, s in zip(size, reach, stride))
    return np.lib.stride_tricks.as_strided(
        x_pad,
        shape=(*x_pad.shape[:2], *out, *kernel),
        strides=(
            *x_pad.strides[:2],
            *(b * s for b, s in zip(steps, stride)),
            *(b * d for b, d in zip(steps, dilation)),
        ),
        writeable=False,
    )


def _pad(x: np.ndarray, padding: tuple[tuple[int, int], ...], value: float = 0.0) -> np.ndarray:
    """x with (before, after) ``padding`` of ``value`` around each spatial dimension (x itself
    when there is none): what ``np.pad`` does, without its per-call argument handling."""
    if not any(map(any, padding)):
        return x
    size = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], padding))
    x_pad = np.full((*x.shape[:2], *size), value, dtype=x.dtype)
    x_pad[(Ellipsis, *(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], padding)))] = x
    return x_pad


def _unpad(grad_pad: np.ndarray, padding: tuple[tuple[int, int], ...]) -> np.ndarray:
    """The gradient of ``_pad``: the padding cut away, as an array of its own (the engine
    stores an array no one else holds as .grad without copying it)."""
    if not any(map(any, padding)):
        return grad_pad
    size = grad_pad.shape[-len(padding) :]
    return grad_pad[(Ellipsis, *(slice(lo, n - hi) for (lo, hi), n in zip(padding, size)))].copy()


def _reached(
    tap: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...], out: tuple[int, ...]
) -> tuple[slice, ...]:
    """The padded inputs kernel tap k read, one per output position: from k*d on, every s-th."""
    return tuple(
        slice(k * d, k * d + s * (o - 1) + 1, s) for k, d, s, o in zip(tap, dilation, stride, out)
    )


def _col2im(
    cols: np.ndarray,
    pad_size: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> np.ndarray:
    """The adjoint of ``_windows``: add each window's values back where they were read.

    ``cols`` is (*lead, *kernel, *out), one value per kernel tap and output position; the
    result is (*lead, *spatial) without the padding. Tap k of output p read x_pad[p*s + k*d],
    so it loops over the taps (K iterations, not one per pixel) and adds each tap's block onto
    the strided slice of the input it came from; overlapping windows add up.
    """
    return _unpad(_col2im_padded(cols, pad_size, stride, dilation), padding)


def _col2im_padded(
    cols: np.ndarray, pad_size: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> np.ndarray:
    """``_col2im`` with the padding still on: (*lead, *pad_size)."""
    nd = len(pad_size)
    kernel, out = cols.shape[-2 * nd : -nd], cols.shape[-nd:]
    lead = cols.shape[: -2 * nd]
    grad_pad = np.zeros((*lead, *pad_size), dtype=cols.dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        reached = _reached(tap, stride, dilation, out)
        grad_pad[(Ellipsis, *reached)] += cols[(Ellipsis, *tap, *(slice(None),) * nd)]
    return grad_pad


WHOLE_BATCH_BYTES = 4 * 2**20
"""Convolutions whose columns for the whole batch take at most this many bytes lay them side
by side, one product for all samples; larger ones keep one product per sample. Measured
(OpenBLAS, one thread, 2 MB of L2 cache per core): the MNIST-1D CNN's convolutions at batch
128 (at most 0.4 MB of columns) run their forward and weight gradient 1.1-1.6x faster as one
product, and LeNet's at batch 32 (2.5 and 1.9 MB) too, while LeNet's at batch 128 (10 and
7.7 MB) run 1.7-2.7x slower: the batch's columns no longer stay in cache, one sample's do."""


class Conv(Function):
    """N-d convolution (cross-correlation) as im2col and one matrix product per group.

    Forward. Pad x, then lay every receptive field out as a column, the whole batch side by
    side: X[(c, k), (p, n)] = x_pad[n, c, p*s + k*d] (one row per input channel and kernel
    tap, one column per output position and sample; the batch varies fastest, so the
    copies and col2im's sums run along rows of N values, not of a few positions). With W
    reshaped to (C_out, Cg * K), the convolution is Y = W X, the product of ``Linear``
    turned on its side, one per group: one large product rather than N small ones (the
    MNIST-1D CNN's are 25 x 75 by 75 x 10, where a BLAS call per sample costs more than
    its arithmetic). Y comes out as
    (C_out, positions, N); the copy into PyTorch's (N, C_out, positions) adds the bias on
    the way. Convolutions with many positions per sample keep one product per sample,
    Y_n = W X_n, which is already channels first (see WHOLE_BATCH_BYTES for why).

    Backward, with G = dL/dY laid out the same way, (C_out, positions * N):
        grad_W = G X^T   (as for Linear, the batch and the positions summed by the product;
                 per sample, sum_n G_n X_n^T).
                 Written out, grad_w[o, c, k] = sum_{n, p} G[n, o, p] x_pad[n, c, p*s + k*d]:
                 the input correlated with the output gradient, k now sliding and the
                 output gradient playing the kernel. Each weight is used at every position,
                 so it collects the input it saw there times the gradient that came back.
        grad_X_n = W^T G_n   (as for Linear), then col2im: x_pad[n, c, p*s + k*d] sat in
                 the columns of every (p, k) that reaches it, so its gradient is the sum
                 grad_x_pad[n, c, i] = sum_{o, p, k: p*s + k*d = i} G[n, o, p] w[o, c, k],
                 i.e. every output gradient is spread back through the kernel onto the
                 inputs it read: the transposed convolution (ConvTranspose) of G with the
                 same w. It is computed by adding, for each kernel tap k (K iterations,
                 not one per pixel), the rows of grad_X for that tap onto the strided
                 slice of the input they came from; padding is then cut away (2-D with
                 stride 1 takes a faster road to the same sum: _input_grad_2d_stride_1).
        grad_b = sum of G over the batch and positions (b is added at every one).
    Saved: the columns only if W needs a gradient, W only if x does (as for Linear).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, *, stride, padding, dilation, groups):
        need_x, need_w, _ = ctx.needs_input_grad
        n = x.shape[0]
        c_out, c_g, *kernel = weight.shape
        kernel = tuple(kernel)
        nd = len(kernel)
        size = tuple(m + lo + hi for m, (lo, hi) in zip(x.shape[2:], padding))
        reach = (d * (k - 1) + 1 for k, d in zip(kernel, dilation))
        out = tuple((m - r) // s + 1 for m, r, s in zip(size, reach, stride))
        positions, taps = math.prod(out), c_g * math.prod(kernel)
        w = weight.reshape(groups, c_out // groups, taps)
        whole_batch = n * positions * taps * groups * x.itemsize <= WHOLE_BATCH_BYTES
        if whole_batch:
            # the batch last, (C, *padded, N), so that every copy and every col2im sum
            # runs along rows of N values rather than of a few positions
            x_pad = np.zeros((x.shape[1], *size, n), dtype=x.dtype)
            inner = (slice(lo, lo + m) for m, (lo, _) in zip(x.shape[2:], padding))
            x_pad[(slice(None), *inner)] = np.moveaxis(x, 0, -1)
            win = _windows_batch_last(x_pad, kernel, stride, dilation)  # (C, *kernel, *out, N)
            cols = win.reshape(groups, taps, positions * n)  # the copy: X[(c, k), (p, n)]
            y_t = np.matmul(w, cols).reshape(c_out, *out, n)  # Y, channels first, batch last
            y = np.empty((n, c_out, *out), dtype=y_t.dtype)
            if bias is None:
                np.copyto(y, np.moveaxis(y_t, -1, 0))
            else:
                np.add(np.moveaxis(y_t, -1, 0), bias.reshape(c_out, *(1,) * nd), out=y)
        else:
            # (N, C, *kernel, *out): one X_n per sample, Y_n = W X_n already channels first
            win = _windows(_pad(x, padding), kernel, stride, dilation)  # (N, C, *out, *kernel)
            win = win.transpose(0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))
            cols = win.reshape(n, groups, taps, positions)
            y = np.matmul(w, cols).reshape(n, c_out, *out)
            if bias is not None:
                y += bias.reshape(c_out, *(1,) * nd)  # y is a fresh array: add in place
        if need_w and np.may_share_memory(cols, x):
            cols = cols.copy()  # a 1x1 kernel can make cols a view of x, which may change
        ctx.weight_shape, ctx.whole_batch = weight.shape, whole_batch
        ctx.layout = ((n, x.shape[1], *size), padding, stride, dilation, groups)
        ctx.save_for_backward(cols if need_w else None, weight if need_x else None)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        cols, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        pad_shape, padding, stride, dilation, groups = ctx.layout
        n, c_out, *out = grad_y.shape
        nd = len(out)
        w_shape = (groups, c_out // groups, -1)
        grad_x = grad_w = grad_b = None
        if ctx.whole_batch:
            # G as (G, C_out/G, positions * N), laid out as the columns: a copy the size of
            # the output, small next to the columns, so that each gradient is one product
            g = np.ascontiguousarray(np.moveaxis(grad_y, 0, -1)).reshape(w_shape)
            if need_w:
                grad_w = np.matmul(g, cols.swapaxes(-1, -2)).reshape(ctx.weight_shape)
            if need_b:
                grad_b = g.reshape(c_out, -1).sum(axis=1)
            if need_x:
                grad_x = _input_grad_whole_batch(g, weight, n, out, pad_shape[2:], ctx.layout)
            return grad_x, grad_w, grad_b
        if need_w:  # sum_n G_n X_n^T, one product per sample
            g = grad_y.reshape(n, groups, c_out // groups, -1)
            grad_w = np.empty(ctx.weight_shape, dtype=grad_y.dtype)
            np.sum(np.matmul(g, cols.swapaxes(-1, -2)), axis=0, out=grad_w.reshape(w_shape))
        if need_x and nd == 2 and stride == (1, 1):
            grad_x = _input_grad_2d_stride_1(
                grad_y, weight, pad_shape[2:], padding, dilation, groups
            )
        elif need_x:
            grad_x = _input_grad(grad_y, weight, pad_shape[2:], padding, stride, dilation, groups)
        if need_b:
            # the batch first (rows added whole), then each channel's positions: about 2x
            # faster than one sum over axes (0, 2, 3) for LeNet's gradients at batch 128
            grad_b = grad_y.sum(axis=0).reshape(c_out, -1).sum(axis=1)
        return grad_x, grad_w, grad_b


def _input_grad(grad_y, weight, pad_size, padding, stride, dilation, groups):
    """grad_X_n = W^T G_n for every sample, laid out (N, C_in, *kernel, *out), then col2im."""
    n, c_out, *out = grad_y.shape
    c_g, *kernel = weight.shape[1:]
    w = weight.reshape(groups, c_out // groups, -1)
    g = grad_y.reshape(n, groups, c_out // groups, -1)
    grad_cols = np.matmul(w.transpose(0, 2, 1), g)  # (N, G, Cg * K, positions)
    grad_cols = grad_cols.reshape(n, groups * c_g, *kernel, *out)  # one block per tap
    return _col2im(grad_cols, pad_size, padding, stride, dilation)


def _windows_batch_last(
    x_pad: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> np.ndarray:
    """``_windows`` for x_pad laid out (C, *padded, N): the view (C, *kernel, *out, N)."""
    size, steps = x_pad.shape[1:-1], x_pad.strides[1:-1]
    reach = (d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    out = tuple((m - r) // s + 1 for m, r, s in zip(size, reach, stride))
    return np.lib.stride_tricks.as_strided(
        x_pad,
        shape=(x_pad.shape[0], *kernel, *out, x_pad.shape[-1]),
        strides=(
            x_pad.strides[0],
            *(b * d for b, d in zip(steps, dilation)),
            *(b * s for b, s in zip(steps, stride)),
            x_pad.strides[-1],
        ),
        writeable=False,
    )


def _input_grad_whole_batch(g, weight, n, out, pad_size, layout):
    """grad_X = W^T G for the whole batch at once, G laid out (G, C_out/G, positions * N):
    grad_X comes out (C_in, *kernel, *out, N); col2im adds each tap's block onto
    (C_in, *padded, N), along rows of N values, and one copy takes the padding away and
    puts the batch first."""
    _, padding, stride, dilation, groups = layout
    c_g, *kernel = weight.shape[1:]
    w = weight.reshape(groups, weight.shape[0] // groups, -1)
    grad_cols = np.matmul(w.transpose(0, 2, 1), g).reshape(groups * c_g, *kernel, *out, n)
    grad_pad = np.zeros((groups * c_g, *pad_size, n), dtype=g.dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        grad_pad[(slice(None), *_reached(tap, stride, dilation, out))] += grad_cols[
            (slice(None), *tap)
        ]
    inner = (slice(lo, size - hi) for (lo, hi), size in zip(padding, pad_size))
    return np.ascontiguousarray(np.moveaxis(grad_pad[(slice(None), *inner)], -1, 0))


def _input_grad_2d_stride_1(grad_y, weight, pad_size, padding, dilation, groups):
    """``_input_grad`` for a 2-D convolution with stride 1, with rows as long as the input's.

    Fast path: col2im adds each tap's block onto the input's H_out rows of W_out values, and
    with W_out small (10 in LeNet) NumPy spends its time starting short inner loops. Here G
    is first widened with zeros to the padded input's width W_pad; then tap (i, j) of output
    (a, b) lands on flat index (a + i d_H) W_pad + b + j d_W of the padded input, so each
    tap's block is one contiguous run starting at i d_H W_pad + j d_W. The added columns
    carry zeros, so what wraps past a row's end adds nothing. About 1.6x faster than
    ``_input_grad`` for LeNet's second convolution at batch 128; a test checks they agree.
    """
    n, c_out, h_out, w_out = grad_y.shape
    (h_pad, w_pad), (d_h, d_w) = pad_size, dilation
    c_g, k_h, k_w = weight.shape[1:]
    wide = np.zeros((n, groups, c_out // groups, h_out, w_pad), dtype=grad_y.dtype)
    wide[..., :w_out] = grad_y.reshape(n, groups, c_out // groups, h_out, w_out)
    w = weight.reshape(groups, c_out // groups, -1)
    grad_cols = np.matmul(w.transpose(0, 2, 1), wide.reshape(n, groups, c_out // groups, -1))
    grad_cols = grad_cols.reshape(n, groups * c_g, k_h, k_w, h_out * w_pad)
    # the last tap's run ends (k_w - 1) d_W past the padded input: room for it
    flat = np.zeros((n, groups * c_g, h_pad * w_pad + (k_w - 1) * d_w), dtype=grad_y.dtype)
    for i in range(k_h):
        for j in range(k_w):
            start = i * d_h * w_pad + j * d_w
            flat[..., start : start + h_out * w_pad] += grad_cols[:, :, i, j]
    grad_pad = flat[..., : h_pad * w_pad].reshape(n, groups * c_g, h_pad, w_pad)
    return _unpad(grad_pad, padding) if any(map(any, padding)) else grad_pad.copy()


def _check_one_dtype(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, where: str):
    """Input, weight and bias must share one dtype: a float64 input would silently upcast
    a float32 layer (conv and its transpose both check this)."""
    dtypes = {x.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
    if len(dtypes) > 1:
        raise TypeError(
            f"{where}: input, weight and bias must share one dtype, got "
            f"{', '.join(sorted(map(str, dtypes)))}; convert the input with "
            ".float() (or the model with .double())"
        )


def _stride_dilation(
    stride: int | Sequence[int], dilation: int | Sequence[int], nd: int, where: str
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """stride and dilation as nd-tuples of ints >= 1 (conv and its transpose take the same)."""
    stride = _tuple(stride, nd, "stride", where)
    dilation = _tuple(dilation, nd, "dilation", where)
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise ValueError(
            f"{where}: stride and dilation must be >= 1, got stride={stride}, dilation={dilation}; "
            "1 is the default (every position, adjacent taps)"
        )
    return stride, dilation


def _tuple(value: int | Sequence[int], nd: int, name: str, where: str) -> tuple[int, ...]:
    """An int or a tuple of nd ints, as PyTorch takes stride, padding and dilation."""
    if isinstance(value, (int, np.integer)):
        values = (value,) * nd
    elif isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        values = tuple(value)
    else:  # a float or another scalar: tuple() would fail with a message naming no place
        values = ()
    if len(values) != nd or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ValueError(f"{where}: {name} must be an int or a tuple of {nd} ints, got {value!r}")
    return tuple(int(v) for v in values)


def _padding(
    padding: str | int | Sequence[int],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    where: str,
) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial dimension. 'same' pads d*(k-1) in all, the odd one
    after, as PyTorch does; it needs stride 1, since otherwise no padding keeps the size."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(
                f"{where}: padding must be 'same', 'valid', an int or a tuple, got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(
                f"{where}: padding='same' needs stride 1, got stride={stride}; "
                "pass the padding as a number instead"
            )
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    pads = _tuple(padding, nd, "padding", where)
    if any(p < 0 for p in pads):
        raise ValueError(
            f"{where}: padding must be >= 0, got {pads}; pass 0 for none, or crop the input "
            "(x[..., a:-b]) to remove border pixels"
        )
    return tuple((p, p) for p in pads)


def _conv(
    nd: int,
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: int | Sequence[int],
    padding: str | int | Sequence[int],
    dilation: int | Sequence[int],
    groups: int,
) -> Tensor:
    where = f"conv{nd}d"
    dims = "(N, C_in, L)" if nd == 1 else "(N, C_in, H, W)"
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{where}: input must be {dims} or without the batch dimension, got shape {x.shape}"
        )
    if weight.ndim != nd + 2:
        kdims = "(C_out, C_in / groups, k)" if nd == 1 else "(C_out, C_in / groups, kH, kW)"
        raise ValueError(f"{where}: weight must have shape {kdims}, got {weight.shape}")
    unbatched = x.ndim == nd + 1
    if unbatched:  # PyTorch takes (C_in, *spatial) as a batch of one
        x = x.reshape(1, *x.shape)
    c_out, c_g, *kernel = weight.shape
    kernel = tuple(kernel)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{where}: groups must be a positive int, got {groups!r}")
    if c_out % groups:
        raise ValueError(
            f"{where}: out_channels = {c_out} (weight.shape[0]) must be divisible "
            f"by groups = {groups}"
        )
    if x.shape[1] != c_g * groups:
        raise ValueError(
            f"{where}: input of shape {x.shape} has {x.shape[1]} channels, but weight of shape "
            f"{weight.shape} with groups={groups} expects C_in = weight.shape[1] * groups = "
            f"{c_g * groups}; check the channel dimension (channels come first, after the batch)"
        )
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(
            f"{where}: bias must have shape ({c_out},) (one value per output channel, "
            f"weight.shape[0]), got {bias.shape}; pass bias=None for no bias"
        )
    _check_one_dtype(x, weight, bias, where)
    stride, dilation = _stride_dilation(stride, dilation, nd, where)
    pads = _padding(padding, kernel, stride, dilation, where)
    for size, (lo, hi), k, d in zip(x.shape[2:], pads, kernel, dilation):
        if size + lo + hi < d * (k - 1) + 1:
            raise ValueError(
                f"{where}: the input's spatial size {tuple(x.shape[2:])} padded by {pads} is "
                f"smaller than the kernel {kernel} with dilation {dilation}; pad more or use a "
                "smaller kernel"
            )
    y = Conv.apply(x, weight, bias, stride=stride, padding=pads, dilation=dilation, groups=groups)
    return y.reshape(*y.shape[1:]) if unbatched else y


def conv1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution (cross-correlation, as ``torch.nn.functional.conv1d``).

    Args:
        input: (N, C_in, L) or (C_in, L).
        weight: (C_out, C_in / groups, k).
        bias: (C_out,) or None.
        stride, padding, dilation: ints or 1-tuples; padding may be 'same' (stride 1 only)
            or 'valid' (no padding).
        groups: split the channels into this many independent convolutions
            (groups = C_in is depthwise).

    Returns:
        (N, C_out, L_out) with L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1.
    """
    return _conv(1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation, as ``torch.nn.functional.conv2d``).

    Args:
        input: (N, C_in, H, W) or (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: (C_out,) or None.
        stride, padding, dilation: ints or 2-tuples; padding may be 'same' (stride 1 only)
            or 'valid' (no padding).
        groups: split the channels into this many independent convolutions
            (groups = C_in is depthwise).

    Returns:
        (N, C_out, H_out, W_out), each size (n + 2 padding - dilation (k - 1) - 1) // stride + 1.
    """
    return _conv(2, input, weight, bias, stride, padding, dilation, groups)
