"""MultiheadAttention with PyTorch's arguments, parameters, initialisation and state_dict keys.

Each head attends on its own slice of the projected features:

    head_h = softmax(Q_h K_h^T / sqrt(head_dim) + mask) V_h,   Q = query W_q^T + b_q, ...
    output = concat(head_1, ..., head_H) W_out^T + b_out

The three input projections are PyTorch's packed ``in_proj_weight`` (3E, E) and
``in_proj_bias`` (3E,), rows [0, E) for queries, [E, 2E) for keys, [2E, 3E) for values;
with ``kdim``/``vdim`` other than E they are ``q_proj_weight``, ``k_proj_weight`` and
``v_proj_weight`` instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.autograd.device import check_device
from glassnet.autograd.tensor import Tensor
from glassnet.nn import functional as F
from glassnet.nn import init
from glassnet.nn.layers import Linear, _check_size
from glassnet.nn.module import Module
from glassnet.nn.parameter import Parameter
from glassnet.ops.activation import softmax
from glassnet.ops.shape import cat


def _masks_as_scores(
    mask: Any, dtype: np.dtype, place: str, name: str, true_means: str
) -> Tensor | None:
    """A mask as numbers added to the scores. In MultiheadAttention a boolean True means
    *masked* (-inf), the opposite of F.scaled_dot_product_attention; a float mask is added."""
    if mask is None:
        return None
    given = np.dtype(mask.dtype if isinstance(mask, Tensor) else np.asarray(mask).dtype)
    if given.kind not in "bf":  # an int 0/1 mask is ambiguous: 1 = keep or 1 = masked?
        raise TypeError(
            f"{place}: {name} must be bool ({true_means}) or float (added to the scores), as "
            f"in PyTorch, got {given}; convert it with mask.bool() (or to the query's dtype)"
        )
    if isinstance(mask, Tensor) and mask.dtype != bool:
        if mask.dtype != dtype:
            raise TypeError(
                f"{place}: a float {name} must have the query's dtype {dtype}, got {mask.dtype}"
            )
        return mask
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype == bool:
        return Tensor._make(np.where(data, -np.inf, 0.0).astype(dtype))
    if data.dtype != dtype:
        raise TypeError(
            f"{place}: a float {name} must have the query's dtype {dtype}, got {data.dtype}; "
            f"convert it, or pass a boolean mask ({true_means})"
        )
    return Tensor._make(data)


def _pad_last(mask: Tensor | None) -> Tensor | None:
    """One more key (bias_k or the zero key) that every query may attend: a 0 column."""
    if mask is None:
        return None
    return cat([mask, Tensor._make(np.zeros((*mask.shape[:-1], 1), dtype=mask.dtype))], dim=-1)


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads, as ``torch.nn.MultiheadAttention``.

    Args:
        embed_dim: E, the width of queries and of the output.
        num_heads: H; E must be divisible by H (each head sees E / H features).
        dropout: dropout probability on the attention weights (training mode only).
        bias: add in_proj_bias and out_proj.bias.
        add_bias_kv: learn one extra key and value (bias_k, bias_v) appended to the sequence.
        add_zero_attn: append a key and value of zeros (after bias_k/bias_v).
        kdim, vdim: widths of key and value (default E); when either differs from E the
            projections are separate q/k/v_proj_weight instead of the packed in_proj_weight.
        batch_first: inputs are (N, L, E) instead of PyTorch's default (L, N, E).
        dtype: float32 by default.
        generator: the random generator for initialisation and dropout.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        _check_size("MultiheadAttention", embed_dim=embed_dim, num_heads=num_heads)
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                f"({num_heads}); each head takes embed_dim / num_heads features"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout}")
        check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        self.generator = generator

        def empty(*shape: int) -> Parameter:
            return Parameter(np.empty(shape, dtype=dtype))

        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", empty(3 * embed_dim) if bias else None)
        self.register_parameter("bias_k", empty(1, 1, embed_dim) if add_bias_kv else None)
        self.register_parameter("bias_v", empty(1, 1, embed_dim) if add_bias_kv else None)
        self.add_zero_attn = add_zero_attn
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype, generator=generator)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's: xavier_uniform_ on the input projections (the packed (3E, E) matrix as
        one), biases 0, bias_k and bias_v from xavier_normal_; out_proj.weight keeps
        Linear's default."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=generator)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, generator=generator)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k, generator=generator)
            init.xavier_normal_(self.bias_v, generator=generator)

    def _projections(self, query: Tensor, key: Tensor, value: Tensor) -> tuple[Tensor, ...]:
        e, b = self.embed_dim, self.in_proj_bias
        bias = (None,) * 3 if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        if self._qkv_same_embed_dim:
            if query is key and key is value:  # self-attention: one matrix product, then split
                packed = F.linear(query, self.in_proj_weight, b)
                return packed[..., :e], packed[..., e : 2 * e], packed[..., 2 * e :]
            w = self.in_proj_weight
            weights = (w[:e], w[e : 2 * e], w[2 * e :])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(F.linear(x, w, bb) for x, w, bb in zip((query, key, value), weights, bias))

    def _check(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        hint = (
            "pass batch_first=False for (L, N, E)"
            if self.batch_first
            else "pass batch_first=True for (N, L, E)"
        )
        place = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"{place}: expects query, key and value all {layout} or all unbatched (L, E), "
                f"got {query.shape}, {key.shape}, {value.shape}"
            )
        for name, t, width in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            if t.shape[-1] != width:
                fix = "project it to embed_dim first" if name == "query" else "set kdim/vdim"
                raise ValueError(
                    f"{place}: {name} must end in {width} features, got shape {t.shape}; {fix}"
                )
        if query.ndim == 3:
            n = 0 if self.batch_first else 1
            if not query.shape[n] == key.shape[n] == value.shape[n]:
                raise ValueError(
                    f"{place}: query, key and value must have the same batch size in {layout}, "
                    f"got {query.shape}, {key.shape}, {value.shape}; {hint} if the layout "
                    "is the other one"
                )
        s = 1 if query.ndim == 3 and self.batch_first else 0  # where the length is
        if key.shape[s] != value.shape[s]:
            raise ValueError(
                f"{place}: key and value must have the same length, got {key.shape} and "
                f"{value.shape}; every key needs its value"
            )
        if len({query.dtype, key.dtype, value.dtype}) > 1:
            raise TypeError(
                f"{place}: query, key and value must share one dtype, got {query.dtype}, "
                f"{key.dtype}, {value.dtype}"
            )

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | np.ndarray | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | np.ndarray | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Attend from ``query`` to ``key``/``value``.

        Args:
            query: (L, N, E), or (N, L, E) with batch_first, or unbatched (L, E).
            key: (S, N, kdim) (or as query's layout). value: (S, N, vdim).
            key_padding_mask: (N, S) (or (S,) unbatched); True (or -inf) marks a key to
                ignore, e.g. padding.
            need_weights: also return the attention weights (computed by separate ops;
                without them the fused ``F.scaled_dot_product_attention`` runs).
            attn_mask: (L, S) or (N * num_heads, L, S); True (or -inf) forbids that query
                to attend to that key (note: the opposite of F.scaled_dot_product_attention's
                boolean mask, as in PyTorch).
            average_attn_weights: average the returned weights over the heads.
            is_causal: a hint that attn_mask is the causal mask; as in PyTorch, attn_mask
                must then be given.

        Returns:
            (output, weights): output as query's layout with E features; weights (N, L, S)
            averaged or (N, num_heads, L, S), without N when unbatched, or None.
        """
        self._check(query, key, value)
        place = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        if is_causal and attn_mask is None:
            raise ValueError(
                f"{place}: is_causal=True is only a hint and needs attn_mask too, as in "
                "PyTorch; pass attn_mask=np.triu(np.ones((L, L), dtype=bool), 1) (True above "
                "the diagonal = masked)"
            )
        batched = query.ndim == 3
        if not batched:  # a batch of one, squeezed again at the end
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E): heads split the last axis
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        n, length, _ = query.shape
        source = key.shape[1]
        h, hd, dtype = self.num_heads, self.head_dim, query.dtype

        mask = _masks_as_scores(attn_mask, dtype, place, "attn_mask", "True = masked")
        if mask is not None:
            if mask.shape == (length, source):
                mask = mask.reshape(1, 1, length, source)
            elif mask.shape == (n * h, length, source):  # row b * H + h: batch b, head h
                mask = mask.reshape(n, h, length, source)
            else:
                raise ValueError(
                    f"{place}: attn_mask must have shape (L, S) = ({length}, {source}) or "
                    f"(N * num_heads, L, S) = ({n * h}, {length}, {source}), got {mask.shape}"
                )
        padding = _masks_as_scores(
            key_padding_mask, dtype, place, "key_padding_mask", "True = ignore that key"
        )
        if padding is not None:
            expected = (n, source) if batched else (source,)
            if padding.shape != expected:
                raise ValueError(
                    f"{place}: key_padding_mask must have shape (N, S) = {expected} (one flag "
                    f"per key of each sequence), got {padding.shape}"
                )
            padding = padding.reshape(n, 1, 1, source)
            mask = padding if mask is None else mask + padding

        q, k, v = self._projections(query, key, value)
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(n, 1, self.embed_dim)], dim=1)
            v = cat([v, self.bias_v.expand(n, 1, self.embed_dim)], dim=1)
            mask = _pad_last(mask)
        if self.add_zero_attn:
            zeros = Tensor._make(np.zeros((n, 1, self.embed_dim), dtype=dtype))
            k, v = cat([k, zeros], dim=1), cat([v, zeros], dim=1)
            mask = _pad_last(mask)
        # (N, len, E) -> (N, H, len, head_dim): each head its own slice of the features
        q, k, v = (t.reshape(n, t.shape[1], h, hd).permute(0, 2, 1, 3) for t in (q, k, v))
        p = self.dropout if self.training else 0.0

        weights = None
        if need_weights:  # the weights are wanted, so the softmax is its own op here
            scores = (q * (1.0 / math.sqrt(hd))) @ k.transpose(-2, -1)
            if mask is not None:
                scores = scores + mask
            weights = F.dropout(softmax(scores, dim=-1), p, p > 0, self.generator)
            out = weights @ v
        else:
            out = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, dropout_p=p, generator=self.generator
            )
        out = self.out_proj(out.permute(0, 2, 1, 3).reshape(n, length, self.embed_dim))
        if not batched:
            out = out[0]
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights[0]
        return out, weights
