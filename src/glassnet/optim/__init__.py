"""Optimizers and learning-rate schedules with PyTorch's names and algorithms."""

from glassnet.optim import lr_scheduler
from glassnet.optim.adam import Adam, AdamW
from glassnet.optim.adamax import Adamax
from glassnet.optim.nadam import NAdam
from glassnet.optim.optimizer import Optimizer
from glassnet.optim.radam import RAdam
from glassnet.optim.rmsprop import Adagrad, RMSprop
from glassnet.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "lr_scheduler",
]
