"""What the subcommands share: one-line errors, runs on disk, datasets by name."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

DATASETS = ("digits", "mnist1d", "spirals", "moons", "xor", "blobs", "mnist")
RUN_FORMAT = "glassnet.run.v1"


class UsageError(Exception):
    """A bad argument or input file: reported in one line, exit status 2."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """ " (did you mean X?)" for the choice nearest to ``name``, or "" when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default; options without one (None, off) say
    nothing, and a list default is shown as it is typed (256,128)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "(default" in text
            or default is None
            or default is False
            or default == argparse.SUPPRESS
            or not action.option_strings
        ):
            return text
        shown = ",".join(map(str, default)) if isinstance(default, list) else str(default)
        return f"{text} (default: {shown or 'none'})".strip().replace("%", "%%")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong and what is allowed, with
    the nearest valid name), no usage block and no traceback, with exit status 2; and
    ``--help`` shows every default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.option_names: list[str] = []
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.option_names.extend(action.option_strings)
        return action

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)

    def unrecognized(self, extras: list[str]) -> NoReturn:
        """Refuse arguments this (sub)command does not know, suggesting the nearest flag."""
        hints = []
        for extra in extras:
            flag = extra.split("=", 1)[0]
            if flag.startswith("-"):
                close = difflib.get_close_matches(flag, self.option_names, n=1)
                if close:
                    hints.append((flag, close[0]))
        text = f"unrecognized arguments: {' '.join(extras)}"
        if len(hints) == 1:
            text += f" (did you mean {hints[0][1]}?)"
        elif hints:
            text += f" (did you mean {', '.join(f'{b} for {a}' for a, b in hints)}?)"
        self.error(text)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own check, plus the nearest valid choice for a typo
        if action.choices is not None and value not in action.choices:
            names = [str(c) for c in action.choices]
            close = difflib.get_close_matches(str(value), names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise argparse.ArgumentError(
                action,
                f"invalid choice: {value!r}{hint}; choose from {', '.join(names)}",
            )


def describe_os_error(error: OSError) -> str:
    """An OSError in one line: the path (or paths) and the reason."""
    reason = error.strerror or str(error)
    paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {reason}" if paths else reason


def new_run_folder(root: Path = Path("runs"), name: str = "train") -> Path:
    """The first of root/train, root/train2, root/train3, ... that does not exist yet."""
    number = 1
    while True:
        folder = root / (name if number == 1 else f"{name}{number}")
        if not folder.exists():
            return folder
        number += 1


def prepare_folder(path: Path, option: str) -> list[Path]:
    """Make sure files can be written in folder ``path`` before any work is done: create
    the missing folders and write (and delete) a probe file.

    Returns:
        The folders created, deepest last, for ``remove_empty`` if the command fails.

    Raises:
        UsageError: ``path`` is a file, lies under a file, or cannot be created or written.
    """
    if path.exists() and not path.is_dir():
        raise UsageError(
            f"{option}: {path} is a file, not a folder; pass a folder (it is created if missing)"
        )
    missing, existing = [], path
    while not existing.exists() and existing.parent != existing:
        missing.append(existing)
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise UsageError(
            f"{option}: cannot create {path}: {existing} is a file, not a folder; pass a "
            "folder path"
        )
    created: list[Path] = []
    try:
        for folder in reversed(missing):
            folder.mkdir(exist_ok=True)
            created.append(folder)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".glassnet-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        remove_empty(created)
        where = "" if str(error.filename) in (str(path), "None") else f"{error.filename}: "
        raise UsageError(
            f"{option}: cannot write to {path} ({where}{error.strerror or error}); pass a "
            "folder you can write to"
        ) from None
    return created


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders ``prepare_folder`` created, deepest first, if still empty."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a number >= 0."""
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def hidden_sizes(text: str) -> list[int]:
    """argparse type: comma-separated positive layer sizes, e.g. 256,128 (or 'none')."""
    if text.strip().lower() in ("", "none"):
        return []
    sizes = []
    for part in text.split(","):
        try:
            size = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"hidden sizes must be comma-separated whole numbers like 256,128; {part!r} "
                "is not one"
            ) from None
        if size <= 0:
            raise argparse.ArgumentTypeError(f"hidden sizes must be positive, got {size}")
        sizes.append(size)
    return sizes


def load_dataset(name: str, data: str | None, csv: str | None, target: str | None, seed: int):
    """The ``Splits`` for a dataset named on the command line."""
    from glassnet import data as gdata

    if csv is not None:
        if target is None:
            raise UsageError("--csv needs --target COLUMN, the column that holds the class")
        _require_file(csv, "--csv")
        try:
            return gdata.load_csv(csv, target)
        except ValueError as error:
            raise UsageError(str(error)) from None
    if name == "digits":
        return gdata.load_digits()
    if name == "mnist1d":
        return gdata.load_mnist1d()
    if name == "mnist":
        if data is None:
            raise UsageError(
                "--dataset mnist needs --data FOLDER holding the four MNIST IDX files "
                "(glassnet downloads nothing)"
            )
        try:
            return gdata.load_mnist(data)
        except (FileNotFoundError, ValueError) as error:
            raise UsageError(str(error)) from None
    rng = np.random.default_rng(seed)
    makers = {
        "spirals": gdata.make_spirals,
        "moons": gdata.make_moons,
        "xor": gdata.make_xor,
        "blobs": gdata.make_blobs,
    }
    return makers[name](generator=rng)


def _require_file(path: str, option: str) -> None:
    if not os.path.isfile(path):
        raise UsageError(f"{option}: no such file: {path}")


def read_run(folder: str) -> dict[str, Any]:
    """The config.json of a saved run, checked."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise UsageError(
            f"{folder} is not a glassnet run folder (no config.json); pass the --out folder "
            "of a finished 'glassnet train'"
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(config, dict) or config.get("format") != RUN_FORMAT:
        raise UsageError(f"{path} is not a glassnet run configuration ({RUN_FORMAT})")
    return config


def build_model(config: dict[str, Any]):
    """The model a run's config describes (fresh weights).

    Raises:
        UsageError: the run's model type is not one this glassnet builds.
        ValueError: the builder refuses the sample shape (its message names the fix).
    """
    from glassnet.train.models import MODELS

    m = config["model"]
    kind = m.get("type", "mlp")
    if kind not in MODELS:
        raise UsageError(
            f"the run's model is a {kind!r}, which this glassnet does not build (it builds "
            f"{', '.join(MODELS)}); use the glassnet version that trained it"
        )
    shape = m.get("input_shape", [m["in_features"]])  # runs saved before input_shape: MLPs
    return MODELS[kind](shape, m["hidden"], m["num_classes"], m["activation"], m["dropout"])


def load_run_model(folder: str):
    """A saved run's model with its trained weights, and its config."""
    from glassnet.io import load

    config = read_run(folder)
    model = build_model(config)
    weights = Path(folder) / "model.safetensors"
    if not weights.is_file():
        raise UsageError(f"{folder} has no model.safetensors; the run did not finish")
    try:
        model.load_state_dict(load(weights))
    except (ValueError, RuntimeError) as error:
        raise UsageError(f"{weights}: {error}") from None
    model.eval()
    return model, config


def standardize(x: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    """Apply the training split's feature scaling saved in the run's config."""
    stats = config.get("standardize")
    if not stats:
        return x.astype(np.float32)
    flat = x.reshape(len(x), -1).astype(np.float32)
    mean = np.asarray(stats["mean"], dtype=np.float32)
    std = np.asarray(stats["std"], dtype=np.float32)
    if flat.shape[1] != len(mean):
        raise UsageError(
            f"the input has {flat.shape[1]} features per sample, the model was trained on "
            f"{len(mean)}"
        )
    return (flat - mean) / std


def csv_feature_names(path: str | os.PathLike, target: str | None) -> list[str]:
    """The feature columns of a CSV file: its header without the target column."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f), [])
    return [name.strip() for name in header if name.strip() != target]
