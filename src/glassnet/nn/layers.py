"""The basic layers: Linear, Identity, Flatten, Dropout, Embedding."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.autograd.device import check_device
from glassnet.autograd.tensor import Tensor
from glassnet.nn import functional as F
from glassnet.nn import init
from glassnet.nn.module import Module
from glassnet.nn.parameter import Parameter


def _empty(shape: tuple[int, ...], dtype: Any) -> Parameter:
    return Parameter(np.empty(shape, dtype=np.float32 if dtype is None else dtype))


def _check_size(layer: str, **sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")


class Identity(Module):
    """y = x. A placeholder, e.g. to switch a layer off without changing indices."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        check_device(device)
        _check_size("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty((out_features, in_features), dtype)
        # registered even when absent, as PyTorch does: named_parameters lists no None
        self.register_parameter("bias", _empty((out_features,), dtype) if bias else None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's default: W and b from U(-1/sqrt(in), 1/sqrt(in)).

        (kaiming_uniform_ with a = sqrt 5 reduces to that bound.) Var(W) = 1/(3 in), so each
        output starts with about a third of the input's variance: small, but not vanishing.
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            hint = "check the out_features of the layer before it"
            if x.ndim > 2 and int(np.prod(x.shape[1:])) == self.in_features:
                hint = "flatten it first"
            raise ValueError(
                f"Linear({self.in_features} -> {self.out_features}) expects input "
                f"(..., {self.in_features}), got {x.shape}; {hint}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Flatten(Module):
    """Merge dimensions start_dim..end_dim: (N, 28, 28) -> (N, 784) with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout in training mode (zero with probability p, scale by 1/(1-p));
    the identity in eval mode."""

    def __init__(self, p: float = 0.5, *, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = p
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Module):
    """Channel dropout for (N, C, H, W) in training mode: zero whole channels with
    probability p and scale the kept ones by 1/(1-p); the identity in eval mode.

    A 3-D input is read as (N, C, L), as PyTorch 2.13 does (see ``F.dropout2d``).
    ``inplace`` is accepted for PyTorch compatibility; the result is always a new tensor.
    """

    def __init__(
        self,
        p: float = 0.5,
        inplace: bool = False,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: p must be a probability in [0, 1], got {p}")
        self.p, self.inplace = p, bool(inplace)
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout2d(x, self.p, self.training, self.inplace, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: the inverse of Flatten, e.g.
    Unflatten(1, (16, 7, 7)) turns (N, 784) into (N, 16, 7, 7). One -1 may be inferred."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        dim = self.dim + x.ndim if self.dim < 0 else self.dim
        if not 0 <= dim < x.ndim:
            raise ValueError(
                f"Unflatten: dim {self.dim} is out of range for input of shape {x.shape}; "
                f"use a dim in [{-x.ndim}, {x.ndim - 1}]"
            )
        known = int(np.prod([s for s in self.unflattened_size if s != -1]))
        size = x.shape[dim]
        if (-1 in self.unflattened_size and size % max(known, 1)) or (
            -1 not in self.unflattened_size and known != size
        ):
            raise ValueError(
                f"Unflatten: cannot split dimension {self.dim} of size {size} into "
                f"{self.unflattened_size}; the sizes must multiply to {size}"
            )
        return x.reshape(*x.shape[:dim], *self.unflattened_size, *x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of ``weight`` (N(0, 1) at start)."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        _check_size("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within num_embeddings "
                    f"({num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = _empty((num_embeddings, embedding_dim), dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """N(0, 1), and the padding row zero (it stands for "nothing here")."""
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices: Tensor) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
