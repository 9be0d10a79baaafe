"""Learning-rate schedules with PyTorch's names and rules. Call ``scheduler.step()`` after
``optimizer.step()``, once per epoch (per batch for CyclicLR and OneCycleLR).

Schedules are chainable as in PyTorch: each step changes a group's *current* lr, so two
schedulers on one optimizer compose (see ``base``). ChainedScheduler steps several at once;
SequentialLR hands over from one to the next at given epochs.
"""

from glassnet.optim.lr_scheduler.base import LRScheduler
from glassnet.optim.lr_scheduler.combine import ChainedScheduler, SequentialLR
from glassnet.optim.lr_scheduler.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from glassnet.optim.lr_scheduler.decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from glassnet.optim.lr_scheduler.plateau import ReduceLROnPlateau

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
