"""Ready-made models for the command line and quick experiments."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet.nn import activation as act
from glassnet.nn.container import Sequential
from glassnet.nn.layers import Dropout, Flatten, Linear

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
