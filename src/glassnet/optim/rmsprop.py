"""RMSprop and Adagrad: step sizes scaled by the history of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet.optim.optimizer import Optimizer, apply_weight_decay, check_hyper, start_state


class RMSprop(Optimizer):
    """RMSprop (Hinton 2012), following the algorithm box of ``torch.optim.RMSprop``::

        g = -grad if maximize else grad
        if weight_decay:  g = g + weight_decay * theta
        v = alpha v + (1 - alpha) g^2        # mean of recent squared gradients
        if centered:  g_avg = alpha g_avg + (1 - alpha) g;  v~ = v - g_avg^2   else v~ = v
        if momentum:  b = momentum b + g / (sqrt(v~) + eps);  theta = theta - lr b
        else:         theta = theta - lr g / (sqrt(v~) + eps)

    Like Adam without the first moment: each parameter's step is scaled by the recent size
    of its gradient ('centered' uses the variance instead of the raw second moment).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyper(
            "RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum
        )
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        alpha, wd, momentum = group["alpha"], group["weight_decay"], group["momentum"]
        g = -grad if group["maximize"] else grad
        if not state:
            start_state(state, param, "square_avg")
            if momentum:
                state["momentum_buffer"] = np.zeros_like(param.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param.data)
        state["step"] += 1
        g = apply_weight_decay(param, g, group["lr"], wd)
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg += (1 - alpha) * (g - g_avg)
            denom = np.sqrt(v - g_avg * g_avg) + group["eps"]
        else:
            denom = np.sqrt(v) + group["eps"]
        if momentum:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / denom
            param.data -= group["lr"] * buf
        else:
            param.data -= group["lr"] * g / denom


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), following the algorithm box of ``torch.optim.Adagrad``::

        lr_t = lr / (1 + (t - 1) lr_decay)
        g = -grad if maximize else grad
        if weight_decay:  g = g + weight_decay * theta
        s = s + g^2                          # the sum of every squared gradient so far,
                                             # from initial_accumulator_value
        theta = theta - lr_t g / (sqrt(s) + eps)

    Parameters that have seen large gradients slow down for good; good for sparse features.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyper(
            "Adagrad",
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            eps=eps,
            maximize=maximize,
            initial_accumulator_value=initial_accumulator_value,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:  # PyTorch creates this state up front
            for p in group["params"]:
                self._init_state(p, self.state.setdefault(p, {}))

    def _init_state(self, param, state) -> None:
        # The optimizer's initial_accumulator_value, not the group's: PyTorch does the same
        # both up front and for a group added later.
        state["step"] = 0
        state["sum"] = np.full_like(param.data, self.defaults["initial_accumulator_value"])

    def _update(self, param, grad, state, group) -> None:
        if not state:  # a parameter of a group added by add_param_group
            self._init_state(param, state)
        state["step"] += 1
        g = -grad if group["maximize"] else grad
        g = apply_weight_decay(param, g, group["lr"], group["weight_decay"])
        lr_t = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        param.data -= lr_t * g / (np.sqrt(state["sum"]) + group["eps"])
