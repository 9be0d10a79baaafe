"""fit, evaluate and predict: the ordinary training loop, written once, with progress."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from glassnet.autograd.grad_mode import no_grad
from glassnet.autograd.tensor import Tensor
from glassnet.data.dataset import Dataset, TensorDataset
from glassnet.data.loader import DataLoader
from glassnet.io.checkpoint import load_checkpoint
from glassnet.nn.utils import clip_grad_norm_
from glassnet.optim.lr_scheduler import OneCycleLR, ReduceLROnPlateau
from glassnet.random import default_generator
from glassnet.train.callbacks import Callback, FitState
from glassnet.train.history import History


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; ``history`` holds the epochs completed before."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


# The attribute where fit leaves the loss it trained a model with, for evaluate's default.
# Set with object.__setattr__: a loss is a Module, and must not become a child of the model.
TRAINING_LOSS = "_glassnet_training_loss"


def as_loader(data: Any, batch_size: int = 32, shuffle: bool = False) -> Iterable:
    """A DataLoader for ``data``: a DataLoader (kept), a Dataset, or a tuple (x, y) of arrays."""
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, Dataset):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    if isinstance(data, tuple) and len(data) == 2:
        return DataLoader(TensorDataset(*data), batch_size=batch_size, shuffle=shuffle)
    if isinstance(data, Iterable):
        return data
    raise TypeError(
        f"expected a DataLoader, a Dataset or a tuple (x, y), got {type(data).__name__}"
    )


def _correct(output: Tensor, target: Tensor) -> int | None:
    """How many predictions are right, when the task is classification (else None)."""
    out, y = output.data, target.data
    if out.ndim == 2 and y.ndim == 1 and y.dtype.kind in "iu" and out.shape[1] > 1:
        return int((out.argmax(axis=1) == y).sum())
    if y.dtype.kind == "f" and out.shape == y.shape and np.isin(y, (0.0, 1.0)).all():
        return int(((out > 0) == (y > 0.5)).sum())  # binary logits against 0/1 targets
    return None


def _progress(iterable: Iterable, enabled: bool, description: str, total: int | None):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, total=total, leave=True)


def evaluate(
    model: Any, data: Any, loss_fn: Any = None, batch_size: int = 256
) -> dict[str, float | None]:
    """Loss and accuracy over ``data``, in eval mode and without recording a graph; the
    model's mode is restored afterwards.

    Args:
        model: the network to score.
        data: a DataLoader, a Dataset or a tuple (x, y) of arrays.
        loss_fn: the loss to average over the samples. Without it, the loss ``fit`` last
            trained this model with is used (as ``fit`` computed it: label smoothing
            included, if training had it); a model ``fit`` never trained (built by hand,
            or loaded from a file) has no known loss, and the result then has no
            ``'loss'`` key at all, rather than a guess.
        batch_size: samples per forward pass when ``data`` is not a DataLoader.

    Returns:
        ``{'loss': mean loss per sample, 'accuracy': fraction right}``; ``'accuracy'`` is
        None when the task is not classification, and ``'loss'`` is absent when no loss is
        known (see ``loss_fn``).
    """
    if loss_fn is None:
        loss_fn = getattr(model, TRAINING_LOSS, None)
    loader = as_loader(data, batch_size)
    was_training = model.training
    model.eval()
    total_loss, correct, seen, classified = 0.0, 0, 0, True
    try:
        with no_grad():
            for x, y in loader:
                out = model(x)
                n = len(y)
                if loss_fn is not None:
                    total_loss += float(loss_fn(out, y).item()) * n
                right = _correct(out, y)
                classified = classified and right is not None
                correct += right or 0
                seen += n
    finally:
        model.train(was_training)
    if seen == 0:
        raise ValueError("evaluate: the data holds no samples")
    scores: dict[str, float | None] = {}
    if loss_fn is not None:
        scores["loss"] = total_loss / seen
    scores["accuracy"] = correct / seen if classified else None
    return scores


def predict(model: Any, x: Any, batch_size: int = 256) -> Tensor:
    """The model's outputs for every row of ``x`` (array or Tensor), in eval mode, batched."""
    array = x.data if isinstance(x, Tensor) else np.asarray(x)
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            outputs = [
                model(Tensor._make(array[i : i + batch_size])).data
                for i in range(0, len(array), batch_size)
            ]
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("predict: x holds no samples")
    return Tensor._make(np.concatenate(outputs))


def fit(
    model: Any,
    loss_fn: Any,
    optimizer: Any,
    train_data: Any,
    epochs: int,
    val_data: Any = None,
    scheduler: Any = None,
    callbacks: Sequence[Callback] = (),
    progress: bool = True,
    max_grad_norm: float | None = None,
    resume_from: str | os.PathLike | None = None,
    compile: bool = False,  # noqa: A002 - the name users know from gn.compile
) -> History:
    """Train ``model`` for ``epochs`` epochs and return the per-epoch ``History``.

    Each step is the loop every PyTorch user writes: ``zero_grad``, forward, loss,
    ``backward``, optional gradient clipping, ``step``. The scheduler steps once per
    epoch (once per batch for OneCycleLR; with the validation loss for
    ReduceLROnPlateau).

    Args:
        model, loss_fn, optimizer: what to train, how to score it, how to update it.
            ``loss_fn`` is remembered on the model, so a later ``evaluate(model, data)``
            reports this loss without being given it again.
        train_data: a DataLoader (or a Dataset, or (x, y) arrays: batches of 32, shuffled).
        epochs: the total number of epochs (including those done before a resume).
        val_data: scored after every epoch (val_loss, val_accuracy).
        scheduler: a learning-rate scheduler.
        callbacks: EarlyStopping, ModelCheckpoint, LambdaCallback, Monitor, ...
        progress: show a progress bar per epoch (only when stderr is a terminal).
        max_grad_norm: clip the joint gradient norm to this before every step.
        resume_from: a checkpoint written by ModelCheckpoint: restore model, optimizer,
            scheduler, history and random generators, and continue after its epoch.
        compile: run each training step as ``gn.compile``'s generated code (the same
            updates, faster; a model it cannot compile trains eagerly, with a warning).

    Raises:
        TrainingDiverged: the loss became NaN or inf (the message says where and what to
            do; checkpoints already written are untouched).
    """
    train_loader = as_loader(train_data, shuffle=True)
    object.__setattr__(model, TRAINING_LOSS, loss_fn)  # evaluate's default loss
    val_loader = as_loader(val_data) if val_data is not None else None
    history = History()
    loaders = [train_loader] + ([val_loader] if val_loader is not None else [])
    state = FitState(model, optimizer, scheduler, history, loaders)
    if resume_from is not None:
        _resume(resume_from, state)
    show = progress and sys.stderr.isatty()
    step = None
    if compile:
        from glassnet.compile import CompiledStep

        step = CompiledStep(model, loss_fn, optimizer, max_grad_norm=max_grad_norm)
        step.on_nonfinite = "return"  # a NaN loss comes back, nothing updated: said below
    per_batch = isinstance(scheduler, OneCycleLR)
    for callback in callbacks:
        callback.on_train_begin(state)
    for epoch in range(state.epoch + 1, epochs + 1):
        model.train()
        started = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        total_loss, correct, seen, classified = 0.0, 0, 0, True
        batches = _progress(train_loader, show, f"epoch {epoch}/{epochs}", _length(train_loader))
        for batch, (x, y) in enumerate(batches, start=1):
            if step is not None:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    value = float(step(x, y).item())
                if not math.isfinite(value):
                    raise _diverged("loss", value, epoch, batch, lr, history)
                output = step.last_output
            else:
                output, value, broken = _eager_step(model, loss_fn, optimizer, x, y, max_grad_norm)
                if broken is not None:
                    raise _diverged(*broken, epoch, batch, lr, history)
            for callback in callbacks:
                if hasattr(callback, "on_batch_end"):
                    callback.on_batch_end(state)
            if per_batch:
                scheduler.step()
            n = len(y)
            total_loss += value * n
            seen += n
            right = _correct(output, y)
            classified = classified and right is not None
            correct += right or 0
            if show:
                postfix = {"loss": f"{total_loss / seen:.4f}"}
                if classified:
                    postfix["acc"] = f"{correct / seen:.3f}"
                batches.set_postfix(postfix)
        logs: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": total_loss / seen,
            "train_accuracy": correct / seen if classified else None,
            "val_loss": None,
            "val_accuracy": None,
            "lr": lr,
        }
        if val_loader is not None:
            scores = evaluate(model, val_loader, loss_fn)
            logs["val_loss"], logs["val_accuracy"] = scores["loss"], scores["accuracy"]
        if isinstance(scheduler, ReduceLROnPlateau):
            scheduler.step(logs["val_loss"] if logs["val_loss"] is not None else logs["train_loss"])
        elif scheduler is not None and not per_batch:
            scheduler.step()
        logs["seconds"] = time.perf_counter() - started
        history.append(logs)
        state.epoch, state.logs = epoch, logs
        for callback in callbacks:
            callback.on_epoch_end(state)
        if state.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end(state)
    history.stop_reason = state.stop_reason
    return history


def _eager_step(model, loss_fn, optimizer, x, y, max_grad_norm) -> tuple:
    """One step as every PyTorch user writes it: ``zero_grad``, forward, loss, ``backward``,
    optional clipping, ``step``. Returns (output, loss value, None), or (output, value,
    (what, bad value)) when the output or the loss is not finite, before any update."""
    optimizer.zero_grad()
    # Overflow to inf or NaN is caught just below, with advice on what to change;
    # NumPy's warnings about it would only print noise before that message.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        output = model(x)
        # The output is checked before the loss: a loss refuses NaN input with its
        # own error, but the advice that matters here is about the learning rate.
        finite = np.isfinite(output.data)
        if not finite.all():
            return output, None, ("model's output", float(output.data[~finite].flat[0]))
        loss = loss_fn(output, y)
        value = float(loss.item())
        if not math.isfinite(value):
            return output, value, ("loss", value)
        loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    return output, value, None


def _diverged(what: str, value: float, epoch: int, batch: int, lr: float, history: History):
    return TrainingDiverged(
        f"training diverged: the {what} became {value} at epoch {epoch}, batch {batch} "
        f"(learning rate {lr:g}); lower the learning rate (try {lr / 10:g}), clip gradients "
        "with max_grad_norm, or check the inputs for NaN. Checkpoints already saved are "
        "untouched.",
        history,
    )


def _length(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


def _resume(path: str | os.PathLike, state: FitState) -> None:
    extra = load_checkpoint(path, state.model, state.optimizer, state.scheduler)
    state.epoch = int(extra["epoch"])
    state.history.epochs = History.from_dict(extra["history"]).epochs
    default_generator().bit_generator.state = extra["default_generator"]
    for loader, saved in zip(state.loaders, extra.get("loader_generators", [])):
        if saved is not None and getattr(loader, "generator", None) is not None:
            loader.generator.bit_generator.state = saved
