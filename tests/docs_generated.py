"""Code that glassnet generates, quoted in docs/ (``<!-- generated: ... -->``) and kept
current by ``python tests/docs_sources.py`` and ``test_quoted_sources_are_current``."""

from __future__ import annotations


def digits_step() -> str:
    """docs/compiled_step.md's step: a 64-32-10 MLP on digits, SGD with momentum, batch 32."""
    import numpy as np

    import glassnet as gn

    gn.manual_seed(0)
    model = gn.nn.Sequential(gn.nn.Linear(64, 32), gn.nn.ReLU(), gn.nn.Linear(32, 10))
    optimizer = gn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    step = gn.compile(model, gn.nn.CrossEntropyLoss(), optimizer)
    digits = gn.data.load_digits()
    x = np.asarray(digits.x_train[:32], dtype=np.float32).reshape(32, 64)
    step(x, digits.y_train[:32])
    return step.source
