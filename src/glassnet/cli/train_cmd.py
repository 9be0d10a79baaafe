"""``glassnet train``: train an MLP classifier and save everything needed to use it."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.cli import common
from glassnet.cli.common import UsageError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("cosine", "step", "none")
DEFAULTS = dict(
    dataset="digits",
    hidden=[256, 128],
    activation="relu",
    dropout=0.2,
    optimizer="adamw",
    lr=1e-3,
    momentum=0.9,
    weight_decay=1e-4,
    batch_size=32,
    epochs=40,
    schedule="cosine",
    label_smoothing=0.1,
    seed=0,
)
# what a finished run writes besides config.json and its checkpoint: removed when a run
# started with --overwrite finishes its first epoch, so no file of the old run is mixed in
PLOT_EXTRA = "pip install 'glassnet[plot]'"
STALE_FILES = ("model.safetensors", "history.json", "run.json", "curves.png")


def add_parser(sub: Any) -> None:
    from glassnet.train.models import ACTIVATIONS

    p = sub.add_parser(
        "train",
        help="train an MLP classifier (on the bundled digits by default)",
        description="Train an MLP classifier and save model.safetensors, config.json and "
        "history.json to --out. With no arguments: the bundled 8x8 digits, nothing downloaded.",
    )
    d = DEFAULTS
    p.add_argument(
        "--dataset",
        choices=common.DATASETS,
        default=d["dataset"],
        help="built-in dataset",
    )
    p.add_argument(
        "--data", metavar="PATH", help="folder with the MNIST IDX files (--dataset mnist)"
    )
    p.add_argument(
        "--csv", metavar="PATH", help="train on your own CSV file instead (needs --target)"
    )
    p.add_argument("--target", metavar="COL", help="the CSV column that holds the class")
    p.add_argument(
        "--hidden",
        type=common.hidden_sizes,
        default=d["hidden"],
        metavar="SIZES",
        help="hidden layer sizes, comma-separated; none for no hidden layer",
    )
    p.add_argument(
        "--activation",
        choices=tuple(ACTIVATIONS),
        default=d["activation"],
        help="after each hidden layer",
    )
    p.add_argument(
        "--dropout",
        type=common.non_negative_float,
        default=d["dropout"],
        help="dropout probability after each hidden layer",
    )
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=d["optimizer"], help="update rule")
    p.add_argument("--lr", type=common.positive_float, default=d["lr"], help="learning rate")
    p.add_argument(
        "--momentum",
        type=common.non_negative_float,
        default=d["momentum"],
        help="momentum for sgd and rmsprop",
    )
    p.add_argument(
        "--weight-decay",
        type=common.non_negative_float,
        default=d["weight_decay"],
        help="L2 penalty (decoupled for adamw)",
    )
    p.add_argument(
        "--label-smoothing",
        type=common.non_negative_float,
        default=d["label_smoothing"],
        help="weight moved from the true class to all classes in the training loss",
    )
    p.add_argument(
        "--batch-size", type=common.positive_int, default=d["batch_size"], help="samples per step"
    )
    p.add_argument(
        "--epochs",
        type=common.positive_int,
        default=d["epochs"],
        help="passes over the training data",
    )
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=d["schedule"],
        help="learning-rate schedule over the epochs",
    )
    p.add_argument("--seed", type=int, default=d["seed"], help="seeds weights, order and dropout")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="where to save the run; refused if it already holds one, unless --resume or "
        "--overwrite (default: a new folder runs/train, runs/train2, ...)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in --out (its files go when the new run finishes its "
        "first epoch)",
    )
    p.add_argument(
        "--plot",
        action=argparse.BooleanOptionalAction,
        help="--plot: draw curves.png, and refuse before training if matplotlib is missing; "
        "--no-plot: do not draw it (default: drawn when matplotlib is installed)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last checkpoint, with its settings",
    )
    p.add_argument(
        "--stop-after",
        type=common.positive_int,
        metavar="EPOCH",
        help="stop after this epoch (resume later with --resume)",
    )
    p.set_defaults(run=run)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    keys = (
        "dataset",
        "data",
        "csv",
        "target",
        "hidden",
        "activation",
        "dropout",
        "optimizer",
        "lr",
        "momentum",
        "weight_decay",
        "label_smoothing",
        "batch_size",
        "epochs",
        "schedule",
        "seed",
    )
    return {k: getattr(args, k) for k in keys}


def _optimizer(name: str, params: Any, s: dict[str, Any]):
    from glassnet import optim

    if name == "sgd":
        return optim.SGD(params, lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"])
    if name == "adam":
        return optim.Adam(params, lr=s["lr"], weight_decay=s["weight_decay"])
    if name == "adamw":
        return optim.AdamW(params, lr=s["lr"], weight_decay=s["weight_decay"])
    return optim.RMSprop(params, lr=s["lr"], momentum=s["momentum"], weight_decay=s["weight_decay"])


def _scheduler(name: str, optimizer: Any, epochs: int):
    from glassnet.optim import lr_scheduler

    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=max(1, epochs // 3), gamma=0.1)
    return None


def _loss_name(label_smoothing: float) -> str:
    """What the training loss is, as the epoch lines call it."""
    return "loss (label-smoothed)" if label_smoothing > 0 else "cross-entropy"


def _epoch_line(state: Any, loss_name: str) -> None:
    logs, total = state.logs, state.total_epochs
    text = f"epoch {logs['epoch']:>3}/{total}  train {loss_name} {logs['train_loss']:.4f}"
    if logs["train_accuracy"] is not None:
        text += f" acc {logs['train_accuracy']:.3f}"
    if logs["val_loss"] is not None:
        text += f"  test {loss_name} {logs['val_loss']:.4f} acc {logs['val_accuracy']:.3f}"
    print(f"{text}  lr {logs['lr']:.2e}  {logs['seconds']:.2f}s", flush=True)


def run(args: argparse.Namespace) -> int:
    if args.resume and args.overwrite:
        raise UsageError(
            "--resume continues the run in --out and --overwrite replaces it; pass one of them"
        )
    if args.out is None:
        if args.resume:
            raise UsageError("--resume needs --out DIR, the folder of the run to continue")
        out = common.new_run_folder()
    else:
        out = Path(args.out)
    checkpoint = out / "checkpoint.safetensors"
    if args.resume:
        config = common.read_run(str(out))
        settings = config["training"]
        done = _epochs_done(out)
        if done is not None and done >= settings["epochs"]:
            print(
                f"{out} is already complete ({done} of {settings['epochs']} epochs); nothing "
                f"to resume. Score it with: glassnet evaluate {out}"
            )
            return 0
        if not checkpoint.is_file():
            raise UsageError(f"--resume: {out} has no checkpoint.safetensors to resume from")
    else:
        settings = _settings(args)
        if settings["dropout"] >= 1:
            raise UsageError(f"--dropout must be below 1, got {settings['dropout']}")
        if (out / "config.json").is_file() and not args.overwrite:
            raise UsageError(
                f"--out {out} already holds a run; pass --resume to continue it, --overwrite "
                "to replace it, or another --out"
            )
    if args.plot and not _has_matplotlib():
        raise UsageError(f"--plot needs matplotlib: {PLOT_EXTRA} (or pass --no-plot)")
    created = common.prepare_folder(out, "--out")
    status = 1
    try:
        status = _train(args, out, settings)
    finally:
        if status != 0:
            common.remove_empty(created)  # a run that failed at once leaves no empty folder
    return status


def _epochs_done(out: Path) -> int | None:
    """How many epochs the finished (or stopped) run in ``out`` holds, per its history."""
    try:
        history = json.loads((out / "history.json").read_text(encoding="utf-8"))
        return len(history["epoch"]) if (out / "model.safetensors").is_file() else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _train(args: argparse.Namespace, out: Path, settings: dict[str, Any]) -> int:
    import glassnet as gn
    from glassnet.data import DataLoader, Standardize, TensorDataset
    from glassnet.io import atomic_write_text, save
    from glassnet.train import LambdaCallback, TrainingDiverged, fit
    from glassnet.train.callbacks import write_checkpoint

    checkpoint = out / "checkpoint.safetensors"
    splits = common.load_dataset(
        settings["dataset"], settings["data"], settings["csv"], settings["target"], settings["seed"]
    )
    scaler = Standardize().fit(splits.x_train.reshape(len(splits.x_train), -1))
    x_train = scaler.transform(splits.x_train.reshape(len(splits.x_train), -1))
    x_test = scaler.transform(splits.x_test.reshape(len(splits.x_test), -1))
    config = {
        "format": common.RUN_FORMAT,
        "glassnet_version": gn.__version__,
        "model": {
            "type": "mlp",
            "in_features": splits.num_features,
            "hidden": settings["hidden"],
            "activation": settings["activation"],
            "dropout": settings["dropout"],
            "num_classes": splits.num_classes,
        },
        "classes": list(splits.classes),
        "standardize": {"mean": scaler.mean.tolist(), "std": scaler.std.tolist()},
        "dataset": {"name": splits.name, "notes": splits.notes},
        "training": settings,
    }
    if settings["csv"] is not None:
        # so that predict can check a CSV's columns against the ones the model learned from
        config["feature_names"] = common.csv_feature_names(settings["csv"], settings["target"])
    gn.manual_seed(settings["seed"])
    model = common.build_model(config)
    optimizer = _optimizer(settings["optimizer"], model.parameters(), settings)
    scheduler = _scheduler(settings["schedule"], optimizer, settings["epochs"])
    loss_fn = gn.nn.CrossEntropyLoss(label_smoothing=settings["label_smoothing"])
    train_loader = DataLoader(
        TensorDataset(x_train, splits.y_train), batch_size=settings["batch_size"], shuffle=True
    )

    def end_of_epoch(state: Any) -> None:
        state.total_epochs = settings["epochs"]
        _epoch_line(state, _loss_name(settings["label_smoothing"]))
        if state.epoch == 1 or not (out / "config.json").is_file():
            # written with the first checkpoint, so a run that fails at once leaves --out as
            # it was; only then do the files of a run it overwrites go
            for stale in STALE_FILES:
                (out / stale).unlink(missing_ok=True)
            atomic_write_text(out / "config.json", json.dumps(config, indent=1))
        write_checkpoint(checkpoint, state)  # every epoch: a crash loses at most one
        if args.stop_after is not None and state.epoch >= args.stop_after:
            state.stop_training = True

    print(
        f"training an MLP {splits.num_features} -> {' -> '.join(map(str, settings['hidden']))} -> "
        f"{splits.num_classes} on {splits.name} ({len(x_train)} train, {len(x_test)} test); "
        f"saving to {out}/",
        flush=True,
    )
    started = time.perf_counter()
    try:
        history = fit(
            model,
            loss_fn,
            optimizer,
            train_loader,
            settings["epochs"],
            val_data=(x_test, splits.y_test),
            scheduler=scheduler,
            callbacks=[LambdaCallback(on_epoch_end=end_of_epoch)],
            progress=False,
            resume_from=checkpoint if args.resume else None,
        )
    except TrainingDiverged as error:
        print(f"glassnet train: {error}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    save(model.state_dict(), out / "model.safetensors")
    atomic_write_text(
        out / "history.json", json.dumps(history.to_dict(include_time=False), indent=1)
    )
    atomic_write_text(
        out / "run.json",
        json.dumps(
            {
                "seconds": seconds,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "numpy": np.__version__,
            },
            indent=1,
        ),
    )
    if args.plot is not False:
        if _has_matplotlib():
            history.plot(out / "curves.png")
        else:
            print(f"curves.png skipped: matplotlib is missing; {PLOT_EXTRA} brings it")
    from glassnet.cli.evaluate_cmd import report

    if len(history) < settings["epochs"]:
        print(f"stopped after epoch {len(history)} of {settings['epochs']}; continue with --resume")
    print(f"trained in {seconds:.1f}s; saved to {out}/")
    report(model, x_test, splits.y_test, list(splits.classes))
    return 0


def _has_matplotlib() -> bool:
    from glassnet._pyplot import pyplot

    try:
        pyplot("curves.png")
    except ImportError:  # absent, or present but broken: either way no curves
        return False
    return True
