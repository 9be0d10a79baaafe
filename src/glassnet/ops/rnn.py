"""Recurrent cells: one time step of an RNN, a GRU and an LSTM, each one fused Function.

Every cell reads the step's input x (N, F) and the previous state h (N, H) through two
affine maps with PyTorch's weight layout,

    gi = x W_ih^T + b_ih        gh = h W_hh^T + b_hh        (N, G*H), G gates stacked,

then mixes them elementwise. So every backward ends the same way: once the gradients of
the pre-activations are known (dgi for the x side, dgh for the h side), the affine maps give

    dx = dgi W_ih    dW_ih = dgi^T x    db_ih = sum_n dgi
    dh = dgh W_hh    dW_hh = dgh^T h    db_hh = sum_n dgh       (``_affine_grads``).

A sequence is these cells applied step after step (``glassnet.nn.RNN``/``GRU``/``LSTM``), and
backprop through time is nothing more than the engine walking that unrolled chain back,
adding each step's dW into the weights' gradients. A cell is one node, not a dozen small
ones: per step that is one Python call instead of a matmul, an add, a slice and a sigmoid
each, which is where a small recurrent net spends its time.

Both projections sit inside the cell (rather than x W_ih^T for all steps at once, sliced per
step) because a Function has one output: slicing step t out of a precomputed (L, N, G*H)
array would send back a full-size, mostly-zero gradient per step, L^2 work in all.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.activation import stable_sigmoid
from glassnet.ops.checks import require_float
from glassnet.ops.shape import cat


def _affine(x, w, b):
    """x W^T + b, the bias left out when there is none."""
    y = x @ w.T
    if b is not None:
        y += b
    return y


def _affine_grads(needs, dgi, dgh, x, h, w_ih, w_hh, dh_extra=None):
    """(dx, dh, dW_ih, dW_hh, db_ih, db_hh) from the pre-activation gradients, each only if
    asked for; ``dh_extra`` is a gradient that reaches h directly (the GRU's z * h path)."""
    dx = dgi @ w_ih if needs[0] else None
    dh = None
    if needs[1]:
        dh = dgh @ w_hh
        if dh_extra is not None:
            dh += dh_extra
    dw_ih = dgi.T @ x if needs[2] else None
    dw_hh = dgh.T @ h if needs[3] else None
    db_ih = dgi.sum(axis=0) if len(needs) > 4 and needs[4] else None
    db_hh = dgh.sum(axis=0) if len(needs) > 5 and needs[5] else None
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


class RNNTanhCell(Function):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    With a = the pre-activation: dh'/da = 1 - h'^2 (tanh's derivative, from its output), so
    da = grad_h' (1 - h'^2), and dgi = dgh = da: both affine maps feed the same sum.
    """

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        h_new = np.tanh(_affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh))
        ctx.save_for_backward(x, h, w_ih, w_hh, h_new)
        return h_new

    @staticmethod
    def backward(ctx, grad_h_new):
        x, h, w_ih, w_hh, h_new = ctx.saved_tensors
        da = grad_h_new * (1 - h_new * h_new)
        return _affine_grads(ctx.needs_input_grad, da, da, x, h, w_ih, w_hh)


class RNNReLUCell(Function):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).

    da = grad_h' where h' > 0, else 0 (the kink at 0 gets 0, as ReLU's), and dgi = dgh = da.
    """

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        h_new = np.maximum(_affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh), 0)
        ctx.save_for_backward(x, h, w_ih, w_hh, h_new)
        return h_new

    @staticmethod
    def backward(ctx, grad_h_new):
        x, h, w_ih, w_hh, h_new = ctx.saved_tensors
        da = grad_h_new * (h_new > 0)
        return _affine_grads(ctx.needs_input_grad, da, da, x, h, w_ih, w_hh)


class GRUCell(Function):
    """The GRU step, PyTorch's gate order r, z, n (reset, update, new):

        r = sigmoid(gi_r + gh_r)        z = sigmoid(gi_z + gh_z)
        n = tanh(gi_n + r * gh_n)       h' = (1 - z) * n + z * h

    The reset gate multiplies gh_n = h W_hn^T + b_hn *after* the matrix product (PyTorch's
    and cuDNN's form), so the h side of n differs from its x side. Going back from grad_h':

        dn = grad_h' (1 - z)            dz = grad_h' (h - n)        (h' is linear in n, z)
        da_n = dn (1 - n^2)             (tanh)
        dr = da_n * gh_n                (the product r * gh_n)
        da_r = dr r (1 - r)             da_z = dz z (1 - z)          (sigmoid)

    so dgi = [da_r, da_z, da_n] and dgh = [da_r, da_z, da_n * r]; and h also reaches h'
    directly through z * h, which adds grad_h' z to dh. When z is near 1 that direct path
    passes the gradient back almost unchanged: the GRU's answer to vanishing gradients.
    """

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        gi = _affine(x, w_ih, b_ih)
        gh = _affine(h, w_hh, b_hh)
        hidden = h.shape[1]
        rz = stable_sigmoid(gi[:, : 2 * hidden] + gh[:, : 2 * hidden])
        r, z = rz[:, :hidden], rz[:, hidden:]
        gh_n = gh[:, 2 * hidden :]
        n = np.tanh(gi[:, 2 * hidden :] + r * gh_n)
        h_new = n + z * (h - n)  # = (1 - z) n + z h, one multiply fewer
        ctx.save_for_backward(x, h, w_ih, w_hh, rz, n, gh_n)
        return h_new

    @staticmethod
    def backward(ctx, grad_h_new):
        x, h, w_ih, w_hh, rz, n, gh_n = ctx.saved_tensors
        hidden = h.shape[1]
        r, z = rz[:, :hidden], rz[:, hidden:]
        dgi = np.empty_like(rz, shape=(rz.shape[0], 3 * hidden))
        da_n = grad_h_new * (1 - z) * (1 - n * n)
        dgi[:, :hidden] = da_n * gh_n
        dgi[:, hidden : 2 * hidden] = grad_h_new * (h - n)
        dgi[:, : 2 * hidden] *= rz * (1 - rz)
        dgi[:, 2 * hidden :] = da_n
        dgh = dgi.copy()
        dgh[:, 2 * hidden :] *= r
        return _affine_grads(
            ctx.needs_input_grad, dgi, dgh, x, h, w_ih, w_hh, dh_extra=grad_h_new * z
        )


class LSTMCell(Function):
    """The LSTM step on the state s = [h | c] (N, 2H), PyTorch's gate order i, f, g, o:

        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)    g = tanh(a_g)
        c' = f * c + i * g                                     h' = o * tanh(c')

    with a = gi + gh (the two affine maps add). h and c travel as one array because a
    Function has one output; ``lstm_cell`` splits them for the user. Going back from
    grad_s' = [dh' | dc']:

        dc = dc' + dh' o (1 - tanh(c')^2)      (c' reaches the loss directly and through h')
        do = dh' tanh(c')     di = dc g     dg = dc i     df = dc c     dc_prev = dc f
        da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)],  dgi = dgh = da.

    dc_prev = dc * f has no matrix product and no squashing derivative in it: with the
    forget gate near 1 the cell state carries the gradient back across many steps, which
    is why the LSTM remembers where a plain RNN's gradient vanishes.
    """

    @staticmethod
    def forward(ctx, x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        hidden = state.shape[1] // 2
        h, c = state[:, :hidden], state[:, hidden:]
        gates = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        sig = stable_sigmoid(gates)  # all four columns blocks: g's is unused, but no copy
        g = np.tanh(gates[:, 2 * hidden : 3 * hidden])
        i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
        state_new = np.empty_like(state)
        c_new = state_new[:, hidden:]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        tanh_c = np.tanh(c_new)
        np.multiply(o, tanh_c, out=state_new[:, :hidden])
        ctx.save_for_backward(x, state, w_ih, w_hh, sig, g, tanh_c)
        return state_new

    @staticmethod
    def backward(ctx, grad_state_new):
        x, state, w_ih, w_hh, sig, g, tanh_c = ctx.saved_tensors
        hidden = state.shape[1] // 2
        h, c = state[:, :hidden], state[:, hidden:]
        i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
        dh_new, dc_new = grad_state_new[:, :hidden], grad_state_new[:, hidden:]
        dc = dc_new + dh_new * o * (1 - tanh_c * tanh_c)
        da = np.empty_like(sig)
        da[:, :hidden] = dc * g
        da[:, hidden : 2 * hidden] = dc * c
        da[:, 3 * hidden :] = dh_new * tanh_c
        da[:, 2 * hidden : 3 * hidden] = dc * i * (1 - g * g)
        d_sig = sig * (1 - sig)
        da[:, : 2 * hidden] *= d_sig[:, : 2 * hidden]
        da[:, 3 * hidden :] *= d_sig[:, 3 * hidden :]
        needs = ctx.needs_input_grad
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = _affine_grads(needs, da, da, x, h, w_ih, w_hh)
        dstate = None
        if needs[1]:
            dstate = np.empty_like(grad_state_new)
            dstate[:, :hidden] = dh
            np.multiply(dc, f, out=dstate[:, hidden:])
        return dx, dstate, dw_ih, dw_hh, db_ih, db_hh


def _check(name: str, x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, gates: int) -> None:
    """Shapes of one cell call: x (N, F), h (N, H), w_ih (G*H, F), w_hh (G*H, H)."""
    for t in (x, h, w_ih, w_hh):
        require_float(t, name)
    hidden = w_hh.shape[-1] if w_hh.ndim == 2 else -1
    expected = (gates * hidden, x.shape[-1]), (gates * hidden, hidden)
    if (
        x.ndim != 2
        or h.ndim != 2
        or (w_ih.shape, w_hh.shape) != expected
        or h.shape != (x.shape[0], hidden)
    ):
        raise ValueError(
            f"{name}: expects input (N, F), hx (N, H), w_ih ({gates}*H, F), w_hh ({gates}*H, H); "
            f"got input {x.shape}, hx {h.shape}, w_ih {w_ih.shape}, w_hh {w_hh.shape}; "
            "add the batch dimension with unsqueeze(0) for a single sample"
        )


def rnn_tanh_cell(
    input: Tensor,  # noqa: A002 - PyTorch's name
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One Elman RNN step, tanh(input w_ih^T + b_ih + hx w_hh^T + b_hh), as ``torch.rnn_tanh_cell``.

    Args:
        input: (N, F). hx: (N, H). w_ih: (H, F). w_hh: (H, H). b_ih, b_hh: (H,) or None.

    Returns:
        The next hidden state (N, H).
    """
    _check("rnn_tanh_cell", input, hx, w_ih, w_hh, 1)
    return RNNTanhCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(
    input: Tensor,  # noqa: A002 - PyTorch's name
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One RNN step with ReLU, relu(input w_ih^T + b_ih + hx w_hh^T + b_hh)
    (``torch.rnn_relu_cell``); shapes as ``rnn_tanh_cell``."""
    _check("rnn_relu_cell", input, hx, w_ih, w_hh, 1)
    return RNNReLUCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(
    input: Tensor,  # noqa: A002 - PyTorch's name
    hx: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> Tensor:
    """One GRU step (``torch.gru_cell``), gates r, z, n stacked in w_ih (3H, F), w_hh (3H, H).

    Returns:
        The next hidden state (N, H).
    """
    _check("gru_cell", input, hx, w_ih, w_hh, 3)
    return GRUCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_state(state: Tensor) -> tuple[Tensor, Tensor]:
    """Split an LSTM state [h | c] (N, 2H) into (h, c)."""
    hidden = state.shape[-1] // 2
    return state[..., :hidden], state[..., hidden:]


def lstm_cell(
    input: Tensor,  # noqa: A002 - PyTorch's name
    hx: tuple[Tensor, Tensor],
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One LSTM step (``torch.lstm_cell``), gates i, f, g, o stacked in w_ih (4H, F), w_hh (4H, H).

    Args:
        input: (N, F). hx: the pair (h, c), each (N, H).

    Returns:
        The pair (h', c'), each (N, H).
    """
    h, c = hx
    _check("lstm_cell", input, h, w_ih, w_hh, 4)
    if c.shape != h.shape:
        raise ValueError(f"lstm_cell: c must have h's shape {h.shape}, got {c.shape}")
    return lstm_state(LSTMCell.apply(input, cat([h, c], dim=1), w_ih, w_hh, b_ih, b_hh))
