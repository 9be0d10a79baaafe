"""Single-step recurrent modules with PyTorch's names and parameters: ``RNNCell``,
``GRUCell``, ``LSTMCell``. Each owns ``weight_ih`` (G*H, F), ``weight_hh`` (G*H, H),
``bias_ih`` and ``bias_hh`` (G*H,) and calls one fused cell of ``glassnet.ops.rnn``; the
user writes the loop over time."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.autograd.device import check_device
from glassnet.autograd.tensor import Tensor
from glassnet.nn import init
from glassnet.nn.layers import _check_size, _empty
from glassnet.nn.module import Module
from glassnet.nn.rnn import _check_dtype
from glassnet.ops import rnn as cells


class RNNCellBase(Module):
    """What the three cells share: parameters, initialisation, shape checks, repr."""

    _gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        _check_size(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        check_device(device)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        rows = self._gates * self.hidden_size
        self.weight_ih = _empty((rows, self.input_size), dtype)
        self.weight_hh = _empty((rows, self.hidden_size), dtype)
        for name in ("bias_ih", "bias_hh"):
            self.register_parameter(name, _empty((rows,), dtype) if bias else None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """PyTorch's default: everything from U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, x: Tensor, hx: Tensor | None, name: str = "hx") -> tuple[Tensor, Tensor]:
        """(x, hx) as (N, F), (N, H): a 1-D input is one unbatched sample; hx defaults to 0."""
        layer = f"{type(self).__name__}({self.input_size} -> {self.hidden_size})"
        if not isinstance(x, Tensor) or x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            got = x.shape if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(
                f"{layer} expects input (N, {self.input_size}) or ({self.input_size},), got "
                f"{got}; a cell takes one time step: loop over the sequence, or use the "
                "whole-sequence layer (RNN, GRU, LSTM)"
            )
        _check_dtype(self, x)
        batched = x.ndim == 2
        expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if hx is None:
            hx = Tensor._make(np.zeros(expected, dtype=x.dtype))
        elif not isinstance(hx, Tensor) or hx.shape != expected:
            got = hx.shape if isinstance(hx, Tensor) else type(hx).__name__
            raise ValueError(f"{layer}: {name} must have shape {expected}, got {got}")
        else:
            _check_dtype(self, hx, name)
        return (x, hx) if batched else (x.unsqueeze(0), hx.unsqueeze(0))

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu); forward(input, hx=None) -> h'."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
        *,
        generator: np.random.Generator | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        super().__init__(input_size, hidden_size, bias, device, dtype, generator=generator)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h = self._prepare(input, hx)
        cell = cells.RNNTanhCell if self.nonlinearity == "tanh" else cells.RNNReLUCell
        out = cell.apply(x, h, *self._weights())
        return out if input.ndim == 2 else out.squeeze(0)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n; see ``glassnet.ops.rnn.GRUCell``); forward(input, hx=None)."""

    _gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h = self._prepare(input, hx)
        out = cells.GRUCell.apply(x, h, *self._weights())
        return out if input.ndim == 2 else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o); forward(input, (h, c)=None) -> (h', c')."""

    _gates = 4

    def forward(
        self,
        input: Tensor,  # noqa: A002 - PyTorch's name
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        h, c = (None, None) if hx is None else hx
        x, h = self._prepare(input, h, "h")
        _, c = self._prepare(input, c, "c")
        h_new, c_new = cells.lstm_cell(x, (h, c), *self._weights())
        if input.ndim == 1:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new
