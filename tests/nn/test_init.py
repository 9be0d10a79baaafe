"""Initialisers: PyTorch's gains and fans, and the distributions they promise."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn

init = gn.nn.init


def _weight(out_features=300, in_features=200):
    return gn.nn.Parameter(np.empty((out_features, in_features), dtype=np.float32))


@pytest.mark.parametrize(
    ("name", "param", "expected"),
    [
        ("linear", None, 1.0),
        ("sigmoid", None, 1.0),
        ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)),
        ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
        ("selu", None, 0.75),
    ],
)
def test_calculate_gain(name, param, expected) -> None:
    assert init.calculate_gain(name, param) == pytest.approx(expected)


def test_calculate_gain_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for name in ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))


def test_uniform_bounds_follow_the_formulas() -> None:
    g = np.random.default_rng(0)
    w = _weight()
    init.xavier_uniform_(w, generator=g)
    bound = math.sqrt(6 / (200 + 300))
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    init.kaiming_uniform_(w, nonlinearity="relu", generator=g)
    bound = math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound


@pytest.mark.parametrize(
    ("fill", "expected_std"),
    [
        (lambda w, g: init.xavier_normal_(w, generator=g), math.sqrt(2 / 500)),
        (
            lambda w, g: init.kaiming_normal_(w, nonlinearity="relu", generator=g),
            math.sqrt(2 / 200),
        ),
        (
            lambda w, g: init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu", generator=g),
            math.sqrt(2 / 300),
        ),
        (lambda w, g: init.normal_(w, std=0.02, generator=g), 0.02),
    ],
)
def test_normal_initialisers_have_the_promised_std(fill, expected_std) -> None:
    # n = 60,000 draws from N(0, sigma^2). The sample mean has standard error sigma / sqrt(n)
    # (sigma / 245); the sample std has standard error about sigma / sqrt(2 n) (sigma / 346,
    # 0.29%). Five standard errors either way: a correct initialiser fails with probability
    # below 1e-6 per seed, while a std off by 1.5% (or a mean off by 0.02 sigma) fails.
    w = _weight()
    fill(w, np.random.default_rng(1))
    n = w.data.size
    sample = w.data.astype(np.float64)
    assert abs(sample.std() / expected_std - 1) < 5 / math.sqrt(2 * n)
    assert abs(sample.mean()) < 5 * expected_std / math.sqrt(n)


def test_trunc_normal_stays_inside_its_bounds() -> None:
    w = _weight()
    init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5, generator=np.random.default_rng(0))
    assert w.data.min() >= -0.5 and w.data.max() <= 0.5
    # and it is the truncated normal, not values clipped to the bounds: its variance is
    # 1 - (b phi(b) - a phi(a)) / (Phi(b) - Phi(a)) = 0.0806 (std 0.2838); clipping would
    # pile 62% of the values on +-0.5 (std 0.43). Bound: 5 sigma / sqrt(2 n), at least five
    # standard errors (a truncated normal has lighter tails than a normal, so a smaller one).
    phi = math.exp(-0.125) / math.sqrt(2 * math.pi)
    mass = math.erf(0.5 / math.sqrt(2))
    expected_std = math.sqrt(1 - 2 * 0.5 * phi / mass)
    assert abs(w.data.astype(np.float64).std() / expected_std - 1) < 5 / math.sqrt(2 * w.data.size)


def test_orthogonal_gives_orthonormal_rows_or_columns() -> None:
    for shape in ((30, 50), (50, 30)):
        w = gn.nn.Parameter(np.empty(shape, dtype=np.float64))
        init.orthogonal_(w, gain=2.0, generator=np.random.default_rng(0))
        small = min(shape)
        gram = w.data @ w.data.T if shape[0] < shape[1] else w.data.T @ w.data
        np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)


def test_constant_zeros_ones_eye_and_in_place() -> None:
    w = _weight(3, 3)
    same = w.data
    init.constant_(w, 0.5)
    assert np.all(w.data == 0.5) and w.data is same and w.dtype == np.float32
    init.zeros_(w)
    assert np.all(w.data == 0)
    init.ones_(w)
    assert np.all(w.data == 1)
    init.eye_(w)
    np.testing.assert_array_equal(w.data, np.eye(3))


def test_generator_makes_initialisation_repeatable() -> None:
    a, b = _weight(), _weight()
    init.kaiming_uniform_(a, generator=np.random.default_rng(5))
    init.kaiming_uniform_(b, generator=np.random.default_rng(5))
    np.testing.assert_array_equal(a.data, b.data)


def test_fan_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(gn.nn.Parameter(np.zeros(3, dtype=np.float32)))
