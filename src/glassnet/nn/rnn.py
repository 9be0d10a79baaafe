"""Recurrent layers with PyTorch's names, arguments, shapes and state_dict keys:
``RNN``, ``GRU``, ``LSTM`` (stacked, optionally bidirectional, over whole sequences).

A layer runs its cell (``glassnet.ops.rnn``) once per time step, each step a node of the
graph fed by the previous step's state. Backprop through time is the engine walking that
unrolled chain back from the last step to the first; nothing here is special to time.
The single-step ``*Cell`` modules are in ``glassnet.nn.rnn_cell``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from glassnet.autograd import function
from glassnet.autograd.device import check_device
from glassnet.autograd.tensor import Tensor, zeros_state
from glassnet.nn import functional as F
from glassnet.nn import init
from glassnet.nn.layers import _check_size, _empty
from glassnet.nn.module import Module
from glassnet.ops import rnn as cells
from glassnet.ops.shape import cat, getitem, stack

# mode -> (gates stacked in each weight, the cell Function)
_MODES = {
    "RNN_TANH": (1, cells.RNNTanhCell),
    "RNN_RELU": (1, cells.RNNReLUCell),
    "GRU": (3, cells.GRUCell),
    "LSTM": (4, cells.LSTMCell),
}


def _check_dtype(module: Module, x: Tensor, name: str = "input") -> None:
    """The input (or an initial state, ``name``) must have the weights' dtype: a float64
    tensor would silently upcast the whole recurrence."""
    dtype = module.weight_ih_l0.dtype if hasattr(module, "weight_ih_l0") else module.weight_ih.dtype
    if x.dtype != dtype:
        fix = ".float()" if dtype == np.float32 else f".to({np.dtype(dtype).name})"
        raise TypeError(
            f"{type(module).__name__}: {name} has dtype {x.dtype} but the weights are {dtype}; "
            f"convert the {name} with {fix} (or the module with dtype=... when built)"
        )


class RNNBase(Module):
    """What RNN, GRU and LSTM share: arguments, parameters, initialisation, the time loop.

    Parameters per layer k and direction (suffix ``_reverse`` for the backward one), as in
    PyTorch: ``weight_ih_l{k}`` (G*H, F_k), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}`` and
    ``bias_hh_l{k}`` (G*H,), with G gates stacked (1 RNN, 3 GRU: r z n, 4 LSTM: i f g o) and
    F_0 = input_size, F_k = D * hidden_size above (D = 2 when bidirectional).
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        self.mode = mode
        _check_size(layer, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers = int(num_layers)
        if isinstance(dropout, bool) or not 0.0 <= float(dropout) <= 1.0:
            raise ValueError(f"{layer}: dropout must be a probability in [0, 1], got {dropout!r}")
        if float(dropout) > 0 and self.num_layers == 1:  # as PyTorch warns
            warnings.warn(
                f"{layer}: dropout is applied between recurrent layers, so dropout={dropout} "
                f"does nothing with num_layers=1; use num_layers > 1 or put a Dropout after "
                "the layer",
                UserWarning,
                stacklevel=3,
            )
        if proj_size != 0:
            raise NotImplementedError(
                f"{layer}: proj_size={proj_size} (LSTM with projections) is not implemented; "
                "use proj_size=0 and put a Linear(hidden_size, proj_size) after the LSTM"
            )
        check_device(device)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size = 0
        self.generator = generator  # for the dropout between layers
        gates, self._cell = _MODES[mode]
        directions = 2 if self.bidirectional else 1
        for k in range(self.num_layers):
            features = self.input_size if k == 0 else directions * self.hidden_size
            for suffix in ("", "_reverse")[:directions]:
                shapes = {
                    "weight_ih": (gates * hidden_size, features),
                    "weight_hh": (gates * hidden_size, hidden_size),
                }
                if self.bias:
                    shapes |= {"bias_ih": (gates * hidden_size,), "bias_hh": (gates * hidden_size,)}
                for name, shape in shapes.items():
                    setattr(self, f"{name}_l{k}{suffix}", _empty(shape, dtype))
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's default: every weight and bias from U(-1/sqrt(H), 1/sqrt(H)), which
        keeps each gate's pre-activation of order 1 whatever the hidden size."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def _weights(self, k: int, suffix: str) -> tuple:
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return tuple(getattr(self, f"{n}_l{k}{suffix}", None) for n in names)

    def flatten_parameters(self) -> None:
        """Nothing to do: PyTorch packs the weights into one buffer for cuDNN; glassnet's
        weights are separate NumPy arrays already used as they are. Kept so code written
        for PyTorch runs unchanged."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    def _check_input(self, x: Tensor) -> bool:
        """Raise unless x is (L, N, F) / (N, L, F) with batch_first, or unbatched (L, F)."""
        layout = "(N, L, F)" if self.batch_first else "(L, N, F)"
        if not isinstance(x, Tensor) or x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            got = x.shape if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"{type(self).__name__}({self.input_size} -> {self.hidden_size}) expects input "
                f"{layout} or unbatched (L, F) with F = input_size = {self.input_size}, got "
                f"{got}; features go last (a sequence of scalars is (..., L, 1): unsqueeze(-1))"
            )
        _check_dtype(self, x)
        time_dim = 1 if x.ndim == 3 and self.batch_first else 0
        if x.shape[time_dim] == 0:
            raise ValueError(
                f"{type(self).__name__}: expected sequence length to be larger than 0, got "
                f"input of shape {x.shape} (the sequence is dimension {time_dim}); "
                "drop empty sequences before the layer"
            )
        return x.ndim == 3

    def _check_state(self, h: Tensor, batch: int | None, name: str) -> None:
        rows = self.num_layers * (2 if self.bidirectional else 1)
        expected = (rows, self.hidden_size) if batch is None else (rows, batch, self.hidden_size)
        if not isinstance(h, Tensor) or h.shape != expected:
            got = h.shape if isinstance(h, Tensor) else type(h).__name__
            raise ValueError(
                f"{type(self).__name__}: {name} must have shape {expected} (num_layers * "
                f"num_directions, {'N, ' if batch is not None else ''}hidden_size), got {got}; "
                "batch_first does not apply to the states"
            )
        _check_dtype(self, h, name)

    def _steps(self, x: Tensor, time_dim: int) -> list[Tensor]:
        """The input at each step. Data that needs no gradient is sliced as plain arrays:
        one graph node fewer per step (unless an op tracer, such as ONNX export, must see
        where each step's input comes from)."""
        lead = (slice(None),) * time_dim
        if not x.requires_grad and not function.tracers:
            return [Tensor._make(x.data[(*lead, t)]) for t in range(x.shape[time_dim])]
        return [getitem(x, (*lead, t)) for t in range(x.shape[time_dim])]

    def _run(self, x: Tensor, h0: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """Every layer over every step. ``h0``: one initial state per (layer, direction),
        (N, H), or (2, N, H) = (h, c) stacked for the LSTM. Returns the last layer's outputs
        (L, N, D*H) and the final states, in h0's order."""
        directions = 2 if self.bidirectional else 1
        inputs = self._steps(x, 1 if self.batch_first else 0)
        finals: list[Tensor] = []
        per_direction: list[list[Tensor]] = []
        for k in range(self.num_layers):
            if k > 0 and self.dropout > 0 and self.training:
                inputs = [F.dropout(s, self.dropout, True, self.generator) for s in inputs]
            per_direction = []
            for d, suffix in enumerate(("", "_reverse")[:directions]):
                weights = self._weights(k, suffix)
                state, outputs = h0[k * directions + d], []
                order = range(len(inputs)) if d == 0 else range(len(inputs) - 1, -1, -1)
                for t in order:
                    state = self._cell.apply(inputs[t], state, *weights)
                    outputs.append(state)
                finals.append(state)
                if d == 1:
                    outputs.reverse()
                if self.mode == "LSTM":  # the layer's output is h, the first of (h, c)
                    outputs = [getitem(s, 0) for s in outputs]
                per_direction.append(outputs)
            if directions == 1:
                inputs = per_direction[0]
            elif k < self.num_layers - 1:
                inputs = [cat(pair, dim=1) for pair in zip(*per_direction)]
        time_dim = 1 if self.batch_first else 0
        if directions == 1:
            return stack(per_direction[0], dim=time_dim), finals
        both = [stack(outputs, dim=time_dim) for outputs in per_direction]
        return cat(both, dim=2), finals

    def _initial(self, hx: Tensor | None, x: Tensor, batch: int) -> list[Tensor]:
        """One (N, H) initial state per (layer, direction), zeros when hx is None."""
        rows = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return [zeros_state((batch, self.hidden_size), x.dtype)] * rows
        return [getitem(hx, i) for i in range(rows)]


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked
    ``num_layers`` deep, each layer reading the one below's outputs.

    forward(input, h_0=None) -> (output, h_n): input (L, N, F) ((N, L, F) with batch_first,
    or unbatched (L, F)); h_0 and h_n (num_layers * D, N, H); output (L, N, D * H), the last
    layer's h_t at every step (both directions concatenated when bidirectional).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype, generator=generator,
        )  # fmt: skip
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        return _forward_single_state(self, input, hx)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates r, z, n:

        r_t = sigmoid(W_ir x_t + b_ir + W_hr h + b_hr)    z_t = sigmoid(W_iz x_t + ... )
        n_t = tanh(W_in x_t + b_in + r_t * (W_hn h + b_hn))    h_t = (1 - z_t) n_t + z_t h

    Arguments, shapes and return values as ``RNN`` (without ``nonlinearity``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype, generator=generator,
        )  # fmt: skip

    def forward(self, input: Tensor, hx: Tensor | None = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        return _forward_single_state(self, input, hx)


def _forward_single_state(module: RNNBase, x: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor]:
    batched = module._check_input(x)
    batch_dim = 0 if module.batch_first else 1
    if not batched:
        x = x.unsqueeze(batch_dim)
    batch = x.shape[batch_dim]
    if hx is not None:
        module._check_state(hx, batch if batched else None, "h_0")
        if not batched:
            hx = hx.unsqueeze(1)
    output, finals = module._run(x, module._initial(hx, x, batch))
    h_n = stack(finals, dim=0)
    if not batched:
        return output.squeeze(batch_dim), h_n.squeeze(1)
    return output, h_n


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates i, f, g, o:

        i, f, o = sigmoid(W_i* x_t + b_i* + W_h* h + b_h*)    g = tanh(W_ig x_t + ... )
        c_t = f * c_{t-1} + i * g                             h_t = o * tanh(c_t)

    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)), shapes as ``RNN``; c is the cell
    state, which carries the gradient back through the f * c path.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device, dtype, generator=generator,
        )  # fmt: skip

    def forward(
        self,
        input: Tensor,  # noqa: A002 - PyTorch's name
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        batched = self._check_input(input)
        batch_dim = 0 if self.batch_first else 1
        x = input if batched else input.unsqueeze(batch_dim)
        batch = x.shape[batch_dim]
        if hx is None:
            zeros = zeros_state((2, batch, self.hidden_size), x.dtype)
            states = [zeros] * self.num_layers * (2 if self.bidirectional else 1)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError(
                    f"LSTM: hx must be the pair (h_0, c_0), got {type(hx).__name__}; "
                    "pass (h_0, c_0) or leave it out for zeros"
                )
            h0, c0 = hx
            for name, s in (("h_0", h0), ("c_0", c0)):
                self._check_state(s, batch if batched else None, name)
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            states = [stack([h0[i], c0[i]]) for i in range(h0.shape[0])]
        output, finals = self._run(x, states)
        both = stack(finals, dim=0)  # (layers * D, 2, N, H): (h, c) per row
        h_n, c_n = cells.lstm_state(both)
        if not batched:
            return output.squeeze(batch_dim), (h_n.squeeze(1), c_n.squeeze(1))
        return output, (h_n, c_n)
