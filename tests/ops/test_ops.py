"""Every op in the spec table: forward equals NumPy by hand, gradients pass gradcheck in
float64, gradients have their inputs' shapes, and float32 stays float32 end to end."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.ops.specs import SPECS, OpSpec, sample


def _inputs(spec: OpSpec, dtype=np.float64, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [sample(rng, shape, spec.domain(i), dtype) for i, shape in enumerate(spec.shapes)]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_forward_matches_numpy_reference(spec: OpSpec) -> None:
    arrays = _inputs(spec)
    got = spec.fn(*[gn.tensor(a) for a in arrays])
    expected = np.asarray(spec.ref(*arrays))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_gradcheck_float64(spec: OpSpec) -> None:
    inputs = [gn.tensor(a, requires_grad=True) for a in _inputs(spec)]
    assert gn.gradcheck(spec.fn, inputs, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_gradient_shapes_equal_input_shapes(spec: OpSpec) -> None:
    inputs = [gn.tensor(a, requires_grad=True) for a in _inputs(spec)]
    spec.fn(*inputs).sum().backward()
    for x in inputs:
        assert x.grad is not None
        assert x.grad.shape == x.shape


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_float32_stays_float32(spec: OpSpec) -> None:
    inputs = [gn.tensor(a, requires_grad=True) for a in _inputs(spec, np.float32)]
    out = spec.fn(*inputs)
    assert out.dtype == np.float32
    out.sum().backward()
    for x in inputs:
        assert x.grad.dtype == np.float32
    # and the float32 result is the float64 one, rounded
    expected = spec.ref(*[a.astype(np.float64) for a in _inputs(spec, np.float32)])
    np.testing.assert_allclose(out.data, expected, rtol=2e-5, atol=2e-6)
