"""Data: ``Dataset``, ``TensorDataset``, ``DataLoader``, ``random_split``, ``Standardize``,
and datasets that ship with glassnet or are generated (``gn.data.load_digits()``, ...)."""

from glassnet.data import datasets
from glassnet.data.dataset import Dataset, Subset, TensorDataset, random_split
from glassnet.data.datasets import (
    Splits,
    load_csv,
    load_digits,
    load_mnist,
    load_mnist1d,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    read_idx,
)
from glassnet.data.loader import DataLoader, default_collate
from glassnet.data.transforms import Standardize

__all__ = [
    "DataLoader",
    "Dataset",
    "Splits",
    "Standardize",
    "Subset",
    "TensorDataset",
    "datasets",
    "default_collate",
    "load_csv",
    "load_digits",
    "load_mnist",
    "load_mnist1d",
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_spirals",
    "make_xor",
    "random_split",
    "read_idx",
]
