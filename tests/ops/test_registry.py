"""The one op registry: it lists every Function in glassnet.ops, the spec table exercises
every listed Function (against NumPy by hand and PyTorch), each passes gradcheck, and
docs/ops.md shows the table as it is."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
import glassnet.ops
from glassnet.autograd.function import Function, Node
from glassnet.inspect.checks import run_check
from glassnet.inspect.explain import ops_markdown
from glassnet.ops.registry import OPS
from tests.ops.specs import SPECS, sample

DOCS_OPS = Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def _functions_defined_in_ops() -> set[type]:
    found = set()
    for info in pkgutil.iter_modules(glassnet.ops.__path__):
        module = importlib.import_module(f"glassnet.ops.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(obj, Function)
                and obj is not Function
                and obj.__module__ == module.__name__
            ):
                found.add(obj)
    return found


def test_every_function_in_ops_is_registered() -> None:
    registered = {op.function for op in OPS.values()}
    missing = sorted(f.__name__ for f in _functions_defined_in_ops() - registered)
    assert not missing, f"add these to glassnet/ops/registry.py: {missing}"


def _functions_in_graph(out: gn.Tensor) -> set[type]:
    seen, stack, found = set(), [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if not isinstance(node, Node) or id(node) in seen:
            continue
        seen.add(id(node))
        found.add(node.function)
        stack.extend(node.next_functions)
    return found


# Cast changes the precision, so a float64 finite difference cannot see through a cast to
# float32; it is checked against PyTorch below instead of in the spec table.
COVERED_ELSEWHERE = {"Cast"}


def test_the_spec_table_exercises_every_registered_function() -> None:
    used: set[type] = set()
    rng = np.random.default_rng(0)
    for spec in SPECS:
        args = [
            gn.tensor(sample(rng, s, spec.domain(i)), requires_grad=True)
            for i, s in enumerate(spec.shapes)
        ]
        used |= _functions_in_graph(spec.fn(*args))
    missing = sorted(
        op.name
        for op in OPS.values()
        if op.function not in used and op.function.__name__ not in COVERED_ELSEWHERE
    )
    assert not missing, f"add specs to tests/ops/specs.py for: {missing}"


@pytest.mark.parametrize("name", sorted(OPS))
def test_registered_call_passes_gradcheck(name: str) -> None:
    worst_abs, _ = run_check(name)
    assert worst_abs < 1e-6


def test_cast_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((3, 4))
    ours = gn.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y, t = ours.float(), theirs.float()
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, t.detach().numpy())
    v = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    y.backward(gn.tensor(v))
    t.backward(torch.from_numpy(v))
    assert ours.grad.dtype == np.float64
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_docs_ops_page_shows_the_registry() -> None:
    text = DOCS_OPS.read_text(encoding="utf-8")
    assert ops_markdown() in text, (
        "docs/ops.md is out of date: regenerate its table with "
        "python -c 'from glassnet.inspect.explain import ops_markdown; print(ops_markdown())'"
    )
