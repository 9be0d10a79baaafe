"""Initialisers: fill a tensor in place with values whose scale keeps signals stable.

The aim of every scale here: the variance of activations (forward) and of gradients
(backward) should neither grow nor shrink from layer to layer. For y = W x with n inputs
of zero mean and unit variance and independent zero-mean weights, Var(y) = n Var(W), so
Var(W) ~ 1/n keeps it at 1; a nonlinearity that halves the second moment (ReLU zeroes half
its inputs) needs a gain to make up for it.
Fan and gain rules are PyTorch's, so the same code gives the same distributions.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.random import resolve_generator


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale the standard deviation after ``nonlinearity``.

    The values are PyTorch's (``torch.nn.init.calculate_gain``), so that weights initialised
    here match weights initialised there.

    - linear: 1 (it passes the variance through).
    - sigmoid: 1 as well, but only by convention. Sigmoid does *not* pass the variance
      through: its slope at 0 is 1/4, so in its near-linear range it divides the standard
      deviation by 4 (and its outputs centre on 1/2, not 0). A variance-preserving gain
      would be about 4 (the factor of the Glorot-style sigmoid recipes); PyTorch keeps 1,
      and so do we.
    - tanh: 5/3. Its slope is 1 at 0 but less elsewhere: tanh of a unit-variance input has
      variance about 0.39, and (5/3)^2 * 0.39 is about 1.1, so pre-activations stay near
      unit variance from layer to layer.
    - relu: sqrt 2 (it zeroes half the inputs, halving the second moment).
    - leaky_relu: sqrt(2 / (1 + slope^2)).
    - selu: 3/4 (PyTorch's choice, for gradient flow; a self-normalising SELU net wants
      ``"linear"``).
    """
    linear_fns = (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear_fns:  # sigmoid included: see the docstring, PyTorch's value
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; use one of "
        "linear, sigmoid, tanh, relu, leaky_relu, selu"
    )


def _fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) for a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ValueError(
            f"fan in and fan out need a tensor of at least 2 dimensions, got shape "
            f"{tensor.shape}; these initialisers are for weights, not biases"
        )
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    tensor.data[...] = values  # in place: the tensor object (and its optimizer state) stays
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with U(a, b)."""
    return _fill(tensor, resolve_generator(generator).uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    return _fill(tensor, resolve_generator(generator).normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (a layer that starts by passing inputs through)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expects a 2-D tensor, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)): Var(W) = 2 / (fan_in + fan_out),
    a compromise that keeps the forward and the backward variance near 1 (Glorot 2010)."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out)) (Glorot 2010)."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    fan = fan_in if mode == "fan_in" else fan_out
    if fan == 0:
        raise ValueError(f"kaiming init: cannot initialise an empty tensor of shape {tensor.shape}")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """U(-b, b), b = gain sqrt(3 / fan): Var(W) = gain^2 / fan keeps the variance of ReLU
    activations constant through depth (He et al. 2015); fan_out preserves gradients."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> Tensor:
    """N(0, std^2), std = gain / sqrt(fan) (He et al. 2015)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator)


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
) -> Tensor:
    """N(mean, std^2) restricted to [a, b]: no rare huge weight starts out dominating."""
    if not a < b:
        raise ValueError(f"trunc_normal_: needs a < b, got a={a}, b={b}")
    rng = resolve_generator(generator)
    values = rng.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():  # redraw only the rejects; the kept ones are N restricted to [a, b]
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain``. A square or tall one preserves the norm of
    every vector (a wide one, of every vector in its row space) up to ``gain``, so deep
    linear stacks neither explode nor vanish (Saxe et al. 2013)."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expects at least 2 dimensions, got shape {tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = resolve_generator(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # makes the result uniformly distributed over orthogonal matrices
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.shape))
