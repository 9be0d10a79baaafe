"""Review of issue 12: cases where glassnet and PyTorch (float64) disagree.

Each test states PyTorch's answer; each fails on 0ce6c1e.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd.function import Function

MODIFIED = "modified by an in-?place operation"


def test_a_view_shares_its_base_version_so_changing_it_is_caught() -> None:
    # PyTorch: a view shares the version counter of its base; backward raises.
    w = gn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (w * w).sum()
    with gn.no_grad():
        w.reshape(2).add_(10.0)  # writes w's values through a view
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()  # glassnet returns [22, 24] silently (the gradient at w + 10)


def test_changing_the_base_of_a_saved_slice_is_caught() -> None:
    # PyTorch: raises. glassnet: w.grad is computed from the changed x, silently.
    x = gn.tensor(np.arange(6.0).reshape(2, 3))
    w = gn.tensor(np.ones((3, 2)), requires_grad=True)
    y = (x[:, :] @ w).sum()  # a batch slice, as a DataLoader-free loop takes it
    x.add_(1.0)
    with pytest.raises(RuntimeError, match=MODIFIED):
        y.backward()


class _CachedJacobian(Function):
    """y = x; the backward returns a ones array it keeps on ctx (a constant Jacobian)."""

    @staticmethod
    def forward(ctx, x):
        ctx.ones = np.ones_like(x)
        return x.copy()

    @staticmethod
    def backward(ctx, grad_y):
        return ctx.ones


def test_a_grad_is_never_an_array_a_custom_backward_still_holds() -> None:
    # PyTorch (AccumulateGrad clones a gradient someone else holds): a.grad == [4, 4].
    a = gn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = _CachedJacobian.apply(a)
    y.sum().backward(retain_graph=True)
    a.grad.mul_(3.0)  # e.g. clip_grad_norm_ scaling .grad in place
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [4.0, 4.0])  # glassnet: [6, 6]


def test_changing_a_value_no_requested_gradient_needs_is_fine() -> None:
    # PyTorch saves x for w's gradient and w only if x needs one: w.grad == x, no error.
    x = gn.tensor(np.array([1.0, 2.0]))
    w = gn.tensor(np.array([3.0, 4.0]), requires_grad=True)
    y = (x * w).sum()
    with gn.no_grad():
        w += 1.0
    y.backward()  # glassnet raises MulBackward ... modified
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0])


def test_an_optimizer_step_on_a_first_layer_before_backward_is_legal() -> None:
    # PyTorch: Linear on a data input does not need its weight for the weight's gradient;
    # loss.backward() after opt.step() gives weight.grad == 8 everywhere (4 rows, twice).
    layer = gn.nn.Linear(3, 2)
    opt = gn.optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(gn.ones(4, 3)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    loss.backward()  # glassnet raises LinearBackward ... modified
    np.testing.assert_allclose(layer.weight.grad.data, np.full((2, 3), 8.0))
