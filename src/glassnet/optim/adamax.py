"""Adamax: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet.optim.adam import adam_defaults
from glassnet.optim.optimizer import Optimizer, apply_weight_decay, start_state


class Adamax(Optimizer):
    """Adamax (Kingma & Ba 2015, section 7), following the algorithm box of
    ``torch.optim.Adamax``::

        g = -grad if maximize else grad
        if weight_decay:  g = g + weight_decay * theta
        m = beta1 m + (1 - beta1) g
        u = max(beta2 u, |g| + eps)          # a decaying maximum of |g|, per element
        theta = theta - lr / (1 - beta1^t) * m / u

    Adam divides by a running root mean square of g; Adamax by a running maximum, which
    needs no bias correction (it is not an average that starts at zero) and is not pulled
    up by a single huge gradient for long.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = adam_defaults("Adamax", lr, betas, eps, weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        beta1, beta2 = group["betas"]
        g = -grad if group["maximize"] else grad
        if not state:
            start_state(state, param, "exp_avg", "exp_inf")
        state["step"] += 1
        g = apply_weight_decay(param, g, group["lr"], group["weight_decay"])
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - beta1) * (g - m)
        u *= beta2
        np.maximum(u, np.abs(g) + group["eps"], out=u)
        param.data -= group["lr"] / (1 - beta1 ** state["step"]) * m / u
