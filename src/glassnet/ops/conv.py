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
    cut = grad_pad[(Ellipsis, *(slice(lo, n - hi) for (lo, hi), n in zip(padding, size)))]
    return cut.copy(order="K")  # in grad_pad's memory order


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


SHORT_ROWS, CHUNK = 8, 1024
"""A product whose result has at most SHORT_ROWS rows (few output channels per group, as
LeNet's first convolution's 6) runs in CHUNK-wide slices of its long dimension, all slices
in one batched ``np.matmul`` call. Measured (OpenBLAS 0.3.31, SkylakeX kernel, 1 and 2
threads): 6 x 25 by 25 x 100,352 takes 1.2-1.4 ms as one product and 0.46 ms in slices,
the weight gradient (6 x 100,352) by (100,352 x 25) 1.6 ms and 0.47 ms; with 16 rows
slices are slower than one product, which OpenBLAS then splits over its threads."""


def _sliced(length: int) -> tuple[int, int]:
    """(whole, count): the first ``whole`` = count * CHUNK columns go in slices."""
    count = length // CHUNK
    return count * CHUNK, count


def _product(w: np.ndarray, cols: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """w @ cols for w (G, M, K) and cols (G, K, L): (G, M, L), in slices of L when M is
    short; into ``out`` if given (gn.compile's arrays made once)."""
    groups, m, _ = w.shape
    length = cols.shape[-1]
    if m > SHORT_ROWS or length < 4 * CHUNK:
        return np.matmul(w, cols, out=out)
    y = np.empty((groups, m, length), dtype=np.result_type(w, cols)) if out is None else out
    whole, count = _sliced(length)
    for i in range(groups):  # (M, K) @ (count, K, CHUNK), written into y's slices in place
        np.matmul(
            w[i],
            cols[i, :, :whole].reshape(-1, count, CHUNK).transpose(1, 0, 2),
            out=y[i, :, :whole].reshape(m, count, CHUNK).transpose(1, 0, 2),
        )
        np.matmul(w[i], cols[i, :, whole:], out=y[i, :, whole:])
    return y


def _gram(g: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """g @ cols^T for g (G, M, L) and cols (G, K, L): (G, M, K), the sum over L.

    Computed as (cols @ g^T)^T, which OpenBLAS runs 1.1-1.8x faster for every convolution
    measured (LeNet's, the MNIST-1D CNN's, 64 and 128 channels of 3x3), and, when M is
    short, in slices (one product each, then added up)."""
    m, length = g.shape[1], g.shape[-1]
    if m > SHORT_ROWS or length < 4 * CHUNK:
        return np.matmul(cols, g.swapaxes(-1, -2)).swapaxes(-1, -2)
    whole, count = _sliced(length)
    head = [
        np.matmul(
            c_i[:, :whole].reshape(-1, count, CHUNK).transpose(1, 0, 2),
            g_i[:, :whole].reshape(m, count, CHUNK).transpose(1, 2, 0),
        ).sum(axis=0)
        for g_i, c_i in zip(g, cols)
    ]
    tail = np.matmul(cols[..., whole:], g[..., whole:].swapaxes(-1, -2))
    return (np.stack(head) + tail).swapaxes(-1, -2)


def batch_last(a: np.ndarray) -> bool:
    """Whether an (N, C, ...) array has the batch last in memory, as Conv's outputs do."""
    return a.ndim > 2 and not a.flags.c_contiguous and np.moveaxis(a, 0, -1).flags.c_contiguous


def _in_layout(a: np.ndarray, last: bool) -> np.ndarray:
    """a itself if its batch already is (``last``) or is not last in memory, else a copy that
    is: an operation reading two arrays in different orders jumps about in one of them."""
    if batch_last(a) == last:
        return a
    if last:
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 0, -1)), -1, 0)
    return np.ascontiguousarray(a)


def _new(shape: tuple[int, ...], dtype: np.dtype, last: bool, zero: bool = True) -> np.ndarray:
    """A new (N, ...) array of zeros (or unset) with the batch last in memory if ``last``."""
    new = np.zeros if zero else np.empty
    if not last:
        return new(shape, dtype=dtype)
    return np.moveaxis(new((*shape[1:], shape[0]), dtype=dtype), -1, 0)


class Conv(Function):
    """N-d convolution (cross-correlation) as im2col and one matrix product per group.

    Forward. Pad x, then lay every receptive field out as a column, the whole batch side by
    side: X[(c, k), (p, n)] = x_pad[n, c, p*s + k*d] (one row per input channel and kernel
    tap, one column per output position and sample). With W reshaped to (C_out, Cg * K),
    the convolution is Y = W X, the product of ``Linear`` turned on its side, one per group:
    one large product for the batch, which BLAS spreads over its threads, rather than N
    small ones (the MNIST-1D CNN's are 25 x 75 by 75 x 10, where a call per sample costs
    more than its arithmetic).

    Memory order. The batch varies fastest everywhere: x_pad is (C, *padded, N), so the
    copy into columns and col2im's sums run along rows of N values, not of a few positions;
    Y comes out (C_out, *out, N), and is handed on as a (N, C_out, *out) view of that, not
    copied: the ReLU and pooling after it keep the order (NumPy's results follow their
    input's), so the next convolution finds its input already batch last and nothing is
    transposed between layers. (Measured on LeNet at batch 128: 1.5x faster a step than
    transposing to PyTorch's order after every convolution.)

    Backward, with G = dL/dY laid out the same way, (C_out, positions * N):
        grad_W = G X^T   (as for Linear: the batch and the positions summed by the product).
                 Written out, grad_w[o, c, k] = sum_{n, p} G[n, o, p] x_pad[n, c, p*s + k*d]:
                 the input correlated with the output gradient, k now sliding and the
                 output gradient playing the kernel. Each weight is used at every position,
                 so it collects the input it saw there times the gradient that came back.
        grad_X = W^T G   (as for Linear), then col2im: x_pad[n, c, p*s + k*d] sat in
                 the columns of every (p, k) that reaches it, so its gradient is the sum
                 grad_x_pad[n, c, i] = sum_{o, p, k: p*s + k*d = i} G[n, o, p] w[o, c, k],
                 i.e. every output gradient is spread back through the kernel onto the
                 inputs it read: the transposed convolution (ConvTranspose) of G with the
                 same w. It is computed by adding, for each kernel tap k (K iterations,
                 not one per pixel), the rows of grad_X for that tap onto the strided
                 slice of the input they came from; the padding is then cut away.
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
        x_pad = np.moveaxis(x, 0, -1)  # (C, *padded, N): x itself if it is batch last
        if any(map(any, padding)) or not x_pad.flags.c_contiguous:
            x_pad = np.zeros((x.shape[1], *size, n), dtype=x.dtype)
            inner = (slice(lo, lo + m) for m, (lo, _) in zip(x.shape[2:], padding))
            x_pad[(slice(None), *inner)] = np.moveaxis(x, 0, -1)
        win = _windows_batch_last(x_pad, kernel, stride, dilation)  # (C, *kernel, *out, N)
        out = win.shape[1 + nd : 1 + 2 * nd]
        taps = c_g * math.prod(kernel)
        cols = win.reshape(groups, taps, -1)  # the copy: X[(c, k), (p, n)]
        if need_w and np.may_share_memory(cols, x):
            cols = cols.copy()  # a 1x1 kernel makes cols a view of x, which may change
        w = weight.reshape(groups, c_out // groups, taps)
        y_t = _product(w, cols).reshape(c_out, *out, n)  # Y, channels first, batch last
        if bias is not None:
            y_t += bias.reshape(c_out, *(1,) * (nd + 1))  # y_t is a fresh array: in place
        ctx.weight_shape = weight.shape
        ctx.layout = (size, padding, stride, dilation, groups)
        ctx.save_for_backward(cols if need_w else None, weight if need_x else None)
        return np.moveaxis(y_t, -1, 0)  # (N, C_out, *out): a view, the batch still last

    @staticmethod
    def backward(ctx, grad_y):
        cols, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        n, c_out, *out = grad_y.shape
        groups = ctx.layout[-1]
        # G as (G, C_out/G, positions * N), laid out as the columns: free when grad_y is
        # batch last already (it is when the layers after this one kept Y's order)
        g = np.ascontiguousarray(np.moveaxis(grad_y, 0, -1)).reshape(groups, c_out // groups, -1)
        grad_x = grad_w = grad_b = None
        if need_w:
            grad_w = _gram(g, cols).reshape(ctx.weight_shape)
        if need_b:
            grad_b = g.reshape(c_out, -1).sum(axis=1)
        if need_x:
            grad_x = _input_grad(g, weight, n, out, ctx.layout)
        return grad_x, grad_w, grad_b

    @staticmethod
    def emit(e, needs, x, weight, bias, *, stride, padding, dilation, groups):
        """gn.compile: the same steps, with the padded input, the columns and Y made once;
        the products and col2im are the same functions the eager op calls."""
        n, c_in, *size = x.shape
        c_out, c_g, *kernel = weight.shape
        kernel, nd = tuple(kernel), len(kernel)
        padded = tuple(m + lo + hi for m, (lo, hi) in zip(size, padding))
        x_pad = e.new((c_in, *padded, n), x.dtype, "x_padded")
        e.arrays[x_pad.name].fill(0)  # the padding stays 0: each step writes the inside
        windows = _windows_batch_last(e.arrays[x_pad.name], kernel, stride, dilation)
        out = windows.shape[1 + nd : 1 + 2 * nd]
        taps, length = c_g * math.prod(kernel), math.prod(out) * n
        win = e.bind(windows, "windows")
        cols = e.new((groups, taps, length), x.dtype, "columns")
        y_t = e.new((c_out, *out, n), x.dtype, "conv_t")
        y = e.array(np.moveaxis(e.arrays[y_t.name], -1, 0), "conv")  # a view, batch last
        product = e.bind(_product, "conv_product", exact=True)
        inside = ", ".join(f"{lo}:{lo + m}" for m, (lo, _) in zip(size, padding))
        e.line(f"np.copyto({x_pad}[:, {inside}], np.moveaxis({x}, 0, -1))  # batch last")
        e.line(f"np.copyto({cols}.reshape({windows.shape}), {win})  # im2col: fields as columns")
        w3 = f"{weight}.reshape({groups}, {c_out // groups}, {taps})"
        e.line(f"{product}({w3}, {cols}, out={y_t}.reshape({groups}, {c_out // groups}, -1))")
        if bias is not None:
            shape = (c_out, *(1,) * (nd + 1))
            e.line(f"np.add({y_t}, {bias}.reshape({shape}), out={y_t})  # Y = W X + b")

        def backward(g):
            need_x, need_w, need_b = needs
            g_t = e.new((c_out, *out, n), x.dtype, "grad_conv_t")
            g3 = f"{g_t}.reshape({groups}, {c_out // groups}, -1)"
            e.line(f"np.copyto({g_t}, np.moveaxis({g}, 0, -1))  # G, laid out as the columns")
            grad_x = grad_w = grad_b = None
            if need_w:
                gram = e.bind(_gram, "conv_gram", exact=True)
                grad_w = e.grad(weight)
                e.line(f"np.copyto({grad_w}, {gram}({g3}, {cols}).reshape({weight.shape}))")
            if need_b:
                grad_b = e.grad(bias)
                e.line(f"np.sum({g_t}.reshape({c_out}, -1), axis=1, out={grad_b})")
            if need_x:
                layout = (padded, padding, stride, dilation, groups)
                col2im = e.bind(_input_grad, "conv_input_grad", exact=True)
                grad_x = e.assign(
                    f"{col2im}({g3}, {weight}, {n}, {out}, {layout})", x.shape, x.dtype,
                    f"grad_{x.name}",
                )  # fmt: skip
            return grad_x, grad_w, grad_b

        return y, backward


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


def _input_grad(g, weight, n, out, layout):
    """grad_X = W^T G for the whole batch at once, G laid out (G, C_out/G, positions * N):
    grad_X comes out (C_in, *kernel, *out, N); col2im adds each tap's block onto
    (C_in, *padded, N), along rows of N values, and the result is the (N, C_in, *size) view
    of that without the padding, the batch last in memory as the input's was."""
    pad_size, padding, stride, dilation, groups = layout
    c_g, *kernel = weight.shape[1:]
    w = weight.reshape(groups, weight.shape[0] // groups, -1)
    grad_cols = np.matmul(w.transpose(0, 2, 1), g).reshape(groups * c_g, *kernel, *out, n)
    grad_pad = np.zeros((groups * c_g, *pad_size, n), dtype=g.dtype)
    for tap in itertools.product(*(range(k) for k in kernel)):
        grad_pad[(slice(None), *_reached(tap, stride, dilation, out))] += grad_cols[
            (slice(None), *tap)
        ]
    inner = (slice(lo, size - hi) for (lo, hi), size in zip(padding, pad_size))
    return np.moveaxis(grad_pad[(slice(None), *inner)], -1, 0)


def _batch_of(x: Tensor, nd: int, where: str) -> tuple[Tensor, bool]:
    """x as (N, C_in, *spatial), and whether it came without the batch dimension (PyTorch
    takes (C_in, *spatial) as a batch of one); conv and its transpose take the same."""
    if x.ndim not in (nd + 1, nd + 2):
        dims = "(N, C_in, L)" if nd == 1 else "(N, C_in, H, W)"
        raise ValueError(
            f"{where}: input must be {dims} or without the batch dimension, got shape {x.shape}"
        )
    unbatched = x.ndim == nd + 1
    return (x.reshape(1, *x.shape) if unbatched else x), unbatched


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
    x, unbatched = _batch_of(x, nd, where)
    if weight.ndim != nd + 2:
        kdims = "(C_out, C_in / groups, k)" if nd == 1 else "(C_out, C_in / groups, kH, kW)"
        raise ValueError(f"{where}: weight must have shape {kdims}, got {weight.shape}")
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
