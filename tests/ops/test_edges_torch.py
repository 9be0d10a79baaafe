"""Numeric edges against PyTorch: masked logits, all-ignored targets, BCE at 0 and 1,
var/std with too few elements, empty reductions and indices, large logits, clamp with
tensor bounds. Forward values and gradients must equal PyTorch's, NaN and inf included,
and glassnet must raise no NumPy warning on the way (these results are expected)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

import glassnet as gn
import glassnet.nn.functional as gF

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom:UserWarning")  # torch's
tF = torch.nn.functional

INF = np.inf
GN = SimpleNamespace(F=gF, const=lambda a: gn.tensor(np.asarray(a)), lib=gn)
TORCH = SimpleNamespace(F=tF, const=lambda a: torch.tensor(np.asarray(a)), lib=torch)


@dataclass(frozen=True)
class Edge:
    name: str
    inputs: tuple  # float64 arrays; each gets requires_grad
    fn: Callable  # (namespace, *tensors) -> tensor, the same code for glassnet and torch
    rtol: float = 1e-12

    def __str__(self) -> str:
        return self.name


MASKED = np.array([[0.5, -INF, 1.0], [-INF, 2.0, 0.0]])
LOGITS = np.array([[0.3, -1.2, 2.0, 0.1], [1.1, 0.4, -0.7, 0.9], [-0.5, 0.2, 0.8, -1.3]])
P = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.2])
Y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 1.0])
BIG = np.array([30.0, -30.0, 100.0, -100.0, 30.0, -30.0, 100.0, -100.0])
BIG_Y = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0])
X23 = np.array([[0.3, -1.2, 2.0], [1.5, 0.4, -0.7]])
W3 = np.array([1.0, 2.0, 0.5])

EDGES = [
    # cross_entropy with masked (-inf) logits
    Edge("ce-masked", (MASKED,), lambda m, z: m.F.cross_entropy(z, m.const([0, 1]))),
    Edge(
        "ce-masked-weight",
        (MASKED,),
        lambda m, z: m.F.cross_entropy(z, m.const([0, 1]), weight=m.const(W3)),
    ),
    Edge(
        "ce-masked-none",
        (MASKED,),
        lambda m, z: m.F.cross_entropy(z, m.const([2, 1]), reduction="none"),
    ),
    Edge(
        "ce-masked-smoothing",
        (MASKED,),
        lambda m, z: m.F.cross_entropy(z, m.const([0, 1]), label_smoothing=0.1),
    ),
    Edge("ce-target-at-minus-inf", (MASKED,), lambda m, z: m.F.cross_entropy(z, m.const([1, 1]))),
    Edge(
        "ce-masked-log-softmax-nll",
        (MASKED,),
        lambda m, z: m.F.nll_loss(m.F.log_softmax(z, dim=1), m.const([0, 1])),
    ),
    # every target ignored
    *[
        Edge(
            f"{loss}-all-ignored-{reduction}{'-smoothing' if smooth else ''}",
            (LOGITS,),
            lambda m, z, loss=loss, reduction=reduction, smooth=smooth: getattr(m.F, loss)(
                z,
                m.const([-100, -100, -100]),
                reduction=reduction,
                **({"label_smoothing": 0.1} if smooth else {}),
            ),
        )
        for loss in ("cross_entropy", "nll_loss")
        for reduction in ("mean", "sum", "none")
        for smooth in ((False, True) if loss == "cross_entropy" else (False,))
    ],
    Edge(
        "nll-some-ignored",
        (LOGITS,),
        lambda m, z: m.F.nll_loss(z, m.const([-100, 2, -100]), weight=m.const([1.0, 2, 3, 4])),
    ),
    # binary_cross_entropy at p = 0 and 1
    Edge("bce-at-0-and-1", (P, Y), lambda m, p, y: m.F.binary_cross_entropy(p, y)),
    Edge(
        "bce-at-0-and-1-none-weight",
        (P, Y),
        lambda m, p, y: m.F.binary_cross_entropy(
            p, y, weight=m.const(np.arange(1.0, 7.0)), reduction="none"
        ),
    ),
    Edge(
        "bce-sum", (P[4:], Y[4:]), lambda m, p, y: m.F.binary_cross_entropy(p, y, reduction="sum")
    ),
    # binary_cross_entropy_with_logits at large |x|
    Edge(
        "bce-logits-large",
        (BIG, BIG_Y),
        lambda m, x, y: m.F.binary_cross_entropy_with_logits(x, y, reduction="none"),
    ),
    Edge(
        "bce-logits-large-pos-weight-weight",
        (BIG, BIG_Y),
        lambda m, x, y: m.F.binary_cross_entropy_with_logits(
            x,
            y,
            weight=m.const(np.linspace(0.5, 2.0, 8)),
            pos_weight=m.const(np.full(8, 3.0)),
            reduction="none",
        ),
    ),
    Edge(
        "bce-logits-large-mean",
        (BIG, 1 - BIG_Y),
        lambda m, x, y: m.F.binary_cross_entropy_with_logits(x, y, pos_weight=m.const(2.0)),
    ),
    # var and std with n <= correction, and std of constant input
    *[
        Edge(
            f"{op}-{'const' if const else 'random'}-shape{shape}-dim{dim}-corr{corr}",
            (
                np.ones(shape)
                if const
                else np.linspace(-1.3, 2.1, int(np.prod(shape))).reshape(shape),
            ),
            lambda m, x, op=op, dim=dim, corr=corr: getattr(x, op)(dim=dim, correction=corr),
        )
        for op in ("var", "std")
        for const in (False, True)
        for shape, dim, corr in [
            ((1,), None, 1),
            ((1, 3), 0, 1),
            ((2,), None, 2),
            ((2, 3), 0, 3),
            ((2, 3), 1, 3),
            ((0,), None, 1),
            ((3,), None, 0),
            ((2, 3), (0, 1), 6),
        ]
    ],
    # empty reductions and indices
    Edge("logsumexp-empty-dim", (np.zeros((2, 0)),), lambda m, x: x.logsumexp(dim=1)),
    Edge(
        "logsumexp-all-minus-inf-row",
        (np.array([[-INF, -INF], [0.5, 1.0]]),),
        lambda m, x: x.logsumexp(dim=1),
    ),
    Edge("mean-empty", (np.zeros((2, 0)),), lambda m, x: x.mean(dim=1)),
    Edge("index-empty-list", (X23,), lambda m, x: x[[]]),
    Edge("index-empty-int64", (X23,), lambda m, x: x[m.lib.tensor([], dtype=m.lib.int64)]),
    Edge("index-empty-list-in-tuple", (X23,), lambda m, x: x[:, []]),
    # clamp with tensor bounds (broadcast), gradients to x and to the bounds
    Edge(
        "clamp-min-max-tensors",
        (X23, np.array([0.0, 0.4, -1.0]), np.array([[1.0], [0.2]])),
        lambda m, x, lo, hi: x.clamp(min=lo, max=hi),
    ),
    Edge("clamp-min-tensor", (X23, np.array([0.0, 0.4, -1.0])), lambda m, x, lo: x.clamp(min=lo)),
    Edge("clamp-max-tensor", (X23, np.array([[1.0], [0.2]])), lambda m, x, hi: x.clamp(max=hi)),
    Edge(
        "clamp-min-above-max",
        (X23, np.array([[2.5], [0.0]]), np.array([1.0, 0.3, 2.0])),
        lambda m, x, lo, hi: x.clamp(min=lo, max=hi),
    ),
    Edge(
        "clamp-number-and-tensor",
        (X23, np.array([1.0, 0.3, 2.0])),
        lambda m, x, hi: x.clamp(min=m.const(0.0), max=hi),
    ),
]


def _run(namespace, edge: Edge, make: Callable):
    inputs = [make(a) for a in edge.inputs]
    out = edge.fn(namespace, *inputs)
    return inputs, out


@pytest.mark.parametrize("edge", EDGES, ids=str)
def test_edge_matches_pytorch_without_warnings(edge: Edge) -> None:
    theirs, ref = _run(TORCH, edge, lambda a: torch.tensor(a, requires_grad=True))
    v = np.linspace(0.5, 1.5, ref.numel()).reshape(tuple(ref.shape))
    ref.backward(torch.tensor(v))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours, out = _run(GN, edge, lambda a: gn.tensor(a, requires_grad=True))
        out.backward(gn.tensor(v))
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=edge.rtol, atol=0)
    for i, (x, t) in enumerate(zip(ours, theirs)):
        expected = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(
            x.grad.data, expected, rtol=edge.rtol, atol=1e-300, err_msg=f"gradient of input {i}"
        )


def test_expand_minus_one_on_a_new_leading_dim_names_the_fix() -> None:
    with pytest.raises(RuntimeError, match="leading, non-existing dimension"):
        torch.ones(3).expand(-1, 3)
    with pytest.raises(ValueError, match="give that size explicitly"):
        gn.ones(3).expand(-1, 3)
    assert gn.ones(3).expand(2, -1).shape == (2, 3)
