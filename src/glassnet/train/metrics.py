"""Classification metrics on label arrays: accuracy, confusion matrix, per-class report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor


def _labels(values: Any, name: str) -> np.ndarray:
    """Class indices from labels, or from scores (N, C) by taking the arg-max."""
    array = values.data if isinstance(values, Tensor) else np.asarray(values)
    if array.ndim == 2:
        return array.argmax(axis=1)
    if array.ndim != 1:
        raise ValueError(f"{name}: expected labels (N,) or scores (N, C), got shape {array.shape}")
    return array.astype(np.int64, copy=False)


def accuracy(predictions: Any, targets: Any) -> float:
    """The fraction of correct predictions; ``predictions`` may be labels or scores (N, C)."""
    p, t = _labels(predictions, "accuracy"), _labels(targets, "accuracy")
    if p.shape != t.shape:
        raise ValueError(f"accuracy: {len(p)} predictions but {len(t)} targets")
    if len(t) == 0:
        raise ValueError("accuracy: there are no predictions to score")
    return float((p == t).mean())


def confusion_matrix(targets: Any, predictions: Any, num_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of samples of true class i predicted as class j."""
    t, p = _labels(targets, "confusion_matrix"), _labels(predictions, "confusion_matrix")
    if p.shape != t.shape:
        raise ValueError(f"confusion_matrix: {len(t)} targets but {len(p)} predictions")
    n = (
        num_classes
        if num_classes is not None
        else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    )
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix


def classification_report(
    targets: Any,
    predictions: Any,
    classes: Sequence[str] | None = None,
    as_dict: bool = False,
) -> str | dict[str, dict[str, float]]:
    """Precision, recall, F1 and support per class, and their macro and weighted averages.

    precision = TP / (TP + FP): of the samples called c, how many are c;
    recall = TP / (TP + FN): of the samples that are c, how many were found;
    F1 = their harmonic mean. A class never predicted gets precision 0.
    """
    n = len(classes) if classes is not None else None
    matrix = confusion_matrix(targets, predictions, n)
    names = list(classes) if classes is not None else [str(i) for i in range(len(matrix))]
    tp = np.diag(matrix).astype(np.float64)
    predicted, support = matrix.sum(axis=0), matrix.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    report: dict[str, dict[str, float]] = {}
    for i, name in enumerate(names):
        report[name] = {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
    total = int(support.sum())
    weights = support / max(total, 1)
    report["macro avg"] = {
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "f1": float(f1.mean()),
        "support": total,
    }
    report["weighted avg"] = {
        "precision": float((precision * weights).sum()),
        "recall": float((recall * weights).sum()),
        "f1": float((f1 * weights).sum()),
        "support": total,
    }
    if as_dict:
        return report
    width = max(12, *(len(k) for k in report))
    lines = [f"{'':>{width}}  precision  recall      f1  support"]
    for name, row in report.items():
        if name == "macro avg":
            lines.append("")
        lines.append(
            f"{name:>{width}}  {row['precision']:9.3f}  {row['recall']:6.3f}  {row['f1']:6.3f}"
            f"  {row['support']:7d}"
        )
    accuracy_value = tp.sum() / max(total, 1)
    lines.insert(
        len(names) + 2, f"{'accuracy':>{width}}  {'':9}  {'':6}  {accuracy_value:6.3f}  {total:7d}"
    )
    return "\n".join(lines)


def format_confusion_matrix(matrix: np.ndarray, classes: Sequence[str] | None = None) -> str:
    """The confusion matrix as text: rows are true classes, columns predicted ones."""
    names = list(classes) if classes is not None else [str(i) for i in range(len(matrix))]
    width = max(4, *(len(n) for n in names), len(str(matrix.max(initial=0))))
    corner = "true\\pred"
    first = max(len(corner), *(len(n) for n in names))
    head = f"{corner:>{first}} " + " ".join(f"{n:>{width}}" for n in names)
    rows = [
        f"{n:>{first}} " + " ".join(f"{v:>{width}d}" for v in row) for n, row in zip(names, matrix)
    ]
    return "\n".join([head, *rows])
