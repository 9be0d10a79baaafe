"""The see-through tools on recurrent and attention layers: the Monitor's saturated gates
and attention-head statistics counted against NumPy by hand (the GRU, the LSTM and the
heads written out, weights forced into saturation), and trace showing the cell and
attention nodes with their shapes."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

nn = gn.nn


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def _gates_by_hand(kind, x, layers):
    """Run a stacked GRU/LSTM (batch_first, unidirectional) in NumPy; returns, per gate,
    how many pre-activations are beyond saturation, and how many there are per gate.
    ``layers``: per layer (W_ih, W_hh, b_ih, b_hh)."""
    names = "rzn" if kind == "GRU" else "ifgo"
    tanh_gates = {"n", "g"}
    beyond, total = dict.fromkeys(names, 0), 0
    inputs = x
    for w_ih, w_hh, b_ih, b_hh in layers:
        hidden = w_hh.shape[1]
        h = np.zeros((x.shape[0], hidden))
        c = np.zeros_like(h)
        outputs = []
        for t in range(inputs.shape[1]):
            gi = inputs[:, t] @ w_ih.T + b_ih
            gh = h @ w_hh.T + b_hh
            a = dict(zip(names, np.split(gi + gh, len(names), axis=1)))
            if kind == "GRU":
                r, z = _sigmoid(a["r"]), _sigmoid(a["z"])
                a["n"] = np.split(gi, 3, axis=1)[2] + r * np.split(gh, 3, axis=1)[2]
                n = np.tanh(a["n"])
                h = (1 - z) * n + z * h
            else:
                i, f, g, o = _sigmoid(a["i"]), _sigmoid(a["f"]), np.tanh(a["g"]), _sigmoid(a["o"])
                c = f * c + i * g
                h = o * np.tanh(c)
            for name in names:
                limit = 2.65 if name in tanh_gates else 4.6
                beyond[name] += int((np.abs(a[name]) > limit).sum())
            total += h.size
            outputs.append(h)
        inputs = np.stack(outputs, axis=1)
    return {k: v / total for k, v in beyond.items()}


def _layers(module):
    return [
        tuple(
            getattr(module, f"{n}_l{k}").numpy()
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )
        for k in range(module.num_layers)
    ]


def _train_batch(model, x):
    monitor = gn.inspect.Monitor(model)
    model.train()
    out = model(gn.tensor(x))
    out = out[0] if isinstance(out, tuple) else out
    (out * out).sum().backward()
    return monitor


def test_gru_update_gates_forced_into_saturation_are_counted_and_warned() -> None:
    gn.manual_seed(0)
    gru = nn.GRU(3, 6, num_layers=2, batch_first=True, dtype=np.float64)
    gru.bias_ih_l0.data[6:10] = 7.0  # units 0-3 of layer 0's update gate: z = 1, frozen
    gru.bias_hh_l1.data[12:18] = -12.0  # layer 1's candidate pushed towards -1
    model = nn.Sequential(gru)
    x = np.random.default_rng(0).standard_normal((5, 7, 3))
    monitor = _train_batch(model, x)
    stats = monitor.activations["0"][-1]
    expected = _gates_by_hand("GRU", x, _layers(gru))
    for gate in "rzn":
        assert stats[f"saturated {gate}"] == expected[gate], gate
    assert expected["z"] > 0.3 and expected["n"] > 0.2  # the forcing showed
    assert stats["saturated"] == expected["z"]
    gru.bias_ih_l1.data[6:12] = 7.0  # now layer 1's update gate too: over half saturated
    monitor = _train_batch(model, x)
    (warning,) = monitor.warnings()
    assert warning.startswith("layer 0 GRU(3, 6): 83% of its update gates (z) saturated")
    assert _gates_by_hand("GRU", x, _layers(gru))["z"] == 5 / 6
    assert "gates and attention heads" in monitor.report()


def test_an_open_lstm_forget_gate_is_reported_but_not_warned_about() -> None:
    gn.manual_seed(1)
    lstm = nn.LSTM(3, 5, batch_first=True, dtype=np.float64)
    lstm.bias_ih_l0.data[5:10] = 9.0  # forget gate always open: the LSTM remembers
    x = np.random.default_rng(1).standard_normal((4, 6, 3))
    monitor = _train_batch(nn.Sequential(lstm), x)
    stats = monitor.activations["0"][-1]
    expected = _gates_by_hand("LSTM", x, _layers(lstm))
    for gate in "ifgo":
        assert stats[f"saturated {gate}"] == expected[gate], gate
    assert stats["saturated f"] == 1.0
    assert monitor.warnings() == []
    lstm.bias_ih_l0.data[:5] = -9.0  # input gate shut: nothing new gets in
    monitor = _train_batch(nn.Sequential(lstm), x)
    assert any("of its input gates (i) saturated" in w for w in monitor.warnings())


def test_cells_are_watched_too() -> None:
    gn.manual_seed(2)
    cell = nn.GRUCell(3, 4, dtype=np.float64)
    cell.bias_hh.data[4:8] = -6.0  # update gate shut
    x = np.random.default_rng(2).standard_normal((6, 3))
    monitor = _train_batch(nn.Sequential(cell), x)
    w = (cell.weight_ih.numpy(), cell.weight_hh.numpy(), cell.bias_ih.numpy(), cell.bias_hh.numpy())
    expected = _gates_by_hand("GRU", x[:, None], [w])
    assert monitor.activations["0"][-1]["saturated z"] == expected["z"] == 1.0


def _heads_by_hand(attention, x, mask=None):
    """Per head: mean row entropy and the fraction of rows with max weight > 0.99."""
    e, h = attention.embed_dim, attention.num_heads
    w, b = attention.in_proj_weight.numpy(), attention.in_proj_bias.numpy()
    q, k = x @ w[:e].T + b[:e], x @ w[e : 2 * e].T + b[e : 2 * e]
    n, length, _ = x.shape
    q = q.reshape(n, length, h, e // h).transpose(0, 2, 1, 3)
    k = k.reshape(n, length, h, e // h).transpose(0, 2, 1, 3)
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(e // h)
    if mask is not None:
        scores = np.where(mask, -np.inf, scores)
    p = np.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    entropy = -(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0)).sum(axis=-1)
    return {
        **{f"entropy h{i}": entropy[:, i].mean() for i in range(h)},
        **{f"one-hot h{i}": (p[:, i].max(axis=-1) > 0.99).mean() for i in range(h)},
    }


def test_attention_heads_entropy_and_one_hot_rows_by_hand() -> None:
    gn.manual_seed(3)
    attention = nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64)
    attention.in_proj_weight.data[:4] *= 30  # head 0's queries: sharp, nearly one-hot rows
    x = np.random.default_rng(3).standard_normal((4, 6, 8))

    class SelfAttention(nn.Module):
        def __init__(self, need_weights):
            super().__init__()
            self.attention, self.need_weights = attention, need_weights

        def forward(self, x):
            return self.attention(x, x, x, need_weights=self.need_weights)[0]

    expected = _heads_by_hand(attention, x)
    assert expected["one-hot h0"] > 0.4 and expected["one-hot h1"] < 0.2
    for need_weights in (True, False):  # the softmax path and the fused one
        monitor = _train_batch(SelfAttention(need_weights), x)
        stats = monitor.activations["attention"][-1]
        for key, value in expected.items():
            np.testing.assert_allclose(stats[key], value, rtol=1e-12, atol=1e-15, err_msg=key)


def test_attention_heads_inside_a_transformer_with_a_causal_mask() -> None:
    gn.manual_seed(4)
    layer = nn.TransformerEncoderLayer(8, 4, 16, dropout=0.0, batch_first=True, dtype=np.float64)
    causal = np.triu(np.ones((5, 5), dtype=bool), 1)

    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(x, src_mask=causal)

    x = np.random.default_rng(4).standard_normal((3, 5, 8))
    monitor = _train_batch(Causal(), x)
    stats = monitor.activations["layer.self_attn"][-1]
    expected = _heads_by_hand(layer.self_attn, x, causal)
    assert expected["one-hot h0"] >= 0.2  # the first query sees one key: one-hot
    for key, value in expected.items():
        np.testing.assert_allclose(stats[key], value, rtol=1e-12, atol=1e-15, err_msg=key)


def test_evaluation_passes_are_left_out() -> None:
    gru = nn.GRU(2, 3, batch_first=True)
    monitor = gn.inspect.Monitor(nn.Sequential(gru))
    gru.eval()
    gru(gn.zeros(2, 4, 2))
    assert monitor.activations["0"] == []
    assert not gn.autograd.function.tracers  # nothing left behind
    gru.train()
    with pytest.raises(ValueError, match="expects input"):
        gru(gn.zeros(2, 4, 5))  # a forward that fails after the watch started
    monitor.remove()
    assert not gn.autograd.function.tracers


def test_trace_shows_cell_and_attention_nodes_with_their_shapes() -> None:
    gn.manual_seed(5)
    gru = nn.GRU(3, 4, batch_first=True)
    attention = nn.MultiheadAttention(4, 2, batch_first=True)
    x = gn.randn(2, 6, 3)
    with gn.inspect.trace() as t:
        h = gru(x)[0]
        attention(h, h, h, need_weights=False)[0].sum().backward()
    cells = [s for s in t.steps if s.op == "GRUCellBackward"]
    assert len(cells) == 6  # one node per time step: BPTT walks them last to first
    assert all(s.output_shape == (2, 4) for s in cells)
    # x_t needs no gradient; h_{t-1} (none for the zero start), W_ih, W_hh, b_ih, b_hh
    assert cells[0].input_shapes == (None, (2, 4), (12, 3), (12, 4), (12,), (12,))
    assert cells[-1].input_shapes[1] is None
    (sdpa,) = [s for s in t.steps if s.op == "ScaledDotProductAttentionBackward"]
    assert sdpa.output_shape == (2, 2, 6, 2)
    assert sdpa.input_shapes == ((2, 2, 6, 2),) * 3
    assert "GRUCellBackward" in t.table() and "ScaledDotProductAttentionBackward" in t.table()
