"""Schedules made of schedules: ChainedScheduler (all at once) and SequentialLR (one after
another)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from glassnet.optim.lr_scheduler.base import LRScheduler, current_lrs
from glassnet.optim.lr_scheduler.plateau import ReduceLROnPlateau
from glassnet.optim.optimizer import Optimizer


def _check_schedulers(name: str, schedulers: Sequence[Any], optimizer: Optimizer) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{name} expects at least one scheduler, got none")
    for i, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(
                f"{name}: schedulers[{i}] is a {type(scheduler).__name__}, not a scheduler"
            )
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{name}: schedulers[{i}] is a ReduceLROnPlateau, whose step needs a metric; "
                "step it on its own"
            )
        if scheduler.optimizer is not optimizer:
            raise ValueError(
                f"{name}: schedulers[{i}] ({type(scheduler).__name__}) drives another "
                "optimizer; every scheduler must belong to the same one"
            )


class _Composite(LRScheduler):
    """State dict rule of schedules made of schedules: each part saves its own state."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        parts = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, part in zip(self._schedulers, parts):
            scheduler.load_state_dict(part)


class ChainedScheduler(_Composite):
    """Step several chainable schedules together: each ``step()`` steps them all, in order,
    so their factors multiply (e.g. a LinearLR warm-up times an ExponentialLR decay). The
    schedulers are made first, on the same optimizer, as usual."""

    def __init__(
        self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler, got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", schedulers, optimizer)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = current_lrs(optimizer)

    def step(self) -> None:  # type: ignore[override]
        """Step every scheduler once, in the order given."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = current_lrs(self.optimizer)


class SequentialLR(_Composite):
    """Run schedules one after another: ``schedulers[i]`` drives the lr from epoch
    ``milestones[i - 1]`` on (e.g. a LinearLR warm-up for 5 epochs, then CosineAnnealingLR).

    Making it resets the lr to each group's initial_lr and takes back the first step the
    schedulers took when they were made, then takes the first step of ``schedulers[0]``
    alone. At a milestone the next schedule starts at its own epoch 0, in its closed form
    where it has one (so it starts from initial_lr, not from where the previous one ended).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        _check_schedulers("SequentialLR", schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} "
                f"milestones (the epochs where the next one takes over), got {len(milestones)}"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._undo_first_steps(self)
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_first_steps(self, scheduler: Any) -> None:
        # Every scheduler stepped to epoch 0 when it was made; take that step back (the lr
        # itself was reset above), nested composites included.
        if hasattr(scheduler, "_schedulers"):
            for part in scheduler._schedulers:
                self._undo_first_steps(part)
        elif hasattr(scheduler, "last_epoch"):
            scheduler.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        """Advance one epoch with the schedule in charge of it."""
        self.last_epoch += 1
        i = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._update_lr(0)  # its epoch 0, from the closed form where there is one
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()
