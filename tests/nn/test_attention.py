"""nn.MultiheadAttention against PyTorch: a torch module's state_dict loaded into glassnet
gives the same output, weights and gradients (query, key, value and every parameter) in
float64 (1e-9) and float32 (1e-5), with every mask kind; initialisation, dropout by its
definition and errors that name the fix. Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

_PAD = np.array([[False, False, False, False, True], [False] * 5])
_CAUSAL = np.triu(np.ones((3, 3), dtype=bool), 1)

# (module arguments, input shapes (query, key, value) or one shape for self-attention,
#  forward arguments; NumPy masks are given to torch as tensors)
CASES = [
    (dict(embed_dim=8, num_heads=2), [(3, 2, 8), (5, 2, 8), (5, 2, 8)], {}),
    (dict(embed_dim=8, num_heads=2), [(3, 2, 8)], dict(attn_mask=_CAUSAL, is_causal=True)),
    (
        dict(embed_dim=8, num_heads=4, batch_first=True),
        [(2, 3, 8), (2, 5, 8), (2, 5, 8)],
        dict(average_attn_weights=False, key_padding_mask=_PAD),
    ),
    (
        dict(embed_dim=8, num_heads=2, kdim=5, vdim=6, add_bias_kv=True, add_zero_attn=True),
        [(3, 2, 8), (5, 2, 5), (5, 2, 6)],
        dict(key_padding_mask=_PAD, attn_mask=np.eye(3, 5, 1, dtype=bool)),
    ),
    (
        dict(embed_dim=8, num_heads=4, bias=False),
        [(3, 8), (5, 8), (5, 8)],
        dict(need_weights=False),
    ),
    (
        dict(embed_dim=6, num_heads=3),
        [(3, 2, 6), (5, 2, 6), (5, 2, 6)],
        dict(
            need_weights=False, key_padding_mask=("float", (2, 5)), attn_mask=("float", (6, 3, 5))
        ),
    ),
    (dict(embed_dim=6, num_heads=2), [(4, 6)], dict(attn_mask=("float", (4, 4)))),  # unbatched
]


def _torch_args(kwargs: dict) -> dict:
    return {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_torch_state_dict_gives_same_outputs_and_gradients(case: int, dtype, tol: float) -> None:
    args, shapes, fkw = CASES[case]
    rng = np.random.default_rng(case)
    torch.manual_seed(case)
    theirs = torch.nn.MultiheadAttention(**args).to(
        torch.float64 if dtype == np.float64 else torch.float32
    )
    ours = gn.nn.MultiheadAttention(**args, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})

    fkw = {  # float masks are made here, in the query's dtype
        k: rng.standard_normal(v[1]).astype(dtype) if isinstance(v, tuple) else v
        for k, v in fkw.items()
    }
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    x_ours = [gn.tensor(a, requires_grad=True) for a in arrays]
    x_theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    if len(shapes) == 1:  # self-attention: the same tensor three times
        x_ours, x_theirs = x_ours * 3, x_theirs * 3
    y, w = ours(*x_ours, **fkw)
    y_ref, w_ref = theirs(*x_theirs, **_torch_args(fkw))
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=tol, atol=tol)
    loss = (y * gn.tensor(g := rng.standard_normal(y_ref.shape).astype(dtype))).sum()
    loss_ref = (y_ref * torch.from_numpy(g)).sum()
    if w_ref is None:
        assert w is None
    else:
        assert w.shape == tuple(w_ref.shape)
        np.testing.assert_allclose(w.data, w_ref.detach().numpy(), rtol=tol, atol=tol)
        gw = rng.standard_normal(w_ref.shape).astype(dtype)  # the weights get gradients too
        loss = loss + (w * gn.tensor(gw)).sum()
        loss_ref = loss_ref + (w_ref * torch.from_numpy(gw)).sum()
    loss.backward()
    loss_ref.backward()
    for i, (a, b) in enumerate(zip(x_ours[: len(shapes)], x_theirs[: len(shapes)])):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol, err_msg=str(i))
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert mine[name].grad.dtype == dtype
        np.testing.assert_allclose(
            mine[name].grad.data, p.grad.numpy(), rtol=tol, atol=tol, err_msg=name
        )


def test_initialisation_follows_pytorch() -> None:
    """xavier_uniform_ on the packed (3E, E) matrix: bound sqrt(6 / (E + 3E)); biases 0."""
    m = gn.nn.MultiheadAttention(16, 4, generator=np.random.default_rng(0))
    bound = np.sqrt(6 / (16 + 48))
    w = m.in_proj_weight.data
    assert w.shape == (48, 16) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not m.in_proj_bias.data.any() and not m.out_proj.bias.data.any()
    assert np.abs(m.out_proj.weight.data).max() <= 1 / 4  # Linear's default, 1 / sqrt(16)
    separate = gn.nn.MultiheadAttention(16, 4, kdim=8, vdim=4, add_bias_kv=True)
    assert separate.in_proj_weight is None
    assert separate.k_proj_weight.shape == (16, 8) and separate.v_proj_weight.shape == (16, 4)
    assert separate.bias_k.shape == (1, 1, 16) and separate.bias_k.data.any()


def test_dropout_on_the_weights_by_its_definition() -> None:
    """In training, the returned weights are softmax's, zeroed where the generator's draw is
    below p and scaled by 1 / (1 - p) elsewhere; eval mode gives the plain softmax."""
    m = gn.nn.MultiheadAttention(4, 1, dropout=0.5, generator=np.random.default_rng(3))
    x = gn.tensor(np.random.default_rng(0).standard_normal((5, 1, 4)).astype(np.float32))
    m.eval()
    _, plain = m(x, x, x)
    m.generator = np.random.default_rng(9)
    m.train()
    _, dropped = m(x, x, x)
    keep = np.random.default_rng(9).random((1, 1, 5, 5)) >= 0.5
    np.testing.assert_allclose(dropped.data, plain.data * keep[:, 0] * 2, rtol=1e-6)


@pytest.mark.parametrize(
    "shapes, kwargs, words",
    [
        ([(3, 2, 7), (5, 2, 8), (5, 2, 8)], {}, "query must end in 8"),
        ([(3, 2, 8), (5, 2, 6), (5, 2, 8)], {}, "kdim/vdim"),
        ([(3, 2, 8), (5, 3, 8), (5, 3, 8)], {}, "batch_first=True"),
        ([(3, 2, 8), (5, 2, 8), (4, 2, 8)], {}, "same length"),
        ([(3, 2, 8), (5, 2, 8), (5, 2, 8)], {"attn_mask": np.ones((5, 3), bool)}, "(3, 5)"),
        ([(3, 2, 8), (5, 2, 8), (5, 2, 8)], {"key_padding_mask": np.ones((5, 2), bool)}, "(N, S)"),
        ([(3, 2, 8), (3, 2, 8), (3, 2, 8)], {"is_causal": True}, "needs attn_mask"),
    ],
)
def test_bad_inputs_name_the_fix(shapes, kwargs, words: str) -> None:
    m = gn.nn.MultiheadAttention(8, 2)
    rng = np.random.default_rng(0)
    args = [gn.tensor(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    with pytest.raises(ValueError) as error:
        m(*args, **kwargs)
    assert words in str(error.value) and "MultiheadAttention" in str(error.value)


def test_heads_must_divide_the_width() -> None:
    with pytest.raises(ValueError, match="divisible by num_heads"):
        gn.nn.MultiheadAttention(10, 3)


def test_batch_first_key_and_value_lengths_are_checked() -> None:
    m = gn.nn.MultiheadAttention(8, 2, batch_first=True)
    q, k, v = (gn.zeros(s) for s in [(2, 3, 8), (2, 5, 8), (2, 4, 8)])
    with pytest.raises(ValueError, match="same length"):
        m(q, k, v)
    out, w = m(q, k, k)
    assert out.shape == (2, 3, 8) and w.shape == (2, 3, 5)
