"""Sorting: sort and topk, each returning ``(values, indices)`` as PyTorch does.

The order itself (the indices) is found by comparing values, which has no derivative: a
small change of x leaves the order as it is. So the values are x *permuted*, and a
permutation's gradient is the reverse permutation: each output's gradient goes back to
the position its value came from (``Sort``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.dims import normalize_dim

SortResult = namedtuple("SortResult", ["values", "indices"])
TopKResult = namedtuple("TopKResult", ["values", "indices"])


class Sort(Function):
    """y_j = x_{order_j} (sort, topk).   grad_x_{order_j} = grad_y_j, and 0 where none was taken.

    ``order`` lists, along ``dim``, where each output came from (the indices that sort and
    topk return). Each gradient goes back to where its value came from; positions that
    were not taken (topk keeps only the first k of the order) get 0.
    """

    @staticmethod
    def forward(ctx, x, order, axis):
        ctx.save_for_backward(order)
        ctx.shape, ctx.axis = x.shape, axis
        return np.take_along_axis(x, order, axis=axis)

    @staticmethod
    def backward(ctx, grad_y):
        (order,) = ctx.saved_tensors
        grad_x = np.zeros(ctx.shape, dtype=grad_y.dtype)
        np.put_along_axis(grad_x, order, grad_y, axis=ctx.axis)
        return grad_x, None


def _order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The stable sorting permutation along axis: equal values keep their original order,
    NaN counts as the largest value (PyTorch's rules with stable=True)."""
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    # descending and still stable: sort the reversed row ascending, then read it backwards
    n = data.shape[axis]
    ascending_of_reversed = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return (n - 1) - np.flip(ascending_of_reversed, axis)


def _as_rows(x: Tensor, dim: int, name: str) -> tuple[Tensor, int]:
    """A 0-d tensor sorts as one element, as in PyTorch."""
    axis = normalize_dim(dim, x.ndim, name)
    return (x.reshape(1), 0) if x.ndim == 0 else (x, axis)


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """Sort along ``dim``; returns ``(values, indices)`` with ``x[indices] = values`` along dim.

    Args:
        x: the tensor to sort.
        dim: the dimension to sort along (the last by default).
        descending: largest first.
        stable: accepted for PyTorch compatibility; the sort is always stable (equal
            values keep their order), which is one of the orders PyTorch may return.

    Returns:
        SortResult(values, indices): values differentiable, indices int64.
    """
    rows, axis = _as_rows(x, dim, "sort")
    order = _order(rows.data, axis, descending).astype(np.int64, copy=False)
    values = Sort.apply(rows, order, axis)
    if x.ndim == 0:
        return SortResult(values.reshape(()), Tensor._make(order.reshape(())))
    return SortResult(values, Tensor._make(order))


def topk(
    x: Tensor,
    k: int,
    dim: int = -1,
    largest: bool = True,
    sorted: bool = True,  # noqa: A002 - PyTorch's name
) -> TopKResult:
    """The k largest (or smallest) elements along ``dim``, with their indices.

    Args:
        x: the tensor to search.
        k: how many to keep, 0 <= k <= x.shape[dim].
        dim: the dimension to search along (the last by default).
        largest: the k largest (True) or the k smallest (False).
        sorted: accepted for PyTorch compatibility; the k values always come in order.

    Returns:
        TopKResult(values, indices); the gradient of values goes back to the chosen elements.

    Raises:
        ValueError: if k is out of range for that dimension.
    """
    rows, axis = _as_rows(x, dim, "topk")
    n = rows.shape[axis]
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(
            f"topk: k must be an int in [0, {n}] (the size of dim {dim} of a tensor of shape "
            f"{x.shape}), got {k!r}"
        )
    order = _order(rows.data, axis, largest).astype(np.int64, copy=False)
    order = np.take(order, np.arange(k), axis=axis)
    values = Sort.apply(rows, order, axis)
    if x.ndim == 0:
        shape = () if k else (0,)
        return TopKResult(values.reshape(shape), Tensor._make(order.reshape(shape)))
    return TopKResult(values, Tensor._make(order))
