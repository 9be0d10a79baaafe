"""Tensor: an ``np.ndarray`` with a gradient and a link to the node that made it.

A tensor holds
- ``data``: the values, a NumPy array (float32 unless asked otherwise);
- ``requires_grad``: whether backward should compute a gradient for it;
- ``grad``: after ``backward()``, the gradient of the output with respect to it (a Tensor);
- ``grad_fn``: the backward node of the op that produced it (None for leaves).

This file holds what every tensor is, and the in-place changes (``+=``, ``add_``,
``fill_``, ``x[i] = v``), which are not ops: they record nothing and bump the version
counter. The differentiable operators and methods (``a + b``, ``x.sum()``, ``x.relu()``)
are ops, which sit above the engine; ``glassnet.ops.methods.install`` attaches them, once,
from ``glassnet/__init__.py`` (so that the engine depends on no op).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.autograd.device import check_device

_FLOAT_KINDS = ("f",)


def _infer_array(data: Any, dtype: Any) -> np.ndarray:
    """Turn user data into an array with PyTorch's dtype rules.

    Python floats (and lists of them) become float32, Python ints int64, bools bool;
    NumPy arrays and scalars keep their own dtype (float64 stays float64, as
    ``torch.from_numpy`` keeps it).
    """
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.array(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data)
    array = np.array(data)
    if array.dtype == np.float64:
        return array.astype(np.float32)
    if array.dtype.kind in "iu" and array.dtype != np.int64:
        return array.astype(np.int64)
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"tensor() expects numbers, got data of NumPy dtype {array.dtype} from "
            f"{type(data).__name__}; pass numbers, nested lists of numbers or a numeric array"
        )
    return array


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Create tensors with ``glassnet.tensor(data)`` or the creation functions
    (``zeros``, ``randn``, ...); calling ``Tensor(data)`` directly follows the same rules.
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_hooks",
        "_requires_grad",
        "_version_counter",
        "data",
        "grad",
        "grad_fn",
    )
    # Keep NumPy from treating a Tensor as an array in `ndarray + Tensor`: it defers to us.
    __array_priority__ = 1000

    def __init__(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> None:
        self.data: np.ndarray = _infer_array(data, dtype)
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._hooks: list[Callable] | None = None
        self._requires_grad = False
        self._version_counter = [0]
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _make(cls, data: np.ndarray, requires_grad: bool = False, grad_fn=None) -> Tensor:
        """Wrap an array the library just computed, skipping the checks of ``__init__``."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._hooks = None
        t._requires_grad = requires_grad
        t._version_counter = [0]
        return t

    # ----------------------------------------------------------------- version counter
    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's values have had (PyTorch's ``_version``).

        A backward that saved these values checks the number did not move, so a change
        made after the forward pass is an error instead of a silently wrong gradient.
        """
        return self._version_counter[0]

    def _bump_version(self) -> None:
        """Record one in-place change of ``data``; every in-place writer calls this."""
        self._version_counter[0] += 1

    # ----------------------------------------------------------------- gradient state
    @property
    def requires_grad(self) -> bool:
        """Whether backward computes a gradient for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind not in _FLOAT_KINDS:
            raise RuntimeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}; "
                "convert first with .float() or .double()"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be switched off on a leaf tensor; "
                "use .detach() to get a tensor cut from the graph"
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created ones, parameters)."""
        return self.grad_fn is None

    def detach(self) -> Tensor:
        """Return a tensor sharing the same data, cut from the graph (no grad_fn)."""
        out = Tensor._make(self.data)
        out._version_counter = self._version_counter  # same values, so same changes
        return out

    def backward(
        self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        Gradients are accumulated (added) into each leaf's ``.grad``.

        Args:
            gradient: d(something)/d(self), same shape as self. May be omitted only when
                self holds a single element (a loss); then it is 1.
            retain_graph: keep saved arrays so that backward can run through this graph again.
            create_graph: refused: glassnet computes first derivatives only.

        Raises:
            RuntimeError: self does not require grad, self is not a scalar and no gradient
                was given, or the graph was already freed by an earlier backward.
        """
        from glassnet.autograd.backward import refuse_create_graph, run_backward

        refuse_create_graph(create_graph)
        run_backward([self], [gradient], retain_graph=retain_graph)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call ``hook(grad)`` when this tensor's gradient is computed.

        The hook may return a Tensor to use in place of the gradient. Returns a function
        that removes the hook (PyTorch returns a handle with ``.remove()``; the returned
        object has that method too).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "cannot register a hook on a tensor that does not require grad; "
                "set requires_grad=True on it (or on the inputs it is computed from) first"
            )
        owner = self if self.grad_fn is None else self.grad_fn
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(hook)
        return _HookHandle(owner._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on a non-leaf tensor after backward (leaves keep it anyway).

        As in PyTorch, the retained gradient is the one after every hook of this tensor
        ran, and it accumulates over backward calls like a leaf's.
        """
        if self.grad_fn is None:
            return
        self.grad_fn._retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf tensor whose ``.grad`` is kept (see ``retain_grad``)."""
        retained = self.grad_fn._retained if self.grad_fn is not None else None
        return retained is not None and retained() is self

    # ----------------------------------------------------------------- array facts
    @property
    def shape(self) -> tuple[int, ...]:
        """The size along each dimension."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype of the values."""
        return self.data.dtype

    def dim(self) -> int:
        """The number of dimensions (PyTorch's method form of ``ndim``)."""
        return self.data.ndim

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dimension."""
        return self.data.shape if dim is None else self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return self.data.size

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(
                f"item() needs a tensor with exactly one element, this one has "
                f"{self.data.size} (shape {self.shape}); reduce it first, e.g. .sum() or [0]"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shared memory, no copy)."""
        return self.data

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self.data.tolist()

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        return int(self.data)

    __hash__ = object.__hash__  # identity, as in PyTorch: == is elementwise below

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_in_place("x[index] = value")
        self.data[_unwrap_index(index)] = value.data if isinstance(value, Tensor) else value
        self._bump_version()

    # ----------------------------------------------------------------- in-place changes
    def _check_in_place(self, name: str) -> None:
        from glassnet.autograd.grad_mode import is_grad_enabled

        if not is_grad_enabled():
            return
        if self.grad_fn is not None:  # PyTorch records it; glassnet's graph has no such node
            raise RuntimeError(
                f"an in-place operation ({name}) on the result of a recorded op is not "
                "supported: write it out of place (h = h * 3 instead of h *= 3), so that "
                "backward goes through it"
            )
        if self._requires_grad:
            raise RuntimeError(
                f"an in-place operation ({name}) on a tensor that requires grad would make its "
                "gradient wrong; update parameters inside gn.no_grad(), or write it out of "
                "place (x = x + y)"
            )

    def _in_place(self, name: str, ufunc: Any, *operands: Any) -> Tensor:
        self._check_in_place(name)
        values = [o.data if isinstance(o, Tensor) else o for o in operands]
        try:
            ufunc(self.data, *values, out=self.data, casting="same_kind")
        except TypeError:  # NumPy's casting error, e.g. a float result into an int tensor
            kind = {"f": "floating-point", "c": "complex"}.get(
                np.result_type(self.data, *values).kind, "of another dtype"
            )
            raise TypeError(
                f"{name}: the result is {kind} and cannot be stored in place in this "
                f"{self.dtype} tensor (PyTorch refuses it too); compute a new tensor instead "
                "(x = x + y), or convert first (x = x.float())"
            ) from None
        self._bump_version()
        return self

    # ``x -= y`` changes x's array in place, as in PyTorch, so that
    # ``with gn.no_grad(): p -= lr * p.grad`` updates the parameter itself (without
    # __isub__, Python would rebind p to a new tensor and the model would never change).
    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place("+=", np.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place("-=", np.subtract, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place("*=", np.multiply, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place("/=", np.divide, other)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self += alpha * other, in place (outside a recorded graph)."""
        return self._in_place("add_", np.add, other if alpha == 1 else _scaled(other, alpha))

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self -= alpha * other, in place (outside a recorded graph)."""
        return self._in_place("sub_", np.subtract, other if alpha == 1 else _scaled(other, alpha))

    def mul_(self, other: Any) -> Tensor:
        """self *= other, in place (outside a recorded graph)."""
        return self._in_place("mul_", np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        """self /= other, in place (outside a recorded graph)."""
        return self._in_place("div_", np.divide, other)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Limit every value to [min, max] in place; either bound may be None."""
        if min is None and max is None:
            raise ValueError("clamp_ needs at least one of min= and max=")
        self._check_in_place("clamp_")
        lo, hi = (b.data if isinstance(b, Tensor) else b for b in (min, max))
        np.clip(self.data, lo, hi, out=self.data, casting="same_kind")
        self._bump_version()
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src``'s values (broadcast, cast to self's dtype) into self, in place."""
        self._check_in_place("copy_")
        np.copyto(self.data, src.data if isinstance(src, Tensor) else src, casting="unsafe")
        self._bump_version()
        return self

    def fill_(self, value: Any) -> Tensor:
        """Set every element to ``value``, in place."""
        self._check_in_place("fill_")
        self.data.fill(value.item() if isinstance(value, Tensor) else value)
        self._bump_version()
        return self

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self.fill_(0)

    def __repr__(self) -> str:
        body = np.array2string(
            self.data, separator=", ", prefix="tensor(", precision=4, floatmode="maxprec_equal"
        )
        extras = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"


def _scaled(other: Any, alpha: float) -> Any:
    return (other.data if isinstance(other, Tensor) else np.asarray(other)) * alpha


def _unwrap_index(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) if isinstance(i, (Tensor, list)) else i for i in index)
    if isinstance(index, list):
        return np.asarray([i.data if isinstance(i, Tensor) else i for i in index])
    return index


class _HookHandle:
    """Returned by ``register_hook``: call it, or its ``remove()``, to remove the hook."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    __call__ = remove


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Create a tensor from numbers, (nested) lists, NumPy arrays or another tensor.

    Python floats become float32, Python ints int64; NumPy arrays keep their dtype.
    The data is copied.

    Args:
        data: the values.
        dtype: a NumPy dtype (``np.float64``, ``"float64"``, ``gn.float64``) to convert to.
        requires_grad: record operations on this tensor for backward.
        device: accepted as in PyTorch; only the CPU exists (another device raises).

    Returns:
        A new leaf tensor.
    """
    check_device(device)
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


# Tensors whose values are fixed by the code that makes them (a recurrent layer's zero
# initial state, a number written in an expression): gn.compile may make them once,
# where a tensor made some other way outside the ops would stop it compiling.
constants: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id -> tensor


def constant(array: np.ndarray) -> Tensor:
    """A tensor of ``array`` that the code making it makes the same every time."""
    t = Tensor._make(array)
    constants[id(t)] = t
    return t


def zeros_state(shape: tuple[int, ...], dtype: Any) -> Tensor:
    """A new tensor of zeros that a module uses as a fixed starting value."""
    return constant(np.zeros(shape, dtype=dtype))
