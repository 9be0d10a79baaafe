"""gather, scatter_add, index_select, masked_fill, tril, triu beyond the spec table: bad
indices fail with the op, the range and the value; dtypes and edge cases follow PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

X = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: x.gather(1, gn.tensor([[4]])), r"gather: index 4 .* dim 1 of size 4.*\[0, 3\]"),
        (lambda x: x.gather(1, gn.tensor([[-1]])), r"gather: index -1 .*\[0, 3\]"),
        (lambda x: x.index_select(0, gn.tensor([0, 3])), r"index_select: index 3 .*\[0, 2\]"),
        (
            lambda x: x.scatter_add(0, gn.tensor([[5]]), gn.ones(1, 1)),
            r"scatter_add: index 5 .* dim 0 of size 3",
        ),
    ],
)
def test_an_index_out_of_range_names_the_op_the_range_and_the_value(call, message) -> None:
    with pytest.raises(IndexError, match=message):
        call(gn.tensor(X, dtype=gn.float32))


def test_index_shape_and_dtype_errors() -> None:
    x = gn.tensor(X)
    with pytest.raises(TypeError, match=r"gather: index must hold integers.*\.long\(\)"):
        x.gather(1, gn.tensor([[0.0]]))
    with pytest.raises(ValueError, match="as many dimensions as input"):
        x.gather(1, gn.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"larger than input \(3, 4\) at dim 0"):
        x.gather(1, np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="larger than src"):
        x.scatter_add(1, np.zeros((3, 2), dtype=np.int64), gn.ones(3, 1, dtype=gn.float64))
    with pytest.raises(TypeError, match="src must be a tensor of input's dtype float64"):
        x.scatter_add(1, np.zeros((3, 2), dtype=np.int64), gn.ones(3, 2))
    with pytest.raises(ValueError, match="index_select: index must be a vector"):
        x.index_select(0, gn.tensor([[0]]))
    with pytest.raises(TypeError, match="masked_fill: mask must be boolean"):
        x.masked_fill(gn.tensor([1, 0, 1, 0]), 0.0)
    with pytest.raises(ValueError, match="masked_fill: value must be a number or a 0-d tensor"):
        x.masked_fill(gn.tensor([True, False, True, False]), gn.tensor([1.0]))
    with pytest.raises(ValueError, match=r"does not broadcast"):
        x.masked_fill(gn.tensor([True, False]), 0.0)
    with pytest.raises(ValueError, match="tril: expects a tensor with at least 2 dimensions"):
        gn.ones(3).tril()


def test_gather_and_scatter_add_match_pytorch_on_int32_indices_and_large_indices() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6))
    idx = rng.integers(0, 6, size=(4, 9)).astype(np.int32)  # larger than x along dim 1
    got = gn.tensor(x).gather(1, gn.tensor(idx))
    expected = torch.from_numpy(x).gather(1, torch.from_numpy(idx).long())
    np.testing.assert_array_equal(got.data, expected.numpy())
    src = rng.standard_normal((4, 9))
    got = gn.tensor(x).scatter_add(1, idx, gn.tensor(src))
    expected = torch.from_numpy(x).scatter_add(1, torch.from_numpy(idx).long(), torch.tensor(src))
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-12)


def test_masked_fill_keeps_the_input_dtype_and_takes_minus_infinity() -> None:
    x = gn.tensor(X, dtype=gn.float32, requires_grad=True)
    mask = gn.tensor([[True, False, False, False]] * 3)
    y = x.masked_fill(mask, float("-inf"))
    assert y.dtype == np.float32
    assert np.isneginf(y.data[:, 0]).all() and np.isfinite(y.data[:, 1:]).all()
    # the attention use: masked scores get probability 0 and gradient 0
    gn.softmax(y, dim=1)[:, 1].sum().backward()
    assert (x.grad.data[:, 0] == 0).all()
    ints = gn.tensor([1, 2, 3]).masked_fill(gn.tensor([True, False, True]), 2.7)
    assert ints.dtype == np.int64 and ints.tolist() == [2, 2, 2]  # truncated, as in PyTorch


def test_masked_fill_value_gets_the_sum_of_the_gradient_at_the_filled_places() -> None:
    x = gn.tensor(X, requires_grad=True)
    v = gn.tensor(np.float64(2.0), requires_grad=True)
    mask = np.array([True, False, True, False])
    y = x.masked_fill(mask, v)
    weights = np.arange(12.0).reshape(3, 4)
    (y * gn.tensor(weights)).sum().backward()
    assert v.grad.item() == weights[:, [0, 2]].sum()
    np.testing.assert_array_equal(x.grad.data, weights * ~mask)


def test_zero_dim_inputs_act_as_one_element() -> None:
    x = gn.tensor(np.float64(3.0), requires_grad=True)
    assert x.index_select(0, gn.tensor([0])).shape == ()
    y = x.scatter_add(0, gn.tensor(0), gn.tensor(np.float64(2.0)))
    assert y.shape == () and y.item() == 5.0
    y.backward()
    assert x.grad.item() == 1.0


def test_the_new_ops_are_exported_where_pytorch_has_them() -> None:
    for name in ("gather", "scatter_add", "index_select", "masked_fill", "tril", "triu"):
        assert callable(getattr(gn, name)), name
        assert callable(getattr(gn.Tensor, name)), name
