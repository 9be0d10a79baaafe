"""Where a tensor lives: ``gn.device``. glassnet runs on NumPy, so there is one place, the
CPU; PyTorch's device arguments are accepted so that code written for PyTorch runs, and a
request for another device fails with the fix."""

from __future__ import annotations

from typing import Any

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


def is_device(value: Any) -> bool:
    """Does ``value`` name a device (a ``device``, or a string such as ``'cuda:0'``)?"""
    if isinstance(value, device):
        return True
    return isinstance(value, str) and value.partition(":")[0] in _DEVICE_TYPES


def check_device(value: Any) -> None:
    """Accept None or the CPU in any spelling; raise for any other device."""
    if value is not None:
        device(value)
