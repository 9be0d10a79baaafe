"""glassnet's autograd gives exactly PyTorch's gradients on random graphs (float64, 1e-9).

A differential fuzzer: hypothesis writes random programs (tests/autograd/fuzz_graphs.py)
over the op table of tests/ops/specs.py and the views, with values reused 2-5 times,
diamonds, broadcasting both ways, retain_grad(), hooks that observe or double a
gradient, two or three backward calls that accumulate, and autograd.grad() calls; each
program runs on glassnet and on PyTorch and every leaf .grad, retained .grad and grad()
result must agree. A hook that keeps the gradient it was given must find it unchanged
afterwards: the engine must never add into an array it has handed out.

2,000 graphs by default (about 20 seconds on two cores); GLASSNET_FUZZ_EXAMPLES=20000 runs
more. A failure prints the graph as a program (``Falsifying example: ...``) and every
number that differs.

Below the fuzzer, the reproducers that it found first, as plain tests.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest

pytest.importorskip("torch")
from hypothesis import HealthCheck, Phase, given, settings

import glassnet as gn
from tests.autograd.fuzz_graphs import Graph, differences, features, graphs, run

TOTAL = int(os.environ.get("GLASSNET_FUZZ_EXAMPLES", "2000"))


def fuzz(share: float):
    """The settings of one fuzz test: ``share`` of TOTAL graphs, the same ones every run."""
    return settings(
        max_examples=max(1, round(TOTAL * share)),
        deadline=None,
        derandomize=True,  # the same graphs in every run, so a failure is reproducible
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        # the suite's autouse fixtures (network guard, cache folder) hold for every example
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


def check(graph: Graph) -> None:
    ours, kept_changed = run(graph, on_torch=False)
    theirs, _ = run(graph, on_torch=True)
    problems = kept_changed + differences(ours, theirs)
    assert not problems, "\n".join([repr(graph), "differs from PyTorch:", *problems])


@fuzz(0.3)
@given(graph=graphs())
def test_one_backward_matches_pytorch(graph: Graph) -> None:
    check(graph)


@fuzz(0.25)
@given(graph=graphs(retain=True, calls=(2, 3)))
def test_retain_grad_and_backward_twice_match_pytorch(graph: Graph) -> None:
    check(graph)


@fuzz(0.25)
@given(graph=graphs(retain=True, hooks=True, calls=(1, 2)))
def test_hooks_match_pytorch_and_keep_what_they_saw(graph: Graph) -> None:
    check(graph)


@fuzz(0.2)
@given(graph=graphs(retain=True, hooks=True, calls=(1, 3), grad_calls=True))
def test_grad_calls_mixed_with_backward_match_pytorch(graph: Graph) -> None:
    check(graph)


# ------------------------------------------------------------------ the reproducers
def leaf(values) -> gn.Tensor:
    return gn.tensor(values, dtype=np.float64, requires_grad=True)


def test_a_value_used_three_times_gets_three_times_the_gradient() -> None:
    x = leaf(2.0)
    (x + x + x).backward()
    assert x.grad.item() == 3.0  # PyTorch: tensor(3.)


def test_a_leaf_added_three_times_after_a_constant() -> None:
    b = leaf([1.0, 2.0])
    ((gn.tensor([3.0, 4.0], dtype=np.float64) * 2 + b + b + b) * 1.0).sum().backward()
    np.testing.assert_array_equal(b.grad.data, [3.0, 3.0])  # PyTorch: [3., 3.]


def test_retained_gradient_is_not_changed_by_the_leaf_accumulating() -> None:
    # z = 2x + x; out = sum(3 z): dout/dz = 3 and dout/dx = 9, per backward call.
    x = leaf([1.0, 2.0])
    z = x * 2.0 + x
    z.retain_grad()
    out = (z * 3.0).sum()
    out.backward(retain_graph=True)
    np.testing.assert_array_equal(z.grad.data, [3.0, 3.0])
    out.backward()
    np.testing.assert_array_equal(z.grad.data, [6.0, 6.0])  # PyTorch: [6., 6.]
    np.testing.assert_array_equal(x.grad.data, [18.0, 18.0])  # PyTorch: [18., 18.]


def test_gradient_kept_by_a_hook_does_not_change_in_a_later_backward() -> None:
    x = leaf([1.0, 2.0])
    kept = []
    x.register_hook(lambda g: kept.append((g, g.data.copy())))
    out = (x * 1.0).sum()
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])  # PyTorch: [2., 2.]
    for g, copy in kept:  # PyTorch: each hook call saw ones, and they stay ones
        np.testing.assert_array_equal(g.data, copy)
        np.testing.assert_array_equal(copy, [1.0, 1.0])


def test_gradient_kept_by_a_hook_does_not_change_in_the_same_backward() -> None:
    x = leaf(2.0)
    kept = []
    x.register_hook(lambda g: kept.append((g, g.data.copy())))
    (x + x + x).backward()
    assert x.grad.item() == 3.0
    for g, copy in kept:
        np.testing.assert_array_equal(g.data, copy)
    assert sum(copy.item() for _, copy in kept) == 3.0  # PyTorch: one call, with 3


def test_the_comparison_sees_every_kind_of_difference() -> None:
    want = {"g": np.array([3.0, 1.0])}
    assert differences({"g": np.array([3.0, 1.0 + 1e-12])}, want) == []
    assert differences({"g": np.array([4.0, 1.0])}, want)  # the x + x + x bug: 4 for 3
    assert differences({"g": np.array([3.0, 1.0 + 1e-8])}, want)
    assert differences({"g": None}, want)
    assert differences({"g": np.array([[3.0, 1.0]])}, want)
    assert differences({"g": np.zeros(2)}, {"g": None})


def test_the_graphs_hold_what_the_fuzzer_promises() -> None:
    seen: Counter = Counter()

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(graph=graphs(retain=True, hooks=True, calls=(1, 3), grad_calls=True))
    def collect(graph: Graph) -> None:
        seen.update(features(graph))

    collect()
    promised = [
        *(f"a leaf used {k} times" for k in range(2, 6)),
        "diamond",
        "(3, 1) meets (4,)",
        "(4,) meets (3, 1)",
        *(f"view.{v}" for v in ("reshape", "transpose", "getitem", "expand", "unsqueeze")),
        "retain_grad",
        "hook observe",
        "hook double",
        "backward call",
        "grad call",
        "2 calls",
        "3 calls",
        "scalar output",
        "output with a gradient",
    ]
    missing = [p for p in promised if seen[p] < 5]
    assert not missing, f"in 400 graphs, these occur fewer than 5 times: {missing}; {seen}"
