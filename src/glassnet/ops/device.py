"""Where a tensor lives and what it holds: ``x.to(...)``, ``x.cpu()``, ``x.device``.

glassnet runs on NumPy, so every tensor lives on the CPU. These accept PyTorch's
signatures so that code written for PyTorch (``x.to(device)``, ``model_input.cpu()``)
runs unchanged on the CPU, and a request for another device fails with the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops import elementwise, shape

# PyTorch's device types; a string starting with one of these names a device, not a dtype.
_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "hpu", "mtia")


class device:
    """A place tensors live, as ``torch.device``; glassnet has one: the CPU.

    ``gn.device("cpu")`` prints as ``device(type='cpu')`` and equals ``x.device`` for every
    tensor ``x``.

    Raises:
        RuntimeError: for any device but the CPU (glassnet runs on NumPy).
    """

    __slots__ = ("index", "type")

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index  # noqa: A001
        if not isinstance(type, str):
            raise TypeError(f"device: expects a string such as 'cpu', got {type!r}")
        name, _, number = type.partition(":")
        if name != "cpu":
            raise RuntimeError(
                f"device {type!r}: glassnet runs on NumPy on the CPU and has no other device; "
                "use 'cpu' (or drop the device argument)"
            )
        self.type = "cpu"
        self.index = int(number) if number else index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def _is_device(value: Any) -> bool:
    if isinstance(value, device):
        return True
    return isinstance(value, str) and value.partition(":")[0] in _DEVICE_TYPES


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
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    target_device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    if kwargs:
        raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
    if len(args) > 2:
        raise TypeError(f"to: expects at most a device and a dtype, got {len(args)} arguments")
    if args and isinstance(args[0], Tensor):
        dtype = args[0].dtype
    elif args and _is_device(args[0]):
        target_device = args[0]
        dtype = args[1] if len(args) > 1 else dtype
    elif args:
        dtype = args[0]
    if target_device is not None:
        device(target_device)  # raises for any device but the CPU
    out = x if dtype is None else elementwise.cast(x, _dtype(dtype))
    return shape.clone(out) if copy and out is x else out


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
