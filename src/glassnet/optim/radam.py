"""RAdam: Adam whose adaptive step is switched on only once its variance is trustworthy."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet.optim.adam import adam_defaults, update_moments
from glassnet.optim.optimizer import Optimizer, apply_weight_decay, start_state


class RAdam(Optimizer):
    """RAdam (Liu et al. 2020), following the algorithm box of ``torch.optim.RAdam``::

        g = -grad if maximize else grad
        if weight_decay:
            theta = theta (1 - lr weight_decay)   if decoupled_weight_decay   (as AdamW)
            g = g + weight_decay * theta          otherwise                   (as Adam)
        m = beta1 m + (1 - beta1) g
        v = beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1                         # length of the average, in steps
        rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)          # ... and so far, at step t
        if rho_t > 5:
            r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            theta = theta - lr m_hat r sqrt(1 - beta2^t) / (sqrt(v) + eps)
        else:
            theta = theta - lr m_hat                            # plain momentum SGD

    In the first steps v rests on a handful of gradients, so 1/sqrt(v) varies wildly; the
    rectifier r (0 at first, 1 in the long run) scales the adaptive step by how far that
    variance can be trusted: a warm-up derived instead of tuned.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = adam_defaults(
            "RAdam",
            lr,
            betas,
            eps,
            weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        if not state:
            start_state(state, param, "exp_avg", "exp_avg_sq")
        state["step"] += 1
        t = state["step"]
        g = apply_weight_decay(param, g, lr, wd, group["decoupled_weight_decay"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        update_moments(m, v, g, beta1, beta2)
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        m_hat = m / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            adaptive = math.sqrt(bias_correction2) / (np.sqrt(v) + group["eps"])
            param.data -= m_hat * lr * adaptive * rect
        else:
            param.data -= m_hat * lr
