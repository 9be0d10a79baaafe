"""Ops that move values around without changing them: reshape, transpose, index, cat, ...

Each output element is exactly one input element, so backward just puts every gradient
back where its value came from: reshape it back, transpose it back, scatter it back.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor, _unwrap_index
from glassnet.ops.dims import normalize_dim
from glassnet.ops.elementwise import unbroadcast


class Reshape(Function):
    """y = x with a new shape (same elements, same order).   grad_x = grad_y reshaped back."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y.reshape(ctx.shape)

    @staticmethod
    def emit(e, needs, x, shape):
        """gn.compile: a reshape each way (a view when the memory allows, else a copy)."""
        y = e.assign(f"{x}.reshape({tuple(shape)})", _reshaped(x.shape, shape), x.dtype, "flat")

        def backward(g):
            return e.assign(f"{g}.reshape({x.shape})", x.shape, x.dtype, f"grad_{x.name}")

        return y, backward


def _reshaped(shape: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...]:
    """``new`` with its -1 worked out for an array of ``shape``."""
    return np.empty(shape, dtype=np.bool_).reshape(new).shape


class Transpose(Function):
    """y = x with dims dim0 and dim1 swapped.   grad_x = grad_y with them swapped back."""

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(x, dim0, dim1)

    @staticmethod
    def backward(ctx, grad_y):
        return np.swapaxes(grad_y, *ctx.dims)


class Permute(Function):
    """y = x with its dims reordered.   grad_x = grad_y under the inverse order."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(int(d) for d in np.argsort(dims))
        return np.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad_y):
        return np.transpose(grad_y, ctx.inverse)


class Expand(Function):
    """y = x broadcast to a larger shape.   grad_x = grad_y summed over the copies."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_y):
        return unbroadcast(grad_y, ctx.shape)


class GetItem(Function):
    """y = x[index].   grad_x is zero except at the selected places, which get grad_y.

    An integer-array index may select the same element twice (``x[[0, 0]]``); then that
    element's gradient is the sum of both, which ``np.add.at`` does (plain assignment would
    keep only the last).
    """

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape = x.shape
        ctx.save_for_backward(index)  # it may hold index arrays
        return x[index]

    @staticmethod
    def backward(ctx, grad_y):
        (index,) = ctx.saved_tensors
        grad_x = np.zeros(ctx.shape, dtype=grad_y.dtype)
        if _may_repeat(index):
            np.add.at(grad_x, index, grad_y)
        else:
            grad_x[index] = grad_y
        return grad_x

    @staticmethod
    def emit(e, needs, x, index):
        """gn.compile: a basic index (integers, slices, None, ...) as written: the output is
        a view, and the gradient zeros with grad_y written into the same place. Index
        arrays and masks run as the Function (NotImplemented)."""
        code = basic_index_code(index)
        if code is None:
            return NotImplemented
        y = e.assign(f"{x}[{code}]", e.expected[0], e.expected[1], "item")

        def backward(g):
            grad_x = e.grad(x)
            e.line(f"{grad_x}.fill(0)")
            e.line(f"{grad_x}[{code}] = {g}  # grad_y into the places x[index] read")
            return grad_x, None

        return y, backward


def basic_index_code(index: Any) -> str | None:
    """An index of integers, slices, None and ... as Python writes it between brackets
    (``0``, ``:, 2``, ``..., 1:3``); None for any other index (arrays, masks)."""
    parts = index if isinstance(index, tuple) else (index,)
    written = []
    for part in parts:
        if isinstance(part, slice):
            bounds = (part.start, part.stop, part.step)
            if not all(b is None or type(b) is int for b in bounds):
                return None
            text = ":".join("" if b is None else str(b) for b in bounds[:2])
            written.append(text + ("" if part.step is None else f":{part.step}"))
        elif part is None:
            written.append("None")
        elif part is Ellipsis:
            written.append("...")
        elif isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
            written.append(str(int(part)))
        else:
            return None
    if not written:
        return None  # x[()]: rare, and "[]" is no Python
    return ", ".join(written)


def _may_repeat(index: Any) -> bool:
    """True when the index holds an integer array, which can name an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


class Cat(Function):
    """y = the inputs joined along ``dim``.   Each input's gradient is its slice of grad_y."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.bounds = [int(b) for b in np.cumsum([x.shape[dim] for x in xs])[:-1]]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad_y):
        return tuple(np.split(grad_y, ctx.bounds, axis=ctx.dim))


class Stack(Function):
    """y = the inputs stacked along a new ``dim``.   Input i's gradient is grad_y's i-th slice."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return np.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, grad_y):
        return tuple(np.moveaxis(grad_y, ctx.dim, 0))

    @staticmethod
    def emit(e, needs, *xs, dim):
        """gn.compile: np.stack into an array made once; each gradient a view of grad_y."""
        y = e.out("stack")
        e.line(f"np.stack(({', '.join(str(x) for x in xs)},), axis={dim}, out={y})")

        def backward(g):
            lead = ":, " * (dim % len(g.shape))
            return tuple(
                e.assign(f"{g}[{lead}{i}]", x.shape, x.dtype, f"grad_{x.name}") if need else None
                for i, (x, need) in enumerate(zip(xs, needs))
            )

        return y, backward


class Clone(Function):
    """y = a copy of x.   dy/dx = 1 for every element, so grad_x = grad_y."""

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad_y):
        return grad_y


class Flip(Function):
    """y = x reversed along ``dims``.   Reversing twice is the identity: grad_x = grad_y flipped.

    The output is a copy, as in PyTorch (a NumPy flip would be a view sharing x's memory).
    """

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x, dims).copy()

    @staticmethod
    def backward(ctx, grad_y):
        return np.flip(grad_y, ctx.dims)


class Repeat(Function):
    """y = x tiled ``sizes[d]`` times along dim d.   grad_x = grad_y summed over the copies.

    As np.tile, extra leading sizes add dims. With x padded to shape (s0, s1, ..) and sizes
    (r0, r1, ..), y viewed as (r0, s0, r1, s1, ..) holds at [k0, j0, k1, j1, ..] the value
    x[j0, j1, ..] for every copy (k0, k1, ..). So grad_x = grad_y viewed that way, summed
    over the copy axes k.
    """

    @staticmethod
    def forward(ctx, x, sizes):
        padded = (1,) * (len(sizes) - x.ndim) + x.shape
        ctx.shape, ctx.padded, ctx.sizes = x.shape, padded, sizes
        return np.tile(x.reshape(padded), sizes)

    @staticmethod
    def backward(ctx, grad_y):
        copies_and_sizes = tuple(n for pair in zip(ctx.sizes, ctx.padded) for n in pair)
        copy_axes = tuple(range(0, 2 * len(ctx.sizes), 2))
        return grad_y.reshape(copies_and_sizes).sum(axis=copy_axes).reshape(ctx.shape)


# ------------------------------------------------------------------ the functions users call
def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape; one size may be -1 (inferred)."""
    shape = _shape_arg(shape)
    try:
        np.empty(x.shape, dtype=np.bool_).reshape(shape)  # validate without touching data
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.numel()} elements) "
            f"into {shape}; the sizes must multiply to {x.numel()}"
        ) from None
    return Reshape.apply(x, shape)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    d0, d1 = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    return Transpose.apply(x, d0, d1)


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder all dimensions: ``permute(x, 2, 0, 1)``."""
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in _shape_arg(dims))
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(
            f"permute: dims {dims} must name each of the {x.ndim} dimensions exactly once"
        )
    return Permute.apply(x, dims)


def squeeze(x: Tensor, dim: int | tuple[int, ...] | list[int] | None = None) -> Tensor:
    """Remove dimensions of size 1: all of them, or those among ``dim`` (an int or, as in
    PyTorch 2, a tuple of ints); a named dim whose size is not 1 stays, as in PyTorch."""
    if dim is None:
        dims = tuple(range(x.ndim))
    elif isinstance(dim, (tuple, list)):
        dims = tuple(normalize_dim(d, x.ndim, "squeeze") for d in dim)
        if len(set(dims)) != len(dims):
            raise ValueError(f"squeeze: dim {tuple(dim)} names a dimension more than once")
    else:
        dims = (normalize_dim(dim, x.ndim, "squeeze"),)
    shape = tuple(n for i, n in enumerate(x.shape) if n != 1 or i not in dims)
    return Reshape.apply(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (negative counts from the end of the result)."""
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return Reshape.apply(x, x.shape[:d] + (1,) + x.shape[d:])


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim`` .. ``end_dim`` (inclusive) into one."""
    if x.ndim == 0:
        return Reshape.apply(x, (1,))
    s, e = normalize_dim(start_dim, x.ndim, "flatten"), normalize_dim(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(
            f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim})"
        )
    merged = int(np.prod(x.shape[s : e + 1], dtype=np.int64))
    return Reshape.apply(x, x.shape[:s] + (merged,) + x.shape[e + 1 :])


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dimension's size."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dimensions {sizes}")
    if -1 in sizes[:lead]:
        raise ValueError(
            f"expand: size -1 at dim {sizes.index(-1)} of {sizes} is a new leading dimension of "
            f"a tensor of shape {x.shape}, which has no size to keep; give that size "
            "explicitly (PyTorch refuses -1 there too)"
        )
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ValueError(
            f"expand: cannot expand shape {x.shape} to {sizes}; only dimensions of size 1 can grow"
        ) from None
    return Expand.apply(x, shape)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with slices, ints, None, ``...``, integer and boolean arrays or tensors."""
    return GetItem.apply(x, _empty_as_integers(_unwrap_index(index)))


def _empty_as_integers(index: Any) -> Any:
    """An empty list selects nothing, as in PyTorch (``x[[]]``); NumPy reads ``[]`` as a
    float array, which it refuses as an index, so make it an empty integer array."""
    if isinstance(index, tuple):
        return tuple(_empty_as_integers(part) for part in index)
    if isinstance(index, np.ndarray) and index.size == 0 and index.dtype.kind == "f":
        return index.astype(np.int64)
    return index


def _check_joinable(xs: Any, name: str) -> list[Tensor]:
    xs = list(xs)
    if not xs:
        raise ValueError(f"{name}: expects a non-empty sequence of tensors")
    for i, x in enumerate(xs):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: item {i} is a {type(x).__name__}, expected a Tensor")
    return xs


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    xs = _check_joinable(tensors, "cat")
    d = normalize_dim(dim, xs[0].ndim, "cat")
    for i, x in enumerate(xs):
        if x.ndim != xs[0].ndim or x.shape[:d] + x.shape[d + 1 :] != (
            xs[0].shape[:d] + xs[0].shape[d + 1 :]
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {x.shape}, tensor 0 has {xs[0].shape}; all sizes "
                f"must match except along dim {dim}"
            )
    return Cat.apply(*xs, dim=d)


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    xs = _check_joinable(tensors, "stack")
    for i, x in enumerate(xs):
        if x.shape != xs[0].shape:
            raise ValueError(
                f"stack: tensor {i} has shape {x.shape}, tensor 0 has {xs[0].shape}; "
                "all must have the same shape"
            )
    return Stack.apply(*xs, dim=normalize_dim(dim, xs[0].ndim + 1, "stack"))


# ------------------------------------------------------------------ copies, flips, tiles
def clone(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """A copy with its own memory; the gradient passes straight through to ``input``."""
    return Clone.apply(input)


def flip(input: Tensor, *dims: Any) -> Tensor:  # noqa: A002
    """Reverse the order of elements along ``dims``: ``flip(x, 0)``, ``flip(x, (0, 1))`` or,
    as a method, ``x.flip(0, 1)``."""
    axes = tuple(normalize_dim(d, input.ndim, "flip") for d in _shape_arg(dims))
    if len(set(axes)) != len(axes):
        raise ValueError(f"flip: dims {_shape_arg(dims)} name a dimension more than once")
    return Flip.apply(input, axes)


def repeat(input: Tensor, *sizes: Any) -> Tensor:  # noqa: A002
    """Tile ``input``: ``sizes[d]`` copies along dim d, as ``np.tile`` and PyTorch's
    ``Tensor.repeat``; more sizes than dims add leading dims.

    Raises:
        ValueError: fewer sizes than input has dims, or a negative size.
    """
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise ValueError(
            f"repeat: got {len(sizes)} sizes {sizes} for a tensor with {input.ndim} "
            f"dimensions (shape {input.shape}); give one size per dimension (1 keeps it)"
        )
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: sizes must be non-negative, got {sizes}")
    return Repeat.apply(input, tuple(int(s) for s in sizes))


# ------------------------------------------------------------------ pieces: slices of getitem
def _slices_along(x: Tensor, d: int, sizes: list[int]) -> tuple[Tensor, ...]:
    """Consecutive pieces of ``x`` along dim ``d`` of the given sizes, each ``x[.., a:b]``."""
    bounds = [0, *itertools.accumulate(sizes)]
    lead = (slice(None),) * d
    return tuple(getitem(x, (*lead, slice(a, b))) for a, b in itertools.pairwise(bounds))


def _piece_dim(x: Tensor, dim: int, op: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{op}: expects a tensor with at least 1 dimension, got a 0-d tensor")
    return normalize_dim(dim, x.ndim, op)


def split(
    tensor: Tensor, split_size_or_sections: int | list[int] | tuple[int, ...], dim: int = 0
) -> tuple[Tensor, ...]:
    """Cut ``tensor`` along ``dim`` into pieces of ``split_size`` (the last may be smaller),
    or into pieces of the listed sizes (which must add up to the dim's size).

    Each piece is a slice ``tensor[.., a:b]``, so its gradient lands in its own place.

    Raises:
        ValueError: a negative size, a size of 0 for a non-empty dim, or listed sizes that
            do not add up to the dim's size.
    """
    d = _piece_dim(tensor, dim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise ValueError(
                f"split: split_size must be positive (0 only for an empty dim), got {size} "
                f"for dim {dim} of size {n}"
            )
        count = max(-(-n // size), 1) if size else 1  # ceil(n / size), at least one piece
        sizes = [size] * (count - 1) + [n - size * (count - 1)]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(
                f"split: the sizes {sizes} must be non-negative and add up to {n}, the size "
                f"of dim {dim} (shape {tensor.shape})"
            )
    return _slices_along(tensor, d, sizes)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """Cut ``input`` along ``dim`` into ``chunks`` pieces of ceil(n / chunks) elements, the
    last smaller; as in PyTorch there may be fewer than ``chunks`` pieces (6 into 4 gives
    3 of 2), except that an empty dim gives ``chunks`` empty pieces.

    Raises:
        ValueError: chunks is not positive.
    """
    d = _piece_dim(input, dim, "chunk")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be at least 1, got {chunks}")
    n = input.shape[d]
    if n == 0:
        return _slices_along(input, d, [0] * chunks)
    return split(input, -(-n // chunks), d)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """The slices ``input[.., i]`` along ``dim``, each without that dim, as a tuple."""
    d = _piece_dim(input, dim, "unbind")
    lead = (slice(None),) * d
    return tuple(getitem(input, (*lead, i)) for i in range(input.shape[d]))
