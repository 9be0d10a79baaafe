"""Recurrent cells: one time step of an RNN, a GRU and an LSTM, each one fused Function.

Every cell reads the step's input x (N, F) and the previous state h (N, H) through two
affine maps with PyTorch's weight layout (G gates stacked in the rows of each weight),

    gi = x W_ih^T + b_ih        gh = h W_hh^T + b_hh        G blocks of (N, H),

then mixes them elementwise. So every backward ends the same way: once the gradients of
the pre-activations are known (dgi for the x side, dgh for the h side), the affine maps give

    dx = dgi W_ih    dW_ih = dgi^T x    db_ih = sum_n dgi
    dh = dgh W_hh    dW_hh = dgh^T h    db_hh = sum_n dgh       (``_project_grads``).

A sequence is these cells applied step after step (``glassnet.nn.RNN``/``GRU``/``LSTM``), and
backprop through time is nothing more than the engine walking that unrolled chain back,
adding each step's dW into the weights' gradients. A cell is one node, not a dozen small
ones: per step that is one Python call instead of a matmul, an add, a slice and a sigmoid
each, which is where a small recurrent net spends its time.

Two choices for speed, both invisible from outside:
- The pre-activations are kept gate-major, (G, N, H), so that each gate is one contiguous
  block: NumPy's elementwise loops are several times slower on the column slices of an
  (N, G*H) array.
- Both projections sit inside the cell (rather than x W_ih^T for all steps at once, sliced
  per step) because a Function has one output: slicing step t out of a precomputed
  (L, N, G*H) array would send back a full-size, mostly-zero gradient per step, L^2 work.
"""

from __future__ import annotations

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.checks import require_float
from glassnet.ops.shape import stack


def _sigmoid_in_place(a: np.ndarray) -> np.ndarray:
    """a <- sigmoid(a) = (1 + tanh(a / 2)) / 2; returns a.

    The same function as 1 / (1 + e^-a), and as safe: tanh is bounded, so nothing
    overflows for any a. One transcendental call instead of the split form's exp, where and
    two divisions, and no new array: the fast path of every gate. Its error is ~1e-16
    absolute; tiny outputs (a < -37) lose their relative digits, which no gate can see: a
    gate only scales other values.
    """
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


def _project(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, gates: int) -> np.ndarray:
    """x W^T + b as (G, N, H): gate k's block is x W_k^T + b_k, W_k the k-th H rows of W."""
    w_t = w.reshape(gates, -1, w.shape[1]).transpose(0, 2, 1)  # (G, F, H), a view
    # with one input feature the product has one term: the broadcast is exact, and much
    # faster than BLAS, which is slow at inner size 1
    y = x * w_t if x.shape[1] == 1 else np.matmul(x, w_t)
    if b is not None:
        y += b.reshape(gates, 1, -1)
    return y


def _project_grads(
    needs: tuple[bool, ...], dy: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(dx, dW, db) of y = x W^T + b from dy (G, N, H), each only if ``needs`` says so."""
    gates, n, hidden = dy.shape
    dx = dy.transpose(1, 0, 2).reshape(n, gates * hidden) @ w if needs[0] else None
    dw = np.matmul(dy.transpose(0, 2, 1), x).reshape(w.shape) if needs[1] else None
    # the sum over the batch as a product with ones: one BLAS call, about 5x faster than
    # dy.sum(axis=1) for (3, 128, 64), and run once per time step
    db = (np.ones(n, dtype=dy.dtype) @ dy).reshape(-1) if needs[2] else None
    return dx, dw, db


def _cell_grads(needs, dgi, dgh, x, h, w_ih, w_hh):
    """The six gradients (x, h, W_ih, W_hh, b_ih, b_hh), in the forward's input order."""
    needs = tuple(needs) + (False,) * (6 - len(needs))  # biases left out: no gradient
    dx, dw_ih, db_ih = _project_grads(needs[0::2], dgi, x, w_ih)
    dh, dw_hh, db_hh = _project_grads(needs[1::2], dgh, h, w_hh)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


class RNNTanhCell(Function):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    With a = the pre-activation: dh'/da = 1 - h'^2 (tanh's derivative, from its output), so
    da = grad_h' (1 - h'^2), and dgi = dgh = da: both affine maps feed the same sum.
    """

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        a = _project(x, w_ih, b_ih, 1)
        a += _project(h, w_hh, b_hh, 1)
        h_new = np.tanh(a[0], out=a[0])
        ctx.save_for_backward(x, h, w_ih, w_hh, h_new)
        return h_new

    @staticmethod
    def backward(ctx, grad_h_new):
        x, h, w_ih, w_hh, h_new = ctx.saved_tensors
        da = (grad_h_new * (1 - h_new * h_new))[None]
        return _cell_grads(ctx.needs_input_grad, da, da, x, h, w_ih, w_hh)


class RNNReLUCell(Function):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh).

    da = grad_h' where h' > 0, else 0 (the kink at 0 gets 0, as ReLU's), and dgi = dgh = da.
    """

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        a = _project(x, w_ih, b_ih, 1)
        a += _project(h, w_hh, b_hh, 1)
        h_new = np.maximum(a[0], 0, out=a[0])
        ctx.save_for_backward(x, h, w_ih, w_hh, h_new)
        return h_new

    @staticmethod
    def backward(ctx, grad_h_new):
        x, h, w_ih, w_hh, h_new = ctx.saved_tensors
        da = (grad_h_new * (h_new > 0))[None]
        return _cell_grads(ctx.needs_input_grad, da, da, x, h, w_ih, w_hh)


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
        gi = _project(x, w_ih, b_ih, 3)
        gates = _project(h, w_hh, b_hh, 3)  # becomes [r, z, gh_n]: what backward needs
        gates[:2] += gi[:2]
        _sigmoid_in_place(gates[:2])
        r, z, gh_n = gates
        n = r * gh_n
        n += gi[2]
        np.tanh(n, out=n)
        h_new = h - n  # h' = n + z (h - n) = (1 - z) n + z h, one multiply fewer
        h_new *= z
        h_new += n
        ctx.save_for_backward(x, h, w_ih, w_hh, gates, n)
        return h_new

    @staticmethod
    def backward(ctx, grad_h_new):
        x, h, w_ih, w_hh, gates, n = ctx.saved_tensors
        r, z, gh_n = gates
        dgi = np.empty_like(gates)
        da_r, da_z, da_n = dgi
        np.multiply(n, n, out=da_n)
        np.subtract(1, da_n, out=da_n)
        da_n *= grad_h_new
        da_n *= 1 - z
        np.multiply(da_n, gh_n, out=da_r)
        np.subtract(h, n, out=da_z)
        da_z *= grad_h_new
        dgi[:2] *= gates[:2] * (1 - gates[:2])
        dgh = dgi.copy()
        dgh[2] *= r
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = _cell_grads(
            ctx.needs_input_grad, dgi, dgh, x, h, w_ih, w_hh
        )
        if dh is not None:
            dh += grad_h_new * z  # the direct path h -> z h -> h'
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh

    @staticmethod
    def emit(e, needs, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        """gn.compile: forward and backward above, line by line, into arrays made once.

        The h side's pre-activation gradient is laid out (N, 3, H) rather than gate-major,
        so that dh, dW_hh and db_hh are one matrix product each, with no copy between."""
        batch, hidden = h.shape
        features, dtype = x.shape[1], x.dtype
        w_x, w_h = (
            e.view(
                f"{w}.reshape(3, {hidden}, {w.shape[1]}).transpose(0, 2, 1)",
                (3, w.shape[1], hidden),
                w.dtype,
                f"{w.name}_gates",
            )
            for w in (w_ih, w_hh)
        )
        gi, gates = (e.new((3, batch, hidden), dtype, hint) for hint in ("gi", "gates"))
        new, y = e.new((batch, hidden), dtype, "n"), e.new((batch, hidden), dtype, "gru")
        r, z, gh_n, rz = f"{gates}[0]", f"{gates}[1]", f"{gates}[2]", f"{gates}[:2]"
        # one input feature: the product has one term, and a broadcast beats BLAS there
        product = "np.multiply" if features == 1 else "np.matmul"
        e.line(f"{product}({x}, {w_x}, out={gi})  # gi = x W_ih^T, gate-major: (3, N, H)")
        if b_ih is not None:
            e.line(f"np.add({gi}, {b_ih}.reshape(3, 1, {hidden}), out={gi})")
        e.line(f"np.matmul({h}, {w_h}, out={gates})  # gh = h W_hh^T")
        if b_hh is not None:
            e.line(f"np.add({gates}, {b_hh}.reshape(3, 1, {hidden}), out={gates})")
        e.line(f"np.add({rz}, {gi}[:2], out={rz})  # r and z: sigmoid(gi + gh)")
        e.line(f"np.multiply({rz}, 0.5, out={rz})  # sigmoid(a) = (1 + tanh(a / 2)) / 2")
        e.line(f"np.tanh({rz}, out={rz})")
        e.line(f"np.add({rz}, 1, out={rz})")
        e.line(f"np.multiply({rz}, 0.5, out={rz})")
        e.line(f"np.multiply({r}, {gh_n}, out={new})  # n = tanh(gi_n + r gh_n)")
        e.line(f"np.add({new}, {gi}[2], out={new})")
        e.line(f"np.tanh({new}, out={new})")
        e.line(f"np.subtract({h}, {new}, out={y})  # h' = n + z (h - n)")
        e.line(f"np.multiply({y}, {z}, out={y})")
        e.line(f"np.add({y}, {new}, out={y})")

        def backward(g):
            need = tuple(needs) + (False,) * (6 - len(needs))
            da = e.new((3, batch, hidden), dtype, "grad_gi")  # [da_r, da_z, da_n]
            scratch = e.new((2, batch, hidden), dtype, "scratch")
            e.line(f"np.multiply({new}, {new}, out={da}[2])")
            e.line(f"np.subtract(1, {da}[2], out={da}[2])  # tanh': 1 - n^2")
            e.line(f"np.multiply({da}[2], {g}, out={da}[2])")
            e.line(f"np.subtract(1, {z}, out={scratch}[0])")
            e.line(f"np.multiply({da}[2], {scratch}[0], out={da}[2])  # da_n = g (1 - z)(1 - n^2)")
            e.line(f"np.multiply({da}[2], {gh_n}, out={da}[0])  # dr = da_n gh_n")
            e.line(f"np.subtract({h}, {new}, out={da}[1])")
            e.line(f"np.multiply({da}[1], {g}, out={da}[1])  # dz = g (h - n)")
            e.line(f"np.subtract(1, {rz}, out={scratch})")
            e.line(f"np.multiply({scratch}, {rz}, out={scratch})  # sigmoid': s (1 - s)")
            e.line(f"np.multiply({da}[:2], {scratch}, out={da}[:2])  # da_r, da_z")
            grads = [None] * 6
            if need[0]:
                grads[0] = e.grad(x)
                flat = f"{da}.transpose(1, 0, 2).reshape({batch}, {3 * hidden})"
                e.line(f"np.matmul({flat}, {w_ih}, out={grads[0]})  # dx = dgi W_ih")
            if need[2]:
                grads[2] = e.grad(w_ih)
                per_gate = f"{grads[2]}.reshape(3, {hidden}, {features})"
                per_row = f"{da}.transpose(0, 2, 1)"
                e.line(f"np.matmul({per_row}, {x}, out={per_gate})  # dW_ih = dgi^T x")
            if need[4]:
                grads[4] = e.grad(b_ih)
                ones = e.ones(batch, dtype)
                e.line(f"np.matmul({ones}, {da}, out={grads[4]}.reshape(3, {hidden}))  # db_ih")
            if need[1] or need[3] or need[5]:
                dgh = e.new((batch, 3, hidden), dtype, "grad_gh")  # (N, 3, H): rows of dgh
                rows = f"{dgh}.reshape({batch}, {3 * hidden})"
                rz_rows = f"{da}[:2].transpose(1, 0, 2)"
                e.line(f"np.copyto({dgh}[:, :2], {rz_rows})  # dgh = dgi for r, z")
                e.line(f"np.multiply({da}[2], {r}, out={dgh}[:, 2])  # and da_n r for n")
            if need[1]:
                grads[1] = e.grad(h)
                e.line(f"np.matmul({rows}, {w_hh}, out={grads[1]})  # dh = dgh W_hh")
                e.line(f"np.multiply({g}, {z}, out={scratch}[0])")
                e.line(f"np.add({grads[1]}, {scratch}[0], out={grads[1]})  # + g z: h' = ... + z h")
            if need[3]:
                grads[3] = e.grad(w_hh)
                e.product(f"{rows}.T", str(h), grads[3], transposed=False, note="dW_hh = dgh^T h")
            if need[5]:
                grads[5] = e.grad(b_hh)
                e.line(f"np.matmul({e.ones(batch, dtype)}, {rows}, out={grads[5]})  # db_hh")
            return tuple(grads[: len(needs)])

        return y, backward


class LSTMCell(Function):
    """The LSTM step on the state s = (h, c) stacked (2, N, H), PyTorch's gate order i, f, g, o:

        i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)    g = tanh(a_g)
        c' = f * c + i * g                                     h' = o * tanh(c')

    with a = gi + gh (the two affine maps add). h and c travel as one array because a
    Function has one output; ``lstm_cell`` splits them for the user. Going back from
    grad_s' = (dh', dc'):

        dc = dc' + dh' o (1 - tanh(c')^2)      (c' reaches the loss directly and through h')
        do = dh' tanh(c')     di = dc g     dg = dc i     df = dc c     dc_prev = dc f
        da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)],  dgi = dgh = da.

    dc_prev = dc * f has no matrix product and no squashing derivative in it: with the
    forget gate near 1 the cell state carries the gradient back across many steps, which
    is why the LSTM remembers where a plain RNN's gradient vanishes.
    """

    @staticmethod
    def forward(ctx, x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        h, c = state
        gates = _project(x, w_ih, b_ih, 4)
        gates += _project(h, w_hh, b_hh, 4)
        _sigmoid_in_place(gates[:2])
        np.tanh(gates[2], out=gates[2])
        _sigmoid_in_place(gates[3])
        i, f, g, o = gates
        state_new = np.empty_like(gates, shape=state.shape)
        c_new = state_new[1]
        np.multiply(f, c, out=c_new)
        c_new += i * g
        tanh_c = np.tanh(c_new)
        np.multiply(o, tanh_c, out=state_new[0])
        ctx.save_for_backward(x, state, w_ih, w_hh, gates, tanh_c)
        return state_new

    @staticmethod
    def backward(ctx, grad_state_new):
        x, state, w_ih, w_hh, gates, tanh_c = ctx.saved_tensors
        h, c = state
        i, f, g, o = gates
        dh_new, dc_new = grad_state_new
        dc = 1 - tanh_c * tanh_c
        dc *= o
        dc *= dh_new
        dc += dc_new
        da = np.empty_like(gates)
        da_i, da_f, da_g, da_o = da
        np.multiply(dc, g, out=da_i)
        np.multiply(dc, c, out=da_f)
        np.multiply(dh_new, tanh_c, out=da_o)
        da[:2] *= gates[:2] * (1 - gates[:2])
        da_o *= o * (1 - o)
        np.multiply(g, g, out=da_g)
        np.subtract(1, da_g, out=da_g)
        da_g *= i
        da_g *= dc
        needs = ctx.needs_input_grad
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = _cell_grads(needs, da, da, x, h, w_ih, w_hh)
        dstate = None
        if needs[1]:
            dstate = np.empty_like(da, shape=state.shape)
            dstate[0] = dh
            np.multiply(dc, f, out=dstate[1])
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
    """Split an LSTM state (..., 2, N, H), h and c stacked, into (h, c)."""
    return state[..., 0, :, :], state[..., 1, :, :]


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
    return lstm_state(LSTMCell.apply(input, stack([h, c]), w_ih, w_hh, b_ih, b_hh))
