"""ONNX export of recurrence and attention: every layer gives ONNX Runtime the outputs of
glassnet's own eval-mode forward (float32, 1e-5). Batch-first models are checked at three
batch sizes from one file (the unrolled graph keeps only the batch dynamic); sequence-first
ones at the traced shape."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
nn, F = gn.nn, gn.nn.functional

CAUSAL = np.triu(np.ones((5, 5), dtype=bool), 1)  # True above the diagonal = masked


class Output(nn.Module):
    """A layer's first output (RNN's output, MultiheadAttention's attended values), with
    the other inputs a model would pass fixed."""

    def __init__(self, layer, **kwargs) -> None:
        super().__init__()
        self.layer, self.kwargs = layer, kwargs

    def forward(self, x):
        if isinstance(self.layer, nn.MultiheadAttention):
            return self.layer(x, x, x, **self.kwargs)[0]
        y = self.layer(x, **self.kwargs)
        return y[0] if isinstance(y, tuple) else y


class FinalState(nn.Module):
    """The final states: h_n of an RNN/GRU, h_n and c_n side by side of an LSTM."""

    def __init__(self, layer) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x):
        state = self.layer(x)[1]
        return gn.cat(list(state), dim=2) if isinstance(state, tuple) else state


class Decoder(nn.Module):
    """A decoder layer reading the first 4 steps as target and a projection of all 6 as
    memory, with a causal target mask."""

    def __init__(self, norm_first: bool) -> None:
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(
            8, 2, 16, batch_first=True, norm_first=norm_first, activation="gelu"
        )
        self.memory = nn.Linear(8, 8)

    def forward(self, x):
        return self.layer(x[:, :4], self.memory(x), tgt_mask=CAUSAL[:4, :4])


def _encoder(norm_first: bool):
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=norm_first)
    return nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))


PADDED = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)  # True = padding

# name -> (model maker, example shape, batch-first?)
LAYERS = {
    "RNN tanh, 2 layers, bidirectional, batch_first": (
        lambda: Output(nn.RNN(3, 4, num_layers=2, bidirectional=True, batch_first=True)),
        (2, 5, 3),
        True,
    ),
    "RNN relu, no bias": (
        lambda: Output(nn.RNN(3, 4, nonlinearity="relu", bias=False, batch_first=True)),
        (2, 5, 3),
        True,
    ),
    "RNN relu h_n, sequence first": (
        lambda: FinalState(nn.RNN(3, 4, num_layers=2, nonlinearity="relu")),
        (5, 2, 3),
        False,
    ),
    "GRU, 2 layers, bidirectional, batch_first": (
        lambda: Output(nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True)),
        (2, 5, 3),
        True,
    ),
    "GRU h_n, sequence first, bidirectional": (
        lambda: FinalState(nn.GRU(3, 4, bidirectional=True)),
        (5, 2, 3),
        False,
    ),
    "LSTM, 2 layers, bidirectional, batch_first": (
        lambda: Output(nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)),
        (2, 5, 3),
        True,
    ),
    "LSTM (h_n, c_n), 2 layers, no bias": (
        lambda: FinalState(nn.LSTM(3, 4, num_layers=2, bias=False, batch_first=True)),
        (2, 5, 3),
        True,
    ),
    "RNNCell relu": (lambda: Output(nn.RNNCell(3, 4, nonlinearity="relu")), (2, 3), True),
    "GRUCell": (lambda: Output(nn.GRUCell(3, 4)), (2, 3), True),
    "LSTMCell": (lambda: Output(nn.LSTMCell(3, 4)), (2, 3), True),
    "MultiheadAttention (weights path)": (
        lambda: Output(nn.MultiheadAttention(8, 2, batch_first=True)),
        (2, 5, 8),
        True,
    ),
    "MultiheadAttention fused, causal mask": (
        lambda: Output(
            nn.MultiheadAttention(8, 2, batch_first=True), need_weights=False, attn_mask=CAUSAL
        ),
        (2, 5, 8),
        True,
    ),
    "MultiheadAttention causal and padding masks, sequence first": (
        lambda: Output(nn.MultiheadAttention(8, 4), attn_mask=CAUSAL, key_padding_mask=PADDED),
        (5, 2, 8),
        False,
    ),
    "MultiheadAttention fused, a float mask": (
        lambda: Output(
            nn.MultiheadAttention(8, 2, batch_first=True),
            need_weights=False,
            attn_mask=np.random.default_rng(0).standard_normal((5, 5)).astype(np.float32),
        ),
        (2, 5, 8),
        True,
    ),
    "F.scaled_dot_product_attention is_causal": (
        lambda: _Causal(),
        (2, 3, 5, 4),
        True,
    ),
    "TransformerEncoder post-norm": (lambda: Output(_encoder(False)), (2, 5, 8), True),
    "TransformerEncoder pre-norm": (lambda: Output(_encoder(True)), (2, 5, 8), True),
    "TransformerDecoderLayer": (lambda: Decoder(False), (2, 6, 8), True),
    "TransformerDecoderLayer pre-norm": (lambda: Decoder(True), (2, 6, 8), True),
}


class _Causal(nn.Module):
    def forward(self, x):
        return F.scaled_dot_product_attention(x, x * 0.5, x + 1.0, is_causal=True)


def _check(model, shape, batch_first, tmp_path):
    """The file runs in ONNX Runtime and agrees with glassnet's eval-mode forward."""
    path = tmp_path / "model.onnx"
    proto = gn.onnx.export(model, gn.randn(*shape), path)
    session = ort.InferenceSession(str(path))
    for n in (1, 3, 6) if batch_first else (shape[0],):
        x = np.random.default_rng(n).standard_normal((n, *shape[1:])).astype(np.float32)
        expected = gn.predict(model, x).numpy()
        (got,) = session.run(None, {"input": x})
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    return proto


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_onnx_runtime(name, tmp_path) -> None:
    make, shape, batch_first = LAYERS[name]
    gn.manual_seed(0)
    _check(make(), shape, batch_first, tmp_path)


def test_cells_are_primitive_nodes_not_onnx_rnn_ops(tmp_path) -> None:
    gn.manual_seed(1)
    for layer in (nn.GRU(2, 3, batch_first=True), nn.LSTM(2, 3, batch_first=True)):
        proto = gn.onnx.export(Output(layer), gn.randn(1, 4, 2), tmp_path / "m.onnx")
        ops = {n.op_type for n in proto.graph.node}
        assert not ops & {"RNN", "GRU", "LSTM"}
        assert {"Gemm", "Split", "Sigmoid", "Tanh"} <= ops
        # the first step starts from zeros: its h side is the bias alone (3 steps with W_hh)
        gemms = [n for n in proto.graph.node if n.op_type == "Gemm"]
        assert sum(n.input[1] == "layer.weight_hh_l0" for n in gemms) == 3


def test_a_fully_masked_query_gives_zeros_as_glassnet(tmp_path) -> None:
    gn.manual_seed(2)
    blind = np.zeros((4, 4), dtype=bool)
    blind[1] = True  # query 1 may attend to nothing: glassnet (and torch 2.13) give 0
    model = Output(
        nn.MultiheadAttention(4, 1, batch_first=True), attn_mask=blind, need_weights=False
    )
    _check(model, (2, 4, 4), True, tmp_path)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    (out,) = session.run(None, {"input": np.ones((1, 4, 4), np.float32)})
    assert np.isfinite(out).all()
    # the fused attention's row 1 is 0, so the output there is out_proj's bias (0 at init)
    np.testing.assert_allclose(out[0, 1], model.layer.out_proj.bias.numpy(), atol=1e-7)


def test_gru_classifier_end_to_end(tmp_path) -> None:
    gn.manual_seed(3)
    model = gn.train.models.gru(1, 8, 10, num_layers=2, bidirectional=True)
    proto = _check(model, (2, 12), True, tmp_path)
    names = {t.name for t in proto.graph.initializer}
    assert {"gru.weight_ih_l0", "gru.weight_hh_l1_reverse", "head.weight"} <= names
