"""ceil_mode=True pooling against PyTorch in float64: output sizes, values and input
gradients over a table of ragged edges (the last window running past the input and the
padding, PyTorch's rule that drops a window starting in the right padding, average
pooling's divisor at the edge with and without count_include_pad, dilation, overlapping
windows); and where a NaN sends its gradient. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

torch = pytest.importorskip("torch")

# (function name, input shape, keyword arguments), all with ceil_mode=True; DROPPED lists the
# cases where rounding up would add a window that starts in the right padding
CASES = [
    ("max_pool1d", (2, 3, 7), dict(kernel_size=2)),  # 7 -> 4 windows, the last one ragged
    ("max_pool1d", (1, 2, 10), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool1d", (2, 2, 5), dict(kernel_size=2, stride=2, padding=1)),  # a window dropped
    ("max_pool1d", (1, 2, 12), dict(kernel_size=3, stride=2, dilation=2)),
    ("max_pool2d", (2, 3, 7, 5), dict(kernel_size=2)),
    ("max_pool2d", (1, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (2, 2, 5, 6), dict(kernel_size=(2, 3), stride=(2, 2), padding=(1, 1))),
    ("max_pool2d", (1, 2, 10, 7), dict(kernel_size=3, stride=(3, 2), dilation=(1, 2))),
    ("max_pool2d", (3, 8, 8), dict(kernel_size=3, stride=2)),  # unbatched
    ("avg_pool1d", (2, 3, 7), dict(kernel_size=2)),
    ("avg_pool1d", (1, 2, 10), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool1d", (1, 2, 10), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool1d", (2, 2, 5), dict(kernel_size=2, stride=2, padding=1)),  # a window dropped
    ("avg_pool2d", (2, 3, 7, 5), dict(kernel_size=2)),
    ("avg_pool2d", (1, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (1, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 2, 5, 6), dict(kernel_size=(2, 3), stride=(2, 2), padding=(1, 1))),
    ("avg_pool2d", (1, 2, 8, 7), dict(kernel_size=3, stride=2, divisor_override=5)),
    ("avg_pool2d", (3, 8, 8), dict(kernel_size=3, stride=2, count_include_pad=False)),
]

DROPPED = {2, 12}


@pytest.mark.parametrize(
    "case", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_ceil_mode_matches_pytorch(case: int) -> None:
    name, shape, kw = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape)
    ours, theirs = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = getattr(F, name)(ours, ceil_mode=True, **kw)
    y_t = getattr(torch.nn.functional, name)(theirs, ceil_mode=True, **kw)
    floor = getattr(torch.nn.functional, name)(torch.tensor(x), **kw)
    assert y.shape == tuple(y_t.shape)
    # every case has a ragged edge that ceil_mode keeps, but for the windows it must drop
    assert (y_t.shape == floor.shape) == (case in DROPPED)
    np.testing.assert_allclose(y.data, y_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y_t.shape)
    y.backward(gn.tensor(g))
    y_t.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_ceil_mode_layers_match_pytorch() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32)
    for ours, theirs in [
        (gn.nn.MaxPool2d(2, ceil_mode=True), torch.nn.MaxPool2d(2, ceil_mode=True)),
        (gn.nn.AvgPool2d(2, ceil_mode=True), torch.nn.AvgPool2d(2, ceil_mode=True)),
    ]:
        y = ours(gn.tensor(x))
        np.testing.assert_allclose(y.data, theirs(torch.tensor(x)).numpy(), rtol=1e-6)
        assert repr(ours) == repr(theirs)


def test_nan_takes_the_gradient_and_index_as_in_pytorch() -> None:
    # two NaNs in one window, one in another: PyTorch's kernel lets the last NaN win
    x = np.array([[[1.0, np.nan, 3.0, np.nan, 0.0, np.nan, 2.0, 5.0]]])
    ours, theirs = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, idx = F.max_pool1d(ours, 4, return_indices=True)
    y_t, idx_t = torch.nn.functional.max_pool1d(theirs, 4, return_indices=True)
    np.testing.assert_array_equal(idx.data, idx_t.numpy())
    y.backward(gn.ones(*y.shape, dtype=np.float64))
    y_t.backward(torch.ones_like(y_t))
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
