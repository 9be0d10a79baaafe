"""Checking and normalising ``dim`` arguments, shared by every op that takes one."""

from __future__ import annotations

from typing import Any

import numpy as np


class OutOfRangeError(IndexError, ValueError):
    """A dim or an index outside its range: an IndexError, as in PyTorch, and also a
    ValueError, since it is a bad argument value."""


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """Turn one ``dim`` (negative counts from the end) into an axis in [0, ndim).

    A 0-d tensor accepts dim 0 and -1, as in PyTorch.

    Raises:
        IndexError: naming the op, the dim and the allowed range.
    """
    size = max(ndim, 1)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an integer, got {dim!r}")
    if not -size <= dim < size:
        raise OutOfRangeError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions; "
            f"use a dim in [{-size}, {size - 1}]"
        )
    return int(dim) % size


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Turn ``dim`` (None for all, an int, or a sequence of ints) into sorted axes."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    axes = {normalize_dim(d, ndim, op) for d in dims}
    return tuple(sorted(axes)) if ndim else ()
