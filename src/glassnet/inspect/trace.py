"""``gn.inspect.trace()``: watch backprop happen, one node at a time."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from glassnet.autograd import engine


@dataclass(frozen=True)
class Step:
    """One node's backward: which op, its shapes, and the size of what flowed through."""

    index: int
    op: str
    output_shape: tuple[int, ...]
    input_shapes: tuple[tuple[int, ...] | None, ...]
    grad_out: np.ndarray
    grad_in: tuple[np.ndarray | None, ...]

    @property
    def grad_out_norm(self) -> float:
        return float(np.linalg.norm(self.grad_out))

    @property
    def grad_in_norms(self) -> tuple[float | None, ...]:
        return tuple(None if g is None else float(np.linalg.norm(g)) for g in self.grad_in)


class trace:
    """Context manager that records every node that backward runs, in order.

    Example::

        with gn.inspect.trace() as t:
            loss.backward()
        print(t.table())

    Each step keeps the gradient that arrived at the node (``grad_out``) and the ones it
    sent to its inputs (``grad_in``), so they can be compared with a hand computation.
    Only backward passes run by the thread that entered the block are recorded.
    """

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._thread: int | None = None

    def _observe(self, node, grad_output, grad_inputs) -> None:
        if threading.get_ident() != self._thread:
            return  # another thread's backward (a training loop beside this one): not ours
        shapes = tuple(
            None if e is None else (e.shape if hasattr(e, "data") else e.output_shape)
            for e in node.edges
        )
        self.steps.append(
            Step(
                len(self.steps) + 1,
                node.name(),
                node.output_shape,
                shapes,
                np.array(grad_output),
                tuple(None if g is None else np.array(g) for g in grad_inputs),
            )
        )

    def __enter__(self) -> trace:
        self._thread = threading.get_ident()
        engine.observers.append(self._observe)
        return self

    def __exit__(self, *exc: object) -> None:
        engine.observers.remove(self._observe)

    def table(self) -> str:
        """The steps as a text table: op, shapes, and gradient norms in and out."""
        rows = [("#", "op", "output shape", "input shapes", "|grad out|", "|grad to inputs|")]
        for s in self.steps:
            shapes = ", ".join("-" if x is None else str(x) for x in s.input_shapes)
            norms = ", ".join("-" if n is None else f"{n:.4g}" for n in s.grad_in_norms)
            rows.append(
                (str(s.index), s.op, str(s.output_shape), shapes, f"{s.grad_out_norm:.4g}", norms)
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)
