"""Adam and AdamW: momentum plus a per-parameter step size from the gradient's scale."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from glassnet.optim.optimizer import Optimizer, check_hyper


def _adam_step(param, grad, state, group, decoupled_decay: bool, s: np.ndarray) -> None:
    """One Adam step on one parameter (see the algorithm in ``Adam``'s docstring).

    ``s`` is a scratch array of the parameter's shape: every intermediate is written into
    it (``out=``), so a step allocates no parameter-sized temporaries.
    """
    lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    g = -grad if group["maximize"] else grad
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param.data)
        state["exp_avg_sq"] = np.zeros_like(param.data)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param.data)
    state["step"] += 1
    t = state["step"]
    if wd and decoupled_decay:
        param.data *= 1 - lr * wd
    elif wd:
        g = g + wd * param.data
    m, v = state["exp_avg"], state["exp_avg_sq"]
    np.subtract(g, m, out=s)  # m = beta1 m + (1 - beta1) g, as m + (1 - beta1)(g - m)
    s *= 1 - beta1
    m += s
    np.multiply(g, g, out=s)  # v = beta2 v + (1 - beta2) g^2
    s *= 1 - beta2
    v *= beta2
    v += s
    if group["amsgrad"]:
        np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        v = state["max_exp_avg_sq"]
    bias_correction1 = 1 - beta1**t
    bias_correction2_sqrt = (1 - beta2**t) ** 0.5
    np.sqrt(v, out=s)  # denominator: sqrt(v_hat) + eps
    s /= bias_correction2_sqrt
    s += eps
    np.divide(m, s, out=s)
    s *= lr / bias_correction1
    param.data -= s


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), following the algorithm box of ``torch.optim.Adam``::

        g = -grad if maximize else grad
        if weight_decay:  g = g + weight_decay * theta
        m = beta1 m + (1 - beta1) g          # mean of recent gradients (momentum)
        v = beta2 v + (1 - beta2) g^2        # mean of recent squared gradients
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   # undo the start at zero
        if amsgrad:  v_max = max(v_max, v),  v_hat = v_max / (1 - beta2^t)
        theta = theta - lr m_hat / (sqrt(v_hat) + eps)

    Dividing by sqrt(v_hat) keeps the step at about lr or less whatever the gradient's scale,
    per parameter: rarely-updated and steep parameters alike move at a sensible pace.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_hyper(type(self).__name__, lr=lr, eps=eps, weight_decay=weight_decay)
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group) -> None:
        _adam_step(param, grad, state, group, False, self.scratch(param))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019)::

        theta = theta (1 - lr weight_decay)      # decay the weights directly ...
        ... then the Adam step without weight_decay in g

    In plain Adam, L2 decay goes through the division by sqrt(v_hat), so parameters with
    large gradients are barely regularised; decoupling decays every weight at the same rate.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)

    def _update(self, param, grad, state, group) -> None:
        _adam_step(param, grad, state, group, True, self.scratch(param))
