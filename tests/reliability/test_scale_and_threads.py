"""Scale and long runs: deep graphs, many steps, and two threads training at once."""

from __future__ import annotations

import threading

import numpy as np

import glassnet as gn


def test_a_1000_layer_mlp_backpropagates_without_recursion_error() -> None:
    gn.manual_seed(0)
    layers = []
    for _ in range(1000):
        layers += [gn.nn.Linear(8, 8), gn.nn.Tanh()]
    model = gn.nn.Sequential(*layers)
    x = gn.randn(4, 8, requires_grad=True)
    model(x).sum().backward()
    assert x.grad.shape == (4, 8) and np.isfinite(x.grad.numpy()).all()
    assert model[0].weight.grad is not None


def _train(seed: int, results: dict, key: str) -> None:
    rng = np.random.default_rng(seed)
    model = gn.nn.Sequential(gn.nn.Linear(5, 16), gn.nn.ReLU(), gn.nn.Linear(16, 3))
    for p in model.parameters():  # weights from this thread's own generator
        p.data[...] = rng.uniform(-0.3, 0.3, p.shape)
    optimizer = gn.optim.Adam(model.parameters(), lr=0.01)
    x = gn.tensor(rng.standard_normal((64, 5)).astype(np.float32))
    y = gn.tensor(rng.integers(0, 3, 64))
    for step in range(150):
        optimizer.zero_grad()
        gn.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        if step % 10 == 0:
            with gn.no_grad():  # one thread in no_grad must not switch the other's grad off
                model(x)
    results[key] = [p.data.copy() for p in model.parameters()]


def test_two_threads_training_at_once_equal_one_after_the_other() -> None:
    sequential, parallel = {}, {}
    _train(1, sequential, "a")
    _train(2, sequential, "b")
    threads = [
        threading.Thread(target=_train, args=(s, parallel, k)) for s, k in ((1, "a"), (2, "b"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key in ("a", "b"):
        for p, q in zip(sequential[key], parallel[key]):
            np.testing.assert_array_equal(p, q)
