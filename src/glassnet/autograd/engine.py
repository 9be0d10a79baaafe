"""The backward pass: walk the graph from the outputs to the leaves, in dependency order.

This is the only place where gradients are added together. Two steps:

1. Count, for every node reachable from the outputs, how many of its consumers are in the
   graph (an explicit stack, not recursion, so a chain of 100,000 ops is fine).
2. Start from the outputs. A node runs its backward only after all of its consumers have
   sent it their gradient (its count reaches zero), so a value used twice, as in ``x * x``,
   a diamond, or a residual, receives the *sum* of the gradients from every use: the
   multivariate chain rule, d L/d x = sum over uses u of (d L/d u)(d u/d x).

A leaf tensor (created by the user, a parameter) gets the gradient added into ``.grad``,
which is why gradients accumulate across backward calls until zeroed.
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
    # The user keeps their array; copying it means no leaf .grad can alias it.
    return np.array(g, dtype=tensor.dtype)


def _run_hooks(hooks: list | None, grad: np.ndarray) -> np.ndarray:
    for hook in hooks or ():
        result = hook(Tensor._make(grad))
        if result is not None:
            grad = result.data if isinstance(result, Tensor) else np.asarray(result)
    return grad


def _check_grad(node: Node, grads: Any) -> tuple:
    """Turn what a backward returned into one gradient per input, or say what is wrong."""
    if not isinstance(grads, tuple):
        grads = (grads,)
    n_inputs = len(node.edges)
    if len(grads) < n_inputs and all(e is None for e in node.edges[len(grads) :]):
        # Inputs past the end are plain parameters (dim, eps, ...): None is implied.
        grads = grads + (None,) * (n_inputs - len(grads))
    if len(grads) != n_inputs:
        raise RuntimeError(
            f"{node.function.__name__}.backward returned {len(grads)} gradients, but forward "
            f"had {n_inputs} inputs; return one per input (None for inputs without gradient)"
        )
    return grads


def _input_shape(edge: Any) -> tuple[int, ...]:
    return edge.shape if isinstance(edge, Tensor) else edge.output_shape


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
    captured: dict[int, np.ndarray | None] = {}
    if capture is not None:
        for t in capture:
            captured[id(t if t.grad_fn is None else t.grad_fn)] = None

    pending: dict[int, np.ndarray] = {}  # node id -> gradient summed so far
    roots: list[Node] = []
    for out, gradient in zip(outputs, gradients):
        g = _as_gradient(out, gradient)
        if out.grad_fn is None:
            _deliver_to_leaf(out, g, captured, handed_out=set())
            continue
        key = id(out.grad_fn)
        pending[key] = pending[key] + g if key in pending else g
        roots.append(out.grad_fn)

    # Step 1: how many consumers each node has inside this graph.
    consumers: dict[int, int] = {}
    seen = {id(n) for n in roots}
    stack = list({id(n): n for n in roots}.values())
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if type(edge) is Node:
                consumers[id(edge)] = consumers.get(id(edge), 0) + 1
                if id(edge) not in seen:
                    seen.add(id(edge))
                    stack.append(edge)

    # Step 2: run each node once all its consumers have reported.
    handed_out: set[int] = set()  # arrays already stored somewhere: never store one twice
    ready = [n for n in {id(n): n for n in roots}.values() if consumers.get(id(n), 0) == 0]
    while ready:
        node = ready.pop()
        grad = pending.pop(id(node), None)
        if grad is not None:
            grad = _run_hooks(node._hooks, grad)
            if id(node) in captured:
                captured[id(node)] = grad
            input_grads = _check_grad(node, node.function.backward(node, grad))
            if _anomaly.enabled:
                check_gradients(node, input_grads)
            for observer in observers:
                observer(node, grad, input_grads)
            if not retain_graph:
                node.release()
        else:  # nothing reached this node (a backward returned None for it)
            input_grads = (None,) * len(node.edges)
        for edge, g in zip(node.edges, input_grads):
            if edge is None:
                continue
            if g is not None:
                g = np.asarray(g)
                if g.shape != _input_shape(edge):
                    raise RuntimeError(
                        f"{node.function.__name__}.backward returned a gradient of shape "
                        f"{g.shape} for an input of shape {_input_shape(edge)}; a gradient "
                        "must have its input's shape (sum broadcast dimensions with unbroadcast)"
                    )
            if type(edge) is Node:
                if g is not None:
                    key = id(edge)
                    pending[key] = pending[key] + g if key in pending else g
                consumers[id(edge)] -= 1
                if consumers[id(edge)] == 0:
                    ready.append(edge)
            elif g is not None:
                _deliver_to_leaf(edge, g, captured, handed_out)

    if capture is None:
        return None
    return [captured[id(t if t.grad_fn is None else t.grad_fn)] for t in capture]


def _deliver_to_leaf(
    leaf: Tensor, grad: np.ndarray, captured: dict[int, Any], handed_out: set[int]
) -> None:
    """Add ``grad`` into ``leaf.grad`` (or hand it to ``grad()``'s capture)."""
    if grad.dtype != leaf.data.dtype:
        grad = grad.astype(leaf.data.dtype)  # a gradient has its tensor's dtype, as in PyTorch
    grad = _run_hooks(leaf._hooks, grad)
    if captured:
        if id(leaf) in captured:
            previous = captured[id(leaf)]
            captured[id(leaf)] = grad if previous is None else previous + grad
        return
    if leaf.grad is None:
        # Store the array itself when nothing else can hold it (saves a copy per parameter
        # per step); copy a view, or an array already given to another leaf, because an
        # in-place update of one .grad (clipping, say) must never change another.
        if grad.base is not None or id(grad) in handed_out or not grad.flags.writeable:
            grad = grad.copy()
        handed_out.add(id(grad))
        leaf.grad = Tensor._make(grad)
    else:
        np.add(leaf.grad.data, grad, out=leaf.grad.data)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    Args:
        outputs: the tensor(s) to differentiate.
        inputs: the tensor(s) to differentiate with respect to (leaves or intermediates).
        grad_outputs: the gradient to start from for each output (needed for non-scalars).
        retain_graph: keep the graph for another backward; default False.
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising.

    Returns:
        One gradient Tensor (or None) per input.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(
                f"grad(): input {i} does not require grad, so it has no gradient; "
                "create it with requires_grad=True"
            )
    results = run_backward(outputs, grad_outputs, bool(retain_graph), capture=inputs)
    out: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(inputs, results)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad(): input {i} was not used to compute the outputs, so it has no "
                    "gradient; pass allow_unused=True to get None for it"
                )
            out.append(None)
        else:
            out.append(Tensor._make(np.array(g, dtype=t.dtype)))
    return tuple(out)
