"""Functions that make new leaf tensors: zeros, ones, randn, arange, ...

Each takes ``dtype`` (float32 unless said otherwise) and ``requires_grad``, as in PyTorch;
the random ones also take ``generator=`` and otherwise use the default generator that
``gn.manual_seed`` seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.device import check_device
from glassnet.autograd.tensor import Tensor
from glassnet.random import resolve_generator

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
bool_ = np.bool_
# PyTorch's other names for them. `int`, `float` and `bool` would shadow Python's builtins in
# this module, so glassnet/__init__.py binds those three (to int32, float32 and bool_).
long, double, half, short = int64, float64, float16, int16


def _size(size: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``zeros(2, 3)`` and ``zeros((2, 3))``, and reject negative sizes."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size):
        raise TypeError(f"sizes must be integers, got {size}")
    if any(s < 0 for s in size):
        raise ValueError(f"sizes must be non-negative, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _leaf(array: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    check_device(device)  # PyTorch's device= is accepted for the CPU, refused otherwise
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad = True  # the setter checks the dtype
    return t


def zeros(
    *size: Any, dtype: Any = float32, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of zeros of the given size."""
    return _leaf(np.zeros(_size(size), dtype=dtype), requires_grad, device)


def ones(
    *size: Any, dtype: Any = float32, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of ones of the given size."""
    return _leaf(np.ones(_size(size), dtype=dtype), requires_grad, device)


def full(
    size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of the given size filled with ``fill_value`` (float32 for a float value)."""
    if dtype is None:
        dtype = np.int64 if isinstance(fill_value, (int, np.integer)) else float32
        if isinstance(fill_value, bool):
            dtype = np.bool_
    return _leaf(np.full(_size((size,)), fill_value, dtype=dtype), requires_grad, device)


def empty(
    *size: Any, dtype: Any = float32, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """An uninitialised tensor of the given size (its values are whatever memory held)."""
    return _leaf(np.empty(_size(size), dtype=dtype), requires_grad, device)


def zeros_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros with the shape (and dtype, unless given) of ``t``."""
    return _leaf(np.zeros(t.shape, dtype=dtype or t.dtype), requires_grad, device)


def ones_like(
    t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones with the shape (and dtype, unless given) of ``t``."""
    return _leaf(np.ones(t.shape, dtype=dtype or t.dtype), requires_grad, device)


def rand(
    *size: Any,
    dtype: Any = float32,
    requires_grad: bool = False,
    generator: Any = None,
    device: Any = None,
) -> Tensor:
    """Samples from the uniform distribution on [0, 1)."""
    rng = resolve_generator(generator)
    return _leaf(rng.random(_size(size)).astype(dtype), requires_grad, device)


def randn(
    *size: Any,
    dtype: Any = float32,
    requires_grad: bool = False,
    generator: Any = None,
    device: Any = None,
) -> Tensor:
    """Samples from the standard normal distribution."""
    rng = resolve_generator(generator)
    return _leaf(rng.standard_normal(_size(size)).astype(dtype), requires_grad, device)


def randint(
    low: int,
    high: int | None = None,
    size: Any = (),
    dtype: Any = int64,
    generator: Any = None,
    device: Any = None,
) -> Tensor:
    """Integers drawn uniformly from [low, high); ``randint(high, size)`` means low = 0."""
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint needs low < high, got low={low}, high={high}")
    rng = resolve_generator(generator)
    return _leaf(rng.integers(low, high, size=_size((size,))).astype(dtype), False, device)


def randperm(n: int, dtype: Any = int64, generator: Any = None, device: Any = None) -> Tensor:
    """A random permutation of 0 .. n-1."""
    return _leaf(resolve_generator(generator).permutation(n).astype(dtype), False, device)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = int64 if integral else float32
    return _leaf(np.arange(start, end, step).astype(dtype), requires_grad, device)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = float32,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _leaf(np.linspace(start, end, steps).astype(dtype), requires_grad, device)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = float32,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """The identity matrix of size n x m (m = n by default)."""
    return _leaf(np.eye(n, m, dtype=dtype), requires_grad, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor that shares memory with ``array`` and keeps its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)
