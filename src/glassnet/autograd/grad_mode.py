"""Whether operations record a graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``.

The flag is thread-local, as in PyTorch: a ``no_grad`` block in one thread (say, an
evaluation loop) never switches recording off for a training loop in another.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any


class _GradMode(threading.local):
    # A class attribute on a threading.local subclass is each thread's starting value.
    enabled = True
    inference = False


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Return True when operations on tensors that require grad record a graph."""
    return _mode.enabled


def is_inference_mode_enabled() -> bool:
    """Return True inside ``inference_mode()``."""
    return _mode.inference


class _ModeDecorator(contextlib.ContextDecorator):
    """A fresh context for every call of a decorated function, so that each call restores
    the mode it found, even when the function calls itself or runs in two threads at once
    (one shared instance would keep only the last call's previous mode)."""

    def _recreate_cm(self) -> _ModeDecorator:
        return type(self)()


class no_grad(_ModeDecorator):
    """Context manager and decorator in which no graph is recorded.

    Use it for inference and for updates of parameters: outputs of ops inside it have
    ``requires_grad=False`` and keep no references to their inputs.
    """

    def __enter__(self) -> None:
        self._previous = _mode.enabled
        _mode.enabled = False

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous


class enable_grad(_ModeDecorator):
    """Context manager and decorator that switches recording back on inside ``no_grad``."""

    def __enter__(self) -> None:
        self._previous = _mode.enabled
        _mode.enabled = True

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous


class set_grad_enabled(contextlib.ContextDecorator):
    """Set recording on or off.

    Called as a function it takes effect at once (``gn.set_grad_enabled(False)``); used
    as a context manager it restores the previous mode on exit, as in PyTorch.
    """

    def __init__(self, mode: bool) -> None:
        self._previous = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous


class inference_mode(_ModeDecorator):
    """Context manager and decorator for running a model, not training it: ``no_grad``
    that also says so (``is_inference_mode_enabled()`` is True inside).

    Ops inside record no graph and their outputs have ``requires_grad=False``. PyTorch
    additionally skips its view and version bookkeeping there; glassnet has none to skip, so
    the two modes cost the same here. ``inference_mode(False)`` switches it off (and
    recording back on) inside, as in PyTorch; ``@gn.inference_mode`` works without
    parentheses too.
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # used bare as a decorator: the "mode" is the function
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def _recreate_cm(self) -> inference_mode:
        return type(self)(self.mode)

    def __enter__(self) -> None:
        self._previous = (_mode.enabled, _mode.inference)
        _mode.enabled, _mode.inference = not self.mode, self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.enabled, _mode.inference = self._previous
