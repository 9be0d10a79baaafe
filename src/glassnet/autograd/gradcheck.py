"""Check an analytic gradient against central finite differences, in float64.

For a function f and a fixed random direction v in output space, backward computes
``a = J^T v`` (one vector-Jacobian product). The same quantity, one input element at a
time, is the derivative of the scalar ``L(x) = <v, f(x)>``, which central differences
estimate to O(eps^2):

    dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

A random v (rather than all ones) makes errors unlikely to cancel out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glassnet.autograd.grad_mode import enable_grad, no_grad
from glassnet.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with the numeric one."""


def _to_float64(inputs: Sequence[Any]) -> list[Any]:
    converted = []
    for x in inputs:
        if isinstance(x, Tensor) and x.dtype.kind == "f":
            converted.append(Tensor(x.data, dtype=np.float64, requires_grad=x.requires_grad))
        else:
            converted.append(x)
    return converted


def _scalar_objective(fn: Callable[..., Tensor], inputs: list[Any], v: np.ndarray) -> float:
    with no_grad():  # only the value is needed here; no graph
        out = fn(*inputs)
    return float(np.sum(out.data.astype(np.float64) * v))


def _prepare(inputs: Sequence[Any] | Tensor) -> tuple[list[Any], list[int]]:
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = _to_float64(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise GradcheckError(
            "gradcheck: no input has requires_grad=True, so there is nothing to check; "
            "create the inputs with requires_grad=True"
        )
    return inputs, checked


def _analytic(fn: Callable[..., Tensor], inputs: list[Any], checked: list[int], seed: int):
    """The backward gradients of <v, fn(inputs)> for a random v, and v."""
    with enable_grad():
        out = fn(*inputs)
        if not isinstance(out, Tensor):
            raise GradcheckError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        v = np.random.default_rng(seed).standard_normal(out.shape)
        for i in checked:
            inputs[i].grad = None
        if out.requires_grad:
            out.backward(Tensor(v, dtype=out.dtype))
    grads = {}
    for i in checked:
        x = inputs[i]
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.data
        if analytic.shape != x.shape:
            raise GradcheckError(
                f"gradcheck: input {i} has shape {x.shape} but its gradient has shape "
                f"{analytic.shape}"
            )
        grads[i] = analytic
    return grads, v


def _numeric(fn, inputs: list[Any], i: int, v: np.ndarray, eps: float):
    """Yield (flat index, central-difference derivative) for every element of input i."""
    data = inputs[i].data
    for j in range(data.size):
        # element j in row-major order, written through its index: the input itself is
        # perturbed whatever its memory order (gn.compile keeps Linear weights in
        # Fortran order, where reshape(-1) would be a copy)
        at = np.unravel_index(j, data.shape)
        original = data[at]
        data[at] = original + eps
        plus = _scalar_objective(fn, inputs, v)
        data[at] = original - eps
        minus = _scalar_objective(fn, inputs, v)
        data[at] = original
        yield j, (plus - minus) / (2 * eps)


def gradient_errors(
    fn: Callable[..., Tensor], inputs: Sequence[Any] | Tensor, eps: float = 1e-6, seed: int = 0
) -> tuple[float, float]:
    """The largest absolute and relative differences between backward's gradients and
    central differences over every checked element (what ``glassnet gradcheck`` prints)."""
    inputs, checked = _prepare(inputs)
    grads, v = _analytic(fn, inputs, checked, seed)
    worst_abs = worst_rel = 0.0
    for i in checked:
        flat_grad = grads[i].reshape(-1)
        for j, numeric in _numeric(fn, inputs, i, v, eps):
            difference = abs(float(flat_grad[j]) - numeric)
            worst_abs = max(worst_abs, difference)
            worst_rel = max(worst_rel, difference / max(abs(numeric), 1e-12))
    return worst_abs, worst_rel


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Compare backward's gradients of ``fn(*inputs)`` with central differences in float64.

    Every floating-point input tensor is copied to float64 first; those with
    ``requires_grad=True`` are checked element by element.

    Args:
        fn: a function of the inputs returning one Tensor (of any shape).
        inputs: the arguments of ``fn``; tensors and plain Python values.
        eps: the finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance; an element passes when
            |analytic - numeric| <= atol + rtol * |numeric|.
        seed: seeds the random output direction v.

    Returns:
        True when every element passes.

    Raises:
        GradcheckError: naming the input, the element index, the analytic and the numeric
            value of the first element that fails (or a missing or misshapen gradient).
    """
    inputs, checked = _prepare(inputs)
    grads, v = _analytic(fn, inputs, checked, seed)
    for i in checked:
        x = inputs[i]
        flat_grad = grads[i].reshape(-1)
        for j, numeric in _numeric(fn, inputs, i, v, eps):
            a = flat_grad[j]
            if not abs(a - numeric) <= atol + rtol * abs(numeric):
                index = np.unravel_index(j, x.shape) if x.shape else ()
                raise GradcheckError(
                    f"gradcheck: gradient of input {i} (shape {x.shape}) at index "
                    f"{tuple(int(k) for k in index)} is wrong: analytic {a!r}, "
                    f"numeric {numeric!r} (difference {abs(a - numeric):.3g}, "
                    f"allowed {atol + rtol * abs(numeric):.3g})"
                )
    return True
