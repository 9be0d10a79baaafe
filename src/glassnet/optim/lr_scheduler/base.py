"""LRScheduler: the base every schedule shares, and the rule that makes schedules chainable.

A schedule's ``get_lr`` reads each parameter group's *current* lr and returns the next one
(``lr * gamma`` for ExponentialLR), PyTorch's "chainable form": two schedulers on one
optimizer then compose, each applying its own factor to what the other left. The closed
form (lr as a function of the epoch and the group's ``initial_lr``) is used only where
PyTorch uses it: when ``step(epoch)`` is given an epoch.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Sequence
from typing import Any

from glassnet.optim.optimizer import Optimizer


def current_lrs(optimizer: Optimizer) -> list[float]:
    """The ``lr`` of each parameter group, in order."""
    return [group["lr"] for group in optimizer.param_groups]


def per_group(name: str, what: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per parameter group: a list as given (length checked) or one value repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{name}: {what} has {len(value)} values but the optimizer has {n} parameter "
                f"groups; give one value per group, or a single value for all"
            )
        return list(value)
    return [value] * n


def set_momentum(group: dict[str, Any], value: float, use_beta1: bool) -> None:
    """Set SGD's ``momentum`` or, for Adam-like optimizers, ``betas[0]``."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def uses_beta1(name: str, optimizer: Optimizer) -> bool:
    """True when the optimizer's momentum is ``betas[0]``, False when it is ``momentum``."""
    if "betas" not in optimizer.defaults and "momentum" not in optimizer.defaults:
        raise ValueError(
            f"{name}: cycle_momentum needs an optimizer with momentum (SGD, RMSprop) or betas "
            f"(Adam and its kin), got {type(optimizer).__name__}; pass cycle_momentum=False"
        )
    return "betas" in optimizer.defaults


class LRScheduler:
    """Base class: each ``step()`` advances ``last_epoch`` by one and sets every group's
    ``lr`` to ``get_lr()``. Call it after ``optimizer.step()``, once per epoch (per batch for
    CyclicLR and OneCycleLR).

    Making a scheduler records each group's starting lr as ``group["initial_lr"]`` (unless
    an earlier scheduler did) and takes the first step, to epoch 0. A group added to the
    optimizer later has no ``initial_lr``: chainable schedules scale its lr from then on,
    schedules computed from ``initial_lr`` raise an error, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} expects an optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', which "
                        f"resuming with last_epoch={last_epoch} needs; load the optimizer's "
                        "state dict first, or start a fresh schedule with last_epoch=-1"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """The step every scheduler takes when made. Chainable schedules must not apply a
        factor here when resuming (last_epoch > 0), so they can tell by ``_is_initial``."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rate of each group at ``self.last_epoch``, from the current ones."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or batch) and set the new learning rates.

        ``epoch`` is deprecated in PyTorch and kept for its semantics: it jumps to that epoch
        and uses the schedule's closed form where it has one.
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                f"{type(self).__name__}.step(epoch) is deprecated, as in PyTorch: it jumps to "
                "the epoch using the closed form where there is one; call step() instead",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_closed_form_lr", None)
            lrs = closed_form() if closed_form is not None else self.get_lr()
        self._set_lrs(lrs)

    def _set_lrs(self, lrs: Sequence[float]) -> None:
        groups = self.optimizer.param_groups
        if len(lrs) != len(groups):
            raise ValueError(
                f"{type(self).__name__}: computed {len(lrs)} learning rates for "
                f"{len(groups)} parameter groups: a group was added to the optimizer after "
                "this scheduler was made, and this schedule is computed from each group's "
                "initial_lr. Make the scheduler after add_param_group, or use a chainable "
                "one (StepLR, MultiStepLR, ExponentialLR, LinearLR, ConstantLR, PolynomialLR, "
                "MultiplicativeLR)"
            )
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = current_lrs(self.optimizer)

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer and functions (which cannot be saved as data)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v)}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned (make the scheduler first, then load)."""
        self.__dict__.update(state_dict)


def saved_callables(functions: Sequence[Any]) -> list[dict[str, Any] | None]:
    """PyTorch's rule for user functions in a state dict: a plain function or lambda is not
    saved (None); a callable object saves its attributes, to be restored into the object the
    new scheduler is given."""
    return [None if _is_plain_function(f) else dict(vars(f)) for f in functions]


def restore_callables(functions: Sequence[Any], saved: Sequence[dict[str, Any] | None]) -> None:
    """Undo ``saved_callables`` into the given callable objects."""
    for function, attributes in zip(functions, saved):
        if attributes is not None:
            vars(function).update(attributes)


def _is_plain_function(f: Any) -> bool:
    return isinstance(f, types.FunctionType)
