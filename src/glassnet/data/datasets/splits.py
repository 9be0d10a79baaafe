"""What every dataset loader returns: train and test arrays plus class names."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet.data.dataset import TensorDataset


@dataclass(frozen=True)
class Splits:
    """A dataset's train and test splits.

    Attributes:
        x_train, y_train, x_test, y_test: float32 features and int64 labels.
        classes: the name of each class, indexed by label.
        name: a short name ("digits", "spirals", ...).
        notes: where the data comes from.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    name: str = ""
    notes: str = field(default="", repr=False)

    @property
    def train(self) -> TensorDataset:
        """The training split as a TensorDataset."""
        return TensorDataset(self.x_train, self.y_train)

    @property
    def test(self) -> TensorDataset:
        """The test split as a TensorDataset."""
        return TensorDataset(self.x_test, self.y_test)

    @property
    def num_features(self) -> int:
        """The number of input features per sample (after flattening)."""
        return int(np.prod(self.x_train.shape[1:]))

    @property
    def num_classes(self) -> int:
        """The number of classes."""
        return len(self.classes)


def stratified_split(
    y: np.ndarray, test_fraction: float, generator: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a train/test split that keeps each class's share in both parts."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    train, test = [], []
    for label in np.unique(y):
        members = generator.permutation(np.flatnonzero(y == label))
        n_test = round(len(members) * test_fraction)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return generator.permutation(np.concatenate(train)), generator.permutation(np.concatenate(test))


def make_splits(
    x: np.ndarray,
    y: np.ndarray,
    classes: tuple[str, ...],
    name: str,
    test_fraction: float,
    seed: int,
    notes: str = "",
) -> Splits:
    """Split (x, y) into stratified train and test parts with a fixed seed."""
    train, test = stratified_split(y, test_fraction, np.random.default_rng(seed))
    x, y = x.astype(np.float32, copy=False), y.astype(np.int64, copy=False)
    return Splits(x[train], y[train], x[test], y[test], classes, name, notes)
