"""The backward engine: the classic pitfalls of hand-written autograd, one test each."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import glassnet as gn


def test_reused_value_gets_the_sum_of_both_gradients() -> None:
    x = gn.tensor([3.0], requires_grad=True)
    (x * x).sum().backward()  # d(x^2)/dx = 2x
    np.testing.assert_allclose(x.grad.data, [6.0])

    a = gn.tensor([2.0, -1.0], requires_grad=True)
    (a + a).sum().backward()
    np.testing.assert_allclose(a.grad.data, [2.0, 2.0])


def test_diamond_graph() -> None:
    # x -> (b = 2x, c = x^2) -> d = b * c = 2 x^3;  dd/dx = 6 x^2
    x = gn.tensor(1.5, dtype=np.float64, requires_grad=True)
    b = x * 2
    c = x * x
    (b * c).backward()
    assert x.grad.item() == pytest.approx(6 * 1.5**2)


def test_deep_reuse_through_several_paths() -> None:
    # y = h + h*h with h = exp(x): dy/dx = h + 2 h^2
    x = gn.tensor([0.3, -0.2], dtype=np.float64, requires_grad=True)
    h = x.exp()
    (h + h * h).sum().backward()
    e = np.exp(x.data)
    np.testing.assert_allclose(x.grad.data, e + 2 * e * e)


def test_leaf_gradients_accumulate_over_backward_calls() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 6.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_second_backward_without_retain_graph_raises() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp()).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = gn.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = (x.exp()).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp([1.0, 2.0]))


def test_backward_on_non_scalar_needs_a_gradient() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()
    (x * 2).backward(gn.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, 20.0])


def test_backward_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        gn.tensor([1.0]).sum().backward()


def test_gradient_of_wrong_shape_is_refused() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        (x * 2).backward(gn.tensor([1.0, 2.0, 3.0]))


def test_no_grad_builds_no_graph() -> None:
    x = gn.tensor([1.0], requires_grad=True)
    with gn.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @gn.no_grad()
    def f(t):
        return t * 2

    assert f(x).grad_fn is None
    assert (x * 2).grad_fn is not None  # and recording is back afterwards


def test_enable_grad_and_set_grad_enabled() -> None:
    x = gn.tensor([1.0], requires_grad=True)
    with gn.no_grad():
        with gn.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    with gn.set_grad_enabled(False):
        assert not gn.is_grad_enabled()
    assert gn.is_grad_enabled()
    gn.set_grad_enabled(False)
    try:
        assert (x * 2).grad_fn is None
    finally:
        gn.set_grad_enabled(True)


def test_grad_mode_is_thread_local() -> None:
    seen = {}

    def other_thread():
        seen["enabled"] = gn.is_grad_enabled()

    with gn.no_grad():
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert seen["enabled"] is True


def test_inputs_without_requires_grad_get_no_gradient() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    c = gn.tensor([5.0, 6.0])
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.data, [5.0, 6.0])


def test_hooks_see_and_can_replace_gradients() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.data.copy()))
    handle = x.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.data, [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_retain_grad_keeps_an_intermediate_gradient() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.data, 2 * h.data)


def test_chain_of_100000_ops_has_no_recursion_error() -> None:
    x = gn.tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_saved_arrays_are_freed_after_backward() -> None:
    x = gn.tensor(np.ones(10), requires_grad=True)
    y = x.exp()
    saved = weakref.ref(y.grad_fn.saved_tensors[0])
    loss = y.sum()
    del y
    loss.backward()
    gc.collect()
    assert saved() is None


def test_intermediate_tensors_are_not_kept_alive_by_the_graph() -> None:
    x = gn.tensor(np.ones(10), requires_grad=True)
    h = x * 2
    ref = weakref.ref(h)
    loss = (h * 3).sum()
    del h
    gc.collect()
    assert ref() is None
    loss.backward()
    np.testing.assert_allclose(x.grad.data, np.full(10, 6.0))


def test_grad_function_returns_gradients_without_touching_dot_grad() -> None:
    x = gn.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    w = gn.tensor([3.0, 4.0], dtype=np.float64, requires_grad=True)
    h = x * w
    y = (h * h).sum()
    gx, gh = gn.autograd.grad(y, [x, h], retain_graph=True)
    np.testing.assert_allclose(gx.data, 2 * h.data * w.data)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    assert x.grad is None and w.grad is None
    unused = gn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        gn.autograd.grad(y, [unused], retain_graph=True)
    assert gn.autograd.grad(y, [unused], allow_unused=True) == (None,)


def test_gradients_of_two_leaves_never_share_memory() -> None:
    # Add passes the same array to both inputs; an in-place change to one .grad
    # (gradient clipping does that) must not change the other.
    a = gn.tensor([1.0, 2.0], requires_grad=True)
    b = gn.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 0
    np.testing.assert_allclose(b.grad.data, [1.0, 1.0])


def test_user_gradient_array_is_not_aliased() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    g = np.array([1.0, 1.0], dtype=np.float32)
    (x + 0).backward(g)
    x.grad.data += 1
    np.testing.assert_allclose(g, [1.0, 1.0])


def test_gradient_has_the_leaf_dtype() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x.double() * 2).sum().backward()
    assert x.grad.dtype == np.float32


def test_custom_function_with_wrong_gradient_shape_is_a_clear_error() -> None:
    class Bad(gn.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    x = gn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward returned a gradient of shape \(\)"):
        Bad.apply(x).sum().backward()


def test_custom_function_with_wrong_gradient_count_is_a_clear_error() -> None:
    class TwoIn(gn.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    a = gn.tensor([1.0], requires_grad=True)
    b = gn.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned 1 gradients, but forward had 2 inputs"):
        TwoIn.apply(a, b).sum().backward()


def test_needs_input_grad_tells_backward_what_to_skip() -> None:
    calls = {}

    class Probe(gn.Function):
        @staticmethod
        def forward(ctx, a, b):
            calls["needs"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None

    Probe.apply(gn.tensor([1.0], requires_grad=True), gn.tensor([2.0])).sum().backward()
    assert calls["needs"] == (True, False)


def test_function_from_the_issue_text() -> None:
    class Exp(gn.Function):
        @staticmethod
        def forward(ctx, x):
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_y):
            (y,) = ctx.saved_tensors
            return grad_y * y

    x = gn.tensor([0.5, -1.0], dtype=np.float64, requires_grad=True)
    assert gn.gradcheck(Exp.apply, (x,))
    assert Exp.apply(x).grad_fn.name() == "ExpBackward"
