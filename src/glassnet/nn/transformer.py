"""Transformer layers with PyTorch's arguments, defaults and state_dict keys:
``TransformerEncoderLayer``, ``TransformerDecoderLayer`` and the stacks of them,
``TransformerEncoder`` and ``TransformerDecoder``.

A layer is attention plus a two-layer MLP ("feed-forward"), each wrapped in a residual
connection and a LayerNorm. Post-norm (PyTorch's default, the 2017 paper) normalises after
the sum, x = norm(x + block(x)); pre-norm (``norm_first=True``) normalises the block's
input, x = x + block(norm(x)), which keeps a clean identity path through every layer and
usually trains more easily when the stack is deep.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.nn import functional as F
from glassnet.nn.attention import MultiheadAttention
from glassnet.nn.container import ModuleList
from glassnet.nn.layers import Dropout, Linear
from glassnet.nn.module import Module
from glassnet.nn.norm import LayerNorm

Activation = str | Callable[[Tensor], Tensor]


def _activation(activation: Activation, layer: str) -> Callable[[Tensor], Tensor]:
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise ValueError(
            f"{layer}: activation must be 'relu', 'gelu' or a callable, got {activation!r}"
        )
    if not callable(activation):
        raise TypeError(f"{layer}: activation must be a string or a callable, got {activation!r}")
    return activation


class _Layer(Module):
    """What both layers share: their arguments (PyTorch's), the attentions, the feed-forward
    block, one LayerNorm and one Dropout per residual block. ``_cross_attention`` adds the
    decoder's attention to ``memory``, with its norm and dropout."""

    _cross_attention = False

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: Activation = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()

        def attention() -> MultiheadAttention:
            return MultiheadAttention(
                d_model,
                nhead,
                dropout,
                bias,
                batch_first=batch_first,
                device=device,
                dtype=dtype,
                generator=generator,
            )

        # PyTorch's order (attentions, linear1, dropout, linear2, norms, dropouts): it fixes
        # the state_dict's key order and which random numbers each weight draws
        self.self_attn = attention()
        if self._cross_attention:
            self.multihead_attn = attention()
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, generator=generator)
        self.dropout = Dropout(dropout, generator=generator)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, generator=generator)
        self.norm_first, self.batch_first = norm_first, batch_first

        def norm() -> LayerNorm:
            return LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)

        self.norm1, self.norm2 = norm(), norm()
        if self._cross_attention:
            self.norm3 = norm()
        self.dropout1 = Dropout(dropout, generator=generator)
        self.dropout2 = Dropout(dropout, generator=generator)
        if self._cross_attention:
            self.dropout3 = Dropout(dropout, generator=generator)
        self.activation = _activation(activation, type(self).__name__)

    def _check(self, x: Tensor, name: str, d_model: int) -> None:
        if x.ndim not in (2, 3) or x.shape[-1] != d_model:
            layout = "(N, L, d_model)" if self.batch_first else "(L, N, d_model)"
            raise ValueError(
                f"{type(self).__name__}(d_model={d_model}): {name} must be {layout} or "
                f"unbatched (L, d_model), got {x.shape}; the last dimension is the model width"
            )

    def _sa_block(self, x: Tensor, mask: Any, padding: Any, is_causal: bool) -> Tensor:
        out = self.self_attn(
            x,
            x,
            x,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(out)

    def _ff_block(self, x: Tensor, dropout_out: Dropout) -> Tensor:
        return dropout_out(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_Layer):
    """Self-attention then feed-forward, each with a residual connection and a LayerNorm.

    Post-norm (default):  x = norm1(x + SA(x));  x = norm2(x + FF(x))
    Pre-norm (norm_first): x = x + SA(norm1(x)); x = x + FF(norm2(x))
    with SA the self-attention (then dropout1) and FF = linear2(dropout(act(linear1(x))))
    (then dropout2).

    Args:
        d_model: the width of the tokens.
        nhead: the number of attention heads.
        dim_feedforward: the width of the feed-forward block's hidden layer.
        dropout: the dropout probability everywhere (attention weights included).
        activation: "relu", "gelu" or a callable (a Module is registered as a submodule).
        layer_norm_eps: the LayerNorms' eps.
        batch_first: inputs (N, L, d_model) instead of (L, N, d_model).
        norm_first: pre-norm instead of post-norm.
        bias: biases in the linear layers and the LayerNorms.
        dtype: float32 by default.
        generator: the random generator for initialisation and dropout.
    """

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | np.ndarray | None = None,
        src_key_padding_mask: Tensor | np.ndarray | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        """src: (L, N, d_model), (N, L, d_model) with batch_first, or (L, d_model); the masks
        as MultiheadAttention's attn_mask and key_padding_mask (True = masked)."""
        self._check(src, "src", self.self_attn.embed_dim)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        return x


class TransformerDecoderLayer(_Layer):
    """Self-attention over the target, attention from the target to ``memory`` (the
    encoder's output), then feed-forward; each with a residual connection and a LayerNorm.

    Post-norm (default):  x = norm1(x + SA(x)); x = norm2(x + MHA(x, memory));
                          x = norm3(x + FF(x))
    Pre-norm (norm_first): x = x + SA(norm1(x)); x = x + MHA(norm2(x), memory);
                          x = x + FF(norm3(x))

    Args: as ``TransformerEncoderLayer``.
    """

    _cross_attention = True

    def _mha_block(
        self, x: Tensor, memory: Tensor, mask: Any, padding: Any, is_causal: bool
    ) -> Tensor:
        out = self.multihead_attn(
            x,
            memory,
            memory,
            attn_mask=mask,
            key_padding_mask=padding,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout2(out)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | np.ndarray | None = None,
        memory_mask: Tensor | np.ndarray | None = None,
        tgt_key_padding_mask: Tensor | np.ndarray | None = None,
        memory_key_padding_mask: Tensor | np.ndarray | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """tgt: (T, N, d_model) and memory: (S, N, d_model) (batch first with batch_first,
        or unbatched); the masks as MultiheadAttention's (True = masked)."""
        d_model = self.self_attn.embed_dim
        self._check(tgt, "tgt", d_model)
        self._check(memory, "memory", d_model)
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x), self.dropout3)
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x
                + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x, self.dropout3))
        return x


def _clones(layer: Module, num_layers: int) -> ModuleList:
    """num_layers deep copies of layer (equal starting weights, as PyTorch's), sharing its
    random generators: copied generators would drop out the same units in every layer."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)):
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    if num_layers < 1:
        raise ValueError(f"num_layers must be a positive integer, got {num_layers}")
    shared = {
        id(m.generator): m.generator
        for m in layer.modules()
        if getattr(m, "generator", None) is not None
    }
    return ModuleList(copy.deepcopy(layer, dict(shared)) for _ in range(num_layers))


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer``, then ``norm`` if given.

    State dict keys ``layers.0.self_attn.in_proj_weight``, ..., ``norm.weight``, as PyTorch.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src: Tensor,
        mask: Tensor | np.ndarray | None = None,
        src_key_padding_mask: Tensor | np.ndarray | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        """Each layer's forward in turn, with the same masks."""
        x = src
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask, bool(is_causal))
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then ``norm`` if given; every
    layer attends to the same ``memory``."""

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | np.ndarray | None = None,
        memory_mask: Tensor | np.ndarray | None = None,
        tgt_key_padding_mask: Tensor | np.ndarray | None = None,
        memory_key_padding_mask: Tensor | np.ndarray | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        """Each layer's forward in turn, with the same memory and masks."""
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask,
                memory_mask,
                tgt_key_padding_mask,
                memory_key_padding_mask,
                bool(tgt_is_causal),
                memory_is_causal,
            )
        return x if self.norm is None else self.norm(x)
