"""Datasets that need no download: bundled, generated, or read from the user's files."""

from glassnet.data.datasets.digits import load_digits
from glassnet.data.datasets.idx import load_mnist, read_idx
from glassnet.data.datasets.mnist1d import load_mnist1d, make_mnist1d
from glassnet.data.datasets.splits import Splits
from glassnet.data.datasets.synthetic import (
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)
from glassnet.data.datasets.tabular import load_csv

__all__ = [
    "Splits",
    "load_csv",
    "load_digits",
    "load_mnist",
    "load_mnist1d",
    "make_blobs",
    "make_circles",
    "make_mnist1d",
    "make_moons",
    "make_spirals",
    "make_xor",
    "read_idx",
]
