"""Anomaly detection: find the op whose backward first produced a NaN or an infinity.

Inside ``detect_anomaly()``, every op remembers the line of user code that created it,
and the engine checks every gradient as it is computed. The first non-finite one stops
backward with an error naming the op, the shapes, and that line, instead of letting the
NaN spread silently into every parameter. It costs a stack walk per op and a scan of
every gradient, so it is for debugging, not for normal training (as in PyTorch).
"""

from __future__ import annotations

import os
import threading
import traceback
from typing import Any

import numpy as np

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _AnomalyMode(threading.local):
    enabled = False


_anomaly = _AnomalyMode()


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return _anomaly.enabled


class detect_anomaly:
    """Context manager: record where each op was created and check every gradient."""

    def __enter__(self) -> detect_anomaly:
        self._previous = _anomaly.enabled
        _anomaly.enabled = True
        return self

    def __exit__(self, *exc: object) -> None:
        _anomaly.enabled = self._previous


def user_frame() -> str:
    """``file:line: code`` of the innermost caller outside glassnet itself."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "(created inside glassnet)"


def check_gradients(node: Any, grads: tuple) -> None:
    """Raise if a gradient that ``node``'s backward returned holds NaN or inf."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        g = np.asarray(g)
        if g.dtype.kind == "f" and not np.isfinite(g).all():
            kind = "nan" if np.isnan(g).any() else "inf"
            where = getattr(node, "created_at", "(created outside detect_anomaly)")
            raise RuntimeError(
                f"{node.name()} returned a gradient with {kind} for its input {i} (shape "
                f"{g.shape}; its output has shape {node.output_shape}). The "
                f"{node.function.__name__} op was created at {where}"
            )
