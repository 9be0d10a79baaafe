"""Graph edges are tensor inputs only: a dim, an eps or a slope is not an edge, so
next_functions and the trace list what PyTorch lists."""

from __future__ import annotations

import pytest

import glassnet as gn


def test_plain_arguments_are_not_edges() -> None:
    x = gn.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    s = x.sum(dim=1, keepdim=True)
    assert s.grad_fn.next_functions == (x,)
    y = gn.leaky_relu(x, 0.1)
    assert len(y.grad_fn.next_functions) == 1


def test_a_tensor_input_without_grad_is_a_none_edge_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    edges = (x * gn.tensor([3.0, 4.0])).grad_fn.next_functions
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    theirs = (t * torch.tensor([3.0, 4.0])).grad_fn.next_functions
    assert [e is None for e in edges] == [f[0] is None for f in theirs] == [False, True]


def test_the_trace_shows_one_input_for_a_reduction() -> None:
    x = gn.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with gn.inspect.trace() as t:
        x.sum(dim=0).mean().backward()
    sum_step = next(s for s in t.steps if s.op == "SumBackward")
    assert sum_step.input_shapes == ((2, 2),)
    assert len(sum_step.grad_in) == 1


def test_the_engine_is_as_small_as_the_docs_say() -> None:
    import ast
    from pathlib import Path

    import glassnet.autograd.engine as engine

    source = Path(engine.__file__).read_text(encoding="utf-8")
    assert len(source.splitlines()) < 300  # docs/backprop.md: "under 300 lines"
    run = next(n for n in ast.parse(source).body if getattr(n, "name", None) == "run_backward")
    assert run.end_lineno - run.lineno + 1 <= 45  # "about 40 lines"
