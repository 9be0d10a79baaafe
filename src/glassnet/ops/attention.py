"""Scaled dot-product attention, the softmax inside a network: one fused Function.

    attention(Q, K, V) = softmax(Q K^T / sqrt(E) + M) V

Each query row of Q (L of them, width E) scores every key row of K (Lk of them) by a dot
product; the softmax over the keys turns the L x Lk scores into weights that sum to 1 per
query, and each output row is that weighted average of the value rows of V. M is a mask
added to the scores: 0 where a key may be attended, -inf where not (a boolean mask and
``is_causal`` are both turned into such an M).
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.elementwise import add, unbroadcast
from glassnet.random import resolve_generator


def _safe_softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, max subtracted first; a row whose every score is -inf
    (a query allowed to see no key) gives weights 0 instead of 0/0 = nan, as PyTorch 2.13."""
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isneginf(top), 0.0, top).astype(scores.dtype, copy=False)
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0.0, 1.0, total).astype(scores.dtype, copy=False)


class ScaledDotProductAttention(Function):
    """O = dropout(softmax(scale Q K^T + M)) V, over the last two axes, batch axes broadcast.

    Forward, with Q (..., L, E), K (..., Lk, E), V (..., Lk, Ev), mask M broadcastable to
    (..., L, Lk), and D the dropout's keep mask scaled by 1 / (1 - p) (all ones without it):
        S = scale Q K^T + M       (L x Lk scores; the max is subtracted before exp)
        P = softmax(S)            (per query row, over the keys)
        O = (P * D) V

    Backward, given dO = dL/dO (arbitrary: whatever the layers above send back):
        dV = (P * D)^T dO          (O is a matrix product in V, as for MatMul)
        dP = (dO V^T) * D          (and in P * D; dropout's mask passes it back where kept)
        dS = P * (dP - rowsum(dP * P))
             the softmax's vector-Jacobian product. Its Jacobian per row is
             dP_i/dS_j = P_i ([i = j] - P_j), so dS_j = sum_i dP_i P_i ([i = j] - P_j)
             = P_j (dP_j - sum_i dP_i P_i). Nothing collapses to "P - Y" here: that
             shortcut needs dP to come from a cross-entropy right after the softmax, and
             here dP is whatever dO V^T happens to be.
        dQ = scale dS K,   dK = scale dS^T Q   (S is scale Q K^T, a matrix product again)
        dM = dS, summed over the axes the mask was broadcast along.
    A query row whose every key is masked has P = 0, so its output and gradients are 0.
    Saved: Q, K, V, P and D; the L x Lk matrices are the memory cost of attention.
    """

    @staticmethod
    def forward(ctx, q, k, v, mask, keep, *, scale):
        scores = np.matmul(q, np.swapaxes(k, -1, -2)) * np.asarray(scale, dtype=q.dtype)
        if mask is not None:
            scores = scores + mask
        p = _safe_softmax(scores)
        weights = p if keep is None else p * keep
        ctx.shapes = (q.shape, k.shape, v.shape, None if mask is None else mask.shape)
        ctx.scale = scale
        ctx.save_for_backward(q, k, v, p, keep)
        return np.matmul(weights, v)

    @staticmethod
    def backward(ctx, grad_o):
        q, k, v, p, keep = ctx.saved_tensors
        shape_q, shape_k, shape_v, shape_m = ctx.shapes
        need_q, need_k, need_v, need_m = ctx.needs_input_grad[:4]
        scale = np.asarray(ctx.scale, dtype=q.dtype)
        grad_q = grad_k = grad_v = grad_m = None
        if need_v:
            weights = p if keep is None else p * keep
            grad_v = unbroadcast(np.matmul(np.swapaxes(weights, -1, -2), grad_o), shape_v)
        if need_q or need_k or need_m:
            grad_p = np.matmul(grad_o, np.swapaxes(v, -1, -2))
            if keep is not None:
                grad_p = grad_p * keep
            grad_s = p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True))
            if need_m:
                grad_m = unbroadcast(grad_s, shape_m)
            if need_q:
                grad_q = unbroadcast(np.matmul(grad_s, k) * scale, shape_q)
            if need_k:
                grad_k = unbroadcast(np.matmul(np.swapaxes(grad_s, -1, -2), q) * scale, shape_k)
        return grad_q, grad_k, grad_v, grad_m, None


def _check(query: Tensor, key: Tensor, value: Tensor) -> None:
    where = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(
                f"{where}: {name} must have at least 2 dimensions (..., length, features), got "
                f"shape {t.shape}; add a length dimension with unsqueeze(0)"
            )
    if len({query.dtype, key.dtype, value.dtype}) > 1 or query.dtype.kind != "f":
        raise TypeError(
            f"{where}: query, key and value must share one float dtype, got {query.dtype}, "
            f"{key.dtype}, {value.dtype}; convert them with .float() (or .double())"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(
            f"{where}: query (..., L, E) and key (..., S, E) must have the same last dimension "
            f"E, got query {query.shape} and key {key.shape}; project them to one width first"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"{where}: key (..., S, E) and value (..., S, Ev) must have the same length S, got "
            f"key {key.shape} and value {value.shape}; every key needs its value"
        )
    try:
        np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{where}: the batch dimensions of query {query.shape}, key {key.shape} and value "
            f"{value.shape} (all but the last two) do not broadcast; make them equal or 1"
        ) from None


def _additive_mask(
    attn_mask: Tensor | np.ndarray | None, is_causal: bool, query: Tensor, key: Tensor
) -> Tensor | np.ndarray | None:
    """The mask as numbers added to the scores: a float mask as given (a Tensor keeps its
    gradient), a boolean one as 0 where True (may attend) and -inf where False, causal as
    -inf above the diagonal (query i sees keys 0..i, aligned top-left as PyTorch does)."""
    length, source = query.shape[-2], key.shape[-2]
    dtype = query.dtype
    causal = None
    if is_causal:
        allowed = np.tril(np.ones((length, source), dtype=bool))
        causal = np.where(allowed, 0.0, -np.inf).astype(dtype)
    if attn_mask is None:
        return causal
    mask = _given_mask(attn_mask, query, key)
    if causal is None:
        return mask
    # both: -inf above the diagonal added to the given mask, what PyTorch 2.13 computes
    # (masked_fill of a float mask, & of a boolean one); a Tensor mask keeps its gradient
    if isinstance(mask, Tensor):
        return add(mask, Tensor(causal))
    return mask + causal


def _given_mask(attn_mask: Tensor | np.ndarray, query: Tensor, key: Tensor) -> Tensor | np.ndarray:
    """attn_mask checked and made additive: 0 / -inf for a boolean one, a float one as is."""
    where = "scaled_dot_product_attention"
    length, source, dtype = query.shape[-2], key.shape[-2], query.dtype
    data = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    target = (*np.broadcast_shapes(query.shape[:-2], key.shape[:-2]), length, source)
    try:
        np.broadcast_shapes(data.shape, target)
        fits = data.ndim <= len(target)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{where}: attn_mask of shape {data.shape} does not broadcast to the scores' shape "
            f"{target} (..., L, S); give it shape (L, S) = ({length}, {source}) or (..., L, S)"
        )
    if data.dtype == bool:
        return np.where(data, 0.0, -np.inf).astype(dtype)
    if data.dtype != dtype:
        raise TypeError(
            f"{where}: a float attn_mask must have the query's dtype {dtype}, got {data.dtype}; "
            "convert it, or pass a boolean mask (True = may attend)"
        )
    return attn_mask if isinstance(attn_mask, Tensor) else data


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | np.ndarray | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """softmax(query key^T scale + mask) value, as torch's ``scaled_dot_product_attention``.

    Args:
        query: (..., L, E).
        key: (..., S, E).
        value: (..., S, Ev). The batch dimensions (...) of the three broadcast.
        attn_mask: broadcastable to (..., L, S): boolean (True = the query may attend to
            that key) or a float added to the scores (its gradient is computed if it
            requires one).
        dropout_p: drop each attention weight with this probability (and scale the kept
            ones by 1 / (1 - p)); it is applied whenever p > 0, as in PyTorch (layers pass
            0 in eval mode).
        is_causal: query i attends to keys 0..i only (a lower-triangular mask); with an
            attn_mask too, both apply (as PyTorch 2.13: a boolean mask is and-ed with the
            triangle, a float mask gets -inf above the diagonal).
        scale: multiplies the scores; None means 1 / sqrt(E).
        enable_gqa: grouped-query attention: query (..., Hq, L, E) and key/value
            (..., Hkv, S, E) with Hq a multiple of Hkv; query head h reads key/value head
            h // (Hq / Hkv), as if each key/value head were repeated Hq / Hkv times
            (``repeat_interleave`` on dim -3, as PyTorch). Done by broadcasting, no copy.
        generator: the random generator for dropout; None means glassnet's default.

    Returns:
        (..., L, Ev). A query row with every key masked gives 0 (as PyTorch 2.13).

    Raises:
        ValueError: on shapes that do not fit.
        TypeError: on mixed dtypes, or a mask neither boolean nor of the query's dtype.
    """
    if enable_gqa:
        return _grouped_query_attention(
            query, key, value, attn_mask, dropout_p, is_causal, scale, generator
        )
    _check(query, key, value)
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(
            f"scaled_dot_product_attention: dropout_p must be a probability in [0, 1], "
            f"got {dropout_p}"
        )
    mask = _additive_mask(attn_mask, is_causal, query, key)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    keep = None
    if dropout_p > 0.0:
        shape = (
            *np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2]),
            query.shape[-2],
            key.shape[-2],
        )
        kept = resolve_generator(generator).random(shape) >= dropout_p
        scale_kept = 0.0 if dropout_p == 1.0 else 1.0 / (1.0 - dropout_p)
        keep = (kept * scale_kept).astype(query.dtype)
    return ScaledDotProductAttention.apply(query, key, value, mask, keep, scale=float(scale))


def _grouped_query_attention(query, key, value, attn_mask, dropout_p, is_causal, scale, generator):
    """enable_gqa: (..., Hq, L, E) queries as (..., Hkv, G, L, E), keys and values as
    (..., Hkv, 1, S, E), so broadcasting pairs query head h with key head h // G (and the
    backward's unbroadcast sums the G query heads' gradients into their shared key head)."""
    where = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor) or t.ndim < 3:
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(
                f"{where}: enable_gqa=True needs (..., heads, length, features) tensors, got "
                f"{name} {got}"
            )
    heads_q, heads_kv = query.shape[-3], key.shape[-3]
    if value.shape[-3] != heads_kv or heads_q % heads_kv:
        raise ValueError(
            f"{where}: enable_gqa=True needs key and value with the same number of heads "
            f"dividing the query's, got query {query.shape}, key {key.shape} and value "
            f"{value.shape} (heads are dimension -3)"
        )
    group = heads_q // heads_kv
    q = query.reshape(*query.shape[:-3], heads_kv, group, *query.shape[-2:])
    k, v = key.unsqueeze(-3), value.unsqueeze(-3)
    if attn_mask is not None:
        data = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if data.ndim >= 3:  # its head dimension, 1 or Hq, split as the query's
            split = (1, 1) if data.shape[-3] == 1 else (heads_kv, group)
            if data.shape[-3] not in (1, heads_q):
                raise ValueError(
                    f"{where}: attn_mask of shape {data.shape} has {data.shape[-3]} heads, "
                    f"the query {heads_q}; give it 1 or {heads_q} heads (dimension -3)"
                )
            shape = (*data.shape[:-3], *split, *data.shape[-2:])
            if isinstance(attn_mask, Tensor):
                attn_mask = attn_mask.reshape(*shape)
            else:
                attn_mask = data.reshape(shape)
    out = scaled_dot_product_attention(
        q, k, v, attn_mask, dropout_p, is_causal, scale, generator=generator
    )
    return out.reshape(*out.shape[:-4], heads_q, *out.shape[-2:])
