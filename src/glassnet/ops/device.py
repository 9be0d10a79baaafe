"""Where a tensor lives and what it holds: ``x.to(...)``, ``x.cpu()``, ``x.device``.

glassnet runs on NumPy, so every tensor lives on the CPU. These accept PyTorch's
signatures so that code written for PyTorch (``x.to(device)``, ``model_input.cpu()``)
runs unchanged on the CPU, and a request for another device fails with the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.device import check_device, is_device
from glassnet.autograd.tensor import Tensor
from glassnet.ops import elementwise, shape


def to(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``x.to(dtype)``, ``x.to(device)``, ``x.to(device, dtype)``, ``x.to(other)`` or
    ``x.to(device=..., dtype=...)``, as in PyTorch; ``copy=True`` always copies and
    ``non_blocking`` is accepted and has nothing to do.

    Returns ``x`` itself when nothing changes; otherwise a converted tensor whose gradient
    flows back converted to x's dtype.

    Raises:
        RuntimeError: a device other than the CPU.
        TypeError: arguments that fit none of the signatures.
    """
    dtype, copy = to_arguments(args, kwargs)
    out = x if dtype is None else elementwise.cast(x, _dtype(dtype))
    return shape.clone(out) if copy and out is x else out


def to_arguments(args: tuple, kwargs: dict) -> tuple[Any, bool]:
    """The (dtype or None, copy) that PyTorch's ``to(...)`` signatures ask for; used by
    ``Tensor.to`` and ``Module.to``. Raises for a device other than the CPU."""
    kwargs = dict(kwargs)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    target_device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    if len(args) > 2:
        raise TypeError(f"to: expects at most a device and a dtype, got {len(args)} arguments")
    if args and isinstance(args[0], Tensor):
        dtype = args[0].dtype
    elif args and is_device(args[0]):
        target_device = args[0]
        dtype = args[1] if len(args) > 1 else dtype
    elif args:
        dtype = args[0]
    check_device(target_device)
    return dtype, copy


def _dtype(value: Any) -> np.dtype:
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(
            f"to: {value!r} is neither a device ('cpu') nor a dtype; pass a dtype such as "
            "gn.float32, or a tensor whose dtype to take"
        ) from None


def cpu(x: Tensor) -> Tensor:
    """``x`` itself: every glassnet tensor is already in CPU memory (PyTorch returns it too)."""
    return x


def cuda(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Always an error: glassnet has no CUDA device."""
    raise RuntimeError(
        "cuda(): glassnet runs on NumPy on the CPU and has no CUDA device; "
        "drop the .cuda() call (or use .cpu(), which returns the tensor itself)"
    )
