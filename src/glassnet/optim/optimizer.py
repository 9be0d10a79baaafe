"""Optimizer: the base of SGD, Adam and the rest: parameter groups, per-parameter state,
``zero_grad``, ``step`` and a state dict in PyTorch's layout.

Optimizers know only parameters (tensors with ``.data`` and ``.grad``): they read the
gradient arrays and update the parameter arrays in place, so no graph is ever built and
every reference to a parameter stays valid.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from glassnet.autograd.grad_mode import enable_grad
from glassnet.autograd.tensor import Tensor


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of parameters and hyper-parameters) and
    ``state`` (per parameter: momentum buffers, step counts, ...)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        # One spare array per parameter for the intermediate results of a step, so that an
        # update allocates nothing (not part of the state: it holds no information).
        self._scratch: dict[Tensor, np.ndarray] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors (e.g. "
                "model.parameters()), got a single Tensor; wrap it in a list"
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                f"{type(self).__name__} got an empty parameter list; pass model.parameters() "
                "of a model that has parameters"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (missing ones default)."""
        group = dict(param_group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        name = type(self).__name__
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name} can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"{name} can only optimize leaf tensors (parameters); got the output of "
                    f"{p.grad_fn.name()}"
                )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group["params"] = params
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient (None by default, as in PyTorch; zeros with False)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data.fill(0)
                    p.grad._bump_version()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    # State is made on a parameter's first step (``state`` starts empty), so a
                    # group added later by ``add_param_group`` needs nothing more.
                    self._update(p, p.grad.data, self.state.setdefault(p, {}), group)
                    # The values changed in place: a graph that saved this parameter before
                    # the step must now refuse to backward instead of using the new values.
                    p._bump_version()
        return loss

    def _update(self, param: Tensor, grad: np.ndarray, state: dict, group: dict) -> None:
        """Change ``param.data`` in place by one step of the algorithm; ``state`` is this
        parameter's own dict, empty before its first step."""
        raise NotImplementedError

    def scratch(self, param: Tensor) -> np.ndarray:
        """A reusable array of the parameter's shape and dtype (contents undefined)."""
        buffer = self._scratch.get(param)
        if buffer is None or buffer.shape != param.shape or buffer.dtype != param.dtype:
            buffer = self._scratch[param] = np.empty_like(param.data)
        return buffer

    # ------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``:
        parameters are numbered in group order, as in PyTorch; arrays are copied."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {
            index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for p, s in self.state.items()
            if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by ``state_dict``. Checks group and
        parameter counts and state shapes first; on a mismatch nothing changes."""
        name = type(self).__name__
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(groups)} parameter groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        params = {}
        for i, (saved, mine) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: group {i} has {len(saved['params'])} parameters "
                    f"in the saved state and {len(mine['params'])} here"
                )
            params.update(zip(saved["params"], mine["params"]))
        new_state = {}
        for key, values in state_dict["state"].items():
            p = params[int(key)]
            for k, v in values.items():
                if isinstance(v, np.ndarray) and v.shape not in (p.shape, ()):
                    raise ValueError(
                        f"{name}.load_state_dict: state {k!r} of parameter {key} has shape "
                        f"{v.shape}, the parameter has {p.shape}"
                    )
            new_state[p] = {
                k: (np.array(v, dtype=p.dtype) if isinstance(v, np.ndarray) and v.ndim else v)
                for k, v in values.items()
            }
        for saved, mine in zip(groups, self.param_groups):
            mine.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])


def check_hyper(name: str, **values: float) -> None:
    """Raise a ValueError naming the optimizer and the first negative hyper-parameter."""
    for key, value in values.items():
        if value < 0:
            raise ValueError(f"{name}: {key} must be non-negative, got {value}")


def check_betas(name: str, betas: tuple[float, float]) -> None:
    """Raise a ValueError naming the optimizer unless both betas lie in [0, 1)."""
    if not all(0.0 <= beta < 1.0 for beta in betas):
        raise ValueError(
            f"{name}: betas must be in [0, 1), got {tuple(betas)}; they are the decay rates "
            "of running averages, e.g. (0.9, 0.999)"
        )


def start_state(state: dict[str, Any], param: Tensor, *zeroed: str, **values: Any) -> None:
    """Fill a parameter's empty state at its first step: ``step`` = 0, then ``values`` as
    given, then a zero array of the parameter's shape for each name in ``zeroed`` (the
    running averages, which start at zero), in PyTorch's key order."""
    state["step"] = 0
    state.update(values)
    for key in zeroed:
        state[key] = np.zeros_like(param.data)


def apply_weight_decay(
    param: Tensor, g: np.ndarray, lr: float, weight_decay: float, decoupled: bool = False
) -> np.ndarray:
    """The weight decay step shared by the optimizers; returns the gradient to use.

    L2 (``decoupled`` False): g + weight_decay * theta, a new array; theta is untouched.
    Decoupled (AdamW's): theta = theta (1 - lr weight_decay) in place, g returned as is.
    With weight_decay 0, g is returned as is.
    """
    if weight_decay and decoupled:
        param.data *= 1 - lr * weight_decay
    elif weight_decay:
        g = g + weight_decay * param.data
    return g
