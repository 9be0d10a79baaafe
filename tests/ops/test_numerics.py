"""Numbers a learner checks by hand: softmax values, overflow safety, the ReLU convention."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn


def test_softmax_of_1_2_3() -> None:
    s = gn.softmax(gn.tensor([1.0, 2.0, 3.0]), dim=0)
    np.testing.assert_allclose(s.data, [0.09003057, 0.24472847, 0.66524096], rtol=1e-6)


def test_softmax_of_huge_inputs_has_no_nan_and_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow RuntimeWarning would fail the test
        s = gn.softmax(gn.tensor([1000.0, 2000.0, 3000.0]), dim=0)
        ls = gn.log_softmax(gn.tensor([1000.0, 2000.0, 3000.0]), dim=0)
        lse = gn.logsumexp(gn.tensor([1000.0, 2000.0, 3000.0]))
    assert s.tolist() == [0.0, 0.0, 1.0]
    np.testing.assert_allclose(ls.data, [-2000.0, -1000.0, 0.0])
    assert lse.item() == pytest.approx(3000.0)


def test_naive_softmax_would_have_failed() -> None:
    # The reason for the max subtraction, shown: e^1000 overflows float32 to inf.
    with np.errstate(over="ignore", invalid="ignore"):
        x = np.array([1000.0, 2000.0, 3000.0], dtype=np.float32)
        naive = np.exp(x) / np.exp(x).sum()
    assert np.isnan(naive).all()


def test_relu_gradient_at_exactly_zero_is_zero() -> None:
    x = gn.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    gn.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


def test_sigmoid_and_softplus_are_finite_far_out() -> None:
    x = gn.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = gn.sigmoid(x)
        sp = gn.softplus(x)
        (s.sum() + sp.sum()).backward()
    assert np.isfinite(s.data).all() and np.isfinite(sp.data).all()
    assert s.data[0] == 0.0 and s.data[-1] == 1.0 and s.data[2] == 0.5
    assert sp.data[-1] == 1e4 and sp.data[0] == 0.0
    assert np.isfinite(x.grad.data).all()


def test_max_ties_share_the_gradient_evenly() -> None:
    x = gn.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    gn.amax(x).backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5, 0.0]


def test_softmax_backward_equals_the_jacobian_product() -> None:
    # J = diag(s) - s s^T, built explicitly here only to check the formula that avoids it.
    rng = np.random.default_rng(0)
    z, g = rng.standard_normal(5), rng.standard_normal(5)
    x = gn.tensor(z, requires_grad=True)
    gn.softmax(x, dim=0).backward(gn.tensor(g))
    s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    jacobian = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(x.grad.data, jacobian.T @ g, rtol=1e-12)


def test_argmax_and_argmin_have_no_gradient() -> None:
    x = gn.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], requires_grad=True)
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(dim=1).tolist() == [0, 1]
    assert x.argmax().item() == 3
    assert not x.argmax().requires_grad
    values, indices = x.max(dim=1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]


def test_shape_errors_name_the_op_and_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) do not fit"):
        gn.randn(2, 3) @ gn.randn(4, 5)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        gn.randn(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match="softmax: dim 2 is out of range"):
        gn.softmax(gn.randn(2, 3), dim=2)
    with pytest.raises(ValueError, match="cat: tensor 1 has shape"):
        gn.cat([gn.randn(2, 3), gn.randn(3, 4)], dim=0)
    with pytest.raises(TypeError, match="linear: input, weight and bias must share one dtype"):
        gn.linear(gn.randn(2, 3, dtype=gn.float64), gn.randn(4, 3))


@pytest.mark.parametrize(
    "number", [2, 2.5, np.int64(2), np.int32(2), np.float64(2.5), np.float16(2), True]
)
def test_numbers_never_upcast_a_float32_tensor(number) -> None:
    x = gn.ones(3, requires_grad=True)
    for result in (x * number, number * x, x / number, x - number, x**number):
        assert result.dtype == np.float32
    (x * number).sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("x", [[-100.0, -30.0, 0.3, 30.0], [-2.0, -0.5, 0.7, 1.9]])
def test_bce_with_logits_weight_and_pos_weight_gradients_pass_gradcheck(x) -> None:
    # PyTorch gives no gradient for weight and pos_weight; glassnet's are checked here
    # against central differences instead.
    def loss(logits, target, weight, pos_weight):
        return gn.nn.functional.binary_cross_entropy_with_logits(
            logits, target, weight=weight, pos_weight=pos_weight
        )

    inputs = [
        gn.tensor(np.array(x), requires_grad=True),
        gn.tensor(np.array([0.0, 1.0, 0.3, 1.0]), requires_grad=True),
        gn.tensor(np.array([0.5, 1.0, 2.0, 1.5]), requires_grad=True),
        gn.tensor(np.array([3.0, 0.5, 1.0, 2.0]), requires_grad=True),
    ]
    assert gn.gradcheck(loss, inputs, atol=1e-7, rtol=1e-6)
