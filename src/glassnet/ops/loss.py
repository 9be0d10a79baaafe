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
from glassnet.ops.elementwise import unbroadcast

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

    Edges, as in PyTorch: a -inf logit (a masked class) with A_c = 0 adds nothing (not
    0 * -inf = NaN), while a -inf at the target gives an infinite loss; ``mean`` over rows
    that are all ignored is 0/0 = NaN, and their gradient is 0.
    """

    @staticmethod
    def forward(ctx, logits, coefficients, denominator, reduction):
        shape = logits.shape
        log_p = activation.stable_log_softmax(_classes_last(logits), 1)
        row_loss = -(coefficients * np.where(coefficients == 0, 0, log_p)).sum(axis=1)
        ctx.save_for_backward(np.exp(log_p), coefficients)
        ctx.shape, ctx.reduction, ctx.denominator = shape, reduction, denominator
        if reduction == "none":
            return row_loss.reshape((shape[0], *shape[2:]))
        total = row_loss.sum()
        return _mean_or_sum(total, denominator, reduction)

    @staticmethod
    def backward(ctx, grad_y):
        p, a = ctx.saved_tensors
        grad_z = p * a.sum(axis=1, keepdims=True) - a
        if ctx.reduction == "none":
            grad_z *= grad_y.reshape(-1, 1)
        else:
            grad_z *= _mean_or_sum_scale(grad_y, ctx.denominator, ctx.reduction)
        return _classes_back(grad_z, ctx.shape), None, None, None


class LabelCrossEntropy(Function):
    """``CrossEntropy`` for the case almost every classifier has: (N, C) logits, one
    integer label per row, no class weights, no label smoothing, no ignored rows. A is
    one-hot, so the loss of a row is -log p at its label and, as derived above,

        dL/dz = p - onehot(y)      (over N for 'mean')

    written directly: the label's log-probability picked by index and 1 taken off p at the
    label, with no (N, C) target matrix. Same numbers as ``CrossEntropy`` (a test checks).
    """

    @staticmethod
    def forward(ctx, logits, labels, reduction):
        n = len(labels)
        log_p = activation.stable_log_softmax(logits, 1)
        total = -log_p[np.arange(n), labels].sum()
        ctx.save_for_backward(log_p, labels)
        ctx.reduction = reduction
        return _mean_or_sum(np.asarray(total), n, reduction)

    @staticmethod
    def backward(ctx, grad_y):
        log_p, labels = ctx.saved_tensors
        grad_z = np.exp(log_p)  # p
        grad_z[np.arange(len(labels)), labels] -= 1
        grad_z *= _mean_or_sum_scale(grad_y, len(labels), ctx.reduction)
        return grad_z, None, None


def _mean_or_sum(total: np.ndarray, denominator: float, reduction: str) -> np.ndarray:
    """The summed loss, divided by ``denominator`` for 'mean': 0/0 = NaN when every row
    was ignored, as PyTorch gives (the mean of nothing)."""
    if reduction != "mean":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / np.asarray(denominator, dtype=total.dtype)


def _mean_or_sum_scale(grad_y: np.ndarray, denominator: float, reduction: str) -> np.ndarray:
    """What the rows' gradients are multiplied by: grad_y, over ``denominator`` for 'mean';
    0 when the denominator is 0 (every row ignored: nothing to learn, no NaN)."""
    if reduction != "mean":
        return grad_y
    if denominator == 0:
        return np.zeros_like(grad_y)
    return grad_y / np.asarray(denominator, dtype=grad_y.dtype)


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
    plain = not probabilities and w is None and not label_smoothing and input.ndim == 2
    if plain and reduction != "none" and not (t == ignore_index).any():
        # the fast path: one label per row, nothing weighted, smoothed or ignored
        return LabelCrossEntropy.apply(input, t.reshape(-1), reduction)
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
        ctx.save_for_backward(labels, row_weight)
        ctx.shape, ctx.reduction = x.shape, reduction
        ctx.denominator = float(row_weight.sum())
        if reduction == "none":
            return picked.reshape((x.shape[0], *x.shape[2:]))
        return _mean_or_sum(picked.sum(), ctx.denominator, reduction)

    @staticmethod
    def backward(ctx, grad_y):
        labels, row_weight = ctx.saved_tensors
        n_rows = labels.size
        grad_rows = np.zeros((n_rows, ctx.shape[1]), dtype=grad_y.dtype)
        scale = -row_weight.astype(grad_y.dtype)
        if ctx.reduction == "none":
            scale = scale * grad_y.reshape(-1)
        else:
            scale = scale * _mean_or_sum_scale(grad_y, ctx.denominator, ctx.reduction)
        grad_rows[np.arange(n_rows), labels] = scale
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


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log sigmoid(x) = min(x, 0) - log(1 + e^-|x|): e^-|x| <= 1, so nothing overflows."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class BinaryCrossEntropyWithLogits(Function):
    """L = w [(1 - y) x - l log sigmoid(x)],  l = 1 + (pw - 1) y  (the positive weight).

    From -w [pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] with
    log(1 - sigmoid(x)) = log sigmoid(x) - x. Only log sigmoid(x) is formed, never
    sigmoid(x) and its log, so it is exact for any x (PyTorch's formula, term for term).

    dL/dx  = w [(pw y + 1 - y) sigmoid(x) - pw y]   (sigmoid(x) - y when pw = 1)
    dL/dy  = w [log sigmoid(-x) - pw log sigmoid(x)] (-x when pw = 1)
    dL/dw  = L / w,   dL/dpw = -w y log sigmoid(x)
    """

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight):
        log_sig = _log_sigmoid(x)
        ctx.save_for_backward(x, y, weight, pos_weight, log_sig)
        log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        loss = (1 - y) * x - log_weight * log_sig
        return loss if weight is None else loss * weight

    @staticmethod
    def backward(ctx, grad_y):
        x, y, weight, pos_weight, log_sig = ctx.saved_tensors
        needs = ctx.needs_input_grad
        g = grad_y if weight is None else grad_y * weight
        pw = 1 if pos_weight is None else pos_weight
        grads = [None, None, None, None]
        if needs[0]:
            s = activation.stable_sigmoid(x)
            grads[0] = g * ((pw * y + 1 - y) * s - pw * y)
        if needs[1]:
            grads[1] = g * ((log_sig - x) - pw * log_sig)  # log sigmoid(-x) = log sigmoid(x) - x
        if needs[2]:
            log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
            grads[2] = grad_y * ((1 - y) * x - log_weight * log_sig)
        if needs[3]:
            grads[3] = -g * y * log_sig
        inputs = (x, y, weight, pos_weight)
        return tuple(
            None if grad is None else unbroadcast(grad, np.shape(value))
            for grad, value in zip(grads, inputs)
        )


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of logits x against targets y in [0, 1], stable for any x.

    -[pw y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] with log(1 - sigmoid(x)) =
    log sigmoid(x) - x becomes

        (1 - y) x - (1 + (pw - 1) y) log sigmoid(x)

    which never forms sigmoid(x) and so never takes log(0). The gradient is
    sigmoid(x) - y when pw = 1. See ``BinaryCrossEntropyWithLogits``.
    """
    name = "binary_cross_entropy_with_logits"
    target = _regression_args(name, input, target, reduction)
    if target.dtype.kind != "f":
        raise TypeError(
            f"{name}: target must be float (0./1. or probabilities), got dtype {target.dtype}; "
            "convert with .float()"
        )
    loss = BinaryCrossEntropyWithLogits.apply(
        *elementwise.promote(input, target, weight, pos_weight)
    )
    return _reduce(loss, reduction)


# PyTorch's floor for p (1 - p) in the BCE gradient: 1e-12 as a C float, so 9.9999998e-13
_BCE_EPSILON = np.float32(1e-12)


class BinaryCrossEntropy(Function):
    """L = -w [y max(log p, -100) + (1 - y) max(log(1 - p), -100)] for probabilities p.

    The logs are clamped at -100 as in PyTorch, so p = 0 or 1 gives a large finite loss
    instead of inf. dL/dp = w (p - y) / (p (1 - p)), with the denominator kept at least
    1e-12 (PyTorch's rule, in float32), so the gradient at p = 0 or 1 is finite too.
    dL/dy = w (log(1 - p) - log p) (unclamped: +-inf at p = 0 or 1, as PyTorch), dL/dw = L / w.
    """

    @staticmethod
    def forward(ctx, p, y, weight):
        with np.errstate(divide="ignore"):  # log(0) = -inf is what the clamp is for
            log_p = np.maximum(np.log(p), -100)
            log_q = np.maximum(np.log1p(-p), -100)
        ctx.save_for_backward(p, y, weight)
        loss = -(y * log_p + (1 - y) * log_q)
        return loss if weight is None else loss * weight

    @staticmethod
    def backward(ctx, grad_y):
        p, y, weight = ctx.saved_tensors
        g = grad_y if weight is None else grad_y * weight
        grads = [None, None, None]
        if ctx.needs_input_grad[0]:
            grads[0] = g * (p - y) / np.maximum(p * (1 - p), _BCE_EPSILON.astype(p.dtype))
        if ctx.needs_input_grad[1] or ctx.needs_input_grad[2]:
            with np.errstate(divide="ignore"):  # the log-odds of p = 0 or 1 are +-inf
                log_p, log_q = np.log(p), np.log1p(-p)
            if ctx.needs_input_grad[1]:
                grads[1] = g * (log_q - log_p)
            if ctx.needs_input_grad[2]:
                clamped = np.maximum(log_p, -100), np.maximum(log_q, -100)
                grads[2] = -grad_y * (y * clamped[0] + (1 - y) * clamped[1])
        inputs = (p, y, weight)
        return tuple(
            None if grad is None else unbroadcast(grad, np.shape(value))
            for grad, value in zip(grads, inputs)
        )


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Any,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] for probabilities p; each log is clamped at -100 as
    in PyTorch, so p = 0 or 1 gives a large finite loss (and gradient) instead of inf.
    Prefer ``binary_cross_entropy_with_logits``, which is stable without clamping."""
    name = "binary_cross_entropy"
    target = _regression_args(name, input, target, reduction)
    p = input.data
    if ((p < 0) | (p > 1)).any():
        raise ValueError(
            f"{name}: input must be probabilities in [0, 1], got values from {p.min():.4g} "
            f"to {p.max():.4g}; for logits use binary_cross_entropy_with_logits"
        )
    loss = BinaryCrossEntropy.apply(*elementwise.promote(input, target, weight))
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
