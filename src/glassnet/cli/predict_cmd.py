"""``glassnet predict DIR --input FILE``: class names and probabilities for new samples."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.cli import common
from glassnet.cli.common import UsageError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "predict",
        help="predict the classes of new samples with a saved run",
        description="Predict with the model saved in DIR. --input is a .npy array of "
        "samples (rows) or a CSV file with a header row and one numeric column per feature "
        "(a column named like the training target is ignored). Writes CSV: row, predicted "
        "class, its probability, then the probability of every class.",
    )
    p.add_argument("run_dir", metavar="DIR", help="the --out folder of 'glassnet train'")
    p.add_argument("--input", required=True, metavar="FILE", help=".npy or .csv samples")
    p.add_argument("--output", metavar="FILE", help="where to write the CSV (default: stdout)")
    p.set_defaults(run=run)


def _read_input(path: Path, config: dict[str, Any]) -> np.ndarray:
    if not path.is_file():
        raise UsageError(f"--input: no such file: {path}")
    if path.suffix == ".npy":
        try:
            x = np.load(path, allow_pickle=False).astype(np.float32)
        except (ValueError, OSError) as error:
            raise UsageError(f"--input: {path} is not a readable .npy array ({error})") from None
        n = config["model"]["in_features"]
        if x.ndim == 1:
            if len(x) != n:
                raise UsageError(
                    f"--input: {path} holds a 1-D array of {len(x)} numbers; one sample has "
                    f"{n} features, and several samples are rows of an array of shape "
                    f"(samples, {n})"
                )
            x = x[None]  # shape (n_features,): one sample
        return x
    if path.suffix == ".csv":
        target = config["training"].get("target")
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
        if len(rows) < 2:
            raise UsageError(f"--input: {path} needs a header row and at least one data row")
        header = [h.strip() for h in rows[0]]
        keep = [i for i, h in enumerate(header) if h != target]
        trained = config.get("feature_names")
        if trained is not None:
            keep = _match_columns(path, [header[i] for i in keep], trained, keep)
        values = np.empty((len(rows) - 1, len(keep)), dtype=np.float32)
        for r, row in enumerate(rows[1:]):
            for c, i in enumerate(keep):
                try:
                    values[r, c] = float(row[i])
                except (ValueError, IndexError):
                    cell = row[i] if i < len(row) else ""
                    raise UsageError(
                        f"--input: {path} line {r + 2}, column {header[i]!r}: {cell!r} is not a "
                        "number"
                    ) from None
        return values
    raise UsageError(f"--input must be a .npy or .csv file, got {path.name}")


def _match_columns(path: Path, names: list[str], trained: list[str], keep: list[int]) -> list[int]:
    """The CSV column indices in the training data's feature order; refuses a CSV whose
    feature names differ from training's (columns in another order are reordered)."""
    missing = [n for n in trained if n not in names]
    unexpected = [n for n in names if n not in trained]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unexpected:
            parts.append(f"not in the training data: {', '.join(unexpected)}")
        raise UsageError(
            f"--input: the columns of {path} differ from the training data's ("
            f"{'; '.join(parts)}); the model expects {', '.join(trained)}"
        )
    position = {name: keep[i] for i, name in enumerate(names)}
    return [position[name] for name in trained]


def run(args: argparse.Namespace) -> int:
    import glassnet as gn

    model, config = common.load_run_model(args.run_dir)
    x = common.standardize(_read_input(Path(args.input), config), config)
    probabilities = gn.softmax(gn.predict(model, x), dim=1).numpy()
    classes = config["classes"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["row", "prediction", "probability", *[f"p_{c}" for c in classes]])
    for i, p in enumerate(probabilities):
        best = int(p.argmax())
        writer.writerow([i, classes[best], f"{p[best]:.4f}", *[f"{v:.4f}" for v in p]])
    if args.output:
        Path(args.output).write_text(buffer.getvalue(), encoding="utf-8")
        print(f"wrote {len(probabilities)} predictions to {args.output}")
    else:
        sys.stdout.write(buffer.getvalue())
    return 0
