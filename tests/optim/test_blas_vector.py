"""The in-place vector updates of glassnet/_blas.py (BLAS axpy, axpby and scal on NumPy's
own OpenBLAS, or ufuncs where it has none) against the same arithmetic written in NumPy:
both dtypes, both memory orders, small arrays (ufuncs) and large ones (BLAS), and arrays
BLAS cannot take (strided, mixed orders), which must still be updated correctly."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from glassnet import _blas


def _pair(size: int, dtype, order: str):
    rng = np.random.default_rng(size)
    shape = (size // 64, 64) if size >= 64 else (size,)
    x = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    y = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    return x, y


def _close(got, terms, dtype) -> None:
    """Within two roundings of the exact sum: BLAS may fuse the multiply and the add (one
    rounding) where NumPy rounds twice, so the error bound is relative to the terms, not
    to their sum, which can cancel."""
    exact = sum(t.astype(np.float64) for t in terms)
    bound = 2 * np.finfo(dtype).eps * sum(np.abs(t.astype(np.float64)) for t in terms)
    assert np.all(np.abs(got.astype(np.float64) - exact) <= bound)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("size", [16, 64 * 128])  # below and above _blas.SMALL
def test_updates_match_numpy(dtype, order: str, size: int) -> None:
    x, y = _pair(size, dtype, order)
    got = y.copy(order=order)
    _blas.axpy(-0.3, x, got)
    _close(got, [y, dtype(-0.3) * x], dtype)
    assert got.flags.f_contiguous == (order == "F" or got.ndim == 1)

    got = y.copy(order=order)
    _blas.axpby(0.7, x, 0.9, got)
    _close(got, [dtype(0.7) * x, dtype(0.9) * y], dtype)

    got = y.copy(order=order)
    _blas.scal(0.25, got)
    np.testing.assert_array_equal(got, y * dtype(0.25))  # a power of two: exact


def test_arrays_blas_cannot_take_are_still_updated() -> None:
    x, y = _pair(64 * 128, np.float32, "C")
    strided = y[:, ::2]
    want = strided + np.float32(2.0) * x[:, ::2]
    _blas.axpy(2.0, x[:, ::2], strided)  # a view with gaps: ufuncs
    np.testing.assert_allclose(y[:, ::2], want, rtol=2e-7)
    f = np.asfortranarray(x)
    c = y.copy()
    want = c + f
    _blas.axpy(1.0, f, c)  # one Fortran, one C: element i differs in memory, so ufuncs
    np.testing.assert_allclose(c, want, rtol=2e-7)


def test_without_the_library_the_same_updates_run_as_ufuncs() -> None:
    code = (
        "import numpy as np; from glassnet import _blas; assert not _blas.available();"
        "x = np.ones(8192, np.float32); y = np.full(8192, 2, np.float32);"
        "_blas.axpby(3.0, x, 0.5, y); assert (y == 4).all(); print('ok')"
    )
    env = {**os.environ, "GLASSNET_NO_BLAS_VECTOR": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
