"""A user's own table: a CSV file with a header row, numeric features and a label column."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

from glassnet.data.datasets.splits import Splits, make_splits

FLOAT32_MAX = float(np.finfo(np.float32).max)


def load_csv(
    path: str | os.PathLike,
    target: str,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Splits:
    """Read a CSV file: every column but ``target`` is a numeric feature; ``target`` holds
    the class of each row, as integers or strings (mapped to indices in sorted order; the
    names are kept in ``classes``, and saved with the model).

    Raises:
        FileNotFoundError: no such file.
        ValueError: no header, no such target column, an empty or non-numeric feature cell
            (naming its row and column), or fewer than two rows per class to split.
    """
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise ValueError(f"load_csv: {path} is empty; it needs a header row and data rows")
    header, body = [h.strip() for h in rows[0]], [r for r in rows[1:] if any(c.strip() for c in r)]
    if target not in header:
        raise ValueError(
            f"load_csv: {path} has no column {target!r}; its columns are {', '.join(header)}"
        )
    if not body:
        raise ValueError(f"load_csv: {path} has a header but no data rows")
    t = header.index(target)
    features = [c for c in range(len(header)) if c != t]
    x = np.empty((len(body), len(features)), dtype=np.float32)
    labels = []
    for i, row in enumerate(body):
        line = i + 2  # 1-based, after the header: the number an editor shows
        if len(row) != len(header):
            raise ValueError(
                f"load_csv: {path} line {line} has {len(row)} cells, the header has {len(header)}"
            )
        for j, c in enumerate(features):
            cell = row[c].strip()
            try:
                value = float(cell)
            except ValueError:
                raise ValueError(
                    f"load_csv: {path} line {line}, column {header[c]!r}: {cell!r} is not a "
                    "number; feature columns must be numeric (encode categories as numbers)"
                ) from None
            if not math.isfinite(value):
                raise ValueError(
                    f"load_csv: {path} line {line}, column {header[c]!r}: {cell!r} is not a "
                    "finite number; fill in or drop missing values first"
                )
            if abs(value) > FLOAT32_MAX:  # float32 would hold it as inf: a silent wrong number
                raise ValueError(
                    f"load_csv: {path} line {line}, column {header[c]!r}: {cell!r} is beyond "
                    f"float32's range (+-{FLOAT32_MAX:.3g}); rescale the column (other units)"
                )
            x[i, j] = value
        label = row[t].strip()
        if not label:
            raise ValueError(f"load_csv: {path} line {line}: the {target!r} cell is empty")
        labels.append(label)
    if all(_is_int(v) for v in labels):
        names = sorted({int(v) for v in labels})
        classes = tuple(str(v) for v in names)
        y = np.searchsorted(names, [int(v) for v in labels])
    else:
        classes = tuple(sorted(set(labels)))
        y = np.searchsorted(classes, labels)
    counts = np.bincount(y, minlength=len(classes))
    if counts.min() < 2:
        rare = classes[int(counts.argmin())]
        raise ValueError(
            f"load_csv: class {rare!r} has only {counts.min()} row; each class needs at least 2 "
            "rows to appear in both the train and the test split"
        )
    return make_splits(x, y, classes, path.stem, test_fraction, seed, f"CSV file {path}")


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True
