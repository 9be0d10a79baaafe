"""Arrays reach backward only through ``ctx.save_for_backward``, so the engine can free
them after backward: after a forward pass of every op, no ctx attribute holds an ndarray
(only plain Python values: dims, shapes, flags, numbers)."""

from __future__ import annotations

import numpy as np

import glassnet as gn
import glassnet.nn.functional as F
from glassnet.autograd.function import Function, Node
from glassnet.ops.registry import OPS
from tests.ops.specs import SPECS, sample

_NODE_OWN = set(vars(Node(Function, ())).keys()) | {"created_at"}


def _arrays_in(value) -> bool:
    if isinstance(value, np.ndarray):
        return True
    if isinstance(value, (tuple, list)):
        return any(_arrays_in(v) for v in value)
    if isinstance(value, dict):
        return any(_arrays_in(v) for v in value.values())
    return False


def _nodes(out: gn.Tensor):
    seen, todo = {}, [out.grad_fn]
    while todo:
        node = todo.pop()
        if isinstance(node, Node) and id(node) not in seen:
            seen[id(node)] = node
            todo.extend(node.edges)
    return list(seen.values())


def _extra_forwards():
    """Ops the spec table does not reach, each run once with arrays in its parameters."""
    x = gn.tensor(np.linspace(-1.0, 1.0, 12).reshape(3, 4), requires_grad=True)
    labels = gn.tensor([0, 3, 1])
    yield F.cross_entropy(x, labels, weight=gn.tensor([1.0, 2.0, 3.0, 4.0]))
    yield F.nll_loss(x, labels, ignore_index=3)
    yield F.binary_cross_entropy(x.sigmoid(), gn.ones((3, 4)), weight=gn.ones(4))
    yield F.binary_cross_entropy_with_logits(x, gn.ones((3, 4)), pos_weight=gn.ones(4) * 2)
    yield x.clamp(min=gn.zeros(4), max=gn.ones((3, 1)))
    yield x.clamp(min=0.0)
    yield gn.where(x.data > 0, x, 0.0)
    yield x[gn.tensor([0, 0, 2]), [1, 1, 3]]
    yield x[x.data > 0]
    yield x.float()
    yield gn.cat([x, x], dim=1)
    yield gn.stack([x, x])
    yield F.embedding(gn.tensor([[0, 2], [2, 1]]), x, padding_idx=1)
    yield F.layer_norm(x, (4,))
    yield F.elu(x, alpha=0.5)
    yield x.var(dim=1) + x.std() + x.logsumexp(dim=0).sum() + x.amax(dim=1).sum()


def _all_outputs():
    for spec in SPECS:
        rng = np.random.default_rng(0)
        inputs = [
            gn.tensor(sample(rng, s, spec.domain(i)), requires_grad=True)
            for i, s in enumerate(spec.shapes)
        ]
        yield spec.fn(*inputs)
    yield from _extra_forwards()


def test_no_ctx_attribute_holds_an_array() -> None:
    visited: set[type] = set()
    for out in _all_outputs():
        for node in _nodes(out):
            visited.add(node.function)
            own = {k: v for k, v in vars(node).items() if k not in _NODE_OWN}
            holding = [k for k, v in own.items() if _arrays_in(v)]
            assert not holding, f"{node.name()} keeps arrays in ctx.{', ctx.'.join(holding)}"
    every = {op.function for op in OPS.values()}
    assert every - visited == set(), "add a forward of these ops to _extra_forwards"


def test_the_check_can_fail() -> None:
    class Leaky(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.kept = (x * 2,)
            return x

    out = Leaky.apply(gn.tensor([1.0], requires_grad=True))
    assert _arrays_in(vars(out.grad_fn)["kept"])
