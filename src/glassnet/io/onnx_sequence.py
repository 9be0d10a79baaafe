"""ONNX emitters for recurrence and attention, and the shape ops their layers use.

A recurrent layer is traced unrolled: one fused cell op per time step and direction
(``glassnet.ops.rnn``), each emitted here as a few primitive nodes (Gemm, Split, Add,
Sigmoid, Tanh, Mul, Sub), not as ONNX's own RNN/GRU/LSTM ops, whose gate orders (z r h,
i o f c) and weight layouts differ from PyTorch's (r z n, i f g o). The file has a fixed
sequence length and a dynamic batch: the zero initial state the layer makes itself has
the traced batch size, so a cell that starts from it leaves the h side out (h W_hh^T is
then just b_hh) and every shape comes from the input.

Attention (``ScaledDotProductAttention``) is MatMul(Q, K^T), a scale, the mask added as a
constant (boolean and causal masks are already -inf / 0 numbers by then), Softmax over the
keys and MatMul with V; export runs in eval mode, so dropout is gone.
"""

from __future__ import annotations

import sys

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.io.onnx_ops import Builder, Op, UnsupportedOpError, emits
from glassnet.ops import attention, rnn, shape

# --- shapes: indexing, stacking, joining --------------------------------------------------


def _int64(values) -> np.ndarray:
    return np.asarray(values, np.int64)


def _unsqueeze(b: Builder, x: str, axes: list[int]) -> str:
    return b.node("Unsqueeze", [x, b.constant(_int64(axes), "axes")])


@emits(shape.GetItem)
def _getitem(b: Builder, op: Op) -> str:
    """Basic indexing (ints, slices, ``...``, None, one integer array): one Slice for the
    slices, a Gather per int (which drops that axis) or for the array, Unsqueeze for None.
    A slice that keeps a whole axis is left out, so the batch axis stays dynamic."""
    x, index = op.args[0], op.args[1]
    parts = list(index) if isinstance(index, tuple) else [index]
    named = sum(p is not None and p is not Ellipsis for p in parts)
    if Ellipsis in parts:
        at = parts.index(Ellipsis)
        parts[at : at + 1] = [slice(None)] * (x.ndim - named)
    parts += [slice(None)] * (x.ndim - sum(p is not None for p in parts))
    arrays = [p for p in parts if isinstance(p, (np.ndarray, list))]
    if len(arrays) > 1 or any(np.asarray(a).dtype == bool for a in arrays):
        raise UnsupportedOpError(
            f"ONNX export: {op.where} indexes with {index!r}; only ints, slices, ..., None and "
            "one integer array are exported; use index_select for the others"
        )
    starts, ends, axes, steps = [], [], [], []
    picks: list[tuple[int, object]] = []  # (input axis, int or array) for Gather
    new_axes: list[int] = []  # output positions of None
    dim, out_dim = 0, 0
    for p in parts:
        if p is None:
            new_axes.append(out_dim)
            out_dim += 1
            continue
        size = x.shape[dim]
        if isinstance(p, slice):
            start, stop, step = p.indices(size)
            if (start, stop, step) != (0, size, 1):
                if step < 0 and stop < 0:
                    stop = -sys.maxsize  # past the front: ONNX would read -1 as the last
                starts.append(start), ends.append(stop), axes.append(dim), steps.append(step)
            out_dim += 1
        else:
            picks.append((dim, p))
            out_dim += 0 if np.ndim(p) == 0 else 1
        dim += 1
    y = b.value(x)
    if axes:
        inputs = [y] + [b.constant(_int64(v), "slice") for v in (starts, ends, axes, steps)]
        y = b.node("Slice", inputs)
    for axis, p in reversed(picks):  # from the last axis, so earlier axis numbers hold
        y = b.node("Gather", [y, b.constant(_int64(p), "index")], axis=axis)
    return _unsqueeze(b, y, new_axes) if new_axes else y


def _traced(b: Builder, t: Tensor) -> bool:
    """Made by a recorded op, or the model's input, a parameter or a buffer."""
    name = b.names.get(id(t), b.names.get(id(t.data)))
    return name is not None and name not in b.folded


def _folded(b: Builder, op: Op) -> str:
    """An op on constants alone is a constant (LSTMCell stacks its own zero h and c)."""
    name = b.constant(op.out.data, "folded")
    b.folded.add(name)
    return name


@emits(shape.Stack)
def _stack(b: Builder, op: Op) -> str:
    if not any(_traced(b, x) for x in op.args):
        return _folded(b, op)
    dim = int(op.kwargs["dim"])
    return b.node("Concat", [_unsqueeze(b, b.value(x), [dim]) for x in op.args], axis=dim)


@emits(shape.Cat)
def _cat(b: Builder, op: Op) -> str:
    if not any(_traced(b, x) for x in op.args):
        return _folded(b, op)
    return b.node("Concat", [b.value(x) for x in op.args], axis=int(op.kwargs["dim"]))


# --- recurrent cells ----------------------------------------------------------------------


def _is_fresh_zeros(b: Builder, state: Tensor) -> bool:
    """A state no traced op made and no parameter holds, all zeros: the layer's own zero
    initial state, whose batch size is the traced one."""
    return not _traced(b, state) and not np.any(state.data)


def _gates(b: Builder, x: str | None, w: Tensor, bias: Tensor | None, gates: int) -> list:
    """x W^T + bias split into its ``gates`` blocks of (N, H); with x None (a zero state)
    only the bias remains, split the same way, or None for every gate without a bias."""
    if x is None:
        if bias is None:
            return [None] * gates
        y, axis = b.value(bias), 0
    else:
        inputs = [x, b.value(w)] + ([b.value(bias)] if bias is not None else [])
        y, axis = b.node("Gemm", inputs, transB=1), 1
    if gates == 1:
        return [y]
    names = [b.fresh("gate") for _ in range(gates)]
    sizes = b.constant(_int64([w.shape[0] // gates] * gates), "split")
    b.nodes.append(b.helper.make_node("Split", [y, sizes], names, axis=axis))
    return names


def _add(b: Builder, a: str, c: str | None) -> str:
    return a if c is None else b.node("Add", [a, c])


def _cell_inputs(b: Builder, op: Op, gates: int):
    """The x-side gate blocks, the state's ONNX name (None for a fresh zero state), w_hh
    and b_hh."""
    x, state, w_ih, w_hh, b_ih, b_hh = (list(op.args) + [None, None])[:6]
    gi = _gates(b, b.value(x), w_ih, b_ih, gates)
    return gi, None if _is_fresh_zeros(b, state) else b.value(state), w_hh, b_hh


@emits(rnn.RNNTanhCell, rnn.RNNReLUCell)
def _rnn_cell(b: Builder, op: Op) -> str:
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    gi, h, w_hh, b_hh = _cell_inputs(b, op, 1)
    (gh,) = _gates(b, h, w_hh, b_hh, 1)
    return b.node("Tanh" if op.fn is rnn.RNNTanhCell else "Relu", [_add(b, gi[0], gh)])


@emits(rnn.GRUCell)
def _gru_cell(b: Builder, op: Op) -> str:
    """r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z), n = tanh(gi_n + r gh_n),
    h' = n + z (h - n); with a zero h, h' = n - z n."""
    (gi_r, gi_z, gi_n), h, w_hh, b_hh = _cell_inputs(b, op, 3)
    gh_r, gh_z, gh_n = _gates(b, h, w_hh, b_hh, 3)
    r = b.node("Sigmoid", [_add(b, gi_r, gh_r)])
    z = b.node("Sigmoid", [_add(b, gi_z, gh_z)])
    n = b.node("Tanh", [gi_n if gh_n is None else b.node("Add", [gi_n, b.node("Mul", [r, gh_n])])])
    if h is None:
        return b.node("Sub", [n, b.node("Mul", [z, n])])
    return b.node("Add", [n, b.node("Mul", [z, b.node("Sub", [h, n])])])


@emits(rnn.LSTMCell)
def _lstm_cell(b: Builder, op: Op) -> str:
    """On the state (h, c) stacked (2, N, H): i, f, o = sigmoid, g = tanh of gi + gh,
    c' = f c + i g, h' = o tanh(c'); the result is (h', c') stacked again."""
    (gi_i, gi_f, gi_g, gi_o), s, w_hh, b_hh = _cell_inputs(b, op, 4)
    h = c = None
    if s is not None:
        h = b.node("Gather", [s, b.constant(np.int64(0), "index")], axis=0)
        c = b.node("Gather", [s, b.constant(np.int64(1), "index")], axis=0)
    gh_i, gh_f, gh_g, gh_o = _gates(b, h, w_hh, b_hh, 4)
    i = b.node("Sigmoid", [_add(b, gi_i, gh_i)])
    f = b.node("Sigmoid", [_add(b, gi_f, gh_f)])
    g = b.node("Tanh", [_add(b, gi_g, gh_g)])
    o = b.node("Sigmoid", [_add(b, gi_o, gh_o)])
    c_new = b.node("Mul", [i, g])
    if c is not None:
        c_new = b.node("Add", [b.node("Mul", [f, c]), c_new])
    h_new = b.node("Mul", [o, b.node("Tanh", [c_new])])
    return b.node("Concat", [_unsqueeze(b, h_new, [0]), _unsqueeze(b, c_new, [0])], axis=0)


# --- attention ----------------------------------------------------------------------------


@emits(attention.ScaledDotProductAttention)
def _attention(b: Builder, op: Op) -> str:
    """softmax(scale Q K^T + M) V. A query row whose every key is masked gets weights 0,
    as glassnet's (ONNX's Softmax would give 0/0 = NaN there)."""
    q, k, v, mask, keep = op.args[:5]
    if keep is not None:
        raise UnsupportedOpError(
            f"ONNX export: {op.where} applies attention dropout; export runs in eval mode, "
            "so this is F.scaled_dot_product_attention called with dropout_p > 0 directly; "
            "pass dropout_p=0.0 when not training"
        )
    perm = list(range(k.ndim))
    perm[-2], perm[-1] = perm[-1], perm[-2]
    k_t = b.node("Transpose", [b.value(k)], perm=perm)
    scores = b.node("MatMul", [b.value(q), k_t])
    scale = np.asarray(op.kwargs["scale"], q.dtype)
    scores = b.node("Mul", [scores, b.constant(scale, "scale")])
    if mask is not None:
        scores = b.node("Add", [scores, b.value(mask)])
    p = b.node("Softmax", [scores], axis=-1)
    data = mask.data if isinstance(mask, Tensor) else mask
    if mask is not None and np.isneginf(data).all(axis=-1).any():
        blind = b.constant(np.isneginf(data).all(axis=-1, keepdims=True), "blind")
        p = b.node("Where", [blind, b.constant(np.zeros((), q.dtype)), p])
    return b.node("MatMul", [p, b.value(v)])
