"""Tensor's differentiable operators and methods: ``a + b``, ``x.sum(dim=1)``, ``x.T``.

They are ops, and ops sit above the engine (the arrows in DESIGN.md point from ops to
autograd, never back), so tensor.py cannot import them. Instead ``install(Tensor)`` sets
each name below on the class, once, called from ``glassnet/__init__.py``: this file is the
whole list of what a tensor can compute.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.device import CPU
from glassnet.autograd.tensor import Tensor
from glassnet.ops import (
    activation,
    device,
    elementwise,
    indexing,
    linalg,
    pointwise,
    reduce,
    shape,
    sort,
)


def _swap(fn: Any) -> Any:
    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    return reflected


def _matmul(a: Any, b: Any) -> Tensor:
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    return linalg.matmul(a, b)


OPERATORS = {
    "__add__": elementwise.add,
    "__radd__": _swap(elementwise.add),
    "__sub__": elementwise.sub,
    "__rsub__": _swap(elementwise.sub),
    "__mul__": elementwise.mul,
    "__rmul__": _swap(elementwise.mul),
    "__truediv__": elementwise.div,
    "__rtruediv__": _swap(elementwise.div),
    "__pow__": elementwise.pow,
    "__rpow__": _swap(elementwise.pow),
    "__matmul__": _matmul,
    "__rmatmul__": _swap(_matmul),
    "__neg__": elementwise.neg,
    "__abs__": elementwise.abs,
    "__getitem__": shape.getitem,
    "__lt__": elementwise.lt,
    "__le__": elementwise.le,
    "__gt__": elementwise.gt,
    "__ge__": elementwise.ge,
    "__eq__": elementwise.eq,
    "__ne__": elementwise.ne,
}

METHODS = {
    # elementwise
    "add": elementwise.add,
    "sub": elementwise.sub,
    "mul": elementwise.mul,
    "div": elementwise.div,
    "pow": elementwise.pow,
    "neg": elementwise.neg,
    "exp": elementwise.exp,
    "log": elementwise.log,
    "sqrt": elementwise.sqrt,
    "abs": elementwise.abs,
    "clamp": elementwise.clamp,
    "maximum": elementwise.maximum,
    "minimum": elementwise.minimum,
    "to": device.to,
    "cpu": device.cpu,
    "cuda": device.cuda,
    # properties, installed like the methods: every tensor is on the CPU
    "device": property(lambda self: CPU),
    "is_cuda": property(lambda self: False),
    "int": lambda self: elementwise.cast(self, np.int32),
    "half": lambda self: elementwise.cast(self, np.float16),
    "short": lambda self: elementwise.cast(self, np.int16),
    "sin": pointwise.sin,
    "cos": pointwise.cos,
    "log1p": pointwise.log1p,
    "expm1": pointwise.expm1,
    "erf": pointwise.erf,
    "sign": pointwise.sign,
    "floor": pointwise.floor,
    "round": pointwise.round,
    # reductions
    "sum": reduce.sum,
    "mean": reduce.mean,
    "amax": reduce.amax,
    "amin": reduce.amin,
    "max": reduce.max,
    "min": reduce.min,
    "var": reduce.var,
    "std": reduce.std,
    "logsumexp": reduce.logsumexp,
    "argmax": reduce.argmax,
    "argmin": reduce.argmin,
    "cumsum": reduce.cumsum,
    "prod": reduce.prod,
    "norm": reduce.norm,
    # sorting
    "sort": sort.sort,
    "topk": sort.topk,
    # shape
    "reshape": shape.reshape,
    "view": shape.reshape,
    "transpose": shape.transpose,
    "permute": shape.permute,
    "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze,
    "flatten": shape.flatten,
    "expand": shape.expand,
    "clone": shape.clone,
    "flip": shape.flip,
    "repeat": shape.repeat,
    "split": shape.split,
    "chunk": shape.chunk,
    "unbind": shape.unbind,
    # indexing
    "gather": indexing.gather,
    "scatter_add": indexing.scatter_add,
    "index_select": indexing.index_select,
    "masked_fill": indexing.masked_fill,
    "tril": indexing.tril,
    "triu": indexing.triu,
    # linear algebra
    "matmul": _matmul,
    "outer": linalg.outer,
    "bmm": linalg.bmm,
    # activations
    "relu": activation.relu,
    "sigmoid": activation.sigmoid,
    "tanh": activation.tanh,
    "softmax": activation.softmax,
    "log_softmax": activation.log_softmax,
}


def install(cls: type[Tensor]) -> None:
    """Attach every operator and method above to ``cls`` (``Tensor``)."""
    for name, fn in {**OPERATORS, **METHODS}.items():
        setattr(cls, name, fn)
    cls.T = property(lambda self: shape.permute(self, *reversed(range(self.ndim))))
    cls.mT = property(lambda self: shape.transpose(self, -2, -1))
    cls.t = lambda self: shape.transpose(self, 0, 1) if self.ndim == 2 else self
    cls.float = lambda self: elementwise.cast(self, np.float32)
    cls.double = lambda self: elementwise.cast(self, np.float64)
    cls.long = lambda self: elementwise.cast(self, np.int64)
    cls.bool = lambda self: elementwise.cast(self, np.bool_)
    cls.any = lambda self: Tensor._make(np.asarray(self.data.any()))
    cls.all = lambda self: Tensor._make(np.asarray(self.data.all()))
