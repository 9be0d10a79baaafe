"""matplotlib, imported on demand (it is the optional ``plot`` extra)."""

from __future__ import annotations

from typing import Any


def pyplot(feature: str) -> Any:
    """``matplotlib.pyplot`` with a file-only backend, or an ImportError naming ``feature``
    and the extra to install."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # draw to files; never open a window
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"{feature} needs matplotlib: pip install 'glassnet[plot]'") from None
    return plt
