"""Whether operations record a graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The flag is thread-local, as in PyTorch: a ``no_grad`` block in one thread (say, an
evaluation loop) never switches recording off for a training loop in another.
"""

from __future__ import annotations

import contextlib
import threading


class _GradMode(threading.local):
    # A class attribute on a threading.local subclass is each thread's starting value.
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """Return True when operations on tensors that require grad record a graph."""
    return _mode.enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager and decorator in which no graph is recorded.

    Use it for inference and for updates of parameters: outputs of ops inside it have
    ``requires_grad=False`` and keep no references to their inputs.
    """

    def __enter__(self) -> None:
        self._previous = _mode.enabled
        _mode.enabled = False

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous


class enable_grad(contextlib.ContextDecorator):
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
