"""gradcheck: passes right gradients, and names the culprit for wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn


class WrongExp(gn.Function):
    """Claims d(e^x)/dx = 2 e^x: a bug gradcheck must catch."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved_tensors
        return 2 * grad_y * y


def test_gradcheck_passes_a_correct_function() -> None:
    x = gn.randn(3, 4, requires_grad=True)
    assert gn.gradcheck(lambda t: (t * t).sum(dim=1).exp(), (x,))


def test_gradcheck_works_in_float64_whatever_the_input_dtype() -> None:
    x = gn.randn(3, requires_grad=True)  # float32
    seen = []
    gn.gradcheck(lambda t: seen.append(t.dtype) or t.exp(), (x,))
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == np.float32  # the caller's tensor is untouched


def test_gradcheck_names_input_index_and_values_on_failure() -> None:
    a = gn.tensor([0.1, 0.2], requires_grad=True)
    b = gn.tensor([0.3, 0.4], requires_grad=True)
    with pytest.raises(gn.GradcheckError) as info:
        gn.gradcheck(lambda p, q: p + WrongExp.apply(q), (a, b))
    message = str(info.value)
    assert "input 1" in message and "index (0,)" in message
    assert "analytic" in message and "numeric" in message


def test_gradcheck_needs_an_input_that_requires_grad() -> None:
    with pytest.raises(gn.GradcheckError, match="no input has requires_grad=True"):
        gn.gradcheck(gn.exp, (gn.tensor([1.0]),))
