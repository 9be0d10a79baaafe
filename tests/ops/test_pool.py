"""Max pooling's tie rule and return_indices against PyTorch: on inputs full of ties the
gradient goes to the first maximum of each window (in row-major order), as in PyTorch; and
the pooling argument errors. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

torch = pytest.importorskip("torch")

# (function name, input shape, keyword arguments): overlapping windows, padding, dilation
TIES = [
    ("max_pool1d", (2, 3, 11), dict(kernel_size=3, stride=1, padding=1)),
    ("max_pool1d", (1, 2, 12), dict(kernel_size=4, stride=2, dilation=2)),
    ("max_pool2d", (2, 2, 6, 7), dict(kernel_size=3, stride=1, padding=1)),
    ("max_pool2d", (1, 3, 7, 6), dict(kernel_size=(2, 3), stride=(2, 1), dilation=(2, 1))),
    ("max_pool2d", (3, 5, 4), dict(kernel_size=2)),  # unbatched
]


@pytest.mark.parametrize("case", range(len(TIES)))
def test_ties_and_indices_match_pytorch(case: int) -> None:
    name, shape, kw = TIES[case]
    rng = np.random.default_rng(case)
    x = rng.integers(0, 3, size=shape).astype(np.float64)  # three values: ties everywhere
    ours, theirs = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, idx = getattr(F, name)(ours, return_indices=True, **kw)
    y_t, idx_t = getattr(torch.nn.functional, name)(theirs, return_indices=True, **kw)
    np.testing.assert_array_equal(y.data, y_t.detach().numpy())
    np.testing.assert_array_equal(idx.data, idx_t.numpy())
    g = rng.standard_normal(y_t.shape)
    y.backward(gn.tensor(g))
    y_t.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_nan_propagates_as_in_pytorch() -> None:
    x = np.array([[[1.0, np.nan, 0.0, 2.0]]])
    y = F.max_pool1d(gn.tensor(x), 2)
    np.testing.assert_array_equal(y.data, torch.nn.functional.max_pool1d(torch.tensor(x), 2))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: F.max_pool2d(x, 3, padding=2), "half the kernel size"),
        (lambda x: F.max_pool2d(x, (2, 2, 2)), "tuple of 2 ints"),
        (lambda x: F.max_pool1d(x, 2), r"\(N, C, L\)"),
        (lambda x: F.avg_pool2d(x, 9), "smaller than the kernel"),
        (lambda x: F.adaptive_avg_pool2d(x, (0, 2)), "output_size must be a positive int"),
        (lambda x: F.adaptive_avg_pool1d(x, 2), r"\(N, C, L\)"),
    ],
)
def test_errors_name_the_problem(call, message: str) -> None:
    with pytest.raises((ValueError, NotImplementedError), match=message):
        call(gn.zeros(1, 2, 5, 5))
