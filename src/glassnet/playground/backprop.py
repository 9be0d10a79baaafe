"""The page's "see backprop" panel: one training step's backward pass node by node, and
a finite-difference check of any parameter's gradient.

``backward_pass`` runs a real training step with an observer on the engine (the hook
``gn.inspect.trace`` uses), so every gradient shown is the one the step applied.
"""

from __future__ import annotations

import inspect
import math
import threading
from typing import Any

import numpy as np

import glassnet as gn
from glassnet.autograd import engine
from glassnet.autograd.function import Node
from glassnet.ops.registry import docs_page
from glassnet.playground.session import Session, build_model

PREVIEW_ROWS, PREVIEW_COLS = 6, 8  # how much of each gradient array the page shows
# gradcheck's work is two forward passes per element checked: at most GRADCHECK_MOST
# elements (a sample, when a weight is larger) on at most GRADCHECK_BATCH samples, so the
# widest network the page builds is checked in about a second, not minutes
GRADCHECK_MOST, GRADCHECK_BATCH = 512, 32
# central differences carry an error of about (1e-16 |L|) / eps = 1e-10 for a loss near 1:
# gradients all below this are a vanishing gradient, which they cannot tell from 0
RESOLVABLE = 1e-8


def preview(array: np.ndarray | None, rows: int = PREVIEW_ROWS) -> dict[str, Any] | None:
    """The top-left corner of an array (as 2-D rows), its shape and norm, for the page."""
    if array is None:
        return None
    a = np.asarray(array, dtype=np.float64)
    flat = a.reshape(1, -1) if a.ndim < 2 else a.reshape(a.shape[0], -1)
    corner = flat[:rows, :PREVIEW_COLS]
    return {
        "shape": list(a.shape),
        "values": [[_number(v) for v in row] for row in corner],
        "norm": _number(np.linalg.norm(a)),
    }


def _number(v: float) -> float | None:
    """Four significant digits, and None for what JSON cannot carry (nan, inf)."""
    v = float(v)
    return float(f"{v:.4g}") if math.isfinite(v) else None


def _rule(function: type) -> dict[str, str]:
    return {
        "op": function.__name__,
        "rule": inspect.getdoc(function) or "",
        "docs": docs_page(function),
    }


def backward_pass(session: Session) -> dict[str, Any]:
    """Run one training step and return its backward pass: per node, in the order the
    engine ran them, the op, its rule, the gradient that arrived and the ones it sent to
    each input (with where each input came from: another node or a parameter)."""
    with session.lock:
        if session.stopped:
            raise RuntimeError(session.stopped)
        x, y = session.next_batch()
        seen: list[tuple[Node, np.ndarray, list, tuple]] = []

        thread = threading.get_ident()

        def observe(node: Node, grad: np.ndarray, grads: list) -> None:
            if threading.get_ident() != thread:
                return  # another page's training thread: not this step
            seen.append((node, np.array(grad), [None if g is None else np.array(g) for g in grads],
                         tuple(node._saved)))  # fmt: skip

        engine.observers.append(observe)
        try:
            output = session.train_step(x, y)
        finally:
            engine.observers.remove(observe)
        if output is None:
            raise RuntimeError(session.stopped)
        names = {id(p): name for name, p in session.model.named_parameters()}
        index = {id(node): i for i, (node, *_rest) in enumerate(seen)}
        nodes = []
        for i, (node, grad, grads, saved) in enumerate(seen):
            inputs = []
            for edge, g in zip(node.edges, grads):
                if edge is None:
                    continue
                source = (
                    {"node": index.get(id(edge))}
                    if isinstance(edge, Node)
                    else {"parameter": names.get(id(edge), "a leaf tensor")}
                )
                inputs.append(source | {"grad": preview(g)})
            entry = _rule(node.function) | {
                "index": i,
                "output_shape": list(node.output_shape),
                "grad_out": preview(grad),
                "inputs": inputs,
            }
            if node.function.__name__ in ("CrossEntropy", "LabelCrossEntropy"):
                entry["cross_entropy"] = _p_minus_y(output.data, y, grads[0])
            elif node.function.__name__ == "Softmax" and saved:
                entry["softmax"] = _jacobian_product(saved[0], grad, grads[0])
            nodes.append(entry)
        return {"step": session.step_count, "batch": len(y), "nodes": nodes}


def _p_minus_y(logits: np.ndarray, labels: np.ndarray, grad: np.ndarray) -> dict[str, Any]:
    """For the output layer: p = softmax(z) per row, the label of each row, and the
    gradient the loss sent back, (p - onehot(y)) / N: the label's entry is p - 1."""
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return {
        "formula": "dL/dz = (p - y) / N, y the one-hot label: p everywhere, p - 1 at the label",
        "p": preview(p),
        "labels": labels[:PREVIEW_ROWS].tolist(),
        "grad": preview(grad),
    }


def _jacobian_product(s: np.ndarray, g: np.ndarray, grad_x: np.ndarray) -> dict[str, Any]:
    """For a hidden softmax, its first row written out in full: J = diag(s) - s s^T,
    the incoming g, and J^T g, which equals s * (g - g . s), what backward returned."""
    s0, g0 = s[0].astype(np.float64), g[0].astype(np.float64)
    jacobian = np.diag(s0) - np.outer(s0, s0)
    return {
        "formula": "J = diag(s) - s s^T;  J^T g = s * (g - g . s)",
        "s": preview(s0),
        "g": preview(g0),
        "jacobian": preview(jacobian, rows=PREVIEW_COLS),  # square: all of it up to 8 x 8
        "product": preview(jacobian.T @ g0),
        "backward": preview(grad_x[0]),
    }


def gradcheck(session: Session, name: str, eps: float = 1e-6) -> dict[str, Any]:
    """Compare backprop's gradient of the loss with respect to parameter ``name`` with
    central differences, (L(w + eps) - L(w - eps)) / 2 eps per element, in float64 on
    the first (up to 32) samples of the training set, for every element or a sample of
    512. The error is ||a - n|| / (||a|| + ||n||).

    ``verdict`` says "agree" (error below 1e-6), "disagree", or "too small to check":
    every gradient below 1e-8, where finite differences only see their own rounding (the
    gradient has vanished; that is what the check found, not a wrong rule).

    Raises:
        KeyError: no parameter has that name (the message lists them).
        ValueError: the weights are not finite (a diverged run).
    """
    with session.lock:
        params = dict(session.model.named_parameters())
        if name not in params:
            raise KeyError(f"no parameter {name!r}; the parameters are {', '.join(params)}")
        model = build_model(session.settings, session.splits.num_features,
                            session.splits.num_classes)  # fmt: skip
        if not all(np.isfinite(p.data).all() for p in params.values()):
            raise ValueError(
                "the network's weights are no longer finite numbers (the run diverged), so "
                "there is no gradient to check; press Reset or Build"
            )
        model.load_state_dict(session.model.state_dict())
        loss_fn = session.loss_fn
        size = min(session.settings.batch_size, GRADCHECK_BATCH, len(session.x_train))
        x = gn.tensor(session.x_train[:size].astype(np.float64))
        y = gn.tensor(session.splits.y_train[:size])
    model.double()
    p = dict(model.named_parameters())[name]
    loss_fn(model(x), y).backward()
    analytic = p.grad.data.reshape(-1).copy()
    flat = p.data.reshape(-1)  # a view: writing it moves the weight
    count = flat.size
    checked = (
        np.arange(count)
        if count <= GRADCHECK_MOST
        else np.sort(np.random.default_rng(0).choice(count, GRADCHECK_MOST, replace=False))
    )
    numeric = np.empty(len(checked))
    with gn.no_grad():
        for k, j in enumerate(checked):
            kept = flat[j]
            flat[j] = kept + eps
            plus = float(loss_fn(model(x), y).item())
            flat[j] = kept - eps
            minus = float(loss_fn(model(x), y).item())
            flat[j] = kept
            numeric[k] = (plus - minus) / (2 * eps)
    a = analytic[checked]
    scale = float(np.linalg.norm(a) + np.linalg.norm(numeric))
    error = float(np.linalg.norm(a - numeric)) / scale if scale > 0 else 0.0
    largest = float(max(np.abs(a).max(), np.abs(numeric).max())) if len(a) else 0.0
    if error < 1e-6:
        verdict = "agree"
    elif largest < RESOLVABLE:
        verdict = "too small to check"
    else:
        verdict = "disagree"
    return {
        "verdict": verdict,
        "largest_gradient": largest,
        "parameter": name,
        "checked": len(checked),
        "elements": int(count),
        "relative_error": error,
        "largest_difference": float(np.max(np.abs(a - numeric))) if len(a) else 0.0,
        "analytic": preview(a),
        "numeric": preview(numeric),
        "formula": "||analytic - numeric|| / (||analytic|| + ||numeric||), float64, eps 1e-6",
    }
