"""The autograd engine: Tensor, Function, backward, grad modes and gradcheck.

This package imports nothing else from glassnet; the ops build on it.
"""

from glassnet.autograd.anomaly import detect_anomaly, is_anomaly_enabled
from glassnet.autograd.backward import grad
from glassnet.autograd.function import Function, Node
from glassnet.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from glassnet.autograd.gradcheck import GradcheckError, gradcheck, gradient_errors
from glassnet.autograd.tensor import Tensor, tensor

__all__ = [
    "Function",
    "GradcheckError",
    "Node",
    "Tensor",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradient_errors",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "set_grad_enabled",
    "tensor",
]
