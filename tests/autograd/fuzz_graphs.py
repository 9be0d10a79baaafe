"""Random autograd graphs, replayed on glassnet and on PyTorch: the language of the fuzzer.

A graph is a short program: leaves, then steps that each apply one op to earlier values
(from tests/autograd/fuzz_ops.py: a row of the op table with a PyTorch twin, or a view),
then hooks, ``retain_grad()``, the output and one to three ``backward()`` /
``autograd.grad()`` calls. The hypothesis strategy ``graphs`` writes the program while
PyTorch evaluates it, so that every input stays inside its op's domain, away from kinks
and ties, and bounded (an op that would leave these is not added). ``run`` replays the program on one library and returns every
number a user could read afterwards; ``repr(graph)`` is the reproduction printed for a
failing example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st

import glassnet as gn
from tests.autograd.fuzz_ops import (
    BINARY,
    EXP,
    MUL,
    OPS,
    PLUS,
    REUSE,
    SIGMOID,
    TANH,
    UNARY,
    Op,
    Shape,
    accepts,
    safe,
    view_ops,
)
from tests.ops.specs import BROADCAST_PAIRS, sample


# ------------------------------------------------------------------ the program
@dataclass(frozen=True)
class Leaf:
    shape: Shape
    requires_grad: bool
    values: np.ndarray = field(repr=False, compare=False)
    key: tuple[int, int] = (0, 0)  # the values are sample(np.random.default_rng(key), ...)


@dataclass(frozen=True)
class Step:
    op: Op
    inputs: tuple[int, ...]
    shape: Shape  # of the output


@dataclass(frozen=True)
class Call:
    kind: str  # "backward" or "grad"
    seed: np.ndarray | None  # the gradient of the output; None means the implicit 1
    retain_graph: bool
    inputs: tuple[int, ...] = ()  # for grad(): with respect to these values


class Graph:
    """One program. Not a dataclass, so that hypothesis prints it with ``__repr__``."""

    def __init__(
        self,
        seed: int,
        steps: list[Leaf | Step],
        hooks: dict[int, tuple[str, ...]],  # value -> its hooks, in registration order
        retained: tuple[int, ...],
        terms: tuple[int, ...],  # out = terms[0] (+ each other term .sum())
        reduce: bool,  # out is a scalar: terms[0] is summed too
        calls: list[Call],
    ) -> None:
        self.seed, self.steps, self.hooks, self.retained = seed, steps, hooks, retained
        self.terms, self.reduce, self.calls = terms, reduce, calls

    def __repr__(self) -> str:
        lines = [f"graph with seed {self.seed} (op['name'] is that row of tests/ops/specs.py):"]
        for i, s in enumerate(self.steps):
            if isinstance(s, Leaf):
                flag = "" if s.requires_grad else ", requires_grad=False"
                lines.append(f"  v{i} = leaf({s.shape}{flag})  # values {_short(s.values)}")
            else:
                line = f"  v{i} = " + s.op.text([f"v{j}" for j in s.inputs])
                lines.append(f"{line}  # {s.shape}")
        for i, kinds in self.hooks.items():
            lines += [f"  v{i}.register_hook({kind})" for kind in kinds]
        lines += [f"  v{i}.retain_grad()" for i in self.retained]
        first = f"v{self.terms[0]}" + (".sum()" if self.reduce else "")
        lines.append("  out = " + " + ".join([first] + [f"v{i}.sum()" for i in self.terms[1:]]))
        for c in self.calls:
            args = [] if c.seed is None else [f"gradient={_short(c.seed)}"]
            if c.retain_graph:
                args.append("retain_graph=True")
            if c.kind == "backward":
                lines.append(f"  out.backward({', '.join(args)})")
            else:
                wrt = "[" + ", ".join(f"v{i}" for i in c.inputs) + "]"
                lines.append(f"  grad(out, {wrt}{''.join(', ' + a for a in args)})")
        if self.hooks:
            lines.append(
                "  # observe: keeps the gradient it gets, and a copy; double: returns 2 * it"
            )
        return "\n".join(lines)


def features(graph: Graph) -> set[str]:
    """What a graph exercises, in words: the fuzzer's promises are checked against these."""
    found: set[str] = set()
    steps = graph.steps
    ancestors: list[set[int]] = []
    for i, s in enumerate(steps):
        mine = {i}
        if isinstance(s, Step):
            for j in s.inputs:
                mine |= ancestors[j]
            if s.op.name.startswith("view."):
                found.add(s.op.name)
            shapes = [steps[j].shape for j in s.inputs]
            if len(shapes) == 2 and {shapes[0], shapes[1]} == {(3, 1), (4,)}:
                found.add("(3, 1) meets (4,)" if shapes[0] == (3, 1) else "(4,) meets (3, 1)")
            if len(set(s.inputs)) == 2 and ancestors[s.inputs[0]] & ancestors[s.inputs[1]]:
                found.add("diamond")
        ancestors.append(mine)
    uses = [0] * len(steps)
    for s in steps:
        for j in s.inputs if isinstance(s, Step) else ():
            uses[j] += 1
    for i, s in enumerate(steps):
        if isinstance(s, Leaf) and uses[i] >= 2:
            found.add(f"a leaf used {min(uses[i], 5)} times")
    found |= {"hook " + kind for kinds in graph.hooks.values() for kind in kinds}
    found |= {"retain_grad"} if graph.retained else set()
    found |= {c.kind + " call" for c in graph.calls} | {f"{len(graph.calls)} calls"}
    found.add("scalar output" if graph.reduce else "output with a gradient")
    return found


def _short(a: np.ndarray) -> str:
    return np.array2string(np.asarray(a), precision=3, separator=", ").replace("\n", "")


# ------------------------------------------------------------------ the strategy
class _Builder:
    """Grows the program while PyTorch evaluates it (the values decide what is safe)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.steps: list[Leaf | Step] = []
        self.values: list[np.ndarray] = []
        self.requires: list[bool] = []

    def leaf(self, shape: Shape, requires_grad: bool = True) -> int:
        key = (self.seed, len(self.steps))
        values = sample(np.random.default_rng(key), shape, "real")
        return self._add(Leaf(shape, requires_grad, values, key), values, requires_grad)

    def _add(self, step: Leaf | Step, value: np.ndarray, requires: bool) -> int:
        self.steps.append(step)
        self.values.append(value)
        self.requires.append(requires)
        return len(self.steps) - 1

    def latest(self, shape: Shape) -> int | None:
        return next(
            (i for i in reversed(range(len(self.values))) if self.values[i].shape == shape), None
        )

    def apply(self, op: Op, inputs: list[int]) -> int | None:
        """Add ``op(*inputs)`` if it is safe; return its value's index, else None."""
        shapes = tuple(self.values[i].shape for i in inputs)
        if not accepts(op, shapes):
            return None
        arrays = [self.values[i] for i in inputs]
        try:
            with torch.no_grad():
                out = op.theirs(*[torch.from_numpy(a) for a in arrays]).numpy()
        except RuntimeError:  # .view() of a transposed tensor: PyTorch asks for reshape
            return None
        if not safe(op, arrays, out):
            return None
        requires = any(self.requires[i] for i in inputs)
        return self._add(Step(op, tuple(inputs), out.shape), out, requires)

    def positive(self, i: int, how: int) -> int | None:
        """A value >= 0.25 made from value ``i``: exp(x), x*x + 2.5 or sigmoid(x) + 2.5."""
        if self.values[i].min() >= 0.25:
            return i
        if how == 0 and (j := self.apply(EXP, [i])) is not None and self.values[j].min() >= 0.25:
            return j
        if how == 1 and (j := self.apply(MUL, [i, i])) is not None:
            return self.apply(PLUS, [j])
        j = self.apply(SIGMOID, [i])
        return None if j is None else self.apply(PLUS, [j])

    def try_op(self, op: Op, inputs: list[int], how: int, own_shapes: bool = True) -> int | None:
        """Apply ``op``; its spec's own input shapes if these do not fit; squash if too big."""
        if not accepts(op, tuple(self.values[i].shape for i in inputs)):
            if not (own_shapes and op.shapes):
                return None
            inputs = [self.latest(s) for s in op.shapes]
            inputs = [self.leaf(s) if i is None else i for i, s in zip(inputs, op.shapes)]
        for k, domain in enumerate(op.domains):
            if domain == "positive":
                j = self.positive(inputs[k], how)
                if j is None:
                    return None
                inputs[k] = j
        out = self.apply(op, inputs)
        if out is None and any(np.abs(self.values[i]).max() > 2 for i in inputs):
            squashed = [
                self.apply(TANH, [i]) if np.abs(self.values[i]).max() > 2 else i for i in inputs
            ]
            if None not in squashed:
                out = self.apply(op, squashed)
        return out


MEETING = (((3, 1), (4,)), *(pair for pair in BROADCAST_PAIRS if pair[0] != pair[1]))
LEAF_SHAPES: tuple[Shape, ...] = ((), (4,), (3, 1), (3, 4), (1, 4), (2, 3, 4), (3, 5))
HOOKS = ((), ("observe",), ("double",), ("double", "observe"), ("observe", "double"))
KINDS = ("reuse", "op", "view", "diamond", "broadcast")
SCALAR_SEEDS = (None, 2.0, -0.5)


def observe(kept: list, i: int, copy: Callable, grad: Any) -> None:
    """A hook that only looks: it keeps the gradient it was given, and a copy of it."""
    kept.append((i, grad, copy(grad)))


def double(grad: Any) -> Any:
    """A hook that replaces the gradient by twice itself."""
    return grad * 2


@st.composite
def graphs(
    draw: Callable,
    *,
    retain: bool = False,
    hooks: bool = False,
    calls: tuple[int, int] = (1, 1),
    grad_calls: bool = False,
) -> Graph:
    """Random graphs; the keywords switch on retain_grad, hooks, repeated calls, grad()."""
    b = _Builder(draw(st.integers(0, 2**16)))
    for _ in range(draw(st.integers(1, 3))):
        b.leaf(draw(st.sampled_from(LEAF_SHAPES)), requires_grad=draw(st.integers(0, 4)) < 4)

    def pick(from_leaves: bool = False) -> int:
        k = draw(st.integers(0, len(b.values) - 1))
        return k if from_leaves else len(b.values) - 1 - k

    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(KINDS))
        how = draw(st.integers(0, 2))  # which way to make an input positive
        if kind == "reuse":  # v + v + v ..., or w + v + v ...: a value used 2-5 times
            v, op = pick(from_leaves=True), draw(st.sampled_from(REUSE))
            acc = pick() if draw(st.booleans()) else v
            for _ in range(draw(st.integers(2, 5)) - (acc == v)):
                nxt = b.try_op(op, [acc, v], how, own_shapes=False)
                if nxt is None:
                    break
                acc = nxt
        elif kind == "op":
            op = draw(st.sampled_from(OPS))
            b.try_op(op, [pick() for _ in range(op.arity)], how)
        elif kind == "view":
            v = pick()
            kinds = view_ops(b.values[v].shape)
            b.apply(draw(st.sampled_from(kinds[draw(st.sampled_from(tuple(kinds)))])), [v])
        elif kind == "diamond":  # v feeds two branches that meet again
            v = pick()
            left = b.try_op(draw(st.sampled_from(UNARY)), [v], how, own_shapes=False)
            right = b.try_op(draw(st.sampled_from(UNARY)), [v], how, own_shapes=False)
            if left is not None and right is not None:
                b.try_op(draw(st.sampled_from(BINARY)), [left, right], how, own_shapes=False)
        else:  # a (3, 1) meets a (4,), say, in either order
            pair = list(draw(st.sampled_from(MEETING)))
            if draw(st.booleans()):
                pair.reverse()
            inputs = []
            for shape in pair:
                old = b.latest(shape)
                inputs.append(b.leaf(shape) if old is None or draw(st.booleans()) else old)
            b.try_op(draw(st.sampled_from(BINARY)), inputs, how, own_shapes=False)

    used = {i for s in b.steps if isinstance(s, Step) for i in s.inputs}
    terms = [i for i in range(len(b.steps)) if i not in used and b.requires[i]]
    if not terms:
        terms = [b.leaf((4,))]
    terms.reverse()  # the latest value is the output's main term
    reduce = draw(st.booleans())
    main = b.values[terms[0]]
    out_shape = () if reduce else main.shape

    intermediates = [i for i, s in enumerate(b.steps) if isinstance(s, Step) and b.requires[i]]
    retained = tuple(i for i in intermediates if retain and draw(st.booleans()))
    hooked = {}
    if hooks:
        for i in range(len(b.steps)):
            kinds = draw(st.sampled_from(HOOKS)) if b.requires[i] else ()
            if kinds:
                hooked[i] = kinds

    reaches = _reaching(b.steps, b.requires, terms)
    leaves = [i for i in sorted(reaches) if isinstance(b.steps[i], Leaf)]
    n_calls = draw(st.integers(*calls))
    first_seed = draw(st.integers(0, 2))
    program_calls = []
    for c in range(n_calls):  # each call starts from a different gradient
        if reduce:
            seed = SCALAR_SEEDS[(first_seed + c) % 3]
            seed = None if seed is None else np.array(seed)
        else:
            seed = np.random.default_rng((b.seed, 1000 + c)).uniform(-1.5, 1.5, size=out_shape)
        if grad_calls and draw(st.booleans()):
            # PyTorch's grad() returns an intermediate input's gradient before that tensor's
            # own hooks ran (a leaf's, after); glassnet's after. Not this fuzzer's question:
            # an intermediate with a hook that changes its gradient is no grad() input.
            candidates = [
                i for i in sorted(reaches) if i in leaves or "double" not in hooked.get(i, ())
            ]
            chosen = [i for i in candidates if draw(st.booleans())] or candidates[:1]
            if retained:
                # PyTorch's grad() runs only the nodes between out and the inputs; glassnet's
                # runs them all. With every leaf an input the two sets are the same, so the
                # retained .grad (filled by grad() too) stays comparable.
                chosen = sorted(set(chosen) | set(leaves))
            program_calls.append(Call("grad", seed, c < n_calls - 1, tuple(chosen)))
        else:
            program_calls.append(Call("backward", seed, c < n_calls - 1))
    return Graph(b.seed, b.steps, hooked, retained, tuple(terms), reduce, program_calls)


def _reaching(steps: list[Leaf | Step], requires: list[bool], terms: list[int]) -> set[int]:
    """Values that requires grad and the output depends on (the inputs grad() may take)."""
    seen, stack = set(), list(terms)
    while stack:
        i = stack.pop()
        if i in seen:
            continue
        seen.add(i)
        if isinstance(steps[i], Step):
            stack.extend(steps[i].inputs)
    return {i for i in seen if requires[i]}


# ------------------------------------------------------------------ replaying a program
def run(graph: Graph, *, on_torch: bool) -> tuple[dict[str, np.ndarray | None], list[str]]:
    """Replay ``graph`` on one library.

    Returns every number a user can read afterwards (forward values, leaf and retained
    ``.grad``, what each grad() call returned), by name, and a list of the gradients that
    an observing hook kept and that changed after the hook returned.
    """
    if on_torch:
        make = partial(torch.tensor, dtype=torch.float64)
        grad_fn, copy = torch.autograd.grad, lambda g: g.detach().numpy().copy()
    else:
        make = partial(gn.tensor, dtype=np.float64)
        grad_fn, copy = gn.autograd.grad, lambda g: g.data.copy()

    values: list[Any] = []
    for s in graph.steps:
        if isinstance(s, Leaf):
            values.append(make(s.values, requires_grad=s.requires_grad))
        else:
            fn = s.op.theirs if on_torch else s.op.ours
            values.append(fn(*[values[i] for i in s.inputs]))
    kept: list = []
    for i, kinds in graph.hooks.items():
        for kind in kinds:
            values[i].register_hook(double if kind == "double" else partial(observe, kept, i, copy))
    for i in graph.retained:  # after the hooks: PyTorch's .grad of a retained tensor sees them all
        values[i].retain_grad()
    out = values[graph.terms[0]].sum() if graph.reduce else values[graph.terms[0]]
    for i in graph.terms[1:]:
        out = out + values[i].sum()

    numbers: dict[str, np.ndarray | None] = {}
    for c, call in enumerate(graph.calls):
        seed = None if call.seed is None else make(call.seed)
        if call.kind == "backward":
            out.backward(seed, retain_graph=call.retain_graph)
        else:
            inputs = [values[i] for i in call.inputs]
            got = grad_fn(
                out, inputs, grad_outputs=seed, retain_graph=call.retain_graph, allow_unused=True
            )
            for i, g in zip(call.inputs, got):
                numbers[f"call {c}: grad(out, [v{i}, ...]) for v{i}"] = _array(g)
        if on_torch:
            _own_grads(values)
    for i, s in enumerate(graph.steps):
        numbers[f"v{i} (forward value)"] = _array(values[i])
        if isinstance(s, Leaf) and s.requires_grad:
            numbers[f"v{i}.grad (leaf)"] = _array(values[i].grad)
    for i in graph.retained:
        numbers[f"v{i}.grad (retained)"] = _array(values[i].grad)
    changed = [
        f"the gradient the hook on v{i} kept changed after the hook returned: "
        f"it was {_short(before)}, it is now {_short(_array(g))}"
        for i, g, before in kept
        if not np.array_equal(_array(g), before)
    ]
    return numbers, changed


def _own_grads(values: list[torch.Tensor]) -> None:
    """Give every PyTorch .grad its own memory before the next backward adds into it.

    PyTorch 2.13 has this fuzzer's bug class itself: in ``out = a.sum() + b.sum()`` with
    0-d leaves ``a`` and ``b``, both AccumulateGrad nodes take the same incoming buffer as
    their ``.grad``, so a second backward adds into it twice and both gradients come out
    wrong. Copying after each call leaves the values and removes the sharing.
    """
    for t in values:
        if (t.is_leaf or t.retains_grad) and t.grad is not None:
            t.grad = t.grad.clone()


def _array(t: Any) -> np.ndarray | None:
    if t is None:
        return None
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.data)


def differences(ours: dict, theirs: dict, tol: float = 1e-9) -> list[str]:
    """Every number that differs beyond ``tol`` (absolute + relative), said in words."""
    problems = []
    for name, want in theirs.items():
        got = ours.get(name)
        if got is None or want is None:
            if (got is None) != (want is None):
                problems.append(f"{name}: glassnet {_short(got)}, PyTorch {_short(want)}")
        elif got.shape != want.shape or not np.allclose(got, want, rtol=tol, atol=tol):
            problems.append(f"{name}: glassnet {_short(got)}, PyTorch {_short(want)}")
    return problems
