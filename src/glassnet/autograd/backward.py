"""``gn.autograd.grad`` and ``Tensor.backward``'s arguments: the entry points users call,
on top of the engine's walk (``engine.run_backward``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.autograd.engine import run_backward
from glassnet.autograd.tensor import Tensor


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    Args:
        outputs: the tensor(s) to differentiate.
        inputs: the tensor(s) to differentiate with respect to (leaves or intermediates).
        grad_outputs: the gradient to start from for each output (needed for non-scalars).
        retain_graph: keep the graph for another backward; default False.
        create_graph: refused: glassnet computes first derivatives only.
        allow_unused: return None for an input the outputs do not depend on, instead of
            raising.

    Returns:
        One gradient Tensor (or None) per input.
    """
    refuse_create_graph(create_graph)
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


def refuse_create_graph(create_graph: bool) -> None:
    if create_graph:
        raise NotImplementedError(
            "create_graph=True: glassnet records no graph of the backward pass, so it has "
            "no higher-order gradients; take a second derivative by finite differences of "
            "the first derivative, or use PyTorch for it"
        )
