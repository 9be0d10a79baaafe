"""clip_grad_norm_ and clip_grad_value_ against PyTorch: every norm type, NaN and inf
gradients, missing and empty gradients, every order of the parameters (float64)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

nan, inf = math.nan, math.inf

GRADS = {
    "finite": [[3.0, -4.0], [[1.0, 2.0], [0.5, -0.25]], [0.1]],
    "nan": [[1.0, nan], [[2.0, 3.0], [4.0, 5.0]], [0.5]],
    "inf": [[1.0, inf], [[2.0, 3.0], [4.0, 5.0]], [0.5]],
    "-inf": [[-inf, 1.0], [2.0], [-3.0]],
    "nan and inf": [[inf, 0.0], [nan], [1.0]],
    "None grad": [None, [3.0, 4.0], [0.0, -1.0]],
    "empty grad": [[], [3.0, 4.0]],
    "all zero": [[0.0, 0.0], [0.0]],
    "only None": [None, None],
    "no params": [],
}
NORM_TYPES = [2.0, 1.0, 0.5, 3.0, inf, -inf, 0.0, -1.0]


def _pair(grads):
    """glassnet and torch parameters holding the same gradients (None: no gradient)."""
    ours, theirs = [], []
    for g in grads:
        shape = (2,) if g is None else np.shape(g)
        p, t = gn.nn.Parameter(np.zeros(shape)), torch.nn.Parameter(torch.zeros(shape).double())
        if g is not None:
            p.grad = gn.tensor(np.array(g, dtype=np.float64))
            t.grad = torch.tensor(g, dtype=torch.float64).reshape(shape)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def _run(fn, *args):
    try:
        return fn(*args), None
    except RuntimeError as error:
        return None, error


def _assert_same_grads(ours, theirs):
    for p, t in zip(ours, theirs):
        assert (p.grad is None) == (t.grad is None)
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("error_if_nonfinite", [False, True])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("case", list(GRADS))
def test_clip_grad_norm_matches_pytorch_in_every_order(
    case, norm_type, max_norm, error_if_nonfinite
) -> None:
    for order in itertools.permutations(GRADS[case]):
        ours, theirs = _pair(order)
        args = (max_norm, norm_type, error_if_nonfinite)
        total, error = _run(gn.nn.utils.clip_grad_norm_, ours, *args)
        ttotal, terror = _run(torch.nn.utils.clip_grad_norm_, theirs, *args)
        assert (error is None) == (terror is None), (order, error, terror)
        if error is None:
            np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12, equal_nan=True)
        _assert_same_grads(ours, theirs)


def test_the_total_norm_is_nan_or_inf_as_the_gradients_are() -> None:
    # The facts the table above checks against PyTorch, said once by hand.
    for norm_type in (1.0, 2.0, 3.0, inf):
        for grads, expected in (([[nan, 1.0], [inf]], nan), ([[inf], [nan]], nan), ([[inf]], inf)):
            ours, _ = _pair(grads)
            total = gn.nn.utils.clip_grad_norm_(ours, 1.0, norm_type).item()
            assert (math.isnan(total) and math.isnan(expected)) or total == expected


def test_clipping_bumps_the_gradient_versions() -> None:
    ours, _ = _pair([[3.0, 4.0], None, [1.0]])
    before = [p.grad._version for p in ours if p.grad is not None]
    gn.nn.utils.clip_grad_norm_(ours, 1.0)
    gn.nn.utils.clip_grad_value_(ours, 0.1)
    after = [p.grad._version for p in ours if p.grad is not None]
    assert after == [v + 2 for v in before]


@pytest.mark.parametrize("case", ["finite", "nan", "inf", "None grad"])
def test_clip_grad_value_matches_pytorch(case) -> None:
    ours, theirs = _pair(GRADS[case])
    gn.nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    _assert_same_grads(ours, theirs)
