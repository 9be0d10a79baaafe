"""F.scaled_dot_product_attention calls PyTorch 2.13 accepts: attn_mask together with
is_causal (both apply), and enable_gqa (grouped-query attention), values and gradients
against PyTorch in float64 and float32.

PyTorch 2.13 documents attn_mask with is_causal=True as both applied (its reference
implementation adds the causal -inf bias and the mask), but only some of its kernels run
it: the math kernel (taken when value's width differs from the query's, or with
enable_gqa) raises "Explicit attn_mask should not be set when is_causal=True". So the
values are compared with that call where PyTorch runs it, and values and gradients with
PyTorch given the two masks folded into one by hand (``m & tril`` for a boolean mask,
``masked_fill`` of a float one), the documented semantics."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as F

CASES = {
    # name: (q, k, v shapes, mask shape or None, mask kind, kwargs)
    "bool mask + causal": (
        [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)],
        (5, 6),
        "bool",
        {"is_causal": True},
    ),
    "float mask + causal": (
        [(2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)],
        (2, 1, 5, 6),
        "float",
        {"is_causal": True},
    ),
    "gqa": ([(2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3)], None, None, {"enable_gqa": True}),
    "gqa, 3-D": ([(6, 5, 4), (2, 6, 4), (2, 6, 3)], None, None, {"enable_gqa": True}),
    "gqa + per-head float mask": (
        [(2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3)],
        (2, 4, 5, 6),
        "float",
        {"enable_gqa": True},
    ),
    "gqa + bool mask + causal": (
        [(1, 6, 5, 4), (1, 3, 5, 4), (1, 3, 5, 3)],
        (1, 5, 5),
        "bool",
        {"enable_gqa": True, "is_causal": True},
    ),
    "gqa, equal heads": (
        [(2, 2, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3)],
        None,
        None,
        {"enable_gqa": True},
    ),
}


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_match_pytorch(name: str, dtype, tol: float) -> None:
    torch = pytest.importorskip("torch")
    shapes, mask_shape, kind, kwargs = CASES[name]
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in shapes)
    ours = [gn.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    kw_ours, kw_theirs = dict(kwargs), dict(kwargs)
    theirs_mask = None
    if kind == "bool":
        m = rng.random(mask_shape) > 0.4
        m[..., 0] = True
        kw_ours["attn_mask"], kw_theirs["attn_mask"] = m, torch.from_numpy(m)
    elif kind == "float":
        m = rng.standard_normal(mask_shape).astype(dtype)
        kw_ours["attn_mask"] = gn.tensor(m, requires_grad=True)
        kw_theirs["attn_mask"] = torch.tensor(m, requires_grad=True)
    out = F.scaled_dot_product_attention(*ours, **kw_ours)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    if kind is not None and kwargs.get("is_causal"):
        mask = kw_theirs["attn_mask"]
        if not kwargs.get("enable_gqa"):  # a case PyTorch's fused kernels run
            plain = [t.detach() for t in theirs]
            direct = sdpa(*plain, **{**kw_theirs, "attn_mask": mask.detach()})
            np.testing.assert_allclose(out.data, direct.numpy(), rtol=tol, atol=tol)
        tril = torch.ones(shapes[0][-2], shapes[1][-2], dtype=torch.bool).tril()
        kw_theirs["is_causal"] = False
        if kind == "bool":
            kw_theirs["attn_mask"] = mask & tril
        else:
            kw_theirs["attn_mask"] = mask.masked_fill(~tril, float("-inf"))
            theirs_mask = mask
    ref = sdpa(*theirs, **kw_theirs)
    assert out.shape == tuple(ref.shape) and out.dtype == dtype
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(ref.shape).astype(dtype)
    out.backward(gn.tensor(g))
    ref.backward(torch.from_numpy(g))
    pairs = list(zip("qkv", ours, theirs))
    if kind == "float":
        theirs_mask = kw_theirs["attn_mask"] if theirs_mask is None else theirs_mask
        pairs.append(("mask", kw_ours["attn_mask"], theirs_mask))
    for what, a, b in pairs:
        assert a.grad.shape == tuple(b.grad.shape), what
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=tol, atol=tol, err_msg=what)


def test_gqa_with_heads_that_do_not_divide_says_so() -> None:
    q, k = gn.zeros(1, 3, 2, 4), gn.zeros(1, 2, 2, 4)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: enable_gqa=True.*heads"):
        F.scaled_dot_product_attention(q, k, k, enable_gqa=True)
