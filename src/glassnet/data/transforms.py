"""Feature scaling fitted on the training split only."""

from __future__ import annotations

from typing import Any

import numpy as np


class Standardize:
    """x -> (x - mean) / std per feature, with mean and std learned by ``fit`` on the
    training data only (using test statistics would leak the test set into training).

    Features with zero variance are left centred but unscaled.
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> Standardize:
        """Learn each feature's mean and standard deviation from ``x`` (samples in rows)."""
        x = np.asarray(x)
        if x.ndim < 1 or len(x) == 0:
            raise ValueError(f"Standardize.fit: needs at least one sample, got shape {x.shape}")
        self.mean = x.mean(axis=0)
        std = x.std(axis=0)
        self.std = np.where(std > 0, std, 1).astype(x.dtype)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Apply the learned scaling (keeps x's dtype)."""
        if self.mean is None:
            raise RuntimeError("Standardize.transform: call fit(x_train) first")
        x = np.asarray(x)
        if x.shape[1:] != self.mean.shape:
            raise ValueError(
                f"Standardize.transform: fitted on features of shape {self.mean.shape}, got "
                f"samples of shape {x.shape[1:]}"
            )
        return ((x - self.mean) / self.std).astype(x.dtype, copy=False)

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def state_dict(self) -> dict[str, Any]:
        """The learned statistics as arrays (saved beside a model)."""
        return {"mean": self.mean, "std": self.std}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore statistics saved by ``state_dict``."""
        self.mean, self.std = np.asarray(state["mean"]), np.asarray(state["std"])
