"""The one module-level random generator, and how functions pick their generator.

Randomness flows only through ``np.random.Generator`` objects: a function takes
``generator=`` and falls back to the default one, which ``manual_seed`` re-seeds.
"""

from __future__ import annotations

import numpy as np

_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed glassnet's default generator, so that runs repeat exactly.

    Args:
        seed: a non-negative integer.

    Returns:
        The freshly seeded default generator.
    """
    global _default
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"manual_seed expects a non-negative integer seed, got {seed!r}; pass e.g. 0"
        )
    _default = np.random.default_rng(int(seed))
    return _default


def default_generator() -> np.random.Generator:
    """Return the default generator (the one ``manual_seed`` seeds)."""
    return _default


def resolve_generator(generator: np.random.Generator | None) -> np.random.Generator:
    """Return ``generator``, or the default generator when it is None."""
    if generator is None:
        return _default
    if not isinstance(generator, np.random.Generator):
        raise TypeError(
            f"generator must be a numpy.random.Generator, got {type(generator).__name__}; "
            "make one with numpy.random.default_rng(seed)"
        )
    return generator
