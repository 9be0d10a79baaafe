"""Ops that pick, place or mask elements by index: gather, scatter_add, index_select,
masked_fill, tril, triu.

Each output element is one input element (or a sum of some, for scatter_add, or a
constant, for masked_fill), so every backward sends each gradient back to the place its
value came from. Where an index may name the same place twice, the gradients there add up
(``np.add.at``), as the chain rule sums over every use of a value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.dims import OutOfRangeError, normalize_dim
from glassnet.ops.elementwise import unbroadcast


def _along(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The NumPy index that reads ``x[i0, .., index[i0, .., ik], .., ik]`` at every position
    of ``index``: ``index`` itself along ``dim``, the position's own coordinate elsewhere."""
    grid = np.indices(index.shape, sparse=True)
    return (*grid[:dim], index, *grid[dim + 1 :])


def _leading(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The slice that keeps the first ``shape[d]`` entries along every dim d."""
    return tuple(slice(0, n) for n in shape)


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] (dim 1).   grad_x = 0, plus grad_y added where index points.

    The same for any dim; y has index's shape. dy/dx is 1 from each y element to the one x
    element it copies, so an x element gets the sum of the grad_y of every position whose
    index points at it (a scatter_add of grad_y), and 0 if none does.
    """

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim = x.shape, dim
        return x[_along(index, dim)]

    @staticmethod
    def backward(ctx, grad_y):
        (index,) = ctx.saved_tensors
        grad_x = np.zeros(ctx.shape, dtype=grad_y.dtype)
        np.add.at(grad_x, _along(index, ctx.dim), grad_y)
        return grad_x, None


class ScatterAdd(Function):
    """y = x; y[i][index[i][j]] += src[i][j] (dim 1).   grad_x = grad_y, grad_src = its gather.

    The same for any dim; only the first ``index.shape`` entries of src are used.
    dy/dx = 1 everywhere, so grad_x = grad_y; each used src element was added to one y
    element, so grad_src[i][j] = grad_y[i][index[i][j]] (a gather), and 0 for src entries
    never used.
    """

    @staticmethod
    def forward(ctx, x, index, src, dim):
        ctx.save_for_backward(index)
        ctx.src_shape, ctx.dim = src.shape, dim
        y = x.copy()
        np.add.at(y, _along(index, dim), src[_leading(index.shape)])
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (index,) = ctx.saved_tensors
        grad_src = None
        if ctx.needs_input_grad[2]:
            grad_src = np.zeros(ctx.src_shape, dtype=grad_y.dtype)
            grad_src[_leading(index.shape)] = grad_y[_along(index, ctx.dim)]
        return grad_y, None, grad_src


class IndexSelect(Function):
    """y = the slices ``index`` of x along ``dim``.   grad_x = 0, plus grad_y added back there.

    The slices come in index's order and may repeat; a slice selected k times gets the sum
    of the k gradients.
    """

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.save_for_backward(index)
        ctx.shape, ctx.dim = x.shape, dim
        return np.take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, grad_y):
        (index,) = ctx.saved_tensors
        grad_x = np.zeros(ctx.shape, dtype=grad_y.dtype)
        # moveaxis gives views, so add.at writes into grad_x itself
        np.add.at(np.moveaxis(grad_x, ctx.dim, 0), index, np.moveaxis(grad_y, ctx.dim, 0))
        return grad_x, None


class MaskedFill(Function):
    """y = value where mask, else x.   grad_x = grad_y, 0 where filled; grad_value = sum there.

    mask broadcasts against x. dy/dx = 0 where filled, 1 elsewhere; dy/dvalue = 1 at every
    filled place, so a 0-d tensor value gets the sum of grad_y over the filled places.
    """

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        ctx.shape, ctx.value_dtype = x.shape, value.dtype
        return np.where(mask, value.astype(x.dtype), x)

    @staticmethod
    def backward(ctx, grad_y):
        (mask,) = ctx.saved_tensors
        zero = np.zeros((), dtype=grad_y.dtype)
        grad_x = unbroadcast(np.where(mask, zero, grad_y), ctx.shape)
        grad_value = None
        if ctx.needs_input_grad[2]:
            grad_value = np.where(mask, grad_y, zero).sum().astype(ctx.value_dtype)
        return grad_x, None, grad_value


class Triangle(Function):
    """y = x inside a triangle of the last two dims, else 0: ``tril`` keeps j - i <= diagonal
    (on and below the diagonal-th diagonal), ``triu`` keeps j - i >= diagonal.

    dy/dx is 1 inside the triangle and 0 outside, so grad_x is grad_y cut to the same
    triangle: the backward is the forward applied to the gradient.
    """

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return (np.triu if upper else np.tril)(x, diagonal)

    @staticmethod
    def backward(ctx, grad_y):
        return (np.triu if ctx.upper else np.tril)(grad_y, ctx.diagonal)


# ------------------------------------------------------------------ checks
def _index_array(index: Any, op: str) -> np.ndarray:
    array = index.data if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: index must hold integers, got dtype {array.dtype}; convert it with .long()"
        )
    return array


def _check_range(index: np.ndarray, size: int, dim: int, op: str) -> None:
    """PyTorch's gather, scatter and index_select take no negative indices; neither do we."""
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index[(index < 0) | (index >= size)].flat[0]
        raise OutOfRangeError(
            f"{op}: index {int(bad)} is out of range for dim {dim} of size {size}; "
            f"indices must be in [0, {size - 1}]"
        )


def _check_index_fits(
    index: np.ndarray, shape: tuple[int, ...], free: int | None, op: str, what: str
) -> None:
    """index must have the tensor's number of dims and be no larger, except along ``free``."""
    if index.ndim != len(shape):
        raise ValueError(
            f"{op}: index must have as many dimensions as {what} ({len(shape)}), "
            f"got shape {index.shape}"
        )
    for i, (n, m) in enumerate(zip(index.shape, shape)):
        if i != free and n > m:
            where = "anywhere" if free is None else f"except along dim {free}"
            raise ValueError(
                f"{op}: index of shape {index.shape} is larger than {what} {shape} at dim "
                f"{i}; it must be no larger than {what} {where}"
            )


def _check_matrix(x: Tensor, op: str) -> None:
    if x.ndim < 2:
        raise ValueError(
            f"{op}: expects a tensor with at least 2 dimensions (a matrix or a batch of "
            f"them), got shape {x.shape}"
        )


# ------------------------------------------------------------------ the functions users call
def gather(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """Pick values along ``dim`` at ``index``: ``out[i][j] = input[i][index[i][j]]`` for dim 1.

    Args:
        input: the tensor to read from.
        dim: the dimension along which ``index`` counts.
        index: integers in [0, input.shape[dim]), with as many dims as ``input`` and no
            larger than it except along ``dim``; the output has its shape.

    Returns:
        A tensor of index's shape.

    Raises:
        TypeError: index is not integer.
        ValueError: index has the wrong number of dims or is too large.
        IndexError: an index is out of range.
    """
    d = normalize_dim(dim, input.ndim, "gather")
    idx = _index_array(index, "gather")
    if input.ndim == 0:  # a 0-d tensor acts as one of shape (1,), as in PyTorch
        return gather(input.reshape(1), 0, idx.reshape(1)).reshape(())
    _check_index_fits(idx, input.shape, d, "gather", "input")
    _check_range(idx, input.shape[d], dim, "gather")
    return Gather.apply(input, idx, d)


def scatter_add(
    input: Tensor,  # noqa: A002 - PyTorch's name
    dim: int,
    index: Any,
    src: Tensor,
) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (out of place):
    ``out[i][index[i][j]] += src[i][j]`` for dim 1; places named twice get both.

    Args:
        input: the tensor added to.
        dim: the dimension along which ``index`` counts.
        index: integers in [0, input.shape[dim]), as many dims as ``input``, no larger than
            ``src`` anywhere nor than ``input`` except along ``dim``.
        src: the values to add, of input's dtype; its first ``index.shape`` entries are used.

    Returns:
        A new tensor of input's shape.

    Raises:
        TypeError: index is not integer, or src is not a tensor of input's dtype.
        ValueError: index has the wrong number of dims or is too large.
        IndexError: an index is out of range.
    """
    d = normalize_dim(dim, input.ndim, "scatter_add")
    idx = _index_array(index, "scatter_add")
    if not isinstance(src, Tensor) or src.dtype != input.dtype:
        got = src.dtype if isinstance(src, Tensor) else type(src).__name__
        raise TypeError(
            f"scatter_add: src must be a tensor of input's dtype {input.dtype}, got {got}; "
            "convert it with .to(input.dtype)"
        )
    if input.ndim == 0:
        one = scatter_add(input.reshape(1), 0, idx.reshape(1), src.reshape(1))
        return one.reshape(())
    _check_index_fits(idx, input.shape, d, "scatter_add", "input")
    _check_index_fits(idx, src.shape, None, "scatter_add", "src")
    _check_range(idx, input.shape[d], dim, "scatter_add")
    return ScatterAdd.apply(input, idx, src, d)


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    """The slices of ``input`` at positions ``index`` (a vector of integers) along ``dim``.

    Raises:
        TypeError: index is not integer.
        ValueError: index has more than one dimension.
        IndexError: an index is out of range.
    """
    d = normalize_dim(dim, input.ndim, "index_select")
    idx = _index_array(index, "index_select")
    if idx.ndim > 1:
        raise ValueError(
            f"index_select: index must be a vector (1-D), got shape {idx.shape}; "
            "flatten it, or use gather for an index per position"
        )
    idx = idx.reshape(-1)
    if input.ndim == 0:
        if idx.size != 1:
            raise ValueError(f"index_select: a 0-d input takes exactly one index, got {idx.size}")
        return index_select(input.reshape(1), 0, idx).reshape(())
    _check_range(idx, input.shape[d], dim, "index_select")
    return IndexSelect.apply(input, idx, d)


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """``value`` where ``mask`` is true, ``input`` elsewhere (out of place).

    Args:
        input: the tensor to fill.
        mask: a boolean tensor or array, broadcast against input.
        value: a number, or a 0-d tensor (which then gets a gradient too).

    Returns:
        A new tensor of input's dtype and the broadcast shape of input and mask.

    Raises:
        TypeError: mask is not boolean.
        ValueError: value is a tensor with more than one element, or mask does not
            broadcast against input.
    """
    m = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(
            f"masked_fill: mask must be boolean, got dtype {m.dtype}; "
            "build it with a comparison (x > 0) or convert it with .bool()"
        )
    try:
        np.broadcast_shapes(input.shape, m.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {m.shape} does not broadcast against input of "
            f"shape {input.shape}"
        ) from None
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(
                f"masked_fill: value must be a number or a 0-d tensor, got a tensor of shape "
                f"{value.shape}; pass value.item() or index one element"
            )
    else:
        value = np.asarray(value, dtype=input.dtype)
    return MaskedFill.apply(input, m, value)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dims: zero above the ``diagonal``-th diagonal
    (0 the main one, positive above it, negative below)."""
    _check_matrix(input, "tril")
    return Triangle.apply(input, int(diagonal), False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dims: zero below the ``diagonal``-th diagonal
    (0 the main one, positive above it, negative below)."""
    _check_matrix(input, "triu")
    return Triangle.apply(input, int(diagonal), True)
