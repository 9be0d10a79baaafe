"""Ready-made models for the command line and quick experiments."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.nn import activation as act
from glassnet.nn.container import Sequential
from glassnet.nn.layers import Dropout, Flatten, Linear
from glassnet.nn.module import Module
from glassnet.nn.rnn import GRU
from glassnet.ops.shape import cat

ACTIVATIONS = {
    "relu": act.ReLU,
    "tanh": act.Tanh,
    "sigmoid": act.Sigmoid,
    "gelu": act.GELU,
    "silu": act.SiLU,
    "leaky_relu": act.LeakyReLU,
    "elu": act.ELU,
}


def mlp(
    in_features: int,
    hidden: Sequence[int],
    out_features: int,
    activation: str = "relu",
    dropout: float = 0.0,
    generator: np.random.Generator | None = None,
) -> Sequential:
    """Flatten -> [Linear -> activation (-> Dropout)] per hidden size -> Linear (logits).

    Layer indices are those of the equivalent ``torch.nn.Sequential``, so the state dict
    loads into it directly.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"mlp: unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}"
        )
    layers: list = [Flatten()]
    width = in_features
    for size in hidden:
        layers += [Linear(width, size, generator=generator), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(Dropout(dropout))
        width = size
    layers.append(Linear(width, out_features, generator=generator))
    return Sequential(*layers)


class GRUClassifier(Module):
    """A GRU over a sequence, then a Linear head to logits (``gru`` builds it).

    Input (N, L) (a sequence of scalars, as MNIST-1D's signals) or (N, L, F). With
    ``head="last"`` the head reads the final hidden state (both directions' when
    bidirectional); with ``head="all"`` it reads every step's output, flattened (the
    MNIST-1D paper's GRU), which needs the sequence length up front.
    """

    def __init__(
        self,
        in_features: int,
        hidden: int,
        out_features: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        head: str = "last",
        seq_len: int | None = None,
        dropout: float = 0.0,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        if head not in ("last", "all") or (head == "all" and not seq_len):
            raise ValueError(
                f"gru: head must be 'last' or 'all' (which needs seq_len), got head={head!r}, "
                f"seq_len={seq_len!r}"
            )
        self.head_kind, self.seq_len = head, seq_len
        self.gru = GRU(
            in_features,
            hidden,
            num_layers,
            batch_first=True,
            dropout=dropout,
            bidirectional=bidirectional,
            generator=generator,
        )
        width = hidden * (2 if bidirectional else 1) * (seq_len if head == "all" else 1)
        self.head = Linear(width, out_features, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(-1)  # (N, L) -> (N, L, 1): one feature per step
        out, h_n = self.gru(x)
        if self.head_kind == "all":
            return self.head(out.reshape(out.shape[0], -1))
        last = cat([h_n[-2], h_n[-1]], dim=1) if self.gru.bidirectional else h_n[-1]
        return self.head(last)

    def extra_repr(self) -> str:
        return f"head={self.head_kind!r}"


def gru(
    in_features: int,
    hidden: int,
    out_features: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    head: str = "last",
    seq_len: int | None = None,
    dropout: float = 0.0,
    generator: np.random.Generator | None = None,
) -> GRUClassifier:
    """A sequence classifier: GRU(in_features -> hidden, batch_first) -> Linear -> logits.

    Args:
        in_features: features per time step (1 for a sequence of scalars given as (N, L)).
        hidden: the GRU's hidden size.
        out_features: the number of classes.
        num_layers, bidirectional, dropout: as ``nn.GRU``.
        head: "last" reads the final hidden state; "all" every step's output (flattened).
        seq_len: the sequence length, needed by ``head="all"``.
        generator: for the initial weights and the dropout between layers.

    Returns:
        The model; its state_dict keys are ``gru.*`` (as ``nn.GRU``) and ``head.*``.
    """
    return GRUClassifier(
        in_features, hidden, out_features, num_layers, bidirectional, head, seq_len, dropout,
        generator,
    )  # fmt: skip
