"""Adamax: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet.optim.optimizer import Optimizer, check_betas, check_hyper


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
        check_hyper("Adamax", lr=lr, eps=eps, weight_decay=weight_decay)
        check_betas("Adamax", betas)
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        (beta1, beta2), wd = group["betas"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param.data)
            state["exp_inf"] = np.zeros_like(param.data)
        state["step"] += 1
        if wd:
            g = g + wd * param.data
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - beta1) * (g - m)
        u *= beta2
        np.maximum(u, np.abs(g) + group["eps"], out=u)
        param.data -= group["lr"] / (1 - beta1 ** state["step"]) * m / u
