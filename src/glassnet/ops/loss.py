"""Losses. Cross-entropy and NLL are fused ops with their own backward; the others are
written with the elementwise ops, so their formula is their code.

Every loss checks its inputs first: a wrong target is an error naming what was given,
never a silently wrong number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops import activation, elementwise, reduce

REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str, name: str, allowed: tuple[str, ...] = REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(
            f"{name}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}"
        )


def _check_finite_input(x: Tensor, name: str) -> None:
    if x.dtype.kind == "f" and np.isnan(x.data).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(x.data))[0])
        raise ValueError(
            f"{name}: the input contains NaN (first at index {where}); the model's output "
            "is already broken before the loss: lower the learning rate, or find the op with "
            "gn.autograd.detect_anomaly()"
        )


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return reduce.mean(loss)
    if reduction == "sum":
        return reduce.sum(loss)
    return loss


def _classes_last(x: np.ndarray) -> np.ndarray:
    """(N, C, d1, ...) -> (N * d1 * ..., C): one row per prediction."""
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _classes_back(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``_classes_last``."""
    if len(shape) == 2:
        return rows
    moved = rows.reshape((shape[0], *shape[2:], shape[1]))
    return np.moveaxis(moved, -1, 1)


def _check_class_targets(
    name: str, logits: Tensor, target: np.ndarray, ignore_index: int | None
) -> None:
    """Class-index targets: integer dtype, shape (N, d1, ...), values in [0, C)."""
    n_classes = logits.shape[1]
    expected = (logits.shape[0], *logits.shape[2:])
    if target.shape != expected:
        if target.shape[:1] != logits.shape[:1]:
            raise ValueError(
                f"{name}: input has batch size {logits.shape[0]} but target has "
                f"{target.shape[0] if target.ndim else 'no batch dimension'} (input shape "
                f"{logits.shape}, target shape {target.shape}); they must match"
            )
        raise ValueError(
            f"{name}: class-index target must have shape {expected} for input of shape "
            f"{logits.shape}, got {target.shape}"
        )
    valid = target if ignore_index is None else target[target != ignore_index]
    bad = (valid < 0) | (valid >= n_classes)
    if bad.any():
        position = np.argwhere(
            ((target < 0) | (target >= n_classes))
            & (True if ignore_index is None else target != ignore_index)
        )[0]
        value = target[tuple(position)]
        raise ValueError(
            f"{name}: target {int(value)} at position {tuple(int(i) for i in position)} is "
            f"not a class index in [0, {n_classes}) (the input has C = {n_classes} classes); "
            "labels must run from 0 to C-1"
        )


def _split_target(name: str, logits: Tensor, target: Any) -> tuple[np.ndarray, bool]:
    """Return the target array and whether it holds probabilities (else class indices)."""
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if logits.ndim < 1 or logits.dtype.kind != "f":
        raise TypeError(
            f"{name}: input must be floating-point logits of shape (N, C), got "
            f"dtype {logits.dtype} and shape {logits.shape}"
        )
    if t.dtype.kind in "iu":
        return t, False
    if t.dtype.kind == "f":
        if t.shape != logits.shape:
            raise TypeError(
                f"{name}: got a float target of shape {t.shape}; class-index targets must be "
                f"integers (convert with .long()), and class-probability targets must have "
                f"the input's shape {logits.shape}"
            )
        return t, True
    raise TypeError(f"{name}: target must be integer class indices or float probabilities")


class CrossEntropy(Function):
    """Cross-entropy of logits z against targets, fused: log-softmax and the loss in one op.

    Write p = softmax(z) over the classes and let A_c >= 0 be the weight the target puts on
    class c (one-hot for a class index; the probabilities for soft targets; label
    smoothing eps mixes in eps/C per class; class weights w_c multiply in). The loss of one
    row is

        L = -sum_c A_c log p_c = -sum_c A_c (z_c - logsumexp(z))

    and since d logsumexp(z) / dz_k = p_k,

        dL/dz_k = -A_k + p_k sum_c A_c

    For a plain label y, A is one-hot, sum_c A_c = 1, and the gradient is p - onehot(y):
    the label appears because only the true class has the -A_k term, and "softmax minus 1
    at the true class" is exactly that. ``mean`` divides by the number of rows (or, with
    class weights, by the summed weight of the rows' labels, as PyTorch does).

    Fused because log(softmax(z)) underflows: a probability of 1e-50 is 0 in float32 and
    its log is -inf; z - logsumexp(z) is finite for any finite z. It is also one op instead
    of four, and backward needs only p.
    """

    @staticmethod
    def forward(ctx, logits, coefficients, denominator, reduction):
        shape = logits.shape
        z = _classes_last(logits)
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        row_loss = -(coefficients * log_p).sum(axis=1)
        ctx.save_for_backward(np.exp(log_p), coefficients)
        ctx.shape, ctx.reduction, ctx.denominator = shape, reduction, denominator
        if reduction == "none":
            return row_loss.reshape((shape[0], *shape[2:]))
        total = row_loss.sum()
        return total / np.asarray(denominator, dtype=total.dtype) if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad_y):
        p, a = ctx.saved_tensors
        grad_z = p * a.sum(axis=1, keepdims=True) - a
        if ctx.reduction == "none":
            grad_z *= grad_y.reshape(-1, 1)
        elif ctx.reduction == "mean":
            grad_z *= grad_y / np.asarray(ctx.denominator, dtype=grad_y.dtype)
        else:
            grad_z *= grad_y
        return _classes_back(grad_z, ctx.shape), None, None, None


def _target_coefficients(
    logits: Tensor,
    target: np.ndarray,
    probabilities: bool,
    weight: np.ndarray | None,
    ignore_index: int,
    label_smoothing: float,
) -> tuple[np.ndarray, float]:
    """The matrix A (rows x classes) of ``CrossEntropy`` and the divisor for ``mean``."""
    n_classes = logits.shape[1]
    dtype = logits.dtype
    w = np.ones(n_classes, dtype=dtype) if weight is None else weight.astype(dtype)
    eps = label_smoothing
    if probabilities:
        q = _classes_last(target).astype(dtype)
        if eps:
            q = q * (1 - eps) + eps / n_classes
        return q * w, _classes_last(target).shape[0]
    labels = target.reshape(-1)
    kept = labels != ignore_index
    safe = np.where(kept, labels, 0)
    rows = np.arange(labels.size)
    a = np.zeros((labels.size, n_classes), dtype=dtype)
    a[rows, safe] = (1 - eps) * w[safe]
    if eps:
        a += (eps / n_classes) * w  # the smoothing part, PyTorch's weighting
    a[~kept] = 0
    return a, float(w[safe][kept].sum())


def cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Any,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits ``input`` (N, C) or (N, C, d...) and ``target``.

    Args:
        input: unnormalised scores (logits); never pass softmax outputs.
        target: class indices (N,) / (N, d...) as integers, or class probabilities of the
            input's shape as floats.
        weight: optional per-class weights of shape (C,).
        ignore_index: class-index targets equal to it contribute nothing.
        reduction: 'mean' (default), 'sum' or 'none'.
        label_smoothing: eps in [0, 1]: the target becomes (1 - eps) y + eps / C.

    Returns:
        The loss (a scalar unless reduction='none').

    Raises:
        ValueError, TypeError: for a bad target, shape, reduction or a NaN input.
    """
    name = "cross_entropy"
    _check_reduction(reduction, name)
    t, probabilities = _split_target(name, input, target)
    if input.ndim == 1:
        raise ValueError(
            f"{name}: input must have shape (N, C) with a batch dimension, got {input.shape}; "
            "for one sample use input.unsqueeze(0) and a target of shape (1,)"
        )
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    w = None
    if weight is not None:
        w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
        if w.shape != (input.shape[1],):
            raise ValueError(
                f"{name}: weight must have shape ({input.shape[1]},), one per class, got {w.shape}"
            )
    if not probabilities:
        _check_class_targets(name, input, t, ignore_index)
    _check_finite_input(input, name)
    a, denominator = _target_coefficients(input, t, probabilities, w, ignore_index, label_smoothing)
    return CrossEntropy.apply(input, a, denominator, reduction)


class NLLLoss(Function):
    """Negative log-likelihood of log-probabilities x: L_n = -w_{y_n} x_{n, y_n}.

    dL/dx_{n,c} = -w_{y_n} where c = y_n and 0 elsewhere (divided by sum_n w_{y_n} for
    'mean'). Pair it with log_softmax; cross_entropy does both in one op.
    """

    @staticmethod
    def forward(ctx, x, labels, row_weight, reduction):
        rows_x = _classes_last(x)
        rows = np.arange(labels.size)
        picked = -rows_x[rows, labels] * row_weight
        ctx.shape, ctx.labels, ctx.row_weight, ctx.reduction = (
            x.shape,
            labels,
            row_weight,
            reduction,
        )
        ctx.denominator = row_weight.sum()
        if reduction == "none":
            return picked.reshape((x.shape[0], *x.shape[2:]))
        total = picked.sum()
        return total / ctx.denominator if reduction == "mean" else total

    @staticmethod
    def backward(ctx, grad_y):
        n_rows = ctx.labels.size
        grad_rows = np.zeros((n_rows, ctx.shape[1]), dtype=grad_y.dtype)
        scale = -ctx.row_weight.astype(grad_y.dtype)
        if ctx.reduction == "none":
            scale = scale * grad_y.reshape(-1)
        elif ctx.reduction == "mean":
            scale = scale * grad_y / ctx.denominator
        else:
            scale = scale * grad_y
        grad_rows[np.arange(n_rows), ctx.labels] = scale
        return _classes_back(grad_rows, ctx.shape), None, None, None


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C) for class indices."""
    name = "nll_loss"
    _check_reduction(reduction, name)
    t, probabilities = _split_target(name, input, target)
    if probabilities:
        raise TypeError(
            f"{name}: target must be integer class indices, got dtype {t.dtype}; "
            "convert with .long()"
        )
    if input.ndim == 1:
        raise ValueError(f"{name}: input must have shape (N, C), got {input.shape}")
    _check_class_targets(name, input, t, ignore_index)
    _check_finite_input(input, name)
    labels = t.reshape(-1)
    kept = labels != ignore_index
    safe = np.where(kept, labels, 0)
    w = np.ones(input.shape[1], dtype=input.dtype)
    if weight is not None:
        w = (weight.data if isinstance(weight, Tensor) else np.asarray(weight)).astype(input.dtype)
    row_weight = np.where(kept, w[safe], 0).astype(input.dtype)
    return NLLLoss.apply(input, safe, row_weight, reduction)


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: input shape {input.shape} and target shape {target.shape} differ; "
            "broadcasting them would compare every prediction with every target. "
            "Reshape one to match (e.g. target.reshape(input.shape) or input.squeeze(-1))"
        )


def _regression_args(name: str, input: Tensor, target: Any, reduction: str) -> Tensor:  # noqa: A002
    _check_reduction(reduction, name)
    target = target if isinstance(target, Tensor) else Tensor(target, dtype=input.dtype)
    _check_same_shape(name, input, target)
    _check_finite_input(input, name)
    return target


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """(input - target)^2, averaged (or summed).   d/dinput = 2 (input - target)."""
    target = _regression_args("mse_loss", input, target, reduction)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """|input - target|.   d/dinput = sign(input - target), 0 where they are equal."""
    target = _regression_args("l1_loss", input, target, reduction)
    return _reduce(elementwise.abs(input - target), reduction)


def huber_loss(
    input: Tensor,  # noqa: A002
    target: Any,
    reduction: str = "mean",
    delta: float = 1.0,
) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target.

    Quadratic near zero (smooth), linear far out (an outlier pulls with force delta, not d).
    """
    target = _regression_args("huber_loss", input, target, reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = input - target
    size = elementwise.abs(d)
    quadratic = 0.5 * d * d
    linear = delta * (size - 0.5 * delta)
    return _reduce(elementwise.where(size.data < delta, quadratic, linear), reduction)


def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Any,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (Huber divided by beta)."""
    target = _regression_args("smooth_l1_loss", input, target, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = input - target
    size = elementwise.abs(d)
    if beta == 0:
        return _reduce(size, reduction)
    quadratic = 0.5 * d * d / beta
    linear = size - 0.5 * beta
    return _reduce(elementwise.where(size.data < beta, quadratic, linear), reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of logits x against targets y in [0, 1], stable for any x.

    -[pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] with log sigmoid(x) = -softplus(-x)
    and log(1 - sigmoid(x)) = -softplus(x) = -x - softplus(-x) becomes

        (1 - y) x + (1 + (pw - 1) y) softplus(-x)

    which never forms sigmoid(x) and so never takes log(0). The gradient is
    sigmoid(x) - y when pw = 1.
    """
    name = "binary_cross_entropy_with_logits"
    target = _regression_args(name, input, target, reduction)
    if target.dtype.kind != "f":
        raise TypeError(
            f"{name}: target must be float (0./1. or probabilities), got dtype {target.dtype}; "
            "convert with .float()"
        )
    log_weight = 1.0
    if pos_weight is not None:
        log_weight = 1 + (pos_weight - 1) * target
    loss = (1 - target) * input + log_weight * activation.softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] for probabilities p; each log is clamped at -100 as
    in PyTorch, so p = 0 or 1 gives a large finite loss instead of inf. Prefer
    ``binary_cross_entropy_with_logits``, which is stable without clamping."""
    name = "binary_cross_entropy"
    target = _regression_args(name, input, target, reduction)
    p = input.data
    if ((p < 0) | (p > 1)).any():
        raise ValueError(
            f"{name}: input must be probabilities in [0, 1], got values from {p.min():.4g} "
            f"to {p.max():.4g}; for logits use binary_cross_entropy_with_logits"
        )
    with np.errstate(divide="ignore"):
        log_p = elementwise.clamp(elementwise.log(input), min=-100.0)
        log_q = elementwise.clamp(elementwise.log(1 - input), min=-100.0)
    loss = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(
    input: Tensor,  # noqa: A002
    target: Any,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """KL(target || prediction) with ``input`` the log-probabilities of the prediction.

    Pointwise: y (log y - x), taken as 0 where y = 0 (the limit of y log y). With
    ``log_target`` the target is given as log-probabilities too. Use reduction='batchmean'
    for the true KL divergence per sample; 'mean' divides by every element, as in PyTorch.
    """
    name = "kl_div"
    _check_reduction(reduction, name, (*REDUCTIONS, "batchmean"))
    target = _regression_args(name, input, target, "none")
    if log_target:
        pointwise = elementwise.exp(target) * (target - input)
    else:
        positive = target.data > 0
        safe_log = elementwise.log(elementwise.where(positive, target, 1.0))
        pointwise = elementwise.where(positive, target * (safe_log - input), 0.0)
    if reduction == "batchmean":
        return reduce.sum(pointwise) / input.shape[0]
    return _reduce(pointwise, reduction)
