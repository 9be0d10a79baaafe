"""Generated 2-D classification problems, for seeing a decision boundary form.

Each returns stratified train and test ``Splits``; the generator makes them repeatable.
"""

from __future__ import annotations

import numpy as np

from glassnet.data.datasets.splits import Splits, make_splits
from glassnet.random import resolve_generator


def _split(x, y, classes, name, generator, test_fraction) -> Splits:
    seed = int(generator.integers(2**31))  # the split follows from the same generator
    return make_splits(x, y, tuple(classes), name, test_fraction, seed)


def make_spirals(
    n_per_class: int = 200,
    n_classes: int = 3,
    noise: float = 0.2,
    generator: np.random.Generator | None = None,
    test_fraction: float = 0.2,
) -> Splits:
    """Interleaved spiral arms, one per class (CS231n's classic): not linearly separable."""
    rng = resolve_generator(generator)
    xs, ys = [], []
    for k in range(n_classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0, noise, n_per_class)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(n_per_class, k))
    classes = [f"arm {k}" for k in range(n_classes)]
    return _split(np.concatenate(xs), np.concatenate(ys), classes, "spirals", rng, test_fraction)


def make_moons(
    n_samples: int = 400,
    noise: float = 0.1,
    generator: np.random.Generator | None = None,
    test_fraction: float = 0.2,
) -> Splits:
    """Two interleaving half circles (as scikit-learn's make_moons)."""
    rng = resolve_generator(generator)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    x = np.concatenate(
        [
            np.stack([np.cos(outer), np.sin(outer)], axis=1),
            np.stack([1 - np.cos(inner), 1 - np.sin(inner) - 0.5], axis=1),
        ]
    )
    x += rng.normal(0, noise, x.shape)
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _split(x, y, ["upper", "lower"], "moons", rng, test_fraction)


def make_blobs(
    n_samples: int = 300,
    n_classes: int = 3,
    n_features: int = 2,
    spread: float = 1.0,
    generator: np.random.Generator | None = None,
    test_fraction: float = 0.2,
) -> Splits:
    """Gaussian clusters, one per class, centres uniform in [-10, 10]^n_features."""
    rng = resolve_generator(generator)
    centres = rng.uniform(-10, 10, (n_classes, n_features))
    y = np.arange(n_samples) % n_classes
    x = centres[y] + rng.normal(0, spread, (n_samples, n_features))
    return _split(x, y, [f"blob {k}" for k in range(n_classes)], "blobs", rng, test_fraction)


def make_xor(
    n_samples: int = 400,
    noise: float = 0.1,
    generator: np.random.Generator | None = None,
    test_fraction: float = 0.2,
) -> Splits:
    """Points in four quadrants; class = sign(x1) XOR sign(x2): the problem one layer of
    a perceptron cannot solve (Minsky & Papert 1969)."""
    rng = resolve_generator(generator)
    y = np.arange(n_samples) % 2  # balanced: half the points in each class
    first = rng.choice([-1.0, 1.0], n_samples)
    second = np.where(y == 1, -first, first)
    x = rng.uniform(0, 1, (n_samples, 2)) * np.stack([first, second], axis=1)
    x += rng.normal(0, noise, x.shape)
    return _split(x, y, ["same sign", "different sign"], "xor", rng, test_fraction)


def make_circles(
    n_samples: int = 400,
    noise: float = 0.05,
    factor: float = 0.5,
    generator: np.random.Generator | None = None,
    test_fraction: float = 0.2,
) -> Splits:
    """A small circle inside a large one (as scikit-learn's make_circles): separable by
    the distance from the centre, which no straight line is."""
    if not 0 < factor < 1:
        raise ValueError(
            f"make_circles: factor is the inner radius over the outer, in (0, 1), got {factor}"
        )
    rng = resolve_generator(generator)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    angles = [np.linspace(0, 2 * np.pi, n, endpoint=False) for n in (n_out, n_in)]
    x = np.concatenate(
        [np.stack([r * np.cos(a), r * np.sin(a)], axis=1) for r, a in zip((1.0, factor), angles)]
    )
    x += rng.normal(0, noise, x.shape)
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    return _split(x, y, ["outer", "inner"], "circles", rng, test_fraction)
