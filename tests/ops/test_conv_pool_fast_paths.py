"""The conv and pooling fast paths agree with the plain versions they replace: the whole
batch's columns in one product against one product per sample (forward and all three
gradients, in 1-D and 2-D, with groups, stride and padding); the 2-D
stride-1 input gradient on widened rows against ``_input_grad`` (per-sample products, then
col2im); max pooling's maximum and first-equal-tap count against copying the windows out
for an argmax; and its backward for disjoint windows (written, by a multiply) against the
general one (added, by np.where), also with an infinite gradient."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.ops import conv as conv_module
from glassnet.ops.conv import _input_grad, _input_grad_2d_stride_1, _windows
from glassnet.ops.pool import _to_argmax, _window_max

# (input shape, weight shape, padding pairs, dilation, groups)
CONV_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), ((0, 0), (0, 0)), (1, 1), 1),
    ((2, 1, 12, 12), (6, 1, 5, 5), ((2, 2), (2, 2)), (1, 1), 1),
    ((1, 4, 9, 8), (6, 2, 2, 3), ((1, 1), (0, 2)), (2, 1), 2),
    ((3, 3, 6, 7), (3, 1, 3, 3), ((0, 1), (1, 1)), (1, 2), 3),  # depthwise, 'same'-style pads
]


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_stride_1_input_grad_matches_col2im(case: int) -> None:
    shape, w_shape, padding, dilation, groups = CONV_CASES[case]
    rng = np.random.default_rng(case)
    pad_size = tuple(n + lo + hi for n, (lo, hi) in zip(shape[2:], padding))
    out = tuple(p - d * (k - 1) for p, d, k in zip(pad_size, dilation, w_shape[2:]))
    grad_y = rng.standard_normal((shape[0], w_shape[0], *out))
    weight = rng.standard_normal(w_shape)
    plain = _input_grad(grad_y, weight, pad_size, padding, (1, 1), dilation, groups)
    fast = _input_grad_2d_stride_1(grad_y, weight, pad_size, padding, dilation, groups)
    assert fast.shape == shape
    np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-12)


# (input shape, weight shape, stride, padding, groups)
LAYOUT_CASES = [
    ((3, 2, 11), (5, 2, 3), 2, 1, 1),
    ((2, 4, 9), (6, 2, 3), 1, 0, 2),
    ((1, 3, 6), (4, 3, 1), 1, 0, 1),  # 1x1 on one sample: the columns are a view of x
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, 1, 1),
    ((3, 4, 8, 7), (6, 2, 3, 3), 2, (1, 0), 2),
]


def _conv_step(case: int, whole_batch_bytes: int, monkeypatch) -> list[np.ndarray]:
    shape, w_shape, stride, padding, groups = LAYOUT_CASES[case]
    monkeypatch.setattr(conv_module, "WHOLE_BATCH_BYTES", whole_batch_bytes)
    rng = np.random.default_rng(case)
    x, w, b = (
        gn.tensor(rng.standard_normal(s), requires_grad=True) for s in (shape, w_shape, w_shape[:1])
    )
    conv = gn.nn.functional.conv1d if len(shape) == 3 else gn.nn.functional.conv2d
    y = conv(x, w, b, stride=stride, padding=padding, groups=groups)
    (y * gn.tensor(rng.standard_normal(y.shape))).sum().backward()
    return [y.data, x.grad, w.grad, b.grad]


@pytest.mark.parametrize("case", range(len(LAYOUT_CASES)))
def test_whole_batch_columns_match_per_sample_products(case: int, monkeypatch) -> None:
    whole = _conv_step(case, 2**62, monkeypatch)
    per_sample = _conv_step(case, 0, monkeypatch)
    for a, b in zip(whole, per_sample):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


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
