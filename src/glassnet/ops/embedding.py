"""Embedding lookup: a table of rows, indexed by integers."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.dims import OutOfRangeError


class EmbeddingLookup(Function):
    """y = W[indices] (one row per index).

    grad_W is zero except at the looked-up rows, each of which gets the sum of the
    gradients of every position that used it (``np.add.at``: an index can appear many
    times). The row ``padding_idx``, if set, gets no gradient and so never changes.
    """

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        ctx.save_for_backward(indices)
        ctx.shape, ctx.padding_idx = weight.shape, padding_idx
        return weight[indices]

    @staticmethod
    def backward(ctx, grad_y):
        (indices,) = ctx.saved_tensors
        grad_w = np.zeros(ctx.shape, dtype=grad_y.dtype)
        np.add.at(grad_w, indices, grad_y)
        if ctx.padding_idx is not None:
            grad_w[ctx.padding_idx] = 0
        return grad_w, None, None


def embedding(
    input: Any,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, dim) for integer ``input`` of any shape."""
    indices = input.data if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"embedding: indices must be integers, got dtype {indices.dtype}; convert with .long()"
        )
    n = weight.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        bad = indices[(indices < 0) | (indices >= n)].flat[0]
        raise OutOfRangeError(
            f"embedding: index {int(bad)} is out of range for {n} embeddings; "
            f"indices must be in [0, {n})"
        )
    return EmbeddingLookup.apply(weight, indices, padding_idx)
