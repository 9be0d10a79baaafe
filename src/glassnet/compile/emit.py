"""The code writer ``gn.compile`` hands to each op's ``emit``: names, buffers and lines.

An op's ``emit(e, needs, *inputs, **kwargs)`` (a static method beside its ``forward`` and
``backward``) writes its forward as NumPy lines with ``e.line``, into arrays it asks for
with ``e.new``, and returns the output and a function that writes its backward the same
way. Inputs arrive as ``Var`` (an array the step holds, printed as its name) or, for an
op's plain arguments (a dim, a shape), as the value itself. Arrays are made once, when
the step is traced, with the shapes seen then; the lines only ever write into them.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
from typing import Any

import numpy as np


class Var:
    """An array of the generated step, known by name, shape and dtype.

    ``owned`` says the step made this array for this value alone, so the value's
    gradient sum may be added into it in place; a view of another array (a reshape) or
    an array an op returned from its own code is not owned.
    """

    __slots__ = ("dtype", "name", "owned", "shape")

    def __init__(self, name: str, shape: tuple[int, ...], dtype: Any, owned: bool) -> None:
        self.name, self.shape, self.dtype, self.owned = name, tuple(shape), np.dtype(dtype), owned

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Var({self.name}, {self.shape}, {self.dtype})"


# Names the generated code uses itself (the module, the step's own locals) and Python's
# builtins: never given to an array, so a parameter called ``t`` or ``float`` is renamed.
RESERVED = frozenset(
    {"np", "arrays", "loss", "total", "denominator", "output", "loss_tensor", "momentum"}
    | {"c", "t", "make_step", "make_forward", "train_step", "forward"}
    | set(dir(builtins))
)


class Emitter:
    """Collects the step's lines and the arrays and objects its names stand for."""

    def __init__(self) -> None:
        self.lines: list[str | None] = []
        self.arrays: dict[str, Any] = {}  # name -> what the generated code reads by it
        self.notes: dict[str, str] = {}  # name -> what it is, printed where it is bound
        self._taken: set[str] = set(RESERVED)
        self._bound: dict[int, str] = {}  # id of an object bound -> its name
        self.products: dict[str, tuple] = {}  # see product()
        self.specs: dict[str, tuple] = {}  # name -> (shape, dtype, order) of each array made
        self.expected: tuple[tuple[int, ...], Any] = ((), np.float32)  # see out()
        self.indent = 1
        self._views: dict[str, Var] = {}  # see view()

    # ------------------------------------------------------------------ names
    def name(self, hint: str, numbered: bool = True) -> str:
        """A fresh identifier from ``hint``: numbered (``linear`` -> ``linear_1``,
        ``linear_2``), or ``hint`` itself while it is free."""
        # ASCII only: Python folds Unicode identifiers (NFKC), so two distinct names could
        # become one variable
        base = re.sub(r"[^0-9A-Za-z_]+", "_", hint).strip("_") or "v"
        if base[0].isdigit() or keyword.iskeyword(base):
            base = "v_" + base
        if not numbered and base not in self._taken:
            self._taken.add(base)
            return base
        i = 1
        while f"{base}_{i}" in self._taken:
            i += 1
        name = f"{base}_{i}"
        self._taken.add(name)
        return name

    def exact(self, name: str) -> str:
        """Reserve ``name`` itself (the step's arguments, parameters' names) if free."""
        return self.name(name, numbered=False)

    # ------------------------------------------------------------------ arrays and objects
    def new(
        self,
        shape: tuple[int, ...],
        dtype: Any,
        hint: str,
        note: str = "",
        numbered: bool = True,
        order: str = "C",
    ) -> Var:
        """An array made once now, written by the step's lines (contents undefined)."""
        name = self.name(hint, numbered)
        self.arrays[name] = np.empty(shape, dtype=dtype, order=order)
        self.specs[name] = (tuple(shape), np.dtype(dtype).name, order)
        self.notes[name] = note or f"{tuple(shape)} {np.dtype(dtype)}"
        return Var(name, shape, dtype, owned=True)

    def like(self, var: Var, hint: str, dtype: Any = None) -> Var:
        """``new`` with ``var``'s shape (and dtype unless given)."""
        return self.new(var.shape, var.dtype if dtype is None else dtype, hint)

    def grad(self, var: Var) -> Var:
        """A new array for the gradient of ``var``: ``grad_<its name>``, in the same memory
        order as ``var``'s array (so that updates run over both in step)."""
        order = "F" if self.fortran(var) else "C"
        return self.new(var.shape, var.dtype, f"grad_{var.name}", numbered=False, order=order)

    def fortran(self, var: Var) -> bool:
        """Whether ``var``'s array is kept in Fortran order (columns contiguous)."""
        a = self.arrays.get(var.name)
        return (
            isinstance(a, np.ndarray)
            and a.ndim > 1
            and a.flags.f_contiguous
            and not a.flags.c_contiguous
        )

    def bind(self, value: Any, hint: str, note: str = "", exact: bool = False) -> str:
        """A name for an object the step reads as it is (a parameter, an optimizer state);
        the same object bound twice keeps its first name."""
        if id(value) in self._bound and self.arrays.get(self._bound[id(value)]) is value:
            return self._bound[id(value)]
        name = self.exact(hint) if exact else self.name(hint)
        self._bound[id(value)] = name
        self.arrays[name] = value
        if note:
            self.notes[name] = note
        return name

    def array(self, value: np.ndarray, hint: str, note: str = "", exact: bool = False) -> Var:
        """A Var for an existing array (a parameter, the input), read and written in place."""
        name = self.bind(value, hint, note, exact)
        return Var(name, value.shape, value.dtype, owned=False)

    def assign(self, expr: str, shape: tuple[int, ...], dtype: Any, hint: str) -> Var:
        """``name = expr``: a view of another array or a fresh result (not owned)."""
        name = self.name(hint)
        self.line(f"{name} = {expr}")
        return Var(name, shape, dtype, owned=False)

    def view(self, expr: str, shape: tuple[int, ...], dtype: Any, hint: str) -> Var:
        """``name = expr`` for a view that stays valid all step (a parameter's gates as a
        stack of matrices), written once where first asked for and reused after."""
        if expr not in self._views:
            self._views[expr] = self.assign(expr, shape, dtype, hint)
        return self._views[expr]

    def ones(self, n: int, dtype: Any) -> str:
        """A name for a vector of n ones: ``ones @ g`` sums g's rows in one BLAS call."""
        key = f"ones({n}, {np.dtype(dtype).name})"
        if key not in self._views:
            name = self.bind(np.ones(n, dtype=dtype), f"ones_{np.dtype(dtype).name}")
            self._views[key] = Var(name, (n,), dtype, owned=False)
        return self._views[key].name

    def product(self, a: str, b: str, out: Var, transposed: bool, note: str) -> None:
        """``out = a @ b`` (``out.T`` if ``transposed``) as one line, remembered so that the
        step may instead add the product straight into the array that consumes it
        (``take_product``): a momentum buffer's update fused into the matrix product."""
        target = f"{out}.T" if transposed else str(out)
        self.line(f"np.matmul({a}, {b}, out={target})  # {note}")
        self.products[out.name] = (len(self.lines) - 1, a, b, transposed, note)

    def take_product(self, var: Var) -> tuple[str, str, bool, str] | None:
        """The product that made ``var`` (a, b, transposed, note), its line removed; None if
        ``var`` was made otherwise."""
        found = self.products.pop(var.name, None)
        if found is None:
            return None
        index, *rest = found
        self.lines[index] = None  # dropped when the source is written
        return tuple(rest)

    def out(self, hint: str) -> Var:
        """A new array of the shape and dtype the op's eager forward gave (the driver sets
        ``expected`` before each op's ``emit``): for ops whose output follows broadcasting
        and type promotion, so that the rules stay NumPy's."""
        shape, dtype = self.expected
        return self.new(shape, dtype, hint)

    def ref(self, value: Any) -> str:
        """How the code names an op's input: a Var by its name, a plain number as written,
        any other object (a 0-d array) bound as a constant."""
        if isinstance(value, Var):
            return value.name
        plain = isinstance(value, (bool, int, float)) and not isinstance(value, np.generic)
        if value is None or (plain and math.isfinite(value)):
            return repr(value)  # inf and nan are no names the code has: bound below
        return self.bind(value, "constant")

    def unbroadcast(self, g: Var, value: Any) -> Var | None:
        """The gradient ``g`` (the output's shape) summed down to ``value``'s shape, as
        ``unbroadcast`` does: g itself when the shapes agree (not owned), else a new array
        written by one ``np.sum``; None for an input that is not a Var."""
        if not isinstance(value, Var):
            return None
        if g.shape == value.shape:
            return Var(g.name, g.shape, g.dtype, owned=False)
        extra = len(g.shape) - len(value.shape)
        padded = (1,) * extra + value.shape
        axes = tuple(i for i, (n, m) in enumerate(zip(padded, g.shape)) if n == 1 and m != 1)
        axes = tuple(sorted(set(range(extra)) | set(axes)))
        total = self.new(value.shape, g.dtype, f"grad_{value.name}", numbered=False)
        kept = f"{total}.reshape({padded})"
        self.line(f"np.sum({g}, axis={axes}, keepdims=True, out={kept})  # summed over the")
        self.line("# broadcast dimensions: each input entry was used once per copy")
        return total

    # ------------------------------------------------------------------ lines
    def line(self, code: str) -> None:
        """One line of the step (several, if ``code`` holds newlines)."""
        for part in code.splitlines():
            self.lines.append("    " * self.indent + part)

    def comment(self, text: str) -> None:
        """``# text`` on one line (a newline in ``text`` would end the comment)."""
        self.line("# " + " ".join(str(text).split()))

    def blank(self) -> None:
        self.lines.append("")
