"""The backward pass: walk the graph from the outputs to the leaves, in dependency order.

This is the only place where gradients are added together. Three steps:

1. Count, for every node and leaf reachable from the outputs, how many uses of it the
   graph holds (an explicit stack, not recursion, so a chain of 100,000 ops is fine).
2. Start from the outputs. A node runs its backward only once every use has sent it its
   gradient (its count reaches zero), so a value used twice, as in ``x * x``, a diamond,
   or a residual, receives the *sum* of the gradients from every use: the multivariate
   chain rule, d L/d x = sum over uses u of (d L/d u)(d u/d x).
3. A leaf (a tensor the user made, a parameter) finishes the same way: once every use has
   reported, its hooks see the total, which is added to ``.grad``; so gradients
   accumulate across backward calls until zeroed.

Every sum is a new array. The engine never writes into an array it has handed to anyone
(a ``.grad``, a hook, a pending sum, the user), so no two places can share one gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.autograd.anomaly import _anomaly, check_gradients
from glassnet.autograd.function import Node
from glassnet.autograd.tensor import Tensor

# Functions called as observer(node, grad_output, grad_inputs) after each node's backward:
# how gn.inspect.trace watches backprop without the engine knowing about it.
observers: list = []


def run_backward(
    outputs: Sequence[Tensor],
    gradients: Sequence[Any],
    retain_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
) -> list[np.ndarray | None] | None:
    """Backpropagate from ``outputs`` (seeded with ``gradients``) to the leaves.

    Without ``capture``, every leaf that requires grad gets its gradient added to ``.grad``.
    With ``capture`` (used by ``grad()``), no ``.grad`` is touched: the gradients arriving
    at the captured tensors are returned instead, in order.
    """
    sink = None if capture is None else _Capture(capture)
    pending: dict[int, tuple[np.ndarray, bool]] = {}  # id -> (gradient summed so far, new?)
    starts: dict[int, Any] = {}
    for out, gradient in zip(outputs, gradients):
        start = out if out.grad_fn is None else out.grad_fn
        _add(pending, id(start), _as_gradient(out, gradient), True)
        starts[id(start)] = start
    uses = _count_uses([s for s in starts.values() if type(s) is Node])

    ready = []
    for key, start in starts.items():
        if uses.get(key, 0) == 0:
            if type(start) is Node:
                ready.append(start)
            else:
                _finish_leaf(start, *pending.pop(key), sink)
    while ready:
        node = ready.pop()
        entry = pending.pop(id(node), None)
        for edge, grad, new in _run_node(node, entry and entry[0], retain_graph, sink):
            if grad is not None:
                _add(pending, id(edge), grad, new)
            uses[id(edge)] -= 1
            if uses[id(edge)] == 0:
                if type(edge) is Node:
                    ready.append(edge)
                elif id(edge) in pending:
                    _finish_leaf(edge, *pending.pop(id(edge)), sink)
    return None if sink is None else sink.results()


def _count_uses(roots: list[Node]) -> dict[int, int]:
    """How many times each node and leaf below ``roots`` is an input of a node above it."""
    uses: dict[int, int] = {}
    seen = {id(n) for n in roots}
    stack = list(roots)
    while stack:
        for edge in stack.pop().edges:
            if edge is None:
                continue
            uses[id(edge)] = uses.get(id(edge), 0) + 1
            if type(edge) is Node and id(edge) not in seen:
                seen.add(id(edge))
                stack.append(edge)
    return uses


def _add(pending: dict, key: int, grad: np.ndarray, new: bool) -> None:
    """Sum one more gradient into ``pending[key]``, out of place: either term may be held
    elsewhere (a leaf's .grad, a hook), so neither is ever written."""
    if key in pending:
        with np.errstate(all="ignore"):  # inf + -inf is NaN, as PyTorch gives it, unwarned
            pending[key] = (pending[key][0] + grad, True)
    else:
        pending[key] = (grad, new)


def _run_node(
    node: Node, grad: np.ndarray | None, retain_graph: bool, sink: _Capture | None
) -> list[tuple[Any, np.ndarray | None, bool]]:
    """Run one node's backward on the total gradient of its output.

    Returns (edge, gradient, new) for each tensor input that needs a gradient; ``new``
    says the array was made by this backward and is held by nobody else.
    """
    if grad is None:  # nothing reached this node: every use sent None
        if not retain_graph:
            node.release()
        return [(edge, None, False) for edge in node.edges if edge is not None]
    # each of these is skipped with one test when not in use (no hook, no retain_grad,
    # no grad() capture, no anomaly mode, no trace): the common step pays nothing for them
    if node._hooks:
        grad = _run_hooks(node._hooks, grad)
    if node._retained is not None and node._retained() is not None:
        _accumulate(node._retained(), grad, False)  # retain_grad(), after the hooks
    if sink is not None:
        sink.see(node, grad)
    saved = node._saved
    grads = _per_tensor_input(node, node.function.backward(node, grad))
    if _anomaly.enabled:
        check_gradients(node, grads)
    if observers:
        for observer in observers:
            observer(node, grad, grads)
    if not retain_graph:
        node.release()
    return [
        (edge, g, g is not None and _made_by_backward(node, g, grad, saved, grads))
        for edge, g in zip(node.edges, grads)
        if edge is not None
    ]


def _made_by_backward(
    node: Node, g: np.ndarray, grad_y: np.ndarray, saved: tuple, grads: list
) -> bool:
    """Is ``g`` an array the backward just made, held by nobody else?

    glassnet's own ops see only grad_y and their saved arrays (tests/ops/test_saved_arrays.py
    checks no ctx attribute holds one), so an array that is none of those, no view, and
    returned once is safe to store as .grad uncopied: a copy per parameter per step saved.
    A user's Function may keep arrays anywhere, so its gradients are always copied.
    """
    return (
        node.function.__module__.startswith("glassnet.ops.")
        and g.base is None
        and g.flags.writeable
        and g is not grad_y
        and not any(g is s for s in saved)
        and sum(x is g for x in grads) == 1
    )


def _per_tensor_input(node: Node, grads: Any) -> list[np.ndarray | None]:
    """One checked gradient per tensor input, from what backward returned: one per forward
    input, where trailing inputs that need no gradient may be left out."""
    if not isinstance(grads, tuple):
        grads = (grads,)
    n_inputs = len(node.needs_input_grad)
    if len(grads) < n_inputs and not any(node.needs_input_grad[len(grads) :]):
        grads = grads + (None,) * (n_inputs - len(grads))  # plain arguments: None implied
    if len(grads) != n_inputs:
        raise RuntimeError(
            f"{node.function.__name__}.backward returned {len(grads)} gradients, but forward "
            f"had {n_inputs} inputs; return one per input (None for inputs without gradient)"
        )
    result = [
        None if grads[i] is None or edge is None else np.asarray(grads[i])
        for i, edge in zip(node.input_positions, node.edges)
    ]
    for g, edge in zip(result, node.edges):
        shape = edge.output_shape if type(edge) is Node else getattr(edge, "shape", None)
        if g is not None and g.shape != shape:
            raise RuntimeError(
                f"{node.function.__name__}.backward returned a gradient of shape {g.shape} "
                f"for an input of shape {shape}; a gradient must have its input's shape "
                "(sum broadcast dimensions with unbroadcast)"
            )
    return result


def _finish_leaf(leaf: Tensor, grad: np.ndarray, new: bool, sink: _Capture | None) -> None:
    """Every use of ``leaf`` has reported: run its hooks on the total, then add it to .grad
    (or hand it to ``grad()``'s capture)."""
    if grad.dtype != leaf.data.dtype:
        # a gradient has its tensor's dtype, as in PyTorch
        grad, new = grad.astype(leaf.data.dtype), True
    if leaf._hooks:
        grad, new = _run_hooks(leaf._hooks, grad), False  # a hook may keep what it was given
    if sink is not None:
        sink.see(leaf, grad)
    else:
        _accumulate(leaf, grad, new)


def _accumulate(tensor: Tensor, grad: np.ndarray, new: bool) -> None:
    """Add ``grad`` to ``tensor.grad`` (a leaf's, or a retained one's, copied unless new).
    A later sum is a new array: whoever kept the old one (a hook, the user) keeps its values."""
    if tensor.grad is None:
        tensor.grad = Tensor._make(grad if new else grad.copy())
    else:
        with np.errstate(all="ignore"):
            tensor.grad.data = tensor.grad.data + grad
        tensor.grad._bump_version()


class _Capture:
    """For ``grad()``: the gradients that reach chosen tensors; no ``.grad`` is touched."""

    def __init__(self, tensors: Sequence[Tensor]) -> None:
        self.keys = [id(t if t.grad_fn is None else t.grad_fn) for t in tensors]
        self.found: dict[int, np.ndarray | None] = dict.fromkeys(self.keys)

    def see(self, owner: Any, grad: np.ndarray) -> None:
        if id(owner) in self.found:
            self.found[id(owner)] = grad

    def results(self) -> list[np.ndarray | None]:
        return [self.found[k] for k in self.keys]


def _as_gradient(tensor: Tensor, gradient: Any) -> np.ndarray:
    """The starting gradient for one output: 1 for a scalar, else the one the user gave."""
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward() was called on a tensor that does not require grad and has no "
            "grad_fn: no input of the computation has requires_grad=True "
            "(create parameters with requires_grad=True, or check for a gn.no_grad() block)"
        )
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, this output has "
                f"shape {tensor.shape}; reduce it to a scalar (e.g. .sum() or a loss) or pass "
                "gradient= with the same shape"
            )
        return np.ones(tensor.shape, dtype=tensor.dtype)
    g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if g.shape != tensor.shape:
        raise RuntimeError(
            f"backward(gradient=...) needs a gradient of the output's shape {tensor.shape}, "
            f"got {g.shape}"
        )
    return np.array(g, dtype=tensor.dtype)  # a copy: the user keeps their array


def _run_hooks(hooks: list | None, grad: np.ndarray) -> np.ndarray:
    for hook in hooks or ():
        result = hook(Tensor._make(grad))
        if result is not None:
            grad = result.data if isinstance(result, Tensor) else np.asarray(result)
    return grad
