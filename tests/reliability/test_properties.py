"""The math holds for any input: property tests over random shapes and values (hypothesis,
200 examples each)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassnet as gn

F = gn.nn.functional
PROPERTY = settings(max_examples=200, deadline=None)

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
values = st.floats(-3, 3, allow_nan=False, width=64)
BINARY = {"add": gn.add, "sub": gn.sub, "mul": gn.mul, "div": gn.div, "maximum": gn.maximum}


@PROPERTY
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    op=st.sampled_from(sorted(BINARY)),
    data=st.data(),
)
def test_binary_ops_broadcast_gradients_to_input_shapes(shapes, op, data) -> None:
    a_shape, b_shape = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float64, a_shape, elements=values))
    b = data.draw(hnp.arrays(np.float64, b_shape, elements=values))
    if op == "div":
        b = np.where(np.abs(b) < 0.5, 1.5, b)  # keep the quotient well conditioned
    if op == "maximum":
        # values on a grid: exact ties (whose split gradient 1/2 is what central differences
        # see) or 0.25 apart, never a near-tie that a finite difference would straddle
        a, b = np.round(a * 4) / 4, np.round(b * 4) / 4
    ta, tb = gn.tensor(a, requires_grad=True), gn.tensor(b, requires_grad=True)
    out = BINARY[op](ta, tb)
    assert out.shape == shapes.result_shape
    out.sum().backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    assert gn.gradcheck(
        BINARY[op], (gn.tensor(a, requires_grad=True), gn.tensor(b, requires_grad=True))
    )


REDUCTIONS = ["sum", "mean", "logsumexp", "var", "amax"]


@PROPERTY
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=values),
    op=st.sampled_from(REDUCTIONS),
    keepdim=st.booleans(),
    data=st.data(),
)
def test_reductions_gradients_have_input_shape_and_pass_gradcheck(x, op, keepdim, data) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    x = x + np.arange(x.size).reshape(x.shape) * 1e-3  # no ties for amax
    fn = lambda t: getattr(t, op)(dim=dim, keepdim=keepdim)  # noqa: E731
    t = gn.tensor(x, requires_grad=True)
    out = fn(t)
    out.sum().backward()
    assert t.grad.shape == x.shape
    if op == "var" and x.shape[dim] < 2:
        # unbiased variance of one value: 0 / 0. PyTorch gives nan for the value and the
        # gradient (with a warning); so must we, without raising
        assert np.isnan(out.numpy()).all() and np.isnan(t.grad.numpy()).all()
        return
    assert gn.gradcheck(fn, (gn.tensor(x, requires_grad=True),))


UNARY = {
    "exp": gn.exp,
    "tanh": gn.tanh,
    "sigmoid": gn.sigmoid,
    "softplus": gn.softplus,
    "gelu": gn.gelu,
    "silu": gn.silu,
    "softmax": lambda t: gn.softmax(t, dim=-1),
    "log_softmax": lambda t: gn.log_softmax(t, dim=-1),
}


@PROPERTY
@given(x=hnp.arrays(np.float64, small_shapes, elements=values), op=st.sampled_from(sorted(UNARY)))
def test_smooth_unary_ops_pass_gradcheck(x, op) -> None:
    assert gn.gradcheck(UNARY[op], (gn.tensor(x, requires_grad=True),))


E30 = float(np.float32(1e30))  # 1e30 as float32 stores it
MAX32 = float(np.float32(3e38))
finite32 = st.floats(-MAX32, MAX32, allow_nan=False, allow_infinity=False, width=32)
rows32 = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
    elements=st.one_of(finite32, st.sampled_from([E30, -E30, 0.0])),
)


@PROPERTY
@given(x=rows32)
def test_softmax_rows_sum_to_one_and_are_finite_for_any_finite_input(x) -> None:
    with warnings.catch_warnings(), np.errstate(over="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # x - max may round to -inf: exp is 0
        s = gn.softmax(gn.tensor(x), dim=1).numpy()
    assert s.dtype == np.float32 and np.isfinite(s).all()
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-5)


moderate32 = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
    elements=st.floats(-E30, E30, allow_nan=False, width=32),
)


@PROPERTY
@given(z=moderate32, data=st.data())
def test_log_softmax_and_cross_entropy_are_finite_for_any_finite_logits(z, data) -> None:
    # |z| <= 1e30: the exact log-probabilities (down to -2e30) are representable in float32
    labels = data.draw(hnp.arrays(np.int64, (z.shape[0],), elements=st.integers(0, z.shape[1] - 1)))
    assert np.isfinite(gn.log_softmax(gn.tensor(z), dim=1).numpy()).all()
    logits = gn.tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, gn.tensor(labels), label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.numpy()).all()


big32 = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=1, max_dims=2, max_side=6),
    elements=st.floats(-1e4, 1e4, allow_nan=False, width=32),
)


@PROPERTY
@given(x=big32, data=st.data())
def test_sigmoid_softplus_and_bce_with_logits_are_finite_up_to_1e4(x, data) -> None:
    target = data.draw(hnp.arrays(np.float32, x.shape, elements=st.sampled_from([0.0, 1.0])))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and without a single overflow warning
        for fn in (gn.sigmoid, gn.softplus, gn.tanh):
            t = gn.tensor(x, requires_grad=True)
            y = fn(t)
            y.sum().backward()
            assert np.isfinite(y.numpy()).all() and np.isfinite(t.grad.numpy()).all()
        t = gn.tensor(x, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(t, gn.tensor(target))
        loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(t.grad.numpy()).all()


@settings(max_examples=50, deadline=None)
@given(shape=st.sampled_from([(0,), (0, 3), (3, 0), (2, 0, 4)]), data=st.data())
def test_reductions_over_empty_dims_follow_numpy_or_raise_clearly(shape, data) -> None:
    x = np.zeros(shape)
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    t = gn.tensor(x, requires_grad=True)
    s = t.sum(dim=dim)
    np.testing.assert_array_equal(s.numpy(), x.sum(axis=dim))
    s.sum().backward()
    assert t.grad.shape == shape
    if x.shape[dim] == 0:
        try:
            gn.amax(t, dim=dim)
        except ValueError as error:
            assert "cannot reduce over an empty dimension" in str(error)
        else:
            raise AssertionError("amax over an empty dim must raise")
