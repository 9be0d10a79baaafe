"""``glassnet evaluate DIR``: accuracy, loss, confusion matrix and per-class report."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from glassnet.cli import common


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score a saved run on a test split",
        description="Score the model saved in DIR on the test split of its dataset (or of "
        "--dataset/--csv): accuracy, loss, confusion matrix, per-class precision and recall.",
    )
    p.add_argument("run_dir", metavar="DIR", help="the --out folder of 'glassnet train'")
    p.add_argument(
        "--dataset", choices=common.DATASETS, help="dataset to score (default: the run's own)"
    )
    p.add_argument(
        "--data", metavar="PATH", help="folder with the MNIST IDX files (default: the run's)"
    )
    p.add_argument(
        "--csv",
        metavar="PATH",
        help="a CSV file to score, needs --target (default: the run's CSV, unless --dataset)",
    )
    p.add_argument(
        "--target", metavar="COL", help="the CSV column that holds the class (default: the run's)"
    )
    p.set_defaults(run=run)


def report(model: Any, x: np.ndarray, y: np.ndarray, classes: list[str]) -> float:
    """Print accuracy, cross-entropy, the confusion matrix and the per-class report; return
    the accuracy."""
    import glassnet as gn

    loss_fn = gn.nn.CrossEntropyLoss()  # plain, whatever smoothing training used
    from glassnet.train import classification_report, confusion_matrix, format_confusion_matrix

    scores = gn.evaluate(model, (x, y), loss_fn)
    predicted = gn.predict(model, x).numpy().argmax(axis=1)
    correct = int((predicted == y).sum())
    print(
        f"test accuracy {scores['accuracy']:.4f} ({correct}/{len(y)}), "
        f"test cross-entropy {scores['loss']:.4f}"
    )
    print("\nconfusion matrix (rows: true class, columns: predicted)")
    print(format_confusion_matrix(confusion_matrix(y, predicted, len(classes)), classes))
    print()
    print(classification_report(y, predicted, classes))
    return scores["accuracy"]


def run(args: argparse.Namespace) -> int:
    model, config = common.load_run_model(args.run_dir)
    training = config["training"]
    splits = common.load_dataset(
        args.dataset or training["dataset"],
        args.data if args.data is not None else training.get("data"),
        args.csv if args.csv is not None else (None if args.dataset else training.get("csv")),
        args.target if args.target is not None else training.get("target"),
        training["seed"],
    )
    if splits.num_classes != config["model"]["num_classes"]:
        raise common.UsageError(
            f"the dataset has {splits.num_classes} classes, the model predicts "
            f"{config['model']['num_classes']}"
        )
    x = common.standardize(splits.x_test, config)
    report(model, x, splits.y_test, config["classes"])
    return 0
