"""NAdam: Adam with Nesterov momentum."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet.optim.adam import adam_defaults, update_moments
from glassnet.optim.optimizer import Optimizer, apply_weight_decay, start_state


class NAdam(Optimizer):
    """NAdam (Dozat 2016), following the algorithm box of ``torch.optim.NAdam``::

        g = -grad if maximize else grad
        if weight_decay:
            theta = theta (1 - lr weight_decay)   if decoupled_weight_decay   (as AdamW)
            g = g + weight_decay * theta          otherwise                   (as Adam)
        mu_t     = beta1 (1 - 0.5 * 0.96^(t momentum_decay))        # momentum warming up
        mu_{t+1} = beta1 (1 - 0.5 * 0.96^((t + 1) momentum_decay))
        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        v_hat = v / (1 - beta2^t)
        theta = theta - lr (1 - mu_t) / (1 - mu_1...mu_t)           g / (sqrt(v_hat) + eps)
                      - lr mu_{t+1} / (1 - mu_1...mu_{t+1})         m / (sqrt(v_hat) + eps)

    Nesterov's idea: step with the momentum as it will be after this step (the mu_{t+1} m
    term) plus the fresh gradient, rather than with last step's momentum. The product
    mu_1...mu_t is kept in the state as ``mu_product``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = adam_defaults(
            "NAdam",
            lr,
            betas,
            eps,
            weight_decay,
            checked=("momentum_decay",),
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        psi = group["momentum_decay"]
        g = -grad if group["maximize"] else grad
        if not state:
            start_state(state, param, "exp_avg", "exp_avg_sq", mu_product=1.0)
        state["step"] += 1
        t = state["step"]
        g = apply_weight_decay(param, g, lr, wd, group["decoupled_weight_decay"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        update_moments(m, v, g, beta1, beta2)
        denom = np.sqrt(v / (1 - beta2**t)) + group["eps"]
        param.data -= lr * (1.0 - mu) / (1.0 - mu_product) * g / denom
        param.data -= lr * mu_next / (1.0 - mu_product * mu_next) * m / denom
