"""The fuzzer's vocabulary: which ops a random graph may use, and where each is safe.

Every row of the op table in tests/ops/specs.py that has a PyTorch twin, plus the views
(reshape, transpose, slicing, expand, unsqueeze). ``accepts`` says whether both libraries
take inputs of given shapes; ``safe`` whether given values keep an op inside its domain,
away from its kinks and ties, and bounded. Used by tests/autograd/fuzz_graphs.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import glassnet as gn
from tests.ops.specs import SPECS, OpSpec

Shape = tuple[int, ...]
MAX_ABS = 1e3  # no value leaves [-1e3, 1e3]: far from overflow, and rounding stays < 1e-12
MAX_SIZE = 64
MARGIN = 1e-6  # how far an input stays from a kink or a tie (rounding is ~1e-15)


@dataclass(frozen=True)
class Op:
    """One step's operation: ``ours`` on glassnet tensors, ``theirs`` on torch tensors."""

    label: str  # printed with the inputs: "{0}.transpose(0, 1)" or 'op["exp"]({0})'
    ours: Callable
    theirs: Callable
    arity: int = 1
    shapes: tuple[Shape, ...] | None = None  # the spec's own input shapes
    domains: tuple[str, ...] = ()
    name: str = ""  # the spec's name, or "view.reshape", "view.getitem", ...
    free: bool = True  # elementwise (or a view): fits inputs of any shape that broadcast

    def text(self, names: list[str]) -> str:
        return self.label.format(*names)


def _elementwise(spec: OpSpec) -> bool:
    """Does the op keep the broadcast shape of its inputs (so any shapes will do)?"""
    if len(spec.shapes) > 2:
        return False
    out = spec.torch(*[torch.ones(s, dtype=torch.float64) for s in spec.shapes])
    try:
        return tuple(out.shape) == np.broadcast_shapes(*spec.shapes)
    except ValueError:  # inputs that do not broadcast: a matrix product
        return False


def _spec_op(s: OpSpec) -> Op:
    names = ", ".join(f"{{{i}}}" for i in range(len(s.shapes)))
    domains = tuple(s.domain(i) for i in range(len(s.shapes)))
    free = _elementwise(s)
    return Op(
        f"op[{s.name!r}]({names})", s.fn, s.torch, len(s.shapes), s.shapes, domains, s.name, free
    )


# Ops other than elementwise ones get exactly their spec's input shapes: the shapes that
# tests/ops already checks, so that a failure here is the engine's, not one op's.
SPEC_OPS: dict[str, Op] = {s.name: _spec_op(s) for s in SPECS if s.torch is not None}
# Tuples, not lists, throughout: hypothesis caches a sampled_from of a hashable sequence.
OPS = tuple(SPEC_OPS.values())
UNARY = tuple(op for op in OPS if op.arity == 1)
BINARY = tuple(
    SPEC_OPS[f"{n} (3, 4) (3, 4)"]
    for n in ("add", "sub", "mul", "div", "maximum", "minimum", "pow")
)
REUSE = tuple(SPEC_OPS[f"{n} (3, 4) (3, 4)"] for n in ("add", "mul", "sub"))
TANH, SIGMOID, EXP = SPEC_OPS["tanh"], SPEC_OPS["sigmoid"], SPEC_OPS["exp"]
MUL, PLUS = SPEC_OPS["mul (3, 4) (3, 4)"], SPEC_OPS["x + 2.5"]

# Where the derivative jumps. Both libraries agree exactly at these points, but an input
# computed by a reduction may sit 1e-16 to one side in one library and to the other side
# in the other, so inputs keep MARGIN away.
KINKS = {
    "abs": (0.0,),
    "relu": (0.0,),
    "leaky_relu(0.1)": (0.0,),
    "elu(1.0)": (0.0,),
    "elu(0.5)": (0.0,),
    "clamp(-0.5, 0.5)": (-0.5, 0.5),
    "clamp(min=0.5)": (0.5,),
    "softplus": (20.0,),
    "softplus(beta=2, threshold=1)": (0.5,),
}
TIES_ELEMENTWISE = ("maximum", "minimum")  # a == b splits the gradient
TIES_REDUCED = ("amax", "amin", "max", "min")  # equal candidates: split, or one index
NONZERO_OUTPUT = ("std",)  # d std / dx = (x - mean) / (n std) needs std > 0
for _name in KINKS:
    assert _name in SPEC_OPS, f"spec {_name!r} is no longer in tests/ops/specs.py: update KINKS"


def safe(op: Op, inputs: list[np.ndarray], out: np.ndarray) -> bool:
    """Is ``out = op(*inputs)`` inside every domain, away from kinks and ties, bounded?"""
    if out.size == 0 or out.size > MAX_SIZE or out.ndim > 4:
        return False
    if not np.all(np.isfinite(out)) or np.abs(out).max() > MAX_ABS:
        return False
    for x, domain in zip(inputs, op.domains):
        if domain == "positive" and x.min() < 0.25:
            return False
        if domain == "probability" and (x.min() < 0.05 or x.max() > 0.95):
            return False
    name = op.name
    head = name.split("(")[0].split(" ")[0]
    if name in KINKS:
        return all(np.abs(inputs[0] - k).min() > MARGIN for k in KINKS[name])
    if head in TIES_ELEMENTWISE:
        return np.abs(inputs[0] - inputs[1]).min() > MARGIN
    if head in TIES_REDUCED:
        flat = np.sort(inputs[0].ravel())
        return flat.size < 2 or np.diff(flat).min() > MARGIN
    if head in NONZERO_OUTPUT:
        return out.min() > 1e-2
    return True


_VALID: dict[tuple[str, tuple[Shape, ...]], bool] = {}


def accepts(op: Op, shapes: tuple[Shape, ...]) -> bool:
    """Do both libraries accept these input shapes, with outputs of the same shape?

    An op that hands back its input object is refused too: PyTorch's ``flatten(1)`` of a
    2-D tensor is the tensor itself, so a hook on "its output" would be a hook on its input.
    """
    if not op.free and shapes != op.shapes:
        return False
    key = (op.label, shapes)
    if key not in _VALID:
        arrays = [np.linspace(0.6, 1.4, int(np.prod(s))).reshape(s) for s in shapes]
        ours_in = [gn.tensor(a, requires_grad=True) for a in arrays]
        theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # torch's "degrees of freedom <= 0", x.T of 1-D
                ours, theirs = op.ours(*ours_in), op.theirs(*theirs_in)
            same_shape = tuple(ours.shape) == tuple(theirs.shape)
            passed_through = any(ours is x for x in ours_in) or any(theirs is x for x in theirs_in)
            _VALID[key] = same_shape and not passed_through
        except Exception:  # any refusal (or warning) by either library: not these shapes
            _VALID[key] = False
    return _VALID[key]


# ------------------------------------------------------------------ views
def _index_text(index: tuple) -> str:
    def one(i: Any) -> str:
        if isinstance(i, slice):
            text = f"{'' if i.start is None else i.start}:{'' if i.stop is None else i.stop}"
            return text + (f":{i.step}" if i.step else "")
        return "..." if i is Ellipsis else repr(i)

    return "[" + ", ".join(one(i) for i in index) + "]"


def view_ops(shape: Shape) -> dict[str, tuple[Op, ...]]:
    """Every view this fuzzer knows that applies to a tensor of ``shape``, by kind."""

    def view(label: str, fn: Callable) -> Op:
        kind = "getitem" if label.startswith("[") else label[1:].split("(")[0]
        return Op("{0}" + label, fn, fn, name="view." + kind)

    views = []
    n, nd = int(np.prod(shape)), len(shape)
    for target in [(n,), (1, n)] + [(a, n // a) for a in range(2, n) if n % a == 0]:
        if target != shape:
            views.append(view(f".reshape{target}", lambda x, s=target: x.reshape(s)))
    for d0 in range(nd):
        for d1 in range(d0 + 1, nd):
            views.append(view(f".transpose({d0}, {d1})", lambda x, a=d0, b=d1: x.transpose(a, b)))
    for d in range(nd + 1):
        views.append(view(f".unsqueeze({d})", lambda x, d=d: x.unsqueeze(d)))
    grown = [(2, *shape)]
    grown += [shape[:d] + (k,) + shape[d + 1 :] for d in range(nd) if shape[d] == 1 for k in (2, 4)]
    for target in grown:
        if int(np.prod(target)) <= MAX_SIZE:
            views.append(view(f".expand{target}", lambda x, s=target: x.expand(*s)))
    indices: list[tuple] = [(None,)]
    if nd:
        indices += [(k,) for k in range(min(shape[0], 3))] + [(Ellipsis, shape[-1] - 1)]
    for d in range(min(nd, 2)):
        size = shape[d]
        for s in (slice(0, size - 1), slice(1, size), slice(0, size, 2)):
            if len(range(size)[s]):
                indices.append((slice(None),) * d + (s,))
    for index in indices:
        views.append(view(_index_text(index), lambda x, i=index: x[i]))
    return {
        kind: tuple(op for op in views if op.name == kind)
        for kind in sorted({op.name for op in views})
    }
