"""Callbacks: code that ``fit`` runs at the start, after every epoch, and at the end."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.io.checkpoint import save_checkpoint


class FitState:
    """What a callback sees: the objects being trained and where training is."""

    def __init__(
        self, model: Any, optimizer: Any, scheduler: Any, history: Any, loaders: list
    ) -> None:
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.history, self.loaders = history, loaders
        self.epoch = 0  # epochs completed
        self.logs: dict[str, Any] = {}
        self.stop_training = False
        self.stop_reason = ""


class Callback:
    """Base class; override any of the three hooks."""

    def on_train_begin(self, state: FitState) -> None:
        """Before the first epoch."""

    def on_batch_end(self, state: FitState) -> None:
        """After each optimizer step."""

    def on_epoch_end(self, state: FitState) -> None:
        """After each epoch; ``state.logs`` holds its metrics. Set ``state.stop_training``
        to stop."""

    def on_train_end(self, state: FitState) -> None:
        """After the last epoch (also after an early stop)."""


class LambdaCallback(Callback):
    """A callback from plain functions of the ``FitState``."""

    def __init__(
        self,
        on_epoch_end: Callable[[FitState], None] | None = None,
        on_train_begin: Callable[[FitState], None] | None = None,
        on_train_end: Callable[[FitState], None] | None = None,
    ) -> None:
        self._hooks = {
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
        }

    def on_train_begin(self, state: FitState) -> None:
        if self._hooks["on_train_begin"]:
            self._hooks["on_train_begin"](state)

    def on_epoch_end(self, state: FitState) -> None:
        if self._hooks["on_epoch_end"]:
            self._hooks["on_epoch_end"](state)

    def on_train_end(self, state: FitState) -> None:
        if self._hooks["on_train_end"]:
            self._hooks["on_train_end"](state)


class _Monitoring(Callback):
    """Shared by the callbacks that watch one metric for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        if mode not in ("min", "max"):
            raise ValueError(
                f"{type(self).__name__}: mode must be 'min', 'max' or 'auto', got {mode!r}"
            )
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def _current(self, state: FitState) -> float:
        value = state.logs.get(self.monitor)
        if value is None:
            available = [k for k, v in state.logs.items() if isinstance(v, float)]
            raise ValueError(
                f"{type(self).__name__}: metric {self.monitor!r} is not available (pass "
                f"val_data to fit for val_* metrics); available: {', '.join(available)}"
            )
        return float(value)

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitoring):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; with
    ``restore_best``, put back the weights of the best epoch at the end."""

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "auto",
        restore_best: bool = True,
    ) -> None:
        super().__init__(monitor, mode, min_delta)
        self.patience, self.restore_best = patience, restore_best
        self.wait = 0
        self.best_epoch = 0
        self.best_state: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, state: FitState) -> None:
        value = self._current(state)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, state.epoch, 0
            if self.restore_best:
                self.best_state = {k: v.numpy().copy() for k, v in state.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:
            state.stop_training = True
            state.stop_reason = (
                f"early stopping: {self.monitor} has not improved for {self.patience} epochs "
                f"(best {self.best:.4g} at epoch {self.best_epoch})"
            )

    def on_train_end(self, state: FitState) -> None:
        if self.restore_best and self.best_state is not None:
            state.model.load_state_dict(self.best_state)


class ModelCheckpoint(_Monitoring):
    """Save a full checkpoint (model, optimizer, scheduler, epoch, history, random
    generators) after an epoch: every epoch, or with ``save_best_only`` only when
    ``monitor`` improved. Files are written atomically; resume with ``fit(resume_from=)``."""

    def __init__(
        self,
        path: str | os.PathLike,
        monitor: str = "val_loss",
        save_best_only: bool = True,
        mode: str = "auto",
    ) -> None:
        super().__init__(monitor, mode)
        self.path, self.save_best_only = path, save_best_only

    def on_epoch_end(self, state: FitState) -> None:
        if self.save_best_only:
            value = self._current(state)
            if not self._improved(value):
                return
            self.best = value
        write_checkpoint(self.path, state)


def write_checkpoint(path: str | os.PathLike, state: FitState) -> None:
    """Everything ``fit(resume_from=path)`` needs to continue exactly where this left off."""
    from glassnet.random import default_generator

    generators = [
        loader.generator.bit_generator.state if getattr(loader, "generator", None) else None
        for loader in state.loaders
    ]
    save_checkpoint(
        path,
        state.model,
        state.optimizer,
        state.scheduler,
        epoch=state.epoch,
        history=state.history.to_dict(),
        default_generator=default_generator().bit_generator.state,
        loader_generators=generators,
    )
