"""The loss and its gradient with respect to the model's output, as straight-line code.

Cross-entropy of integer labels is written out (``p - onehot(y)`` in place, the rule
docs/cross_entropy.md derives); any other loss, or cross-entropy with class weights,
label smoothing or probability targets, is called as the user's ``loss_fn`` on a tensor
that wraps the output, and its gradient is taken by the engine: a small eager island
in the compiled step.
"""

from __future__ import annotations

import numpy as np

from glassnet.compile.emit import Emitter, Var
from glassnet.nn import functional as F
from glassnet.nn.loss import CrossEntropyLoss
from glassnet.ops.activation import LogSoftmax


def plain_cross_entropy(loss_fn, output: np.ndarray, target: np.ndarray) -> dict | None:
    """How ``loss_fn`` is written out, if it is cross-entropy of (N, C) logits and (N,)
    integer labels (reduction 'mean' or 'sum', any class weights and label smoothing):
    {'reduction', 'weight', 'smoothing'}; None for any other loss."""
    if isinstance(loss_fn, CrossEntropyLoss):
        reduction, smoothing = loss_fn.reduction, loss_fn.label_smoothing
        weight = loss_fn.weight
        if 0 <= loss_fn.ignore_index < output.shape[-1]:
            return None  # a class that is ignored: the eager loss masks its rows
    elif loss_fn is F.cross_entropy:
        reduction, smoothing, weight = "mean", 0.0, None
    else:
        return None
    plain = output.ndim == 2 and target.shape == output.shape[:1] and target.dtype.kind in "iu"
    if not plain or reduction not in ("mean", "sum"):
        return None
    if weight is not None:
        weight = weight.data if hasattr(weight, "data") else np.asarray(weight)
    return {"reduction": reduction, "weight": weight, "smoothing": float(smoothing)}


def emit_cross_entropy(e: Emitter, z: Var, y: Var, how: dict) -> tuple[str, Var]:
    """The fused log-softmax and negative log-likelihood, forward then backward: returns
    the name of the loss (a 0-d array) and the gradient of the logits."""
    if how["weight"] is not None or how["smoothing"]:
        return _weighted_cross_entropy(e, z, y, how)
    reduction = how["reduction"]
    n, _ = z.shape
    rows = e.bind(np.arange(n), "rows", exact=True)
    log_p, p = _log_softmax(e, z)
    total = f"-{log_p}[{rows}, {y}].sum()"
    if reduction == "mean":
        count = e.bind(np.asarray(n, dtype=z.dtype), "batch_size", exact=True)
        e.line(f"loss = {total} / {count}")
    else:
        e.line(f"loss = {total}")
    e.line("if not np.isfinite(loss):")
    e.line("    return None  # the eager step says what went wrong (a NaN in the logits)")
    e.blank()
    e.comment("---- backward")
    e.comment("cross_entropy: dL/dz = (p - onehot(y)) / N  (docs/cross_entropy.md)")
    e.line(f"np.exp({log_p}, out={p})  # p = softmax(z)")
    e.line(f"{p}[{rows}, {y}] -= 1  # minus 1 at each row's label: p - onehot(y)")
    if reduction == "mean":
        scale = e.bind(
            np.ones((), dtype=z.dtype) / np.asarray(n, dtype=z.dtype), "one_over_n", exact=True
        )
        e.line(f"np.multiply({p}, {scale}, out={p})  # the mean's 1 / N")
    return "loss", Var(p.name, p.shape, p.dtype, owned=True)


def _log_softmax(e: Emitter, z: Var) -> tuple[Var, Var]:
    """log_p = z - logsumexp(z) along the classes, as LogSoftmax's own template writes it
    (the max subtracted first), and an array for p = e^log_p."""
    log_p, _ = LogSoftmax.emit(e, (False,), z, 1)
    return log_p, e.new(z.shape, z.dtype, "p", numbered=False)


def _weighted_cross_entropy(e: Emitter, z: Var, y: Var, how: dict) -> tuple[str, Var]:
    """Cross-entropy with class weights w and label smoothing eps, as F.cross_entropy
    computes it: the target matrix A (1 - eps) w_y at each row's label plus eps w / C
    everywhere, the loss -sum_c A_c log p_c per row, the gradient p sum_c A_c - A."""
    n, classes = z.shape
    eps, dtype = how["smoothing"], z.dtype
    w = how["weight"]
    w = np.ones(classes, dtype=dtype) if w is None else np.asarray(w).astype(dtype)
    rows = e.bind(np.arange(n), "rows", exact=True)
    weights = e.bind(w, "class_weight", exact=True)
    a = e.new(z.shape, dtype, "target", numbered=False)
    e.comment(f"the target matrix A: (1 - {eps}) w at the label, {eps} w / {classes} everywhere")
    e.line(f"{a}.fill(0)")
    e.line(f"{a}[{rows}, {y}] = (1 - {eps!r}) * {weights}[{y}]")
    if eps:
        smooth = e.bind((eps / classes) * w, "smoothing", exact=True)
        e.line(f"np.add({a}, {smooth}, out={a})")
    log_p, p = _log_softmax(e, z)
    e.line(f"total = -({a} * np.where({a} == 0, 0, {log_p})).sum(axis=1).sum()")
    if how["reduction"] == "mean":
        e.line(f"denominator = np.asarray(float({weights}[{y}].sum()), dtype=np.{dtype})")
        e.line("loss = total / denominator")
    else:
        e.line("loss = total")
    e.line("if not np.isfinite(loss):")
    e.line("    return None  # the eager step says what went wrong (a NaN in the logits)")
    e.blank()
    e.comment("---- backward")
    e.comment("cross_entropy: dL/dz = p sum(A) - A, over the mean's denominator")
    e.comment("(docs/cross_entropy.md: p - onehot(y) when A is one-hot)")
    e.line(f"np.exp({log_p}, out={p})  # p = softmax(z)")
    e.line(f"np.multiply({p}, {a}.sum(axis=1, keepdims=True), out={p})")
    e.line(f"np.subtract({p}, {a}, out={p})")
    if how["reduction"] == "mean":
        e.line(f"np.multiply({p}, np.ones((), dtype=np.{dtype}) / denominator, out={p})")
    return "loss", Var(p.name, p.shape, p.dtype, owned=True)


def emit_eager_loss(e: Emitter, loss_fn, z: Var, y: Var) -> tuple[str, Var]:
    """Any other loss: called on a tensor wrapping the output, differentiated by the engine."""
    from glassnet.autograd.backward import grad
    from glassnet.autograd.tensor import Tensor

    fn = e.bind(loss_fn, "loss_fn", exact=True)
    tensor, gradient = e.bind(Tensor, "Tensor", exact=True), e.bind(grad, "grad", exact=True)
    e.line(f"output = {tensor}._make({z}, requires_grad=True)")
    e.line(f"loss_tensor = {fn}(output, {tensor}._make({y}))")
    e.line("loss = loss_tensor.data")
    e.blank()
    e.comment("---- backward")
    e.comment(f"{type(loss_fn).__name__}: its gradient from the engine (an eager island)")
    g = e.assign(f"{gradient}(loss_tensor, output)[0].data", z.shape, z.dtype, f"grad_{z.name}")
    return "loss", g
