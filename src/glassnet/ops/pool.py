"""Pooling over 1 or 2 spatial dimensions: max, average and adaptive average.

Each pools every channel on its own over the same windows a convolution reads: output
position p covers x_pad[n, c, p*s + k*d] for the kernel taps k (stride s, dilation d).
Adaptive average pooling is a composition (a
product with a fixed averaging matrix per dimension), so it needs no Function of its own.
The windows are ``conv._windows``'s strided view (no copy, no loop over pixels), and every
backward sends the gradient of a window back through ``conv._col2im``'s loop over kernel
taps (max pooling inlines it), which adds overlapping windows' contributions together.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.conv import (
    _col2im,
    _in_layout,
    _new,
    _pad,
    _reached,
    _tuple,
    _unpad,
    _windows,
    batch_last,
)
from glassnet.ops.linalg import matmul


def _window_max(x_pad, kernel, stride, dilation):
    """Each window's maximum and the flat kernel tap that holds it (the smallest integer type
    that fits), as PyTorch picks it: the first maximum in row-major tap order, or the last
    NaN (a NaN always wins, so it propagates).

    One pass over the taps in order, keeping the running maximum: a tap strictly greater
    than it takes over, so on a tie the earlier tap stays, and as the taps come in order
    the winning tap is the largest index that ever took over, max(arg, i * took_over).
    About four passes over output-sized arrays a tap, 4x faster than copying the windows
    out for an ``argmax`` over a short last axis (measured on LeNet's 2x2 pooling at batch
    128; ``test_conv_pool_fast_paths`` checks they agree). Every array is in x's memory
    order (batch last after a convolution), so each pass reads x in order."""
    win = _windows(x_pad, kernel, stride, dilation)  # (N, C, *out, *kernel), a view
    taps = [win[(Ellipsis, *tap)] for tap in itertools.product(*(range(k) for k in kernel))]
    best = taps[0].copy(order="K")
    index = np.min_scalar_type(len(taps) - 1)
    arg, took = np.zeros_like(best, dtype=index), np.empty_like(best, dtype=index)
    over = np.empty_like(best, dtype=bool)
    for i, value in enumerate(taps[1:], start=1):
        np.greater(value, best, out=over)
        np.maximum(best, value, out=best)
        np.multiply(over, index.type(i), out=took)
        np.maximum(arg, took, out=arg)
    if np.isnan(best).any():  # NaN equals nothing: find it by itself, the last one winning
        for i, value in enumerate(taps):
            np.copyto(arg, i, where=np.isnan(value), casting="unsafe")
    return best, arg


def _to_argmax(grad_y, arg, pad_size, kernel, stride, dilation, disjoint):
    """Each window's gradient sent to the input at its arg-max tap, on the padded input:
    col2im with the one-hot columns never built (tap i's block is the gradient where i is
    the arg-max, zero elsewhere).

    With ``disjoint`` windows (stride >= reach in every dimension, as in the usual 2x2
    pooling) each input is in one window at most, so each tap's block is written, not
    added, and as grad_y times the mask (a multiply, 3x faster than ``np.where``); a
    non-finite gradient takes the ``np.where`` road, as inf * 0 would make a NaN. Windows
    that also tile the input (2x2 pooling of an even size) write every input, so the
    gradient starts unset rather than zeroed. It is laid out in memory as ``arg`` (the
    input's order), and grad_y is brought to that order first."""
    out, zero = grad_y.shape[2:], grad_y.dtype.type(0)
    last = batch_last(arg)
    grad_y = _in_layout(grad_y, last)
    fast = disjoint and np.isfinite(grad_y).all()
    tiled = fast and all(
        d == 1 and s == k and o * s == p
        for k, s, d, o, p in zip(kernel, stride, dilation, out, pad_size)
    )
    grad_pad = _new((*grad_y.shape[:2], *pad_size), grad_y.dtype, last, zero=not tiled)
    for i, tap in enumerate(itertools.product(*(range(k) for k in kernel))):
        reached = (Ellipsis, *_reached(tap, stride, dilation, out))
        if fast:
            np.multiply(grad_y, arg == i, out=grad_pad[reached])
        else:
            grad_pad[reached] += np.where(arg == i, grad_y, zero)
    return grad_pad


def _window_argmax(x, kernel, stride, padding, dilation):
    """The padded input's shape, each window's maximum, and the flat tap that holds it."""
    # -inf padding never wins a window, which PyTorch's padding <= kernel / 2 keeps non-empty;
    # an integer input is padded with its type's minimum, which is exact (-inf is no integer)
    low = np.iinfo(x.dtype).min if np.issubdtype(x.dtype, np.integer) else -np.inf
    x_pad = _pad(x, padding, low)
    return (x_pad.shape[2:], *_window_max(x_pad, kernel, stride, dilation))


class MaxPool(Function):
    """y[n, c, p] = max_k x_pad[n, c, p*s + k*d], with -inf padding.

    The max is locally the identity on the winning input and constant in the others, so
        dL/dx_pad[i] = sum over windows p whose arg-max sits at i of dL/dy[p]:
    each output gradient goes to its window's arg-max (the first maximum on a tie, as
    PyTorch), and an input that wins several overlapping windows collects all of them.
    Saved: the arg-max tap of each window (small integers), not the input.
    """

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, dilation):
        pad_size, y, arg = _window_argmax(x, kernel, stride, padding, dilation)
        ctx.layout = (pad_size, kernel, stride, padding, dilation)
        ctx.save_for_backward(arg)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (arg,) = ctx.saved_tensors
        pad_size, kernel, stride, padding, dilation = ctx.layout
        disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        grad_pad = _to_argmax(grad_y, arg, pad_size, kernel, stride, dilation, disjoint)
        return _unpad(grad_pad, padding)


def _avg_divisor(size, kernel, stride, padding, out, count_include_pad, divisor_override, dtype):
    """What each window's sum is divided by, as PyTorch: the override; with
    count_include_pad the window's area cut at the end of the padding (the kernel area but
    for a ceil_mode window that runs past it); else the number of real inputs it covers.
    Each factors over the dimensions."""
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=dtype)
    counts = np.ones((), dtype=dtype)
    for length, k, s, (lo, _), o in zip(size, kernel, stride, padding, out):
        start = np.arange(o) * s - lo
        end = np.minimum(start + k, length + lo)
        inside = np.minimum(end, length) - np.maximum(start, 0)
        count = end - start if count_include_pad else inside
        counts = np.multiply.outer(counts, count.astype(dtype))
    return counts


class AvgPool(Function):
    """y[n, c, p] = (1 / D) sum_k x_pad[n, c, p*s + k] with zero padding, D the kernel area
    (count_include_pad), the count of unpadded inputs in the window, or divisor_override.

    Linear in x, each input entering every window that covers it with weight 1 / D:
        dL/dx_pad[i] = sum over windows p covering i of dL/dy[p] / D[p],
    i.e. each output gradient is spread evenly over its window, overlaps adding up.
    Saved: nothing but shapes.
    """

    @staticmethod
    def forward(ctx, x, *, kernel, stride, padding, count_include_pad, divisor_override):
        nd = len(kernel)
        x_pad = _pad(x, padding)
        win = _windows(x_pad, kernel, stride, (1,) * nd)
        total = win.sum(axis=tuple(range(-nd, 0)))
        divisor = _avg_divisor(
            x.shape[2:], kernel, stride, padding, total.shape[2:], count_include_pad,
            divisor_override, x.dtype,
        )  # fmt: skip
        ctx.layout = (x_pad.shape[2:], x.shape[2:], kernel, stride, padding)
        ctx.divisor = (count_include_pad, divisor_override)
        return total / divisor

    @staticmethod
    def backward(ctx, grad_y):
        pad_size, size, kernel, stride, padding = ctx.layout
        nd, out = len(kernel), grad_y.shape[2:]
        divisor = _avg_divisor(size, kernel, stride, padding, out, *ctx.divisor, grad_y.dtype)
        g = (grad_y / divisor).reshape(*grad_y.shape[:2], *(1,) * nd, *out)
        cols = np.broadcast_to(g, (*grad_y.shape[:2], *kernel, *out))  # no copy
        return _col2im(cols, pad_size, padding, stride, (1,) * nd)


def _check_dtype(where: str, x: Tensor, integers: bool) -> None:
    """Refuse what PyTorch refuses: bool input to any pooling, integer input to averages
    (an average of integers is no integer; casting the averaging weights to the input's
    integer type would turn them to zeros). Max pooling of integers is exact."""
    kind = np.dtype(x.dtype).kind
    if kind == "b" or (kind in "iu" and not integers):
        raise TypeError(
            f"{where}: not implemented for {x.dtype} input; pool a floating-point tensor: "
            "convert it with x.float()"
        )


def _pool_args(nd, where, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked (x batched, unbatched, kernel, stride, padding pairs, dilation), as PyTorch."""
    dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    _check_dtype(where, x, integers=where.startswith("max"))
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{where}: input must be {dims} or without the batch dimension, got shape {x.shape}"
        )
    unbatched = x.ndim == nd + 1
    if unbatched:
        x = x.reshape(1, *x.shape)
    kernel = _tuple(kernel_size, nd, "kernel_size", where)
    empty = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
    stride = kernel if empty else _tuple(stride, nd, "stride", where)
    pads = _tuple(padding, nd, "padding", where)
    dilation = _tuple(dilation, nd, "dilation", where)
    if min(kernel + stride + dilation) < 1:
        raise ValueError(
            f"{where}: kernel_size, stride and dilation must be >= 1, got kernel_size={kernel}, "
            f"stride={stride}, dilation={dilation}"
        )
    if any(p < 0 or p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{where}: padding must be between 0 and half the kernel size, got padding={pads} "
            f"and kernel_size={kernel}"
        )
    for size, p, k, d in zip(x.shape[2:], pads, kernel, dilation):
        if size + 2 * p < d * (k - 1) + 1:
            raise ValueError(
                f"{where}: the input's spatial size {tuple(x.shape[2:])} padded by {pads} is "
                f"smaller than the kernel {kernel} with dilation {dilation}; pad more or use a "
                "smaller kernel"
            )
    pairs = tuple(
        (p, _right_padding(size, k, s, p, d, ceil_mode))
        for size, k, s, p, d in zip(x.shape[2:], kernel, stride, pads, dilation)
    )
    return x, unbatched, kernel, stride, pairs, dilation


def _right_padding(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool):
    """The padding after the input: ``padding``, or with ceil_mode as much more as the last
    window needs. PyTorch's ceil_mode rounds the number of windows up, but drops a last
    window that would start in the right padding (it must start inside the input or the
    left padding), so every window holds at least one input."""
    reach = dilation * (kernel - 1) + 1
    if not ceil:
        return padding
    out = -(-(size + 2 * padding - reach) // stride) + 1  # rounded up
    if (out - 1) * stride >= size + padding:
        out -= 1
    return max(padding, (out - 1) * stride + reach - size - padding)


def _max_pool(nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    where = f"max_pool{nd}d"
    xb, unbatched, kernel, stride, pads, dilation = _pool_args(
        nd, where, x, kernel_size, stride, padding, dilation, ceil_mode
    )
    y = MaxPool.apply(xb, kernel=kernel, stride=stride, padding=pads, dilation=dilation)
    if return_indices:
        # PyTorch's indices: the winner's flat position in the unpadded (H, W) plane
        _, _, arg = _window_argmax(xb.data, kernel, stride, pads, dilation)
        tap = np.unravel_index(arg, kernel)
        where_ = []
        for i, (k_i, s, d, (lo, _)) in enumerate(zip(tap, stride, dilation, pads)):
            shape = [1] * arg.ndim
            shape[2 + i] = arg.shape[2 + i]
            where_.append(np.arange(arg.shape[2 + i]).reshape(shape) * s + k_i * d - lo)
        flat = np.ravel_multi_index(np.broadcast_arrays(*where_), xb.shape[2:])
        indices = Tensor(flat.astype(np.int64))
        if unbatched:
            return y.reshape(*y.shape[1:]), indices.reshape(*indices.shape[1:])
        return y, indices
    return y.reshape(*y.shape[1:]) if unbatched else y


def max_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """1-D max pooling, as ``torch.nn.functional.max_pool1d``.

    Args:
        input: (N, C, L) or (C, L).
        kernel_size: the window length.
        stride: the step between windows; None (the default) means kernel_size.
        padding: -inf added on both sides, at most kernel_size // 2.
        dilation: the spacing between the taps of a window.
        ceil_mode: round the number of windows up instead of down (the last one may run
            past the end; it must start inside the input or the left padding).
        return_indices: also return each maximum's position in the input (int64).

    Returns:
        (N, C, L_out), L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1 (rounded
        up with ceil_mode); with return_indices, (values, indices).
    """
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size, stride, padding, dilation: ints or 2-tuples, as ``max_pool1d``.
        ceil_mode: round the number of windows up, as ``max_pool1d``.
        return_indices: also return each maximum's flat position h * W + w (int64).

    Returns:
        (N, C, H_out, W_out); with return_indices, (values, indices).
    """
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(nd, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor):
    where = f"avg_pool{nd}d"
    if divisor is not None and (not isinstance(divisor, (int, np.integer)) or divisor == 0):
        raise ValueError(f"{where}: divisor_override must be a nonzero int, got {divisor!r}")
    xb, unbatched, kernel, stride, pads, _ = _pool_args(
        nd, where, x, kernel_size, stride, padding, 1, ceil_mode
    )
    y = AvgPool.apply(
        xb,
        kernel=kernel,
        stride=stride,
        padding=pads,
        count_include_pad=bool(count_include_pad),
        divisor_override=None if divisor is None else int(divisor),
    )
    return y.reshape(*y.shape[1:]) if unbatched else y


def avg_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling, as ``torch.nn.functional.avg_pool1d``.

    Args:
        input: (N, C, L) or (C, L).
        kernel_size: the window length.
        stride: the step between windows; None (the default) means kernel_size.
        padding: zeros added on both sides, at most kernel_size // 2.
        ceil_mode: round the number of windows up, as ``max_pool1d``; a last window that
            runs past the padding is divided by the part of it inside (as PyTorch).
        count_include_pad: divide by the kernel size (True) or by the number of unpadded
            inputs in each window (False).

    Returns:
        (N, C, L_out), L_out = (L + 2 padding - k) // stride + 1 (rounded up with
        ceil_mode).
    """
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W).
        kernel_size, stride, padding: ints or 2-tuples, as ``avg_pool1d``.
        ceil_mode: as ``avg_pool1d``.
        count_include_pad: as ``avg_pool1d``.
        divisor_override: divide every window's sum by this instead.

    Returns:
        (N, C, H_out, W_out).
    """
    return _avg_pool(
        2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def _averaging_matrix(length: int, out: int, dtype: np.dtype) -> np.ndarray:
    """A (out, length) with row i averaging x[start_i:end_i], PyTorch's adaptive windows
    start_i = floor(i L / out), end_i = ceil((i + 1) L / out) (they may overlap by one)."""
    i = np.arange(out)
    start = (i * length) // out
    end = -((-(i + 1) * length) // out)  # ceil by floor division: exact for any size
    j = np.arange(length)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_avg_pool(nd: int, x: Tensor, output_size) -> Tensor:
    where = f"adaptive_avg_pool{nd}d"
    dims = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(
            f"{where}: input must be {dims} or without the batch dimension, got shape {x.shape}"
        )
    _check_dtype(where, x, integers=False)
    sizes = (output_size,) * nd if output_size is None else output_size
    sizes = (sizes,) * nd if isinstance(sizes, (int, np.integer)) else tuple(sizes)
    # None keeps that dimension's size, as PyTorch
    sizes = tuple(x.shape[-nd + i] if o is None else o for i, o in enumerate(sizes))
    if len(sizes) != nd or not all(isinstance(o, (int, np.integer)) and o >= 1 for o in sizes):
        raise ValueError(
            f"{where}: output_size must be a positive int or a tuple of {nd} positive ints "
            f"(or None), got {output_size!r}"
        )
    if nd == 2:  # y = A_H x A_W^T: rows averaged by A_H, columns by A_W
        a_h = _averaging_matrix(x.shape[-2], int(sizes[0]), x.dtype)
        x = matmul(Tensor(a_h), x)
    a_w = _averaging_matrix(x.shape[-1], int(sizes[-1]), x.dtype)
    return matmul(x, Tensor(np.ascontiguousarray(a_w.T)))


def adaptive_avg_pool1d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    output_size: int | Sequence[int],
) -> Tensor:
    """1-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool1d``.

    Output i averages input[floor(i L / out) : ceil((i + 1) L / out)], so any length L pools
    to exactly output_size values. It is linear, a product with a fixed (out, L) averaging
    matrix A: y = x A^T, whose gradient is grad_x = grad_y A, by matmul's own rule.

    Args:
        input: (N, C, L) or (C, L).
        output_size: the output length.

    Returns:
        (N, C, output_size) (or without N).
    """
    return _adaptive_avg_pool(1, input, output_size)


def adaptive_avg_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch's name
    output_size: int | Sequence[int | None] | None,
) -> Tensor:
    """2-D adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool2d``.

    The windows are products of PyTorch's 1-D windows in H and W, and their area the product
    of the lengths, so the pooling separates: y = A_H x A_W^T with the averaging matrices of
    ``adaptive_avg_pool1d``; output_size 1 is global average pooling.

    Args:
        input: (N, C, H, W) or (C, H, W).
        output_size: an int, or (H_out, W_out) where None keeps the input's size.

    Returns:
        (N, C, H_out, W_out) (or without N).
    """
    return _adaptive_avg_pool(2, input, output_size)
