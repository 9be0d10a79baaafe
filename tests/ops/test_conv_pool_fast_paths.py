"""The conv and pooling fast paths agree with plain NumPy written out here: the sliced
products for short results against one ``np.matmul`` (with and without a remainder); a
convolution's output and gradients against a loop over kernel taps, whether its input is
laid out batch first or batch last, and the batch-last layout carried from a convolution
through ReLU and max pooling into the next one; max pooling's maximum and first-greater
scan against copying the windows out for an argmax; and its backward for disjoint windows
(written, by a multiply) against the general one (added, by np.where), also with an
infinite gradient."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import glassnet as gn
from glassnet.ops import conv as conv_module
from glassnet.ops.conv import _gram, _product, _windows, batch_last
from glassnet.ops.pool import _to_argmax, _window_max


@pytest.mark.parametrize("length", [4 * 16, 4 * 16 + 5])  # whole slices, and a remainder
@pytest.mark.parametrize("rows", [3, 12])  # sliced (short), one product (long)
def test_sliced_products_match_one_matmul(length: int, rows: int, monkeypatch) -> None:
    monkeypatch.setattr(conv_module, "CHUNK", 16)
    monkeypatch.setattr(conv_module, "SHORT_ROWS", 8)
    rng = np.random.default_rng(length + rows)
    w = rng.standard_normal((2, rows, 7))
    cols = rng.standard_normal((2, 7, length))
    g = rng.standard_normal((2, rows, length))
    np.testing.assert_allclose(_product(w, cols), w @ cols, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_gram(g, cols), g @ cols.transpose(0, 2, 1), rtol=1e-12, atol=1e-12)


def _conv_by_taps(x, w, b, stride, padding, groups):
    """The convolution's definition, one kernel tap at a time: y[n, o, p] = b[o] +
    sum_{c, k} w[o, c, k] x_pad[n, g*Cg + c, p*s + k], and its three gradients for the
    upstream gradient u, all written out with einsum (no im2col, no col2im)."""
    nd = w.ndim - 2
    pads = ((0, 0), (0, 0), *((p, p) for p in padding))
    x_pad = np.pad(x, pads)
    c_out, c_g, *kernel = w.shape
    out = [(n - k) // s + 1 for n, k, s in zip(x_pad.shape[2:], kernel, stride)]
    y = np.zeros((x.shape[0], c_out, *out)) + b.reshape(c_out, *(1,) * nd)
    per = c_out // groups
    reads = {}
    for tap in itertools.product(*(range(k) for k in kernel)):
        sl = tuple(slice(k, k + s * (o - 1) + 1, s) for k, s, o in zip(tap, stride, out))
        reads[tap] = sl
        for grp in range(groups):
            xs = x_pad[:, grp * c_g : (grp + 1) * c_g][(Ellipsis, *sl)]
            ws = w[grp * per : (grp + 1) * per][(Ellipsis, *tap)]
            y[:, grp * per : (grp + 1) * per] += np.einsum("oc,nc...->no...", ws, xs)
    return y, x_pad, reads, per, c_g


@pytest.mark.parametrize(
    "shape, w_shape, stride, padding, groups",
    [
        ((3, 2, 11), (5, 2, 3), (2,), (1,), 1),
        ((2, 4, 9), (6, 2, 3), (1,), (0,), 2),
        ((1, 3, 6), (4, 3, 1), (1,), (0,), 1),  # 1x1 on one sample: columns are a view
        ((2, 3, 7, 6), (4, 3, 3, 2), (1, 1), (1, 1), 1),
        ((3, 4, 8, 7), (6, 2, 3, 3), (2, 1), (1, 0), 2),
        ((4, 1, 12, 12), (6, 1, 5, 5), (1, 1), (2, 2), 1),  # LeNet's first, batch of 4
    ],
)
@pytest.mark.parametrize("last", [False, True])
def test_conv_matches_the_loop_over_taps(shape, w_shape, stride, padding, groups, last):
    rng = np.random.default_rng(sum(shape))
    x_np, w_np, b_np = (rng.standard_normal(s) for s in (shape, w_shape, w_shape[:1]))
    if last:  # the same values with the batch last in memory, as a convolution leaves them
        x_np = np.moveaxis(np.ascontiguousarray(np.moveaxis(x_np, 0, -1)), -1, 0)
        assert batch_last(x_np) or shape[0] == 1  # one sample: the two orders coincide
    x, w, b = (gn.tensor(a, requires_grad=True) for a in (x_np, w_np, b_np))
    conv = gn.nn.functional.conv1d if len(shape) == 3 else gn.nn.functional.conv2d
    y = conv(x, w, b, stride=stride, padding=padding, groups=groups)
    u = rng.standard_normal(y.shape)
    (y * gn.tensor(u)).sum().backward()

    want, x_pad, reads, per, c_g = _conv_by_taps(x_np, w_np, b_np, stride, padding, groups)
    grad_w = np.zeros_like(w_np)
    grad_x_pad = np.zeros_like(x_pad)
    for tap, sl in reads.items():
        for grp in range(groups):
            xs = x_pad[:, grp * c_g : (grp + 1) * c_g][(Ellipsis, *sl)]
            us = u[:, grp * per : (grp + 1) * per]
            grad_w[grp * per : (grp + 1) * per][(Ellipsis, *tap)] = np.einsum(
                "nop,ncp->oc", us.reshape(*us.shape[:2], -1), xs.reshape(*xs.shape[:2], -1)
            )
            ws = w_np[grp * per : (grp + 1) * per][(Ellipsis, *tap)]
            grad_x_pad[:, grp * c_g : (grp + 1) * c_g][(Ellipsis, *sl)] += np.einsum(
                "oc,no...->nc...", ws, us
            )
    inner = tuple(slice(p, p + n) for p, n in zip(padding, shape[2:]))
    np.testing.assert_allclose(y.data, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.grad, grad_w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, u.sum(axis=(0, *range(2, u.ndim))), rtol=1e-12)
    np.testing.assert_allclose(x.grad, grad_x_pad[(Ellipsis, *inner)], rtol=1e-12, atol=1e-12)


def test_the_batch_last_layout_flows_from_conv_through_relu_and_pool() -> None:
    """A convolution hands on its output batch last in memory; ReLU and max pooling keep
    that order, so the next convolution reads its input without a transpose. Values and
    gradients are those of the same network on batch-first copies of every array."""
    gn.manual_seed(0)
    net = gn.nn.Sequential(
        gn.nn.Conv2d(1, 3, 3), gn.nn.ReLU(), gn.nn.MaxPool2d(2), gn.nn.Conv2d(3, 2, 3)
    ).double()
    x = gn.tensor(np.random.default_rng(1).standard_normal((5, 1, 10, 10)))
    seen = []
    for layer in net:  # layer by layer, so each output's layout can be looked at
        x = layer(x)
        seen.append(batch_last(x.data))
    assert seen == [True, True, True, True]

    # the same computation written with plain NumPy on C-ordered arrays
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    x0 = np.random.default_rng(1).standard_normal((5, 1, 10, 10))
    h, *_ = _conv_by_taps(x0, w1, b1, (1, 1), (0, 0), 1)
    h = np.maximum(h, 0)
    h = h.reshape(5, 3, 4, 2, 4, 2).max(axis=(3, 5))
    y, *_ = _conv_by_taps(h, w2, b2, (1, 1), (0, 0), 1)
    np.testing.assert_allclose(x.data, y, rtol=1e-12, atol=1e-12)


# (input shape, kernel, stride, dilation)
POOL_CASES = [
    ((2, 3, 8, 8), (2, 2), (2, 2), (1, 1)),
    ((1, 2, 7, 9), (3, 2), (1, 2), (1, 2)),
    ((2, 2, 11), (4,), (3,), (2,)),
]


@pytest.mark.parametrize("case", range(len(POOL_CASES)))
def test_running_max_matches_argmax_of_copied_windows(case: int) -> None:
    shape, kernel, stride, dilation = POOL_CASES[case]
    x = np.random.default_rng(case).integers(0, 3, shape).astype(np.float32)  # many ties
    win = _windows(x, kernel, stride, dilation)
    flat = win.reshape(*win.shape[: 2 + len(kernel)], -1)  # the plain way: copy, then argmax
    best, arg = _window_max(x, kernel, stride, dilation)
    np.testing.assert_array_equal(arg, flat.argmax(axis=-1))
    np.testing.assert_array_equal(best, flat.max(axis=-1))
    assert arg.dtype == np.uint8  # a few taps: one byte saved per window, not eight


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 3, 9, 7)])  # the second leaves inputs out
def test_disjoint_windows_backward_matches_the_general_one(shape) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, shape).astype(np.float64)
    kernel = stride = (2, 2)
    _, arg = _window_max(x, kernel, stride, (1, 1))
    grad_y = rng.standard_normal(arg.shape)
    grad_y[0, 0, 0, 0] = np.inf  # the first call takes the where road for this one
    for g in (grad_y, np.where(np.isinf(grad_y), 1.0, grad_y)):
        plain = _to_argmax(g, arg, shape[2:], kernel, stride, (1, 1), disjoint=False)
        fast = _to_argmax(g, arg, shape[2:], kernel, stride, (1, 1), disjoint=True)
        np.testing.assert_array_equal(fast, plain)
