"""F.scaled_dot_product_attention beyond the spec table: float32 against PyTorch, rows with
every key masked (PyTorch 2.13 gives 0, output and gradients), dropout by its definition,
and errors that name the fix. Spec-table cases (float64 values and gradients, gradcheck)
are in tests/ops/specs.py."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F


def _qkv(rng, shapes, dtype=np.float64):
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize(
    "kind", ["none", "bool", "float", "causal", "broadcast batch", "unbatched, scale"]
)
def test_values_and_gradients_match_pytorch(kind: str, dtype, tol: float) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    shapes = {
        "broadcast batch": [(2, 1, 4, 8), (1, 3, 6, 8), (2, 3, 6, 5)],
        "unbatched, scale": [(4, 8), (6, 8), (6, 5)],
    }.get(kind, [(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)])
    q, k, v = _qkv(rng, shapes, dtype)
    kw_ours: dict = {}
    kw_theirs: dict = {}
    mask_ours = mask_theirs = None
    if kind == "bool":
        m = rng.random((4, 6)) > 0.4
        m[:, 0] = True
        kw_ours["attn_mask"], kw_theirs["attn_mask"] = m, torch.from_numpy(m)
    elif kind == "float":
        m = rng.standard_normal((2, 1, 4, 6)).astype(dtype)
        mask_ours = gn.tensor(m, requires_grad=True)
        mask_theirs = torch.tensor(m, requires_grad=True)
        kw_ours["attn_mask"], kw_theirs["attn_mask"] = mask_ours, mask_theirs
    elif kind == "causal":
        kw_ours["is_causal"] = kw_theirs["is_causal"] = True
    elif kind == "unbatched, scale":
        kw_ours["scale"] = kw_theirs["scale"] = 0.3
    ours = [gn.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, **kw_ours)
    ref = torch.nn.functional.scaled_dot_product_attention(*theirs, **kw_theirs)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(ref.shape).astype(dtype)
    out.backward(gn.tensor(g))
    ref.backward(torch.from_numpy(g))
    for name, a, b in zip("qkv", ours, theirs):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol, err_msg=name)
    if mask_ours is not None:
        np.testing.assert_allclose(
            mask_ours.grad.data, mask_theirs.grad.numpy(), rtol=tol, atol=tol
        )


@pytest.mark.parametrize("form", ["bool", "float -inf"])
def test_a_query_with_every_key_masked_gives_zero_as_pytorch(form: str) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    q, k, v = _qkv(rng, [(2, 3, 4), (2, 5, 4), (2, 5, 3)])
    allowed = np.ones((3, 5), dtype=bool)
    allowed[1] = False
    mask = allowed if form == "bool" else np.where(allowed, 0.0, -np.inf)
    ours = [gn.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, attn_mask=mask)
    ref = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=torch.tensor(mask))
    assert np.isfinite(out.data).all()
    np.testing.assert_array_equal(out.data[:, 1], 0.0)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), atol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    for a, b in zip(ours, theirs):
        assert np.isfinite(a.grad.data).all()
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=1e-12)


def test_dropout_by_its_definition() -> None:
    """Dropout zeroes attention weights with the generator's draws (uniform >= p kept) and
    scales the kept ones by 1 / (1 - p); the output is those weights times V, by hand."""
    rng = np.random.default_rng(2)
    q, k, v = _qkv(rng, [(2, 3, 4), (2, 5, 4), (2, 5, 3)])
    p = 0.4
    out = F.scaled_dot_product_attention(
        *(gn.tensor(a) for a in (q, k, v)), dropout_p=p, generator=np.random.default_rng(7)
    )
    keep = np.random.default_rng(7).random((2, 3, 5)) >= p
    scores = q @ k.transpose(0, 2, 1) / 2.0
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    np.testing.assert_allclose(out.data, (w * keep / (1 - p)) @ v, rtol=1e-12)
    # with the same draws, the gradient is that of the weights-times-V expression
    gen = [gn.tensor(a, requires_grad=True) for a in (q, k, v)]

    def fn(q, k, v):
        return F.scaled_dot_product_attention(
            q, k, v, dropout_p=p, generator=np.random.default_rng(7)
        )

    assert gn.gradcheck(fn, gen)


def test_dropout_keeps_the_expected_fraction_and_mean() -> None:
    q, k, v = (gn.zeros((1, 200, 4), dtype=np.float64) for _ in range(3))
    v = gn.ones((1, 200, 1), dtype=np.float64)
    out = F.scaled_dot_product_attention(
        q, k, v, dropout_p=0.25, generator=np.random.default_rng(0)
    )
    # uniform weights 1/200, each kept with probability 0.75 and scaled by 1/0.75: mean 1
    assert abs(out.data.mean() - 1.0) < 0.01
    assert F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).data.max() == 0.0


@pytest.mark.parametrize(
    "shapes, kwargs, words",
    [
        ([(2, 3, 4), (2, 5, 6), (2, 5, 3)], {}, "same last dimension"),
        ([(2, 3, 4), (2, 5, 4), (2, 6, 3)], {}, "same length"),
        ([(4,), (2, 5, 4), (2, 5, 3)], {}, "unsqueeze(0)"),
        ([(2, 3, 4), (3, 5, 4), (3, 5, 3)], {}, "do not broadcast"),
        ([(2, 3, 4), (2, 5, 4), (2, 5, 3)], {"attn_mask": np.ones((5, 3), bool)}, "(3, 5)"),
        ([(2, 3, 4), (2, 5, 4), (2, 5, 3)], {"dropout_p": 1.5}, "[0, 1]"),
    ],
)
def test_bad_arguments_say_what_to_do(shapes, kwargs, words: str) -> None:
    rng = np.random.default_rng(0)
    args = [gn.tensor(a) for a in _qkv(rng, shapes)]
    with pytest.raises(ValueError) as error:
        F.scaled_dot_product_attention(*args, **kwargs)
    assert words in str(error.value)
    assert "scaled_dot_product_attention" in str(error.value)


def test_mixed_dtypes_are_refused() -> None:
    rng = np.random.default_rng(0)
    q, k, v = _qkv(rng, [(3, 4), (5, 4), (5, 3)])
    with pytest.raises(TypeError, match=r"\.float\(\)"):
        F.scaled_dot_product_attention(gn.tensor(q.astype(np.float32)), gn.tensor(k), gn.tensor(v))
    with pytest.raises(TypeError, match="query's dtype"):
        F.scaled_dot_product_attention(
            *(gn.tensor(a) for a in (q, k, v)), attn_mask=np.zeros((3, 5), np.float32)
        )


def test_explain_attention_prints_the_derivation() -> None:
    text = gn.explain("attention")
    assert "dS = P * (dP - rowsum(dP * P))" in text
    assert "def backward" in text
