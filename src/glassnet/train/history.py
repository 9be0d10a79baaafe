"""History: what happened in each epoch of ``fit``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from glassnet._pyplot import pyplot

TIME_KEYS = ("seconds",)


class History:
    """Per-epoch records: epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr,
    seconds (entries that do not apply are None)."""

    def __init__(self, epochs: list[dict[str, Any]] | None = None) -> None:
        self.epochs: list[dict[str, Any]] = list(epochs or [])
        self.stop_reason = ""  # why fit stopped before its last epoch, if it did

    def append(self, record: dict[str, Any]) -> None:
        """Add one epoch's record."""
        self.epochs.append(dict(record))

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, key: str) -> list[Any]:
        """The values of one metric, one per epoch: ``history['val_loss']``."""
        if self.epochs and key not in self.epochs[0]:
            raise KeyError(f"History has no {key!r}; it has {', '.join(self.epochs[0])}")
        return [e.get(key) for e in self.epochs]

    def to_dict(self, include_time: bool = True) -> dict[str, list[Any]]:
        """Metric name -> list over epochs. ``include_time=False`` drops wall-clock times,
        which differ between otherwise identical runs."""
        keys = list(self.epochs[0]) if self.epochs else []
        if not include_time:
            keys = [k for k in keys if k not in TIME_KEYS]
        return {k: [e.get(k) for e in self.epochs] for k in keys}

    @classmethod
    def from_dict(cls, columns: dict[str, list[Any]]) -> History:
        """Rebuild from ``to_dict()`` output."""
        n = len(next(iter(columns.values()), []))
        return cls([{k: v[i] for k, v in columns.items()} for i in range(n)])

    def plot(self, path: str | Path) -> Path:
        """Draw loss and accuracy curves to an image file (needs the ``plot`` extra)."""
        plt = pyplot("History.plot")
        columns = self.to_dict()
        epochs = columns.get("epoch", list(range(1, len(self) + 1)))
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        for key, axis in (("loss", left), ("accuracy", right)):
            for split in ("train", "val"):
                values = columns.get(f"{split}_{key}")
                if values and any(v is not None for v in values):
                    axis.plot(epochs, values, label=split)
            axis.set_xlabel("epoch")
            axis.set_ylabel(key)
            axis.legend()
            axis.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return Path(path)
