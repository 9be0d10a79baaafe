"""The accuracy the README promises, measured the way the README says.

- ``glassnet train`` with its defaults: median test accuracy over seeds 0, 1, 2 at least
  98.0% on the bundled digits.
- MNIST-1D with the README's command: at least the 68% that the MNIST-1D paper reports
  for its MLP baseline.
"""

from __future__ import annotations

import re

import numpy as np

from glassnet.cli import main


def _test_accuracy(capsys, args: list[str]) -> float:
    assert main(args) == 0
    out = capsys.readouterr().out
    return float(re.search(r"test accuracy (\d\.\d+)", out).group(1))


def test_default_digits_run_reaches_98_percent(capsys, tmp_path) -> None:
    accuracies = [
        _test_accuracy(capsys, ["train", "--seed", str(seed), "--out", str(tmp_path / str(seed))])
        for seed in (0, 1, 2)
    ]
    assert np.median(accuracies) >= 0.98, accuracies


def test_mnist1d_mlp_beats_the_papers_mlp_baseline(capsys, tmp_path) -> None:
    args = ["train", "--dataset", "mnist1d", "--hidden", "512,256", "--dropout", "0.3",
            "--epochs", "100", "--out", str(tmp_path)]  # fmt: skip
    assert _test_accuracy(capsys, args) >= 0.68
