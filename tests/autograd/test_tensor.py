"""Tensor creation, dtype rules and the PyTorch-named attributes."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn


@pytest.mark.parametrize(
    ("data", "dtype"),
    [
        (1.5, np.float32),
        ([1.0, 2.0], np.float32),
        (3, np.int64),
        ([[1, 2], [3, 4]], np.int64),
        (True, np.bool_),
        (np.array([1.0, 2.0]), np.float64),  # NumPy arrays keep their dtype
        (np.array([1, 2], dtype=np.int32), np.int32),
        (np.float64(2.0), np.float64),
    ],
)
def test_dtype_rules_follow_pytorch(data, dtype) -> None:
    assert gn.tensor(data).dtype == dtype


def test_explicit_dtype_and_conversions() -> None:
    t = gn.tensor([1, 2], dtype=gn.float64)
    assert t.dtype == np.float64
    assert t.float().dtype == np.float32
    assert t.float().double().dtype == np.float64
    assert t.long().dtype == np.int64


def test_tensor_copies_data_and_from_numpy_shares_it() -> None:
    a = np.zeros(3, dtype=np.float32)
    copied, shared = gn.tensor(a), gn.from_numpy(a)
    a[0] = 7
    assert copied.data[0] == 0
    assert shared.data[0] == 7


def test_attributes() -> None:
    x = gn.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2
    assert x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert isinstance(x.numpy(), np.ndarray)
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward"
    d = y.detach()
    assert d.grad_fn is None and not d.requires_grad
    assert np.shares_memory(d.data, y.data)
    assert gn.tensor([2.5]).item() == 2.5
    with pytest.raises(RuntimeError, match="exactly one element"):
        x.item()


def test_repr_looks_like_pytorch() -> None:
    assert repr(gn.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(gn.tensor([1.0, 2.0], requires_grad=True)) == (
        "tensor([1., 2.], requires_grad=True)"
    )
    assert repr(gn.tensor([1.0]) * 1) == "tensor([1.])"
    assert "grad_fn=<MulBackward>" in repr(gn.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(gn.tensor(np.array([1.0])))


def test_only_float_tensors_can_require_grad() -> None:
    with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
        gn.tensor([1, 2], requires_grad=True)
    x = gn.tensor([1.0]).requires_grad_()
    assert x.requires_grad


def test_comparisons_give_bool_tensors_without_gradient() -> None:
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert m.tolist() == [False, True, True]
    assert (x == x).all().item()
    assert {x: 1}[x] == 1  # tensors hash by identity, as in PyTorch


def test_reflected_operators() -> None:
    x = gn.tensor([1.0, 2.0])
    np.testing.assert_allclose((1 - x).data, [0.0, -1.0])
    np.testing.assert_allclose((2 / x).data, [2.0, 1.0])
    np.testing.assert_allclose((2**x).data, [2.0, 4.0])
    np.testing.assert_allclose((np.array([1.0, 1.0], dtype=np.float32) + x).data, [2.0, 3.0])


def test_creation_functions() -> None:
    assert gn.zeros(2, 3).shape == (2, 3) and gn.zeros((2, 3)).dtype == np.float32
    assert gn.ones(4).data.sum() == 4
    assert gn.full((2, 2), 7.0).data.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert gn.full((2,), 7).dtype == np.int64
    assert gn.empty(3).shape == (3,)
    assert gn.zeros_like(gn.ones(2, dtype=gn.float64)).dtype == np.float64
    assert gn.ones_like(gn.zeros(3)).data.tolist() == [1.0, 1.0, 1.0]
    assert gn.arange(5).tolist() == [0, 1, 2, 3, 4] and gn.arange(5).dtype == np.int64
    assert gn.arange(0, 1, 0.5).dtype == np.float32
    np.testing.assert_allclose(gn.linspace(0, 1, 5).data, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(gn.eye(3).data, np.eye(3))
    assert gn.zeros(2, requires_grad=True).requires_grad
    assert gn.randn(3, 4, dtype=gn.float64).dtype == np.float64
    r = gn.randint(0, 10, (100,))
    assert r.dtype == np.int64 and r.data.min() >= 0 and r.data.max() < 10
    with pytest.raises(ValueError, match="non-negative"):
        gn.zeros(-1)


def test_manual_seed_and_generator_make_randomness_repeatable() -> None:
    gn.manual_seed(123)
    a = gn.randn(5)
    gn.manual_seed(123)
    b = gn.randn(5)
    np.testing.assert_array_equal(a.data, b.data)
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(gn.rand(4, generator=g1).data, gn.rand(4, generator=g2).data)
    # rand matches NumPy's own stream for the same seed: the generator is really used
    np.testing.assert_array_equal(
        gn.rand(4, dtype=gn.float64, generator=np.random.default_rng(3)).data,
        np.random.default_rng(3).random(4),
    )
    with pytest.raises(ValueError, match="non-negative integer"):
        gn.manual_seed(-1)


def test_setitem_refuses_tensors_in_a_graph() -> None:
    t = gn.zeros(3)
    t[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    x = gn.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"in-place operation \(x\[index\] = value\)"):
        x[0] = 1.0


def test_indexing_with_integer_and_boolean_tensors() -> None:
    x = gn.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    picked = x[gn.tensor([2, 0, 2])]
    assert picked.tolist() == [[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]]
    picked.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]  # row 2 picked twice
    assert x[x > 3.5].tolist() == [4.0, 5.0, 6.0]


def test_in_place_updates_change_the_parameter_itself() -> None:
    # the hand-written training loop of every backprop tutorial
    w = gn.tensor([1.0, -2.0], requires_grad=True)
    x = gn.tensor([3.0, 0.5])
    for _ in range(3):
        loss = ((w * x).sum() - 1.0) ** 2
        loss.backward()
        with gn.no_grad():
            w -= 0.05 * w.grad
        w.grad.zero_()
    assert w.requires_grad and w.is_leaf and w.grad.tolist() == [0.0, 0.0]
    assert abs(((w * x).sum() - 1.0).item()) < abs(3.0 - 1.0 - 1.0)
    with pytest.raises(
        RuntimeError, match=r"in-place operation \(\+=\) on a tensor that requires grad"
    ):
        w += 1.0
    t = gn.zeros(3)
    t += gn.tensor([1.0, 2.0, 3.0], dtype=gn.float64)  # kept float32
    t *= 2
    assert t.dtype == np.float32 and t.tolist() == [2.0, 4.0, 6.0]
    assert t.fill_(7.0).tolist() == [7.0, 7.0, 7.0]
