"""inference_mode, and grad modes used as decorators on functions that call themselves."""

from __future__ import annotations

import threading

import glassnet as gn


def test_inference_mode_records_no_graph_and_says_so() -> None:
    w = gn.ones(3, requires_grad=True)
    assert not gn.is_inference_mode_enabled()
    with gn.inference_mode():
        assert gn.is_inference_mode_enabled() and not gn.is_grad_enabled()
        y = (w * 2).sum()
    assert not y.requires_grad and y.grad_fn is None
    assert not gn.is_inference_mode_enabled() and gn.is_grad_enabled()


def test_inference_mode_as_a_decorator_with_and_without_parentheses() -> None:
    w = gn.ones(3, requires_grad=True)

    @gn.inference_mode()
    def predict(x):
        return x * w

    @gn.inference_mode
    def predict_bare(x):
        return x * w

    for fn in (predict, predict_bare):
        out = fn(gn.ones(3))
        assert not out.requires_grad
        assert gn.is_grad_enabled() and not gn.is_inference_mode_enabled()


def test_inference_mode_false_switches_recording_back_on() -> None:
    w = gn.ones(3, requires_grad=True)
    with gn.inference_mode(), gn.inference_mode(False):
        assert gn.is_grad_enabled() and not gn.is_inference_mode_enabled()
        assert (w * 2).requires_grad
    assert gn.is_grad_enabled()


def test_inference_mode_restores_after_an_exception() -> None:
    try:
        with gn.inference_mode():
            raise ValueError
    except ValueError:
        pass
    assert gn.is_grad_enabled() and not gn.is_inference_mode_enabled()


def test_a_decorated_function_that_calls_itself_restores_the_mode() -> None:
    # one shared context object would remember only the innermost call's previous mode,
    # and recording would stay off after the outermost call returned
    for mode in (gn.no_grad(), gn.inference_mode()):

        @mode
        def depth(n):
            return 0 if n == 0 else 1 + depth(n - 1)

        assert depth(3) == 3
        assert gn.is_grad_enabled() and not gn.is_inference_mode_enabled()


def test_inference_mode_is_per_thread() -> None:
    seen = []
    with gn.inference_mode():
        thread = threading.Thread(target=lambda: seen.append(gn.is_inference_mode_enabled()))
        thread.start()
        thread.join()
    assert seen == [False]
