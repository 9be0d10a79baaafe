"""``glassnet train``: train a classifier (an MLP, a CNN with ``--model cnn``, or a GRU over
a sequence with ``--model gru``) and save everything needed to use it."""

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
    model="mlp",
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
    max_grad_norm=None,
    seed=0,
)
# What --model changes in the options left out (the rest are DEFAULTS). cnn: settings with
# which the MNIST-1D paper's CNN passes its published 94% (benchmarks/accuracy.py measures
# them, seeds 0-2): 12,500 steps of batch 32, where batch 50 or 100 (the paper's) stayed
# near 93% and 90%; images (digits, mnist) take LeNet-style channels and fewer epochs.
# gru: one layer of 64 with the head on the last state, the recipe that reached a median of
# 97% on MNIST-1D (seeds 0-2; the paper's GRU: 91%); clipping keeps the gradient's rare
# spikes through the 40 steps from knocking Adam at 3e-3 off course.
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {},
    "cnn": dict(
        hidden=[25, 25, 25],
        dropout=0.0,
        optimizer="adamw",
        lr=1e-2,
        weight_decay=0.0,
        label_smoothing=0.0,
        batch_size=32,
        epochs=100,
        schedule="cosine",
    ),
    "gru": dict(
        hidden=[64],
        dropout=0.0,
        optimizer="adam",
        lr=3e-3,
        weight_decay=0.0,
        label_smoothing=0.0,
        batch_size=64,
        epochs=60,
        schedule="cosine",
        max_grad_norm=1.0,
    ),
}
DATASET_DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("cnn", "digits"): dict(hidden=[32, 64], epochs=40),
    # measured on the real MNIST (seed 0): 98.4% after 1 epoch, 99.1% after 4, 99.19% after
    # 6, in 19 minutes on one core of a loaded machine; 32,64 costs 3x the time an epoch
    ("cnn", "mnist"): dict(hidden=[16, 32], lr=2e-3, batch_size=64, epochs=6),
}
# the samples of these datasets are images stored as rows: the shape a cnn sees
IMAGE_SHAPES = {"digits": (8, 8)}
# the datasets whose samples are sequences, the only ones a gru reads
SEQUENCE_DATASETS = ("mnist1d",)
MODEL_DEPENDENT = tuple({k: 0 for values in MODEL_DEFAULTS.values() for k in values})
# what a finished run writes besides config.json and its checkpoint: removed when a run
# started with --overwrite finishes its first epoch, so no file of the old run is mixed in
PLOT_EXTRA = "pip install 'glassnet[plot]'"
STALE_FILES = ("model.safetensors", "history.json", "run.json", "curves.png")


def add_parser(sub: Any) -> None:
    from glassnet.train.models import ACTIVATIONS, MODELS

    p = sub.add_parser(
        "train",
        help="train an MLP, CNN or GRU classifier (on the bundled digits by default)",
        description="Train a classifier and save model.safetensors, config.json and "
        "history.json to --out. With no arguments: an MLP on the bundled 8x8 digits, nothing "
        "downloaded. Options left out take the defaults of the --model.",
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
        "--model",
        choices=tuple(MODELS),
        default=d["model"],
        help="mlp: Linear layers; cnn: convolutions, then one Linear layer: Conv1d with stride "
        "2 for signals such as mnist1d (the MNIST-1D paper's CNN), Conv2d 5x5 and 2x2 "
        "max-pooling for images (digits, mnist); gru: a GRU reads the signal one step at a "
        "time (mnist1d only), then one Linear layer reads its last hidden state. The options "
        "you leave out take the model's defaults, which each option's help lists",
    )
    p.add_argument(
        "--hidden",
        type=common.hidden_sizes,
        metavar="SIZES",
        help="comma-separated; mlp: the width of each hidden Linear layer (none for no hidden "
        "layer); cnn: the channels of each convolution; gru: the hidden size of each GRU layer, "
        "all equal (default: 256,128); --model cnn: "
        f"{_shown(MODEL_DEFAULTS['cnn']['hidden'])} on signals, "
        f"{_shown(DATASET_DEFAULTS['cnn', 'digits']['hidden'])} on digits, "
        f"{_shown(DATASET_DEFAULTS['cnn', 'mnist']['hidden'])} on mnist; --model gru: "
        f"{_shown(MODEL_DEFAULTS['gru']['hidden'])}",
    )
    p.add_argument(
        "--activation",
        choices=tuple(ACTIVATIONS),
        help=f"after each hidden layer (default: {d['activation']}); not for --model gru, "
        "whose gates fix its nonlinearities",
    )
    p.add_argument(
        "--dropout",
        type=common.non_negative_float,
        help="dropout probability after each hidden layer (cnn: before the last layer; gru: "
        "between GRU layers)" + _model_default("dropout"),
    )
    p.add_argument(
        "--optimizer", choices=OPTIMIZERS, help="update rule" + _model_default("optimizer")
    )
    p.add_argument("--lr", type=common.positive_float, help="learning rate" + _model_default("lr"))
    p.add_argument(
        "--momentum",
        type=common.non_negative_float,
        default=d["momentum"],
        help="momentum for sgd and rmsprop",
    )
    p.add_argument(
        "--weight-decay",
        type=common.non_negative_float,
        help="L2 penalty (decoupled for adamw)" + _model_default("weight_decay"),
    )
    p.add_argument(
        "--label-smoothing",
        type=common.non_negative_float,
        help="weight moved from the true class to all classes in the training loss"
        + _model_default("label_smoothing"),
    )
    p.add_argument(
        "--max-grad-norm",
        type=_grad_norm,
        metavar="NORM",
        help="before each step, scale the gradient of all weights together down to this norm "
        "when it is larger, so a rare huge gradient cannot throw training off; none: never"
        + _model_default("max_grad_norm"),
    )
    p.add_argument(
        "--batch-size",
        type=common.positive_int,
        help="samples per step" + _model_default("batch_size"),
    )
    p.add_argument(
        "--epochs",
        type=common.positive_int,
        help="passes over the training data" + _model_default("epochs"),
    )
    p.add_argument(
        "--schedule",
        choices=SCHEDULES,
        help="learning-rate schedule over the epochs" + _model_default("schedule"),
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
        "--compile",
        action="store_true",
        help="run each training step as gn.compile's generated NumPy code: the same updates, "
        "faster (a model it cannot compile trains eagerly, with a warning)",
    )
    p.add_argument(
        "--stop-after",
        type=common.positive_int,
        metavar="EPOCH",
        help="stop after this epoch (resume later with --resume)",
    )
    p.set_defaults(run=run)


def _shown(value: Any) -> str:
    """A default as it is typed on the command line (256,128 for a list, none for None)."""
    if value is None:
        return "none"
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _grad_norm(text: str) -> float | str:
    """argparse type of --max-grad-norm: a positive number, or "none" (no clipping)."""
    return "none" if text.strip().lower() == "none" else common.positive_float(text)


def _model_default(key: str) -> str:
    """ " (default: mlp's); --model cnn: cnn's" for an option whose default depends on it."""
    text = f" (default: {_shown(DEFAULTS[key])})"
    for model, values in MODEL_DEFAULTS.items():
        others = [_shown(values[key])] if values.get(key, DEFAULTS[key]) != DEFAULTS[key] else []
        for (name, dataset), special in DATASET_DEFAULTS.items():
            if name == model and key in special and key != "hidden":
                others.append(f"on {dataset} {_shown(special[key])}")
        if others:
            text += f"; --model {model}: {', '.join(others)}"
    return text


def model_defaults(model: str, dataset: str) -> dict[str, Any]:
    """The settings a run takes for the options it leaves out."""
    return {
        **DEFAULTS,
        **MODEL_DEFAULTS.get(model, {}),
        **DATASET_DEFAULTS.get((model, dataset), {}),
    }


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    keys = (
        "dataset",
        "model",
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
        "max_grad_norm",
        "seed",
    )
    dataset = "csv" if args.csv is not None else args.dataset
    defaults = model_defaults(args.model, dataset)
    settings = {k: getattr(args, k) for k in keys}
    settings = {
        k: defaults[k] if v is None and k in (*MODEL_DEPENDENT, "activation") else v
        for k, v in settings.items()
    }
    if settings["max_grad_norm"] == "none":
        settings["max_grad_norm"] = None
    return settings


def _check_model_options(args: argparse.Namespace, settings: dict[str, Any]) -> None:
    """Refuse, before any data is loaded, the options the chosen model cannot take."""
    if settings["model"] != "gru":
        return
    dataset = settings["dataset"]
    if dataset not in SEQUENCE_DATASETS:
        images = dataset in IMAGE_SHAPES or dataset == "mnist"
        raise UsageError(
            f"--model gru does not fit --dataset {dataset}: a GRU reads sequences (such as "
            f"{', '.join(SEQUENCE_DATASETS)}'s signals), and these are "
            + ("images; use --model cnn" if images else "not; use --model mlp")
        )
    if args.activation is not None and args.activation != DEFAULTS["activation"]:
        raise UsageError(
            f"--activation {args.activation} does not apply to --model gru: a GRU's gates fix "
            "its nonlinearities (sigmoid gates, tanh candidate); leave --activation out"
        )
    hidden = settings["hidden"]
    if not hidden or len(set(hidden)) != 1:
        size = hidden[0] if hidden else 64
        raise UsageError(
            f"--hidden {','.join(map(str, hidden)) or 'none'} does not fit --model gru: it "
            "gives the size of each GRU layer, and all layers of a GRU have one size; pass "
            f"e.g. {size} for one layer or {size},{size} for two"
        )


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
        _check_model_options(args, settings)
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
    model_type = settings.get("model", "mlp")  # runs saved before --model were MLPs
    scaler = Standardize().fit(splits.x_train.reshape(len(splits.x_train), -1))
    if model_type in ("cnn", "gru"):
        # one mean and std for all pixels (or time steps): per-feature scaling would give
        # each position its own contrast, which a convolution, the same filter everywhere
        # (or a GRU, the same weights at every step), cannot undo; stored per feature all
        # the same, so predict and export need no change
        scaler.mean = np.full_like(scaler.mean, splits.x_train.mean())
        scaler.std = np.full_like(scaler.std, splits.x_train.std() or 1.0)
    x_train = scaler.transform(splits.x_train.reshape(len(splits.x_train), -1))
    x_test = scaler.transform(splits.x_test.reshape(len(splits.x_test), -1))
    input_shape = IMAGE_SHAPES.get(splits.name, splits.x_train.shape[1:])
    config = {
        "format": common.RUN_FORMAT,
        "glassnet_version": gn.__version__,
        "model": {
            "type": model_type,
            "input_shape": list(input_shape),
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
    try:
        model = common.build_model(config)
    except ValueError as error:
        raise UsageError(
            f"--model {model_type} does not fit --dataset {splits.name} (samples of shape "
            f"{tuple(input_shape)}): {error}"
        ) from None
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

    sizes = " -> ".join(map(str, settings["hidden"]))
    count = sum(p.data.size for p in model.parameters())
    if model_type == "mlp":
        what = f"an MLP {splits.num_features} -> {sizes} -> {splits.num_classes}"
    elif model_type == "gru":
        steps, features = (*input_shape, 1)[:2]
        what = (
            f"a gru ({steps} steps of {features} feature{'s' * (features > 1)} -> hidden "
            f"{sizes} -> {splits.num_classes}, {count:,} parameters)"
        )
    else:
        shape = "x".join(map(str, input_shape))
        what = (
            f"a {model_type} ({shape} -> channels {sizes} -> {splits.num_classes}, "
            f"{count:,} parameters)"
        )
    print(
        f"training {what} on {splits.name} ({len(x_train)} train, {len(x_test)} test); "
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
            max_grad_norm=settings.get("max_grad_norm"),  # absent from runs saved before it
            callbacks=[LambdaCallback(on_epoch_end=end_of_epoch)],
            progress=False,
            resume_from=checkpoint if args.resume else None,
            compile=args.compile,
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
