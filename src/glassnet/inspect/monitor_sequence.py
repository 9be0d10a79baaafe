"""What the Monitor reads inside recurrent and attention layers.

A gated cell learns through its gates' sigmoids and its candidate's tanh; a gate whose
pre-activation sits far out on a flat end (|a| > 4.6, where sigmoid is below 0.01 or above
0.99; |a| > 2.65 for tanh, beyond 0.99) passes back almost no gradient. ``GateWatch``
collects every cell call a layer makes during one forward pass (each layer and direction,
each step: the step's input x and previous state h, as the op received them) and then
recomputes the pre-activations in one matrix product per weight,

    a = x W_ih^T + b_ih + h W_hh^T + b_hh          (the GRU's candidate: gi_n + r * gh_n),

counting per gate the fraction beyond its threshold. An attention layer's rows of weights
are summarised per head by their entropy, -sum_j p_j log p_j (log S when spread evenly over
S keys, 0 on a single key), and the fraction of nearly one-hot rows (max weight > 0.99),
whose softmax is saturated: the gradient through such a row is close to 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd import function
from glassnet.nn.attention import MultiheadAttention
from glassnet.nn.rnn import GRU, LSTM
from glassnet.nn.rnn_cell import GRUCell, LSTMCell
from glassnet.ops import activation, attention, rnn

SIGMOID_SATURATION = 4.6  # sigmoid(4.6) = 0.990
TANH_SATURATION = 2.65  # tanh(2.65) = 0.990
ONE_HOT = 0.99

# layer -> (cell op, gate names in the weights' order, which are tanh, the gate warned about)
GATED = {
    GRU: (rnn.GRUCell, ("r", "z", "n"), ("n",), "z"),
    GRUCell: (rnn.GRUCell, ("r", "z", "n"), ("n",), "z"),
    LSTM: (rnn.LSTMCell, ("i", "f", "g", "o"), ("g",), "i"),
    LSTMCell: (rnn.LSTMCell, ("i", "f", "g", "o"), ("g",), "i"),
}
GATE_WORDS = {"z": "update gates (z)", "i": "input gates (i)"}


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # bounded for any a: nothing overflows


class OpWatch:
    """Between a layer's forward pre-hook and its forward hook, collect the ops of some
    types that run (``Function.tracers``); the forward hook takes them out again."""

    def __init__(self, kinds: tuple[type, ...]) -> None:
        self.kinds = kinds
        self.calls: list[tuple[type, tuple, dict, Any]] = []

    def __call__(self, fn: type, args: tuple, kwargs: dict, out: Any) -> None:
        if fn in self.kinds:
            self.calls.append((fn, args, kwargs, out))

    def start(self) -> None:
        self.calls = []
        if self not in function.tracers:  # still there if the last forward raised
            function.tracers.append(self)

    def stop(self) -> list:
        if self in function.tracers:
            function.tracers.remove(self)
        return self.calls


def gate_saturation(module: Any, calls: list) -> dict[str, float]:
    """Per gate, the fraction of its pre-activations beyond the flat-end threshold, over
    every (layer, direction, step, sample, unit) of one forward pass."""
    _, names, tanh_gates, _ = GATED[type(module)]
    by_weight: dict[int, list] = {}
    for _, args, _, _ in calls:
        by_weight.setdefault(id(args[2]), []).append(args)
    beyond = dict.fromkeys(names, 0)
    total = 0
    for group in by_weight.values():
        w_ih, w_hh, b_ih, b_hh = (a.data if a is not None else None for a in group[0][2:6])
        x = np.concatenate([a[0].data for a in group])
        h = np.concatenate([a[1].data[0] if a[1].ndim == 3 else a[1].data for a in group])
        gi, gh = x @ w_ih.T, h @ w_hh.T
        if b_ih is not None:
            gi, gh = gi + b_ih, gh + b_hh
        blocks_i, blocks_h = np.split(gi, len(names), 1), np.split(gh, len(names), 1)
        pre = dict(zip(names, (a + b for a, b in zip(blocks_i, blocks_h))))
        if names[2] == "n":  # the GRU's reset gate scales the h side of the candidate
            pre["n"] = blocks_i[2] + _sigmoid(pre["r"]) * blocks_h[2]
        for g in names:
            limit = TANH_SATURATION if g in tanh_gates else SIGMOID_SATURATION
            beyond[g] += int((np.abs(pre[g]) > limit).sum())
        total += pre[names[0]].size
    return {g: beyond[g] / max(total, 1) for g in names}


def attention_weights(calls: list) -> np.ndarray | None:
    """The attention weights (N, heads, L, S) of the layer's one attention: the softmax's
    output, or recomputed from the fused op's Q, K and mask (before any dropout)."""
    for fn, args, kwargs, out in calls:
        if fn is activation.Softmax:
            return out.data
        if fn is attention.ScaledDotProductAttention:
            q, k, mask = args[0].data, args[1].data, args[3]
            mask = getattr(mask, "data", mask)  # a float mask may be a Tensor
            scores = q @ np.swapaxes(k, -1, -2) * kwargs["scale"]
            if mask is not None:
                scores = scores + mask
            return attention._safe_softmax(scores)
    return None


def head_statistics(p: np.ndarray) -> dict[str, float]:
    """Per head h: ``entropy h`` (mean over rows, nats) and ``one-hot h`` (the fraction of
    rows whose largest weight is above 0.99). Rows that attend nowhere (all keys masked)
    are left out."""
    stats = {}
    live = np.abs(p.sum(axis=-1) - 1) < 1e-3  # (N, heads, L); NaN rows fail too
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0.0)
    entropy = -plogp.sum(axis=-1)
    one_hot = p.max(axis=-1) > ONE_HOT
    for h in range(p.shape[1]):
        rows = live[:, h]
        count = max(int(rows.sum()), 1)
        stats[f"entropy h{h}"] = float(entropy[:, h][rows].sum() / count)
        stats[f"one-hot h{h}"] = float(one_hot[:, h][rows].sum() / count)
    return stats


WATCHES = {
    **{layer: (op,) for layer, (op, *_) in GATED.items()},
    MultiheadAttention: (activation.Softmax, attention.ScaledDotProductAttention),
}
