"""PyTorch both ways for recurrence and attention: ``from_torch`` of a PyTorch-built layer
gives PyTorch's outputs and gradients (input and every parameter, float64, 1e-9),
``to_torch`` gives back the same layer (same repr) and the same state_dict, bit for bit,
and a glassnet-built layer moves to PyTorch with its outputs unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.torch_twin import assert_same_torch_module

torch = pytest.importorskip("torch")

CAUSAL = np.triu(np.ones((4, 4), dtype=bool), 1)  # True above the diagonal = masked
PADDED = np.array([[0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 1]], dtype=bool)


def _lstm_out(y):
    out, (h, c) = y
    return out, h, c


# name -> (maker on a namespace t (torch.nn or glassnet.nn), input shape, call) where
# call(model, x, mask) runs it and returns its output tensors; mask turns a NumPy mask
# into what the library takes.
CASES = {
    "RNN tanh": (
        lambda t: t.RNN(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        (3, 5, 3),
        lambda m, x, mask: m(x),
    ),
    "RNN relu, no bias, sequence first": (
        lambda t: t.RNN(3, 4, nonlinearity="relu", bias=False),
        (5, 3, 3),
        lambda m, x, mask: m(x),
    ),
    "GRU": (
        lambda t: t.GRU(3, 4, num_layers=2, bidirectional=True, dropout=0.25),
        (5, 3, 3),
        lambda m, x, mask: m(x),
    ),
    "LSTM": (
        lambda t: t.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True),
        (3, 5, 3),
        lambda m, x, mask: _lstm_out(m(x)),
    ),
    "RNNCell relu": (
        lambda t: t.RNNCell(3, 4, nonlinearity="relu"),
        (3, 3),
        lambda m, x, mask: (m(x),),
    ),
    "GRUCell no bias": (lambda t: t.GRUCell(3, 4, bias=False), (3, 3), lambda m, x, mask: (m(x),)),
    "LSTMCell": (lambda t: t.LSTMCell(3, 4), (3, 3), lambda m, x, mask: m(x)),
    "MultiheadAttention": (
        lambda t: t.MultiheadAttention(8, 2, dropout=0.1, batch_first=True),
        (3, 4, 8),
        lambda m, x, mask: m(x, x, x, key_padding_mask=mask(PADDED)),
    ),
    "MultiheadAttention kdim vdim bias_kv zero_attn no bias": (
        lambda t: t.MultiheadAttention(
            8, 4, bias=False, add_bias_kv=True, add_zero_attn=True, kdim=5, vdim=6
        ),
        (4, 3, 8),
        lambda m, x, mask: m(
            x, x[..., :5] * 2, x[..., 2:] - 1, attn_mask=mask(CAUSAL), average_attn_weights=False
        ),
    ),
    "TransformerEncoderLayer": (
        lambda t: t.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        (3, 4, 8),
        lambda m, x, mask: (m(x, src_mask=mask(CAUSAL)),),
    ),
    "TransformerEncoderLayer gelu, pre-norm, eps, no bias": (
        lambda t: t.TransformerEncoderLayer(
            8, 4, 12, 0.0, "gelu", layer_norm_eps=1e-3, norm_first=True, bias=False
        ),
        (4, 3, 8),
        lambda m, x, mask: (m(x),),
    ),
    "TransformerEncoderLayer GELU('tanh') module": (
        lambda t: t.TransformerEncoderLayer(
            8, 2, 16, 0.0, t.GELU(approximate="tanh"), batch_first=True
        ),
        (3, 4, 8),
        lambda m, x, mask: (m(x),),
    ),
    "TransformerDecoderLayer": (
        lambda t: t.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        (3, 4, 8),
        lambda m, x, mask: (m(x[:, :3], x, tgt_mask=mask(CAUSAL[:3, :3])),),
    ),
    "TransformerEncoder with norm": (
        lambda t: t.TransformerEncoder(
            t.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, norm_first=True),
            2,
            norm=t.LayerNorm(8),
            enable_nested_tensor=False,
        ),
        (3, 4, 8),
        lambda m, x, mask: (m(x, src_key_padding_mask=mask(PADDED)),),
    ),
    "TransformerDecoder": (
        lambda t: t.TransformerDecoder(t.TransformerDecoderLayer(8, 2, 16, 0.0, "gelu"), 2),
        (4, 3, 8),
        lambda m, x, mask: (m(x, x * 0.5, tgt_mask=mask(CAUSAL)),),
    ),
}


def _torch_model(name):
    make, shape, call = CASES[name]
    torch.manual_seed(0)
    model = make(torch.nn).double().eval()
    with torch.no_grad():  # biases off their 0 start, so a lost bias shows
        for pname, p in model.named_parameters():
            if "bias" in pname:
                p.uniform_(-0.5, 0.5)
    return model, shape, call


def _run_torch(model, x, call):
    return [y.detach().numpy() for y in call(model, torch.from_numpy(x), torch.from_numpy)]


def _run_ours(model, x, call):
    with gn.no_grad():
        return [y.numpy() for y in call(model, gn.tensor(x), lambda m: m)]


@pytest.mark.parametrize("name", list(CASES))
def test_from_torch_gives_the_same_outputs_and_to_torch_round_trips(name) -> None:
    theirs, shape, call = _torch_model(name)
    x = np.random.default_rng(1).standard_normal(shape)
    ours = gn.interop.from_torch(theirs)
    assert not ours.training
    assert all(p.dtype == np.float64 for p in ours.parameters())
    for got, expected in zip(_run_ours(ours, x, call), _run_torch(theirs, x, call), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    back = gn.interop.to_torch(ours)
    assert_same_torch_module(back, theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_agree_after_from_torch(name) -> None:
    """Input and every parameter gradient of sum(output^2) (all outputs), PyTorch's."""
    theirs, shape, call = _torch_model(name)
    ours = gn.interop.from_torch(theirs)
    x = np.random.default_rng(2).standard_normal(shape)
    x_theirs = torch.from_numpy(x).requires_grad_()
    sum(y.square().sum() for y in call(theirs, x_theirs, torch.from_numpy)).backward()
    x_ours = gn.tensor(x, requires_grad=True)
    total = None
    for y in call(ours, x_ours, lambda m: m):
        term = (y * y).sum()
        total = term if total is None else total + term
    total.backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    theirs_params = dict(theirs.named_parameters())
    for pname, p in ours.named_parameters():
        np.testing.assert_allclose(
            p.grad.numpy(), theirs_params[pname].grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=pname
        )


@pytest.mark.parametrize("name", list(CASES))
def test_glassnet_layer_moves_to_torch_with_its_outputs(name) -> None:
    make, shape, call = CASES[name]
    gn.manual_seed(2)
    model = make(gn.nn).double().eval()
    twin = gn.interop.to_torch(model)
    assert not twin.training
    assert list(twin.state_dict()) == list(model.state_dict())
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), model.state_dict()[key].numpy())
    x = np.random.default_rng(4).standard_normal(shape)
    for got, expected in zip(_run_ours(model, x, call), _run_torch(twin, x, call), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_an_activation_function_of_ones_own_does_not_cross() -> None:
    layer = gn.nn.TransformerEncoderLayer(8, 2, 16, activation=lambda x: x * 2)
    with pytest.raises(TypeError, match="only 'relu', 'gelu' or a layer"):
        gn.interop.to_torch(layer)
