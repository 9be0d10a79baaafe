"""The UCI handwritten digits, shipped inside glassnet (see DIGITS_ATTRIBUTION.txt)."""

from __future__ import annotations

from importlib import resources

import numpy as np

from glassnet.data.datasets.splits import Splits, make_splits


def load_digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 images as uint8 (1797, 8, 8) pixel counts 0..16, and uint8 labels."""
    source = resources.files("glassnet.data.datasets").joinpath("digits.npz")
    with source.open("rb") as f, np.load(f, allow_pickle=False) as data:
        return data["images"], data["labels"]


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Splits:
    """The 8x8 handwritten digits (1,797 images, 10 classes), split 80/20 stratified.

    Features are the 64 pixels scaled to [0, 1] (the 0..16 counts divided by 16), float32.
    Nothing is downloaded: the data ships with glassnet (UCI, CC BY 4.0).

    Args:
        test_fraction: the share of each class held out for testing.
        seed: fixes the split, so results are comparable between runs.
    """
    images, labels = load_digits_arrays()
    x = images.reshape(len(images), 64).astype(np.float32) / 16
    classes = tuple(str(d) for d in range(10))
    notes = "UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak 1998), CC BY 4.0"
    return make_splits(x, labels, classes, "digits", test_fraction, seed, notes)
