"""``gn.compile``: a training step (or a forward pass) turned into straight-line NumPy you
can read, one line per op, every array made once. See ``glassnet.compile.step``."""

from __future__ import annotations

from typing import Any

from glassnet.compile.forward import CompiledForward, ExportError, export_numpy
from glassnet.compile.step import CompiledStep

__all__ = ["CompiledForward", "CompiledStep", "ExportError", "compile", "export_numpy"]


def compile(  # noqa: A001 - PyTorch's name
    model: Any,
    loss_fn: Any = None,
    optimizer: Any = None,
    *,
    keep_grads: bool = False,
    max_grad_norm: float | None = None,
) -> CompiledStep | CompiledForward:
    """Compile a training step: ``step = gn.compile(model, loss_fn, optimizer)``, then
    ``loss = step(x, y)`` does what the eager loop does (zero_grad, forward, loss,
    backward, optimizer.step()), as straight-line NumPy. ``predict = gn.compile(model)``
    compiles the forward pass alone: ``predict(x)`` is ``model(x)`` under ``no_grad``.

    The first call with a new input shape runs the eager step and traces it; later calls
    with that shape run the generated code, whose text is ``step.source``. A model the
    compiled code cannot replay exactly (hooks, anomaly mode, state changed outside
    glassnet's ops) keeps running eagerly, with a warning that says why.

    Args:
        model: the Module to train.
        loss_fn: the loss, called as ``loss_fn(model(x), y)`` (a loss module or function).
        optimizer: the optimizer over the model's parameters.
        keep_grads: store every gradient and leave it in ``.grad`` as the eager step does
            (one array per parameter, rewritten by each step: copy it to keep it).
            By default SGD adds a weight's gradient product straight into its momentum
            buffer (one BLAS call; the gradient is never stored, and that weight's
            ``.grad`` is None after the step), which is faster.
        max_grad_norm: clip the gradients' joint norm to this before the updates, as
            ``clip_grad_norm_(model.parameters(), max_grad_norm)`` in the eager loop (the
            updates then wait for every gradient).

    Returns:
        The compiled step.
    """
    if loss_fn is None and optimizer is None:
        return CompiledForward(model)
    if loss_fn is None or optimizer is None:
        raise TypeError(
            "gn.compile(model, loss_fn, optimizer) compiles a training step and "
            "gn.compile(model) a forward pass; pass both the loss and the optimizer, or neither"
        )
    return CompiledStep(model, loss_fn, optimizer, keep_grads, max_grad_norm)


# gn.compile is this function (the package is glassnet.compile): its helpers are reachable
# from it too, as gn.compile.export_numpy
compile.export_numpy = export_numpy  # type: ignore[attr-defined]
