"""Argument checks shared by the ops: each raises an error naming the op and the fix."""

from __future__ import annotations

from typing import Any

from glassnet.autograd.tensor import Tensor


def require_float(x: Any, name: str) -> None:
    """``x`` must be a floating-point Tensor (the only kind with gradients).

    Raises:
        TypeError: naming ``name``, what ``x`` is, and how to convert it.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} expects a Tensor, got {type(x).__name__}; wrap it with gn.tensor")
    if x.dtype.kind != "f":
        raise TypeError(
            f"{name} needs a floating-point tensor, got dtype {x.dtype}; convert with .float()"
        )
