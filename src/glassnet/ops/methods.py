"""Bind the ops to Tensor as operators and methods: ``a + b``, ``x.sum(dim=1)``, ``x.T``.

Kept apart from tensor.py so that the autograd engine depends on no op (the arrows in
DESIGN.md point from ops to autograd, never back); importing glassnet runs this file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.grad_mode import is_grad_enabled
from glassnet.autograd.tensor import Tensor
from glassnet.ops import activation, elementwise, linalg, pointwise, reduce, shape, sort


def _compare(ufunc: Any) -> Any:
    def compare(self: Tensor, other: Any) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._make(np.asarray(ufunc(self.data, other)))

    return compare


def _in_place(ufunc: Any) -> Any:
    """``x -= y`` and friends: change x's array in place, as PyTorch does, so that
    ``with gn.no_grad(): p -= lr * p.grad`` updates the parameter itself (without this,
    Python would rebind p to a new tensor and the model would never change)."""

    def op(self: Tensor, other: Any) -> Tensor:
        if is_grad_enabled() and (self.requires_grad or self.grad_fn is not None):
            raise RuntimeError(
                "an in-place operation on a tensor that requires grad would make its "
                "gradient wrong; update parameters inside gn.no_grad(), or write x = x - y"
            )
        value = other.data if isinstance(other, Tensor) else other
        ufunc(self.data, value, out=self.data, casting="same_kind")
        return self

    return op


def _fill(self: Tensor, value: float) -> Tensor:
    if is_grad_enabled() and (self.requires_grad or self.grad_fn is not None):
        raise RuntimeError("fill_/zero_ on a tensor that requires grad: do it inside gn.no_grad()")
    self.data.fill(value)
    return self


def _swap(fn: Any) -> Any:
    def reflected(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)

    return reflected


def _matmul(a: Any, b: Any) -> Tensor:
    a = a if isinstance(a, Tensor) else Tensor(a)
    b = b if isinstance(b, Tensor) else Tensor(b)
    return linalg.matmul(a, b)


def _to(self: Tensor, dtype: Any) -> Tensor:
    return elementwise.cast(self, dtype)


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
    "__lt__": _compare(np.less),
    "__le__": _compare(np.less_equal),
    "__gt__": _compare(np.greater),
    "__ge__": _compare(np.greater_equal),
    "__eq__": _compare(np.equal),
    "__ne__": _compare(np.not_equal),
    "__iadd__": _in_place(np.add),
    "__isub__": _in_place(np.subtract),
    "__imul__": _in_place(np.multiply),
    "__itruediv__": _in_place(np.divide),
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
    "sin": pointwise.sin,
    "cos": pointwise.cos,
    "log1p": pointwise.log1p,
    "expm1": pointwise.expm1,
    "erf": pointwise.erf,
    "sign": pointwise.sign,
    "floor": pointwise.floor,
    "round": pointwise.round,
    "to": _to,
    "fill_": _fill,
    "zero_": lambda self: _fill(self, 0),
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


def _install() -> None:
    for name, fn in {**OPERATORS, **METHODS}.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda self: shape.permute(self, *reversed(range(self.ndim))))
    Tensor.mT = property(lambda self: shape.transpose(self, -2, -1))
    Tensor.t = lambda self: shape.transpose(self, 0, 1) if self.ndim == 2 else self
    Tensor.float = lambda self: elementwise.cast(self, np.float32)
    Tensor.double = lambda self: elementwise.cast(self, np.float64)
    Tensor.long = lambda self: elementwise.cast(self, np.int64)
    Tensor.bool = lambda self: elementwise.cast(self, np.bool_)
    Tensor.any = lambda self: Tensor._make(np.asarray(self.data.any()))
    Tensor.all = lambda self: Tensor._make(np.asarray(self.data.all()))


_install()
