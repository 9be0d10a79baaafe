"""A folder for generated datasets, so they are made once per machine."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def cache_dir() -> Path:
    """``$GLASSNET_CACHE``, else ``$XDG_CACHE_HOME/glassnet``, else ``~/.cache/glassnet``."""
    if os.environ.get("GLASSNET_CACHE"):
        return Path(os.environ["GLASSNET_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "glassnet"


def load_cached(name: str) -> dict[str, np.ndarray] | None:
    """The arrays cached under ``name``, or None (also for an unreadable file)."""
    path = cache_dir() / f"{name}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError):
        return None


def save_cached(name: str, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays under ``name`` atomically; a cache that cannot be written is skipped."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz.tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, folder / f"{name}.npz")
    except OSError:
        pass  # a read-only home is no reason to fail: the data is regenerated next time
