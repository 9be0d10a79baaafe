"""Review fixes for the recurrent layers, each checked against what PyTorch 2.13 does:
a state whose dtype differs from the weights is refused, an empty sequence is refused
with PyTorch's kind of message, dropout with one layer warns, flatten_parameters exists."""

import warnings

import numpy as np
import pytest

import glassnet as gn


def _f64(*shape):
    return gn.tensor(np.zeros(shape))  # float64


@pytest.mark.parametrize(
    "make, call",
    [
        (lambda: gn.nn.RNN(5, 7), lambda m: m(gn.randn(3, 2, 5), _f64(1, 2, 7))),
        (lambda: gn.nn.GRU(5, 7), lambda m: m(gn.randn(3, 2, 5), _f64(1, 2, 7))),
        (lambda: gn.nn.LSTM(5, 7), lambda m: m(gn.randn(3, 2, 5), (_f64(1, 2, 7),) * 2)),
        (
            lambda: gn.nn.LSTM(5, 7),
            lambda m: m(gn.randn(3, 2, 5), (gn.zeros(1, 2, 7), _f64(1, 2, 7))),
        ),
        (lambda: gn.nn.RNNCell(5, 7), lambda m: m(gn.randn(2, 5), _f64(2, 7))),
        (lambda: gn.nn.GRUCell(5, 7), lambda m: m(gn.randn(2, 5), _f64(2, 7))),
        (lambda: gn.nn.LSTMCell(5, 7), lambda m: m(gn.randn(2, 5), (_f64(2, 7), gn.zeros(2, 7)))),
    ],
)
def test_a_float64_state_on_float32_weights_is_refused(make, call):
    # torch 2.13: "mat1 and mat2 must have the same dtype" (or an mkldnn error for LSTM)
    with pytest.raises(TypeError, match=r"float64 but the weights are float32.*\.float\(\)"):
        call(make())


def test_a_float64_state_on_float64_weights_runs():
    m = gn.nn.GRU(5, 7, dtype=np.float64)
    out, h = m(gn.tensor(np.zeros((3, 2, 5))), _f64(1, 2, 7))
    assert out.dtype == np.float64 and h.dtype == np.float64


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize(
    "batch_first, shape", [(True, (4, 0, 5)), (False, (0, 4, 5)), (False, (0, 5))]
)
def test_an_empty_sequence_is_refused_as_pytorch_does(kind, batch_first, shape):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="sequence length to be larger than 0"):
        getattr(torch.nn, kind)(5, 7, batch_first=batch_first)(torch.zeros(shape))
    m = getattr(gn.nn, kind)(5, 7, batch_first=batch_first)
    with pytest.raises(ValueError, match=rf"{kind}: expected sequence length to be larger than 0"):
        m(gn.zeros(*shape))


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_dropout_with_one_layer_warns_as_pytorch_does(kind):
    torch = pytest.importorskip("torch")
    with pytest.warns(UserWarning, match="num_layers"):
        getattr(torch.nn, kind)(5, 7, dropout=0.5)
    with pytest.warns(UserWarning, match="num_layers=1"):
        getattr(gn.nn, kind)(5, 7, dropout=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(gn.nn, kind)(5, 7, num_layers=2, dropout=0.5)
        getattr(gn.nn, kind)(5, 7, dropout=0.0)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_flatten_parameters_is_a_no_op(kind):
    m = getattr(gn.nn, kind)(3, 4)
    before = {k: v.data.copy() for k, v in m.state_dict().items()}
    assert m.flatten_parameters() is None
    after = m.state_dict()
    assert before.keys() == after.keys()
    assert all(np.array_equal(before[k], after[k].data) for k in before)
