"""What speed rests on, checked without timing anything: a float32 step stays float32,
and a long run does not grow memory or keep graphs alive."""

from __future__ import annotations

import gc
import resource
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet.autograd import engine, function


def _mlp_step_parts(optimizer_name: str):
    gn.manual_seed(0)
    model = gn.nn.Sequential(
        gn.nn.Linear(64, 128),
        gn.nn.ReLU(),
        gn.nn.Dropout(0.1),
        gn.nn.Linear(128, 64),
        gn.nn.Tanh(),
        gn.nn.LayerNorm(64),
        gn.nn.Linear(64, 10),
    )
    optimizer = getattr(gn.optim, optimizer_name)(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = gn.tensor(rng.standard_normal((32, 64)).astype(np.float32))
    y = gn.tensor(rng.integers(0, 10, 32))
    return model, optimizer, x, y


@pytest.mark.parametrize("optimizer_name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_a_float32_training_step_makes_no_float64_array(monkeypatch, optimizer_name) -> None:
    seen = []
    original_apply = function.Function.apply.__func__

    def recording_apply(cls, *args, **kwargs):
        out = original_apply(cls, *args, **kwargs)
        seen.append((f"{cls.__name__} forward", out.dtype))
        return out

    def recording_backward(node, grad_output, grads):
        seen.extend(
            (f"{node.function.__name__} backward", np.asarray(g).dtype)
            for g in grads
            if g is not None
        )

    monkeypatch.setattr(function.Function, "apply", classmethod(recording_apply))
    monkeypatch.setattr(engine, "observers", [recording_backward])
    model, optimizer, x, y = _mlp_step_parts(optimizer_name)
    for _ in range(2):
        optimizer.zero_grad()
        gn.nn.functional.cross_entropy(model(x), y, label_smoothing=0.1).backward()
        optimizer.step()
    assert seen
    upcast = [name for name, dtype in seen if dtype == np.float64]
    assert not upcast, f"float64 arrays from: {sorted(set(upcast))}"
    for p in model.parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key


def _rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024**2


def test_2000_steps_do_not_grow_memory() -> None:
    model, optimizer, x, y = _mlp_step_parts("Adam")

    def steps(n):
        for _ in range(n):
            optimizer.zero_grad()
            gn.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()

    steps(100)  # allocator and caches settle
    before = _rss_mb()
    steps(2000)
    assert _rss_mb() - before < 10


def test_graphs_are_freed_by_reference_counting_alone() -> None:
    # No reference cycles: a finished step leaves nothing for the cycle collector.
    model, optimizer, x, y = _mlp_step_parts("SGD")
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            optimizer.zero_grad()
            gn.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        assert gc.collect() == 0
    finally:
        gc.enable()
