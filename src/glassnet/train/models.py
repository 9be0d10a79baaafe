"""Ready-made models for the command line and quick experiments."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.nn import activation as act
from glassnet.nn.container import Sequential
from glassnet.nn.conv import Conv1d, Conv2d
from glassnet.nn.layers import Dropout, Flatten, Linear, Unflatten
from glassnet.nn.module import Module
from glassnet.nn.pool import MaxPool2d
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
    in_features: int | Sequence[int],
    hidden: Sequence[int],
    out_features: int,
    activation: str = "relu",
    dropout: float = 0.0,
    generator: np.random.Generator | None = None,
) -> Sequential:
    """Flatten -> [Linear -> activation (-> Dropout)] per hidden size -> Linear (logits).

    ``in_features`` is the number of inputs, or the shape of one sample (flattened by the
    first layer), so every builder in ``MODELS`` takes the sample shape first.
    Layer indices are those of the equivalent ``torch.nn.Sequential``, so the state dict
    loads into it directly.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"mlp: unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}"
        )
    layers: list = [Flatten()]
    width = in_features if isinstance(in_features, (int, np.integer)) else math.prod(in_features)
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


def _conv_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """A convolution's (or pooling's) output length, as PyTorch computes it."""
    return (size + 2 * padding - kernel) // stride + 1


def cnn(
    input_shape: Sequence[int],
    hidden: Sequence[int],
    out_features: int,
    activation: str = "relu",
    dropout: float = 0.0,
    generator: np.random.Generator | None = None,
) -> Sequential:
    """A small convolutional classifier for signals (``input_shape`` (L,)) or images ((H, W)
    or (C, H, W)); ``hidden`` holds the channels of each convolution.

    Signals get the MNIST-1D paper's CNN (Greydanus 2020, the ``mnist1d`` repository's
    ``ConvBase``): ``Conv1d`` with stride 2 and padding 1, kernel 5 first and 3 after, each
    followed by the activation, then one ``Linear``. With ``hidden=(25, 25, 25)`` and L = 40
    the lengths go 40 -> 19 -> 10 -> 5 and the model has 5,210 parameters.

    Images get a LeNet-style net: per size a block ``Conv2d`` 5x5 ("same" padding) ->
    activation -> ``MaxPool2d(2)``, then one ``Linear``; 28x28 goes 28 -> 14 -> 7.

    The model starts with ``Flatten`` then ``Unflatten`` to (channels, ...), so it takes the
    samples flattened, as the command line stores them, or in their own shape. ``dropout``
    > 0 puts a ``Dropout`` before the last ``Linear``. Layer indices are those of the
    equivalent ``torch.nn.Sequential``, so the state dict loads into it directly.

    Raises:
        ValueError: ``input_shape`` has not 1 to 3 dimensions, or is too small for as many
            layers as ``hidden`` asks (the message says how many fit).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"cnn: unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}"
        )
    shape = tuple(int(s) for s in input_shape)
    if not 1 <= len(shape) <= 3 or min(shape, default=0) < 1:
        raise ValueError(
            f"cnn: input_shape must be (length,) for signals or (height, width) or (channels, "
            f"height, width) for images, got {shape}; use mlp for other data"
        )
    if not hidden:
        raise ValueError("cnn: hidden needs at least one channel count, e.g. (25, 25, 25)")
    # (L,) and (H, W) have one channel; (C, H, W) says how many
    channels, sizes = (1, list(shape)) if len(shape) < 3 else (shape[0], list(shape[1:]))
    layers: list = [Flatten(), Unflatten(1, (channels, *sizes))]
    for i, width in enumerate(hidden):
        if len(sizes) == 1:
            kernel = 5 if i == 0 else 3
            new = [_conv_out(sizes[0], kernel, 2, 1)]
            block = [Conv1d(channels, width, kernel, stride=2, padding=1, generator=generator)]
        else:
            new = [_conv_out(s, 2, 2, 0) for s in sizes]
            block = [Conv2d(channels, width, 5, padding=2, generator=generator)]
        if min(new) < 1:
            fix = f"pass at most {i} hidden sizes" if i else "use mlp for such data"
            raise ValueError(
                f"cnn: samples of shape {shape} are too small for {len(hidden)} convolution "
                f"layers (the size is {tuple(sizes)} before layer {i + 1}); {fix}"
            )
        layers += [*block, ACTIVATIONS[activation]()]
        if len(sizes) == 2:
            layers.append(MaxPool2d(2))
        channels, sizes = width, new
    layers.append(Flatten())
    if dropout > 0:
        layers.append(Dropout(dropout))
    layers.append(Linear(channels * math.prod(sizes), out_features, generator=generator))
    return Sequential(*layers)


class SequenceGRU(GRUClassifier):
    """``GRUClassifier`` that first puts its input in the shape of one sample, (L,) or (L, F),
    so it takes samples flattened (as the command line stores them) or in their own shape.

    Its state_dict is ``GRUClassifier``'s (``gru.*``, ``head.*``).
    """

    def __init__(self, sample_shape: tuple[int, ...], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # (L,) is a sequence of scalars: one feature per step
        self.sample_shape = sample_shape if len(sample_shape) == 2 else (*sample_shape, 1)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x.reshape(x.shape[0], *self.sample_shape))


def gru_classifier(
    input_shape: Sequence[int],
    hidden: Sequence[int],
    out_features: int,
    activation: str = "relu",
    dropout: float = 0.0,
    generator: np.random.Generator | None = None,
) -> SequenceGRU:
    """``gru`` with the signature every builder in ``MODELS`` shares (``--model gru``).

    Args:
        input_shape: one sample: (L,) a sequence of L scalars (as MNIST-1D's signals), or
            (L, F) L steps of F features.
        hidden: one size per GRU layer, all equal (``nn.GRU`` has one hidden size):
            (64,) one layer of 64, (64, 64) two.
        out_features: the number of classes; the head reads the last hidden state.
        activation: only "relu", the shared default, which a GRU ignores: its gates fix
            its nonlinearities (sigmoid gates, tanh candidate).
        dropout: between GRU layers, as ``nn.GRU``'s (so only with two layers or more).
        generator: for the initial weights and the dropout.

    Raises:
        ValueError: the shape is not (L,) or (L, F), ``hidden`` is empty or its sizes
            differ, or another activation is asked for; the message names the fix.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (1, 2) or min(shape, default=0) < 1:
        raise ValueError(
            f"gru: input_shape must be (length,) for a sequence of scalars or (length, "
            f"features), got {shape}; use cnn for images or mlp for other data"
        )
    if not hidden or len(set(hidden)) != 1:
        sizes = ",".join(map(str, hidden)) or "none"
        fix = f"e.g. {hidden[0]},{hidden[0]}" if hidden else "e.g. 64"
        raise ValueError(
            f"gru: hidden gives each GRU layer's size and all layers of a GRU have one size, "
            f"got {sizes}; pass one size per layer, all equal, {fix}"
        )
    if activation != "relu":
        raise ValueError(
            f"gru: activation {activation!r} does not apply to a GRU: its gates fix its "
            "nonlinearities (sigmoid gates, tanh candidate); leave it at the default"
        )
    features = shape[1] if len(shape) == 2 else 1
    return SequenceGRU(
        shape, features, hidden[0], out_features, num_layers=len(hidden), dropout=dropout,
        generator=generator,
    )  # fmt: skip


# The models `glassnet train --model NAME` can build. Every builder takes (input_shape,
# hidden, out_features, activation, dropout, generator), input_shape being one sample's
# shape, and raises ValueError naming the fix when the shape does not fit it.
MODELS: dict[str, Callable[..., Module]] = {
    "mlp": mlp,
    "cnn": cnn,
    "gru": gru_classifier,
}
