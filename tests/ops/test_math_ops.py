"""What the spec table cannot show for the math ops: erf's accuracy over the whole real
line, rounding of halves, gradients at zeros and ties, sort and topk indices, einsum's
errors, and Linear's fast path against its plain formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn
from glassnet.ops.linalg import Linear, linear_weight_grad_reference
from glassnet.ops.registry import OPS
from glassnet.ops.special import erf as erf_array

FLOAT64_TINY = np.finfo(np.float64).tiny  # below this, floats are subnormal


def _erf_points() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate(
        [
            rng.uniform(-7, 7, 60_000),  # every interval of the approximation, both signs
            rng.standard_normal(20_000),
            # tiny values down to the subnormals, both signs
            10.0 ** rng.uniform(-320, 0, 20_000) * rng.choice([-1.0, 1.0], 20_000),
            np.linspace(-30, 30, 6001),  # the tails, where erf rounds to +-1
            [0.84375, 1.25, 1 / 0.35, 6.0, -6.0, 1e300, -1e300],  # interval ends, huge
        ]
    )


def test_erf_is_within_one_ulp_of_math_erf_on_the_whole_real_line() -> None:
    x = _erf_points()
    assert x.size >= 100_000
    expected = np.array([math.erf(v) for v in x])
    got = erf_array(x)
    normal = np.abs(x) >= FLOAT64_TINY
    relative = np.abs(got - expected)[normal] / np.abs(expected[normal])
    # measured: 2.2e-16 (one ulp at most) on these points; 4e-16 leaves room for libm
    assert relative.max() <= 4e-16, f"max relative error {relative.max():.3g}"
    # subnormal inputs carry fewer digits themselves: compare absolutely
    assert np.abs(got - expected)[~normal].max() <= 1e-323


def test_erf_special_values() -> None:
    got = erf_array(np.array([np.nan, np.inf, -np.inf, 0.0, -0.0]))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [1.0, -1.0, 0.0, 0.0])
    assert np.signbit(got[4])  # erf(-0) = -0, as math.erf gives
    assert erf_array(np.float64(0.5)).shape == ()


def test_erf_matches_torch_in_float64_and_float32() -> None:
    torch = pytest.importorskip("torch")
    x = _erf_points()
    np.testing.assert_allclose(
        gn.erf(gn.tensor(x)).data, torch.erf(torch.from_numpy(x)).numpy(), rtol=5e-16, atol=1e-320
    )
    x32 = x[np.abs(x) < 1e38].astype(np.float32)
    got = gn.erf(gn.tensor(x32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(
        got.data, torch.erf(torch.from_numpy(x32)).numpy(), rtol=2.5e-7, atol=1e-45
    )


def test_gelu_uses_the_vectorised_erf_and_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((64, 33)) * 4
    np.testing.assert_allclose(
        gn.gelu(gn.tensor(x)).data,
        torch.nn.functional.gelu(torch.from_numpy(x)).numpy(),
        rtol=1e-15,
        atol=1e-15,  # x Phi(x) for x << 0 is a difference of near-equal terms in both
    )


def test_round_takes_halves_to_even_and_decimals_as_torch() -> None:
    torch = pytest.importorskip("torch")
    halves = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, 0.49999999999999994])
    np.testing.assert_array_equal(gn.round(gn.tensor(halves)).data, [0, 2, 2, 0, -2, -2, 4, 0])
    x = np.array([0.25, 0.35, 1.05, -0.15, 2.675, 1250.0, 1350.0, 15.0, -2550.0])
    for decimals in (0, 1, 2, -1, -2):
        np.testing.assert_array_equal(
            gn.tensor(x).round(decimals=decimals).data,
            torch.from_numpy(x).round(decimals=decimals).numpy(),
            err_msg=f"decimals={decimals}",
        )


def test_integer_tensors_keep_their_dtype_where_torch_does() -> None:
    ints = gn.tensor([-2, 0, 3])
    assert gn.round(ints).dtype == np.int64
    assert gn.floor(ints).dtype == np.int64
    assert gn.sign(ints).tolist() == [-1, 0, 1]
    assert gn.sin(ints).dtype == np.float32  # as torch promotes integers to float32
    assert gn.cumsum(gn.tensor(np.array([1, 2], dtype=np.int32)), 0).dtype == np.int64
    with pytest.raises(TypeError, match=r"decimals=1 needs a floating-point tensor"):
        gn.round(ints, decimals=1)


@pytest.mark.parametrize("name", ["sign", "floor", "round"])
def test_step_functions_have_zero_gradient_as_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    x = np.array([-1.5, -1.0, 0.0, 0.5, 2.5])
    ours = gn.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    getattr(gn, name)(ours).sum().backward()
    getattr(torch, name)(theirs).sum().backward()
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
    np.testing.assert_array_equal(ours.grad.data, np.zeros(5))


def test_max_of_two_tensors_splits_ties_like_torch() -> None:
    torch = pytest.importorskip("torch")
    a, b = np.array([1.0, 2.0, 3.0, -1.0]), np.array([1.0, 0.0, 3.0, 5.0])
    for ours_fn, torch_fn in [
        (lambda p, q: gn.max(p, q), lambda p, q: torch.max(p, q)),
        (lambda p, q: p.min(q), lambda p, q: p.min(q)),
    ]:
        p, q = gn.tensor(a, requires_grad=True), gn.tensor(b, requires_grad=True)
        tp, tq = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        ours_fn(p, q).sum().backward()
        torch_fn(tp, tq).sum().backward()
        np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())
        np.testing.assert_array_equal(q.grad.data, tq.grad.numpy())
    np.testing.assert_array_equal(p.grad.data, [0.5, 0.0, 0.5, 1.0])  # a.min(b): ties halve
    with pytest.raises(TypeError, match="takes no keepdim"):
        gn.max(gn.tensor(a), gn.tensor(b), keepdim=True)


@pytest.mark.parametrize(
    "rows, dim",
    [
        ([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0], [1.0, 2.0, 3.0]], 1),  # one zero, two, none
        ([[2.0, 0.0], [0.0, 0.0], [4.0, 0.5]], 0),
        ([[2.0, 0.0], [3.0, 5.0]], None),  # all elements, one zero
        ([[2.0, 0.0], [0.0, 5.0]], None),  # all elements, two zeros
    ],
)
def test_prod_gradient_with_zeros_matches_torch(rows: list, dim: int | None) -> None:
    torch = pytest.importorskip("torch")
    x = np.array(rows)
    ours = gn.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = ours.prod() if dim is None else ours.prod(dim)
    t = theirs.prod() if dim is None else theirs.prod(dim)
    v = np.arange(1.0, t.numel() + 1).reshape(t.shape)
    y.backward(gn.tensor(v))
    t.backward(torch.from_numpy(v))
    np.testing.assert_array_equal(y.data, t.detach().numpy())
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-15)


def test_prod_gradient_with_one_zero_by_hand() -> None:
    x = gn.tensor([2.0, 0.0, 3.0, 5.0], requires_grad=True)
    x.prod().backward()
    # only the zero moves the product: by the product of the others, 2 * 3 * 5
    np.testing.assert_array_equal(x.grad.data, [0.0, 30.0, 0.0, 0.0])


@pytest.mark.parametrize("p", [2, 1, float("inf"), 3, 1.5, 0.5, "fro"])
def test_norm_gradient_at_the_zero_vector_is_zero_as_torch(p: float | str) -> None:
    torch = pytest.importorskip("torch")
    ours = gn.zeros(4, dtype=gn.float64, requires_grad=True)
    theirs = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    y = ours.norm(p)
    torch.norm(theirs, p).backward()
    y.backward()
    assert y.item() == 0.0
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_norm_with_zeros_inside_and_ties_for_inf_as_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([[0.0, -2.0, 2.0, 1.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, -1.0, 0.5]])
    for p in (2, 1, float("inf"), 3, 0.5):
        ours = gn.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        ours.norm(p, dim=1).sum().backward()
        torch.norm(theirs, p, dim=1).sum().backward()
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-14, err_msg=p)


def test_norm_does_not_overflow_or_underflow() -> None:
    big = gn.tensor([3e200, 4e200], dtype=gn.float64)
    assert big.norm().item() == pytest.approx(5e200, rel=1e-15)  # naive sum of squares: inf
    small = gn.tensor([3e-200, 4e-200], dtype=gn.float64)
    assert small.norm().item() == pytest.approx(5e-200, rel=1e-15)  # naive: 0
    assert gn.tensor([3e30, 4e30], dtype=gn.float32).norm(3).item() == pytest.approx(
        (27 + 64) ** (1 / 3) * 1e30, rel=1e-6
    )


@pytest.mark.parametrize("p", [0, -1, float("-inf"), "nuc", float("nan")])
def test_norm_refuses_what_it_does_not_compute(p: object) -> None:
    with pytest.raises(ValueError, match="p must be a number > 0"):
        gn.tensor([1.0, 2.0]).norm(p)


def test_sort_and_topk_indices_match_torch_without_ties() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).permutation(60).reshape(3, 4, 5).astype(np.float64)
    t = torch.from_numpy(x)
    for dim in (0, 1, -1):
        for descending in (False, True):
            ours = gn.sort(gn.tensor(x), dim=dim, descending=descending)
            theirs = torch.sort(t, dim=dim, descending=descending)
            assert ours.indices.dtype == np.int64
            np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
            np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        for largest in (True, False):
            ours = gn.tensor(x).topk(2, dim=dim, largest=largest)
            theirs = t.topk(2, dim=dim, largest=largest)
            np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
            np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())


def test_sort_with_ties_and_nan_is_torchs_stable_sort() -> None:
    torch = pytest.importorskip("torch")
    x = np.array([[2.0, 1.0, 2.0, np.nan, 1.0, 2.0], [0.0, 0.0, -1.0, 0.0, 5.0, -1.0]])
    for descending in (False, True):
        ours = gn.tensor(x).sort(descending=descending, stable=True)
        theirs = torch.from_numpy(x).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())


def test_sort_and_topk_send_the_gradient_back_to_the_source_positions() -> None:
    x = gn.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices = x.sort(descending=True)
    assert indices.tolist() == [0, 2, 1]
    (values * gn.tensor([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [10.0, 30.0, 20.0])
    y = gn.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    result = y.topk(2)
    assert result._fields == ("values", "indices")
    result.values.sum().backward()
    np.testing.assert_array_equal(y.grad.data, [[1.0, 0.0, 1.0]])


def test_topk_refuses_k_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"k must be an int in \[0, 3\]"):
        gn.tensor([1.0, 2.0, 3.0]).topk(4)


def test_cumsum_backward_is_the_reversed_running_sum() -> None:
    x = gn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.cumsum(0).backward(gn.tensor([1.0, 10.0, 100.0]))
    # x_0 reaches y_0, y_1, y_2; x_2 only y_2
    np.testing.assert_array_equal(x.grad.data, [111.0, 110.0, 100.0])


def test_bmm_names_the_shapes_it_refuses() -> None:
    with pytest.raises(ValueError, match=r"3-D .* got shapes \(3, 4\) and \(2, 4, 5\)"):
        gn.bmm(gn.ones(3, 4), gn.ones(2, 4, 5))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\) and \(3, 4, 5\) do not fit"):
        gn.bmm(gn.ones(2, 3, 4), gn.ones(3, 4, 5))
    with pytest.raises(ValueError, match="1-D"):
        gn.outer(gn.ones(2, 2), gn.ones(3))


@pytest.mark.parametrize(
    "equation, shapes, message",
    [
        ("ij,jk->ik", [(3, 4), (5, 6)], "letter 'j' stands for sizes 4 and 5"),
        ("ij,jk->ik", [(3, 4)], "names 2 operands, 1 were given"),
        ("ijk->i", [(3, 4)], "'ijk' has 3 letters for a 2-D operand"),
        ("ij->q", [(3, 4)], "each output letter must appear once"),
        ("ij->ii", [(3, 3)], "each output letter must appear once"),
        ("i.j->i", [(3, 4)], "malformed"),
        ("i1->i", [(3, 4)], "use letters"),
        ("...ij,...jk->...ik", [(2, 3, 4), (3, 4, 5)], "do not broadcast"),
    ],
)
def test_einsum_errors_name_the_equation_and_the_problem(
    equation: str, shapes: list, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        gn.einsum(equation, *[gn.ones(*s) for s in shapes])
    assert repr(equation) in str(info.value)


def test_einsum_takes_a_list_of_operands_and_never_aliases_its_input() -> None:
    a = gn.tensor(np.arange(9.0).reshape(3, 3))
    np.testing.assert_array_equal(gn.einsum("ij,jk", [a, a]).data, a.data @ a.data)
    diagonal = gn.einsum("ii->i", a)
    assert not np.shares_memory(diagonal.data, a.data)


def test_linear_fast_path_agrees_with_the_plain_formula() -> None:
    rng = np.random.default_rng(7)
    weight = gn.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    for batch in [(1,), (6,), (2, 3), (1, 1)]:
        x = rng.standard_normal((*batch, 4))
        g = rng.standard_normal((*batch, 5))
        weight.grad = None
        Linear.apply(gn.tensor(x), weight, None).backward(gn.tensor(g))
        np.testing.assert_allclose(
            weight.grad.data, linear_weight_grad_reference(g, x), rtol=1e-14, atol=1e-14
        )


@pytest.mark.parametrize(
    "name",
    [
        "sin",
        "cos",
        "log1p",
        "expm1",
        "erf",
        "sign",
        "floor",
        "round",
        "cumsum",
        "prod",
        "norm",
        "sort",
        "topk",
        "outer",
        "bmm",
        "einsum",
    ],
)
def test_every_new_op_can_be_explained(name: str) -> None:
    text = gn.explain(name)
    assert OPS[name].function.__name__ in text
    assert "def backward" in text
