"""Backprop through time: how much gradient reaches each step of a sequence.

    python examples/09_gradient_through_time.py [out.png]

A plain RNN and an LSTM read the same 60-step sequence; the loss looks only at the last
hidden state. ``retain_grad()`` keeps dL/dh_t at every step, and its norm shows how the
gradient fades on its way back: through the RNN's tanh(W h) it shrinks by a roughly constant
factor per step (it vanishes), through the LSTM's cell state (c_{t-1} gets dc_t * f_t) it
survives while the forget gates stay open. With matplotlib (the optional ``plot`` extra)
the two curves are drawn to out.png (docs/recurrence_gradient_norm.png is this picture).
"""

from __future__ import annotations

import sys

import numpy as np

import glassnet as gn

STEPS, FEATURES, HIDDEN = 60, 4, 32
out = sys.argv[1] if len(sys.argv) > 1 else "recurrence_gradient_norm.png"


def gradient_norms(cell: gn.nn.Module, lstm: bool) -> np.ndarray:
    """||dL/dh_t|| for t = 0 .. STEPS-1, with L = sum(h_last)."""
    x = gn.tensor(np.random.default_rng(0).standard_normal((STEPS, 1, FEATURES)), dtype=np.float32)
    h = c = gn.zeros((1, HIDDEN))
    states = []
    for t in range(STEPS):
        if lstm:
            h, c = cell(x[t], (h, c))
        else:
            h = cell(x[t], h)
        h.retain_grad()  # an intermediate tensor: ask the engine to keep its gradient
        states.append(h)
    h.sum().backward()
    return np.array([np.linalg.norm(s.grad.data) for s in states])


rnn = gn.nn.RNNCell(FEATURES, HIDDEN, generator=np.random.default_rng(1))
lstm = gn.nn.LSTMCell(FEATURES, HIDDEN, generator=np.random.default_rng(1))
with gn.no_grad():
    # forget gates held open, f ~ sigmoid(3) ~ 0.95 (1 is the common init; 3 shows the effect)
    lstm.bias_hh[HIDDEN : 2 * HIDDEN] = 3.0
rnn_norms, lstm_norms = gradient_norms(rnn, False), gradient_norms(lstm, True)

print(" step   ||dL/dh_t|| RNN   ||dL/dh_t|| LSTM")
for t in range(STEPS - 1, -1, -10):
    print(f"{t:5d}   {rnn_norms[t]:15.3e}   {lstm_norms[t]:16.3e}")
# the check: 50 steps back, the RNN's gradient has vanished, the LSTM's has not
assert rnn_norms[9] / rnn_norms[-1] < 1e-6, rnn_norms
assert lstm_norms[9] / lstm_norms[-1] > 1e-2, lstm_norms

try:
    from glassnet._pyplot import pyplot

    plt = pyplot("the gradient plot")
except ImportError as error:
    print(f"{error}; skipping the plot")
else:
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.semilogy(rnn_norms, label="RNN (tanh): h_t = tanh(W_ih x_t + W_hh h_{t-1})")
    ax.semilogy(lstm_norms, label="LSTM: c_t = f_t c_{t-1} + i_t g_t")
    ax.set_xlabel("time step t (the loss reads the last step)")
    ax.set_ylabel("||dL/dh_t||")
    ax.set_title("Gradient flowing back through time")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")
