"""Cross-entropy's fast path for plain integer labels (LabelCrossEntropy: the label's
log-probability picked, 1 taken off p at the label) gives exactly what the general
CrossEntropy gives with its one-hot target matrix, loss and gradient; anything else
(weights, smoothing, ignored rows, soft targets, 'none') takes the general op."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.ops import loss as L


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_label_path_equals_the_target_matrix_path(dtype, reduction: str) -> None:
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((32, 10)) * 5).astype(dtype)
    y = rng.integers(0, 10, 32)
    fast, plain = gn.tensor(z, requires_grad=True), gn.tensor(z, requires_grad=True)
    loss_fast = gn.nn.functional.cross_entropy(fast, gn.tensor(y), reduction=reduction)
    a, denominator = L._target_coefficients(plain, y, False, None, -100, 0.0)
    loss_plain = L.CrossEntropy.apply(plain, a, denominator, reduction)
    assert loss_fast.grad_fn.function is L.LabelCrossEntropy
    loss_fast.backward()
    loss_plain.backward()
    np.testing.assert_array_equal(loss_fast.data, loss_plain.data)
    np.testing.assert_array_equal(fast.grad.data, plain.grad.data)


@pytest.mark.parametrize(
    "kwargs",
    [{"label_smoothing": 0.1}, {"weight": gn.tensor(np.ones(4))}, {"reduction": "none"}],
)
def test_other_cases_take_the_general_op(kwargs) -> None:
    z = gn.tensor(np.zeros((3, 4)), requires_grad=True)
    out = gn.nn.functional.cross_entropy(z, gn.tensor([0, 1, 3]), **kwargs)
    assert out.grad_fn.function is L.CrossEntropy
    ignored = gn.nn.functional.cross_entropy(z, gn.tensor([0, -100, 3]))
    assert ignored.grad_fn.function is L.CrossEntropy
