"""Transformer layers against PyTorch: a torch layer's state_dict loaded into glassnet (same
keys, in the same order) gives the same output in eval mode and the same gradients of the
inputs and every parameter, for post-norm and pre-norm, relu and gelu, in float64 (1e-9) and
float32 (1e-5); the stacks, masks, dropout in training and errors. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

_CAUSAL = np.triu(np.ones((4, 4), dtype=bool), 1)  # True above the diagonal: masked
_PAD = np.array([[False] * 5, [False, False, False, True, True]])


def _load(ours: gn.nn.Module, theirs) -> None:
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.eval()
    theirs.eval()


def _compare_grads(ours, theirs, pairs, tol: float) -> None:
    for i, (a, b) in enumerate(pairs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol, err_msg=str(i))
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(
            mine[name].grad.data, p.grad.numpy(), rtol=tol, atol=tol, err_msg=name
        )


def _torch_dtype(dtype):
    return torch.float64 if dtype == np.float64 else torch.float32


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_pytorch(activation: str, norm_first: bool, dtype, tol) -> None:
    kw = dict(dim_feedforward=16, activation=activation, norm_first=norm_first)
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, **kw).to(_torch_dtype(dtype))
    ours = gn.nn.TransformerEncoderLayer(8, 2, **kw, dtype=dtype)
    _load(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, 2, 8)).astype(dtype)
    a, b = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ours(a, src_mask=_CAUSAL, is_causal=True)
    y_ref = theirs(b, src_mask=torch.from_numpy(_CAUSAL), is_causal=True)
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(1).standard_normal(y.shape).astype(dtype)
    y.backward(gn.tensor(g))
    y_ref.backward(torch.from_numpy(g))
    _compare_grads(ours, theirs, [(a, b)], tol)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_matches_pytorch(activation: str, norm_first: bool, dtype, tol) -> None:
    kw = dict(dim_feedforward=12, activation=activation, norm_first=norm_first, batch_first=True)
    torch.manual_seed(1)
    theirs = torch.nn.TransformerDecoderLayer(6, 3, **kw).to(_torch_dtype(dtype))
    ours = gn.nn.TransformerDecoderLayer(6, 3, **kw, dtype=dtype)
    _load(ours, theirs)
    rng = np.random.default_rng(2)
    tgt, mem = (rng.standard_normal(s).astype(dtype) for s in [(2, 4, 6), (2, 5, 6)])
    pairs = [
        (gn.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)) for a in (tgt, mem)
    ]
    masks = dict(tgt_mask=_CAUSAL, memory_key_padding_mask=_PAD, tgt_is_causal=True)
    y = ours(pairs[0][0], pairs[1][0], **masks)
    y_ref = theirs(
        pairs[0][1],
        pairs[1][1],
        **{k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()},
    )
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(gn.tensor(g))
    y_ref.backward(torch.from_numpy(g))
    _compare_grads(ours, theirs, pairs, tol)


def test_stacks_match_pytorch_keys_and_outputs() -> None:
    torch.manual_seed(2)
    kw = dict(dim_feedforward=16, norm_first=True, activation="gelu")
    enc_t = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, **kw), 2, norm=torch.nn.LayerNorm(8),
        enable_nested_tensor=False,
    ).double()  # fmt: skip
    dec_t = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, **kw), 2).double()
    enc = gn.nn.TransformerEncoder(
        gn.nn.TransformerEncoderLayer(8, 2, **kw, dtype=np.float64), 2,
        norm=gn.nn.LayerNorm(8, dtype=np.float64),
    )  # fmt: skip
    dec = gn.nn.TransformerDecoder(gn.nn.TransformerDecoderLayer(8, 2, **kw, dtype=np.float64), 2)
    _load(enc, enc_t)
    _load(dec, dec_t)
    rng = np.random.default_rng(3)
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    pad = torch.from_numpy(_PAD)
    memory = enc(gn.tensor(src), src_key_padding_mask=_PAD)
    memory_ref = enc_t(torch.from_numpy(src), src_key_padding_mask=pad)
    np.testing.assert_allclose(memory.data, memory_ref.detach().numpy(), atol=1e-9)
    out = dec(gn.tensor(tgt), memory, tgt_mask=_CAUSAL, memory_key_padding_mask=_PAD)
    out_ref = dec_t(
        torch.from_numpy(tgt), memory_ref, tgt_mask=torch.from_numpy(_CAUSAL),
        memory_key_padding_mask=pad,
    )  # fmt: skip
    np.testing.assert_allclose(out.data, out_ref.detach().numpy(), atol=1e-9)


def test_stacked_layers_are_copies_that_train_apart() -> None:
    layer = gn.nn.TransformerEncoderLayer(8, 2, 16, generator=np.random.default_rng(0))
    enc = gn.nn.TransformerEncoder(layer, 3)
    w = [m.linear1.weight for m in enc.layers]
    np.testing.assert_array_equal(w[0].data, w[2].data)  # equal start, as PyTorch's deepcopy
    assert w[0] is not w[1] and w[0] is not layer.linear1.weight
    # the copies draw from the one generator: their dropout masks differ
    assert enc.layers[0].dropout.generator is enc.layers[1].dropout.generator


def test_dropout_is_active_in_training_only() -> None:
    layer = gn.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = gn.tensor(np.random.default_rng(0).standard_normal((4, 2, 8)).astype(np.float32))
    layer.eval()
    np.testing.assert_array_equal(layer(x).data, layer(x).data)
    layer.train()
    assert not np.allclose(layer(x).data, layer(x).data)


def test_callable_activation_is_a_child_as_in_pytorch() -> None:
    ours = gn.nn.TransformerEncoderLayer(8, 2, 16, activation=gn.nn.GELU())
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, activation=torch.nn.GELU())
    assert list(dict(ours.named_children())) == list(dict(theirs.named_children()))
    x = gn.tensor(np.ones((3, 8), dtype=np.float32))  # unbatched
    assert ours(x).shape == (3, 8)


def test_bad_inputs_name_the_fix() -> None:
    with pytest.raises(ValueError, match="'relu', 'gelu' or a callable"):
        gn.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    layer = gn.nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(ValueError, match=r"\(L, N, d_model\).*model width"):
        layer(gn.zeros((4, 2, 6)))
    with pytest.raises(ValueError, match="needs attn_mask"):
        layer(gn.zeros((4, 2, 8)), is_causal=True)
    with pytest.raises(ValueError, match="num_layers"):
        gn.nn.TransformerEncoder(layer, 0)
