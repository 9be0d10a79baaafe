"""The engine owns what it adds into: no gradient array it has handed out (a .grad, a
hook's argument, a pending sum, a retained .grad) changes afterwards, and every .grad
equals PyTorch's. Each case here once gave a wrong number."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.nn.utils import clip_grad_norm_

torch = pytest.importorskip("torch")


def test_a_value_used_three_times_gets_three_gradients() -> None:
    x = gn.tensor(2.0, requires_grad=True)
    (x + x + x).backward()
    t = torch.tensor(2.0, requires_grad=True)
    (t + t + t).backward()
    assert x.grad.item() == t.grad.item() == 3.0


def test_a_leaf_reached_through_a_chain_of_adds() -> None:
    b = gn.tensor([1.0, 2.0], requires_grad=True)
    ((gn.tensor([3.0, 4.0]) * 2 + b + b + b) * 1.0).sum().backward()
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    ((torch.tensor([3.0, 4.0]) * 2 + t + t + t) * 1.0).sum().backward()
    np.testing.assert_array_equal(b.grad.data, t.grad.numpy())


def test_two_leaves_given_one_array_never_share_it() -> None:
    a = gn.tensor([1.0, 2.0], requires_grad=True)
    b = gn.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add hands the same array to both
    with gn.no_grad():
        a.grad.mul_(10.0)
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_clipping_one_gradient_changes_no_other() -> None:
    a = gn.tensor([3.0, 4.0], requires_grad=True)
    b = gn.tensor([3.0, 4.0], requires_grad=True)
    (a * 1.0 + b).sum().backward()
    clip_grad_norm_([a], max_norm=0.5)
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])


def test_retained_gradients_over_two_backward_calls_match_pytorch() -> None:
    def run(lib, make):
        x = make([1.0, -2.0, 3.0])
        y = x * 2
        y.retain_grad()
        z = y + y + x
        z.retain_grad()
        out = (z * z).sum()
        out.backward(retain_graph=True)
        out.backward()
        return [np.array(t.grad.tolist()) for t in (x, y, z)]

    ours = run(gn, lambda v: gn.tensor(v, dtype=gn.float64, requires_grad=True))
    theirs = run(torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o, t, rtol=1e-12)


def test_an_array_a_hook_kept_never_changes() -> None:
    kept = []
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: kept.append((g.data, g.data.copy())))
    x.register_hook(lambda g: kept.append((g.data, g.data.copy())))
    out = (y + y + x).sum()
    out.backward(retain_graph=True)
    out.backward()
    for array, copy_at_the_time in kept:
        np.testing.assert_array_equal(array, copy_at_the_time)
    np.testing.assert_array_equal(x.grad.data, [14.0, 14.0])


def test_a_leaf_hook_sees_the_total_once_as_in_pytorch() -> None:
    def run(make):
        seen = []
        x = make([1.0, 2.0])
        x.register_hook(lambda g: seen.append(g.tolist()))
        (x * 2 + x).sum().backward()
        return seen

    ours = run(lambda v: gn.tensor(v, requires_grad=True))
    theirs = run(lambda v: torch.tensor(v, requires_grad=True))
    assert ours == theirs == [[3.0, 3.0]]


def test_the_gradient_the_user_passed_is_never_written() -> None:
    g = np.array([1.0, 1.0], dtype=np.float32)
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0
    y.backward(gn.tensor(g))
    y2 = x + 0
    y2.backward(gn.tensor(g))
    np.testing.assert_array_equal(g, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_accumulation_keeps_the_grad_tensor_and_spares_arrays_held_elsewhere() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    grad_tensor, first_array = x.grad, x.grad.data
    (x * 2).sum().backward()
    assert x.grad is grad_tensor  # as in PyTorch, the same .grad tensor accumulates
    np.testing.assert_array_equal(x.grad.data, [4.0, 4.0])
    np.testing.assert_array_equal(first_array, [2.0, 2.0])


def test_grad_returns_copies_and_touches_no_grad() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = x + x
    (gx,) = gn.autograd.grad(y.sum(), x)
    assert x.grad is None
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])


def test_a_retained_gradient_is_the_one_after_the_hooks_as_in_pytorch() -> None:
    def run(make):
        x = make([1.0, 2.0])
        y = x * 2
        y.retain_grad()  # registered first, still runs after the hook, as in PyTorch
        y.register_hook(lambda g: g * 10)
        (y * y).sum().backward()
        return y.grad.tolist(), x.grad.tolist(), y.retains_grad

    ours = run(lambda v: gn.tensor(v, requires_grad=True))
    theirs = run(lambda v: torch.tensor(v, requires_grad=True))
    assert ours == theirs
