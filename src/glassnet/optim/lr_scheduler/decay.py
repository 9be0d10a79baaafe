"""Schedules that shrink (or warm up) the learning rate epoch by epoch.

Each docstring gives the curve in closed form, lr_t from the group's initial lr; the code
computes the step from lr_{t-1} to lr_t, the factor the closed form changes by in one epoch
(PyTorch's chainable form), so that schedules stacked on one optimizer multiply.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import Any

from glassnet.optim.lr_scheduler.base import (
    LRScheduler,
    current_lrs,
    restore_callables,
    saved_callables,
)
from glassnet.optim.optimizer import Optimizer

LrLambda = Callable[[int], float]


def _lambdas(name: str, optimizer: Optimizer, lr_lambda: Any) -> list[LrLambda]:
    n = len(optimizer.param_groups)
    if not isinstance(lr_lambda, (list, tuple)):
        return [lr_lambda] * n
    if len(lr_lambda) != n:
        raise ValueError(f"{name}: expected {n} lr_lambdas (one per group), got {len(lr_lambda)}")
    return list(lr_lambda)


class _WithLambdas(LRScheduler):
    """State dict rule shared by LambdaLR and MultiplicativeLR (see ``saved_callables``)."""

    lr_lambdas: list[LrLambda]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in super().state_dict().items() if k != "lr_lambdas"}
        state["lr_lambdas"] = saved_callables(self.lr_lambdas)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        super().load_state_dict(state)
        restore_callables(self.lr_lambdas, saved)


class LambdaLR(_WithLambdas):
    """lr_t = initial_lr * lr_lambda(t) (one function, or one per parameter group).

    Not chainable: it is its own closed form, so it overrides what other schedules did.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: LrLambda | Sequence[LrLambda],
        last_epoch: int = -1,
    ) -> None:
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for base, f in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(_WithLambdas):
    """lr_t = lr_{t-1} * lr_lambda(t) for t >= 1: the function gives each epoch's factor."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: LrLambda | Sequence[LrLambda],
        last_epoch: int = -1,
    ) -> None:
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(
                    f"MultiplicativeLR: lr_lambda must be a function of the epoch, got "
                    f"{type(f).__name__}"
                )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return current_lrs(self.optimizer)
        groups = self.optimizer.param_groups
        return [group["lr"] * f(self.last_epoch) for group, f in zip(groups, self.lr_lambdas)]


class StepLR(LRScheduler):
    """lr_t = initial_lr * gamma ^ floor(t / step_size): a drop every step_size epochs.

    Step: multiply the current lr by gamma when t is a positive multiple of step_size.
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if step_size <= 0:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return current_lrs(self.optimizer)
        return [lr * self.gamma for lr in current_lrs(self.optimizer)]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr_t = initial_lr * gamma ^ (number of milestones <= t).

    Step: at a milestone, multiply the current lr by gamma (gamma^k if listed k times).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        # a sorted list with repeats (PyTorch keeps a Counter): it survives a JSON round trip
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        times = self.milestones.count(self.last_epoch)
        if not times:
            return current_lrs(self.optimizer)
        return [lr * self.gamma**times for lr in current_lrs(self.optimizer)]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr_t = initial_lr * factor for t < total_iters, then initial_lr.

    Step: multiply by factor at epoch 0 and by 1 / factor at total_iters.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = current_lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr * (1.0 / self.factor) for lr in lrs]

    def _closed_form_lr(self) -> list[float]:
        done = self.last_epoch >= self.total_iters
        return [base * (self.factor + done * (1 - self.factor)) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """lr_t = initial_lr * (start + (end - start) * min(t, total_iters) / total_iters): the
    factor goes linearly from start_factor to end_factor (a warm-up with the defaults).

    Step: multiply by start_factor at epoch 0; then, up to total_iters, by the ratio of
    consecutive factors, 1 + (end - start) / (total_iters start + (t - 1)(end - start)).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not (0 < start_factor <= 1 and 0 <= end_factor <= 1):
            raise ValueError(
                "LinearLR: start_factor must be in (0, 1] and end_factor in [0, 1], got "
                f"{start_factor} and {end_factor}"
            )
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = current_lrs(self.optimizer)
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * change
        )
        return [lr * ratio for lr in lrs]

    def _closed_form_lr(self) -> list[float]:
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr_t = initial_lr * gamma ^ t. Step: multiply by gamma."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return current_lrs(self.optimizer)
        return [lr * self.gamma for lr in current_lrs(self.optimizer)]

    def _closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr_t = initial_lr * (1 - min(t, total_iters) / total_iters) ^ power: down to 0 at
    total_iters.

    Step: up to total_iters, multiply by ((1 - t / T) / (1 - (t - 1) / T)) ^ power.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = current_lrs(self.optimizer)
        if self._is_initial or self.last_epoch > self.total_iters:
            return lrs
        t, total = self.last_epoch, self.total_iters
        factor = ((1.0 - t / total) / (1.0 - (t - 1) / total)) ** self.power
        return [lr * factor for lr in lrs]

    def _closed_form_lr(self) -> list[float]:
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * left**self.power for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr_t = eta_min + (initial_lr - eta_min) (1 + cos(pi t / T_max)) / 2: from initial_lr
    down to eta_min over T_max epochs along half a cosine, then back up, and so on.

    Step: scale the distance to eta_min by the ratio of consecutive cosine terms,
    (1 + cos(pi t / T_max)) / (1 + cos(pi (t - 1) / T_max)). At the bottom (t - 1 = T_max,
    3 T_max, ...) that ratio is 0/0, so the step adds the first rise of the closed form,
    (initial_lr - eta_min)(1 - cos(pi / T_max)) / 2, instead.
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        lrs = current_lrs(self.optimizer)
        t, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return lrs
        if (t - 1 - period) % (2 * period) == 0:
            rise = (1 - math.cos(math.pi / period)) / 2
            return [lr + (base - low) * rise for lr, base in zip(lrs, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - low) + low for lr in lrs]

    def _closed_form_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]
