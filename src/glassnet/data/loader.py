"""DataLoader: batches of Tensors from a dataset, shuffled reproducibly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.data.dataset import Dataset, Subset, TensorDataset
from glassnet.random import resolve_generator


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch: tuples field by field, numbers into arrays."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, Tensor):
        return Tensor._make(np.stack([s.data for s in samples]))
    return Tensor(np.stack([np.asarray(s) for s in samples]))


class DataLoader:
    """Iterate over a dataset in batches of Tensors.

    Args:
        dataset: a ``Dataset`` (``TensorDataset`` and subsets of it take the fast path: one
            fancy-index per array and batch, instead of one Python call per sample).
        batch_size: samples per batch.
        shuffle: draw a new order every epoch.
        drop_last: drop the last batch if it is smaller than batch_size.
        generator: the ``np.random.Generator`` that shuffles (default: glassnet's default
            generator, seeded by ``gn.manual_seed``).
        collate_fn: how a list of samples becomes a batch (general path only).
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size <= 0
        ):
            raise ValueError(
                f"DataLoader: batch_size must be a positive integer, got {batch_size!r}"
            )
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty; there is nothing to iterate over")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.generator, self.collate_fn = generator, collate_fn

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _arrays(self) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
        """The arrays to slice directly, and the index map of a Subset, if the fast path applies."""
        if self.collate_fn is not None:
            return None
        if isinstance(self.dataset, TensorDataset):
            return self.dataset.arrays, None
        if isinstance(self.dataset, Subset) and isinstance(self.dataset.dataset, TensorDataset):
            return self.dataset.dataset.arrays, self.dataset.indices
        return None

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = resolve_generator(self.generator).permutation(n) if self.shuffle else None
        fast = self._arrays()
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            index = order[start:end] if order is not None else slice(start, end)
            if fast is not None:
                arrays, mapping = fast
                if mapping is not None:
                    index = mapping[index]
                batch = tuple(Tensor._make(np.ascontiguousarray(a[index])) for a in arrays)
                yield batch if len(batch) > 1 else batch[0]
            else:
                positions = range(start, end) if order is None else order[start:end]
                collate = self.collate_fn or default_collate
                yield collate([self.dataset[int(i)] for i in positions])
