"""split, chunk, unbind, flip, repeat, squeeze(tuple) and clone beyond the spec table:
PyTorch's exact size rules, its errors, and copies that own their memory."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn


def _sizes(pieces, dim: int = 0) -> list[int]:
    return [p.shape[dim] for p in pieces]


@pytest.mark.parametrize(
    ("n", "split_size", "expected"),
    [(5, 2, [2, 2, 1]), (4, 4, [4]), (3, 5, [3]), (6, 2, [2, 2, 2]), (0, 3, [0]), (0, 0, [0])],
)
def test_split_sizes_by_hand(n: int, split_size: int, expected: list[int]) -> None:
    assert _sizes(gn.split(gn.zeros(n, 2), split_size)) == expected


@pytest.mark.parametrize(
    ("n", "chunks", "expected"),
    [(5, 4, [2, 2, 1]), (6, 4, [2, 2, 2]), (7, 3, [3, 3, 1]), (2, 5, [1, 1]), (0, 3, [0, 0, 0])],
)
def test_chunk_sizes_by_hand(n: int, chunks: int, expected: list[int]) -> None:
    # 6 into 4 chunks gives 3 pieces of 2: PyTorch's rule, ceil(n / chunks) per piece
    assert _sizes(gn.zeros(3, n).chunk(chunks, dim=1), dim=1) == expected


def test_split_and_chunk_sizes_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for n in range(8):
        for k in range(1, 9):
            t = torch.zeros(n, 1)
            assert _sizes(gn.zeros(n, 1).chunk(k)) == _sizes(t.chunk(k)), (n, k)
            assert _sizes(gn.zeros(n, 1).split(k)) == _sizes(t.split(k)), (n, k)


def test_piece_errors_name_the_op_and_the_fix() -> None:
    x = gn.zeros(4, 3)
    with pytest.raises(ValueError, match=r"split: the sizes \[1, 2\] must .* add up to 4"):
        x.split([1, 2])
    with pytest.raises(ValueError, match=r"split: split_size must be positive"):
        x.split(0)
    with pytest.raises(ValueError, match=r"chunk: chunks must be at least 1, got 0"):
        x.chunk(0)
    with pytest.raises(ValueError, match=r"unbind: expects a tensor with at least 1 dimension"):
        gn.tensor(1.0).unbind()
    with pytest.raises(IndexError, match=r"split: dim 2 is out of range"):
        x.split(1, dim=2)
    with pytest.raises(ValueError, match=r"repeat: got 1 sizes \(2,\) for a tensor with 2"):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"flip: dims \(0, -2\) name a dimension more than once"):
        x.flip(0, -2)
    with pytest.raises(ValueError, match=r"squeeze: dim \(1, -1\) names a dimension more"):
        gn.zeros(3, 1).squeeze((1, -1))


def test_pieces_are_tuples_and_unbind_drops_the_dim() -> None:
    x = gn.tensor(np.arange(12.0).reshape(3, 4))
    for pieces in (x.split(2), x.chunk(2), x.unbind(1), gn.unbind(x)):
        assert isinstance(pieces, tuple)
    assert [p.tolist() for p in x.unbind(1)] == [
        [0.0, 4.0, 8.0],
        [1.0, 5.0, 9.0],
        [2.0, 6.0, 10.0],
        [3.0, 7.0, 11.0],
    ]


def test_a_piece_gets_its_gradient_in_its_own_place() -> None:
    x = gn.tensor(np.zeros((5, 2)), requires_grad=True)
    _, b, _ = x.split([1, 3, 1])
    (b * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data[:, 0], [0, 2, 2, 2, 0])


def test_squeeze_with_a_tuple_of_dims() -> None:
    x = gn.zeros(1, 3, 1, 1)
    assert x.squeeze((0, 1, 3)).shape == (3, 1)  # dim 1 has size 3 and stays
    assert x.squeeze(()).shape == (1, 3, 1, 1)
    assert gn.tensor(2.0).squeeze((0,)).shape == ()


def test_clone_and_flip_and_repeat_own_their_memory() -> None:
    x = gn.tensor(np.arange(6.0).reshape(2, 3))
    for y in (x.clone(), x.flip(0), x.repeat(1, 1), gn.clone(x)):
        assert not np.shares_memory(y.data, x.data)
    y = x.clone()
    y.data[0, 0] = 100.0
    assert x.data[0, 0] == 0.0


def test_repeat_gradient_counts_every_copy() -> None:
    x = gn.tensor(np.ones((2, 3)), requires_grad=True)
    x.repeat(4, 2, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 8.0))
    assert x.repeat(0, 1).shape == (0, 3)


def test_the_new_shape_ops_are_exported_where_pytorch_has_them() -> None:
    for name in ("clone", "flip", "split", "chunk", "unbind"):
        assert callable(getattr(gn, name)), name
    for name in ("clone", "flip", "split", "chunk", "unbind", "repeat"):
        assert callable(getattr(gn.Tensor, name)), name
