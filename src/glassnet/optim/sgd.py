"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet._blas import axpby, axpy
from glassnet.optim.optimizer import Optimizer, apply_weight_decay, check_hyper


def sgd_step_reference(
    theta: np.ndarray,
    grad: np.ndarray,
    state: dict[str, Any],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> np.ndarray:
    """One SGD step written as the algorithm in ``SGD``'s docstring reads. Returns the new
    theta and updates ``state``; the yardstick ``SGD._update`` is tested against."""
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * theta
    if momentum:
        if "momentum_buffer" in state:
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        else:
            b = g.copy()
        state["momentum_buffer"] = b
        g = g + momentum * b if nesterov else b
    return theta - lr * g


class SGD(Optimizer):
    """Gradient descent, following the algorithm box of ``torch.optim.SGD``::

        g = -grad if maximize else grad
        if weight_decay:  g = g + weight_decay * theta
        if momentum:
            b = g                                   at the first step
            b = momentum * b + (1 - dampening) * g  after it
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g

    Momentum b is a running sum of past gradients: directions that agree add up, noise
    cancels, so along a long shallow valley (a steady g) the step grows to about
    lr g / (1 - momentum), without dampening.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyper("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        g = apply_weight_decay(param, g, lr, wd)
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                axpby(1 - group["dampening"], g, momentum, buf)  # b = momentum b + (1 - d) g
            g = g + momentum * buf if group["nesterov"] else buf
        # Fast path: theta -= lr g as one BLAS axpy, in place over BLAS's threads (see
        # glassnet/_blas.py); the reference makes up to five parameter-sized arrays.
        axpy(-lr, g, param.data)
