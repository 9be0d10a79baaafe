"""The table of op specs that drives every op test.

Each spec names an op, calls it the glassnet way, computes the same thing in NumPy
written by hand (the independent reference), and, where PyTorch is installed, the
PyTorch way. ``domains`` says where each input is sampled from: ``real`` values are kept
away from the kinks at 0, +-0.5 and +-1 (where a finite difference would straddle a
corner), ``positive`` for log, sqrt, division and powers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import glassnet as gn
from glassnet.ops import rnn as rnn_ops

Shape = tuple[int, ...]


@dataclass(frozen=True)
class OpSpec:
    name: str
    fn: Callable  # glassnet tensors -> glassnet tensor
    ref: Callable  # NumPy arrays -> NumPy array
    shapes: tuple[Shape, ...]
    torch: Callable | None = None  # torch tensors -> torch tensor
    domains: tuple[str, ...] = field(default=())

    def domain(self, i: int) -> str:
        return self.domains[i] if i < len(self.domains) else "real"

    def __str__(self) -> str:
        return self.name


def sample(rng: np.random.Generator, shape: Shape, domain: str, dtype=np.float64) -> np.ndarray:
    """Random inputs for one argument, away from the points where ops have kinks."""
    if domain == "positive":
        return rng.uniform(0.5, 2.0, size=shape).astype(dtype)
    if domain == "probability":
        return rng.uniform(0.1, 0.9, size=shape).astype(dtype)
    x = rng.uniform(-2.0, 2.0, size=shape)
    kinks = np.array([0.0, 0.5, -0.5, 1.0, -1.0])
    near = np.abs(x[..., None] - kinks).min(axis=-1) < 0.05
    x = np.where(near, x + 0.1, x)
    return x.astype(dtype)


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf)(x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))  # an identity, not the stable split used by glassnet


BROADCAST_PAIRS: tuple[tuple[Shape, Shape], ...] = (
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (3, 1)),
    ((), (2, 3)),
)

SPECS: list[OpSpec] = []


def spec(name, fn, ref, shapes, torch=None, domains=()):
    SPECS.append(OpSpec(name, fn, ref, tuple(shapes), torch, tuple(domains)))


# ------------------------------------------------------------------ elementwise, binary
_BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, ()),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, ()),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, ()),
    "div": (lambda a, b: a / b, lambda a, b: a / b, ("real", "positive")),
    "pow": (lambda a, b: a**b, lambda a, b: a**b, ("positive", "real")),
    "maximum": (gn.maximum, np.maximum, ()),
    "minimum": (gn.minimum, np.minimum, ()),
}
for _name, (_fn, _ref, _domains) in _BINARY.items():
    for _sa, _sb in BROADCAST_PAIRS:
        _torch = {
            "maximum": lambda a, b: __import__("torch").maximum(a, b),
            "minimum": lambda a, b: __import__("torch").minimum(a, b),
        }.get(_name, _fn)
        spec(f"{_name} {_sa} {_sb}", _fn, _ref, (_sa, _sb), _torch, _domains)

# with a Python number on one side
spec("x + 2.5", lambda x: x + 2.5, lambda x: x + 2.5, [(3, 4)], lambda x: x + 2.5)
spec("2.5 - x", lambda x: 2.5 - x, lambda x: 2.5 - x, [(3, 4)], lambda x: 2.5 - x)
spec("x * 3", lambda x: x * 3, lambda x: x * 3, [(3, 4)], lambda x: x * 3)
spec("2 / x", lambda x: 2 / x, lambda x: 2 / x, [(3, 4)], lambda x: 2 / x, ["positive"])
spec("x ** 3", lambda x: x**3, lambda x: x**3, [(3, 4)], lambda x: x**3)
spec("x ** 0.5", lambda x: x**0.5, np.sqrt, [(3, 4)], lambda x: x**0.5, ["positive"])
spec("x ** -2", lambda x: x**-2, lambda x: x**-2.0, [(3, 4)], lambda x: x**-2, ["positive"])
spec("2 ** x", lambda x: 2**x, lambda x: 2.0**x, [(3, 4)], lambda x: 2**x)

# ------------------------------------------------------------------ elementwise, unary
spec("neg", lambda x: -x, lambda x: -x, [(3, 4)], lambda x: -x)
spec("exp", gn.exp, np.exp, [(3, 4)], lambda x: x.exp())
spec("log", gn.log, np.log, [(3, 4)], lambda x: x.log(), ["positive"])
spec("sqrt", gn.sqrt, np.sqrt, [(3, 4)], lambda x: x.sqrt(), ["positive"])
spec("abs", gn.abs, np.abs, [(3, 4)], lambda x: x.abs())
spec(
    "clamp(-0.5, 0.5)",
    lambda x: gn.clamp(x, -0.5, 0.5),
    lambda x: np.minimum(np.maximum(x, -0.5), 0.5),
    [(4, 5)],
    lambda x: x.clamp(-0.5, 0.5),
)
spec(
    "clamp(min=0.5)",
    lambda x: x.clamp(min=0.5),
    lambda x: np.maximum(x, 0.5),
    [(4, 5)],
    lambda x: x.clamp(min=0.5),
)
_COND = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])
spec(
    "where",
    lambda a, b: gn.where(gn.tensor(_COND), a, b),
    lambda a, b: np.array([[ai if c else bi for c, ai, bi in zip(*r)] for r in zip(_COND, a, b)]),
    [(3, 4), (3, 4)],
    lambda a, b: __import__("torch").where(__import__("torch").from_numpy(_COND), a, b),
)
spec(
    "where broadcast",
    lambda a, b: gn.where(gn.tensor(_COND), a, b),
    lambda a, b: np.where(_COND, a, b),
    [(3, 1), (4,)],
    lambda a, b: __import__("torch").where(__import__("torch").from_numpy(_COND), a, b),
)

# ------------------------------------------------------------------ reductions
for _dim, _keep in [(None, False), (0, False), (1, True), ((0, 2), False), (-1, False)]:
    _kw = "" if _dim is None else f"dim={_dim}, keepdim={_keep}"
    spec(
        f"sum({_kw})",
        lambda x, d=_dim, k=_keep: x.sum(dim=d, keepdim=k),
        lambda x, d=_dim, k=_keep: np.add.reduce(x, axis=d, keepdims=k),
        [(2, 3, 4)],
        lambda x, d=_dim, k=_keep: x.sum() if d is None else x.sum(dim=d, keepdim=k),
    )
    spec(
        f"mean({_kw})",
        lambda x, d=_dim, k=_keep: x.mean(dim=d, keepdim=k),
        lambda x, d=_dim, k=_keep: (
            np.add.reduce(x, axis=d, keepdims=k)
            / (x.size / np.add.reduce(x, axis=d, keepdims=k).size)
        ),
        [(2, 3, 4)],
        lambda x, d=_dim, k=_keep: x.mean() if d is None else x.mean(dim=d, keepdim=k),
    )
    spec(
        f"amax({_kw})",
        lambda x, d=_dim, k=_keep: gn.amax(x, dim=d, keepdim=k),
        lambda x, d=_dim, k=_keep: np.maximum.reduce(x, axis=d, keepdims=k),
        [(2, 3, 4)],
        lambda x, d=_dim, k=_keep: x.amax(dim=() if d is None else d, keepdim=k),
    )
    spec(
        f"amin({_kw})",
        lambda x, d=_dim, k=_keep: gn.amin(x, dim=d, keepdim=k),
        lambda x, d=_dim, k=_keep: np.minimum.reduce(x, axis=d, keepdims=k),
        [(2, 3, 4)],
        lambda x, d=_dim, k=_keep: x.amin(dim=() if d is None else d, keepdim=k),
    )
spec(
    "max()",
    lambda x: x.max(),
    lambda x: np.maximum.reduce(x, axis=None),
    [(3, 4)],
    lambda x: x.max(),
)
spec(
    "max(dim=1).values",
    lambda x: x.max(dim=1).values,
    lambda x: np.maximum.reduce(x, axis=1),
    [(3, 4)],
    lambda x: x.max(dim=1).values,
)
spec(
    "min(dim=0, keepdim).values",
    lambda x: x.min(0, keepdim=True)[0],
    lambda x: np.minimum.reduce(x, axis=0, keepdims=True),
    [(3, 4)],
    lambda x: x.min(0, keepdim=True)[0],
)


def _var_ref(x, axis, correction, keepdims=False):
    n = x.size if axis is None else x.shape[axis]
    m = np.add.reduce(x, axis=axis, keepdims=True) / n
    return np.add.reduce((x - m) ** 2, axis=axis, keepdims=keepdims) / (n - correction)


for _c in (0, 1):
    spec(
        f"var(dim=1, correction={_c})",
        lambda x, c=_c: x.var(dim=1, correction=c),
        lambda x, c=_c: _var_ref(x, 1, c),
        [(3, 5)],
        lambda x, c=_c: x.var(dim=1, correction=c),
    )
    spec(
        f"std(dim=0, correction={_c}, keepdim)",
        lambda x, c=_c: x.std(dim=0, correction=c, keepdim=True),
        lambda x, c=_c: np.sqrt(_var_ref(x, 0, c, keepdims=True)),
        [(4, 3)],
        lambda x, c=_c: x.std(dim=0, correction=c, keepdim=True),
    )
spec("var()", lambda x: x.var(), lambda x: _var_ref(x, None, 1), [(3, 4)], lambda x: x.var())
spec(
    "std()", lambda x: x.std(), lambda x: np.sqrt(_var_ref(x, None, 1)), [(3, 4)], lambda x: x.std()
)
spec(
    "logsumexp(dim=1)",
    lambda x: gn.logsumexp(x, dim=1),
    lambda x: np.log(np.exp(x).sum(axis=1)),
    [(3, 5)],
    lambda x: x.logsumexp(dim=1),
)
spec(
    "logsumexp(dim=0, keepdim)",
    lambda x: x.logsumexp(dim=0, keepdim=True),
    lambda x: np.log(np.exp(x).sum(axis=0, keepdims=True)),
    [(3, 5)],
    lambda x: x.logsumexp(dim=0, keepdim=True),
)

# ------------------------------------------------------------------ shape
spec(
    "reshape",
    lambda x: x.reshape(4, 6),
    lambda x: x.reshape(4, 6),
    [(2, 3, 4)],
    lambda x: x.reshape(4, 6),
)
spec(
    "view -1",
    lambda x: x.view(-1, 3),
    lambda x: x.reshape(-1, 3),
    [(2, 3, 4)],
    lambda x: x.view(-1, 3),
)
spec(
    "transpose",
    lambda x: x.transpose(0, 2),
    lambda x: np.swapaxes(x, 0, 2),
    [(2, 3, 4)],
    lambda x: x.transpose(0, 2),
)
spec(
    "permute",
    lambda x: x.permute(2, 0, 1),
    lambda x: np.transpose(x, (2, 0, 1)),
    [(2, 3, 4)],
    lambda x: x.permute(2, 0, 1),
)
spec("T", lambda x: x.T, lambda x: np.transpose(x), [(3, 4)], lambda x: x.T)
spec(
    "squeeze",
    lambda x: x.squeeze(),
    lambda x: x.reshape(3, 4),
    [(3, 1, 4, 1)],
    lambda x: x.squeeze(),
)
spec(
    "squeeze(dim=1)",
    lambda x: x.squeeze(1),
    lambda x: x.reshape(3, 4, 1),
    [(3, 1, 4, 1)],
    lambda x: x.squeeze(1),
)
spec(
    "unsqueeze(-1)",
    lambda x: x.unsqueeze(-1),
    lambda x: x[..., None],
    [(3, 4)],
    lambda x: x.unsqueeze(-1),
)
spec(
    "flatten(1)",
    lambda x: x.flatten(1),
    lambda x: x.reshape(2, 12),
    [(2, 3, 4)],
    lambda x: x.flatten(1),
)
spec(
    "expand",
    lambda x: x.expand(2, 3, 4),
    lambda x: np.broadcast_to(x, (2, 3, 4)),
    [(3, 1)],
    lambda x: x.expand(2, 3, 4),
)
spec(
    "cat(dim=1)",
    lambda a, b, c: gn.cat([a, b, c], dim=1),
    lambda a, b, c: np.concatenate([a, b, c], axis=1),
    [(2, 3), (2, 1), (2, 4)],
    lambda a, b, c: __import__("torch").cat([a, b, c], dim=1),
)
spec(
    "stack(dim=1)",
    lambda a, b: gn.stack([a, b], dim=1),
    lambda a, b: np.concatenate([a[:, None], b[:, None]], axis=1),
    [(3, 4), (3, 4)],
    lambda a, b: __import__("torch").stack([a, b], dim=1),
)
# (label, index as the user writes it, the same index for NumPy, the PyTorch equivalent)
_INDICES = [
    ("[1]", 1, 1, None),
    ("[:, 1:3]", (slice(None), slice(1, 3)), (slice(None), slice(1, 3)), None),
    ("[::-1]", slice(None, None, -1), slice(None, None, -1), lambda x: x.flip(0)),
    ("[None, 0]", (None, 0), (None, 0), None),
    ("[..., -1]", (Ellipsis, -1), (Ellipsis, -1), None),
    ("[[0, 2, 0]] (repeats)", [0, 2, 0], np.array([0, 2, 0]), None),
    ("[[0, 1], [1, 3]]", ([0, 1], [1, 3]), (np.array([0, 1]), np.array([1, 3])), None),
]
for _label, _idx, _np_idx, _torch_idx in _INDICES:
    spec(
        f"getitem {_label}",
        lambda x, i=_idx: x[i],
        lambda x, i=_np_idx: x[i],
        [(3, 4)],
        _torch_idx or (lambda x, i=_idx: x[i]),
    )
_MASK = np.array([[True, False, False, True], [False, True, True, False], [True] * 4])
spec(
    "getitem bool mask",
    lambda x: x[gn.tensor(_MASK)],
    lambda x: np.extract(_MASK, x),
    [(3, 4)],
    lambda x: x[__import__("torch").from_numpy(_MASK)],
)

# ------------------------------------------------------------------ linear algebra
_MATMUL_SHAPES = [
    ((4,), (4,)),
    ((3, 4), (4,)),
    ((4,), (4, 5)),
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)),
    ((4,), (2, 4, 3)),
]


def _matmul_ref(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over k of a[..., i, k] * b[..., k, j], batch dimensions broadcast by hand."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2 = np.broadcast_to(a2, batch + a2.shape[-2:])
    b2 = np.broadcast_to(b2, batch + b2.shape[-2:])
    y = (a2[..., :, :, None] * b2[..., None, :, :]).sum(axis=-2)
    if a.ndim == 1:
        y = y[..., 0, :]
    if b.ndim == 1:
        y = y[..., 0]
    return y


for _sa, _sb in _MATMUL_SHAPES:
    spec(f"matmul {_sa} @ {_sb}", lambda a, b: a @ b, _matmul_ref, [_sa, _sb], lambda a, b: a @ b)
spec(
    "linear",
    gn.linear,
    lambda x, w, b: np.einsum("ni,oi->no", x, w) + b,
    [(5, 3), (4, 3), (4,)],
    lambda x, w, b: __import__("torch").nn.functional.linear(x, w, b),
)
spec(
    "linear 3-D input, no bias",
    lambda x, w: gn.linear(x, w),
    lambda x, w: np.einsum("bni,oi->bno", x, w),
    [(2, 5, 3), (4, 3)],
    lambda x, w: __import__("torch").nn.functional.linear(x, w),
)


# ------------------------------------------------------------------ activations
def _torch_f(name, **kw):
    return lambda x: getattr(__import__("torch").nn.functional, name)(x, **kw)


spec("relu", gn.relu, lambda x: np.where(x > 0, x, 0.0), [(3, 4)], _torch_f("relu"))
# evaluation BatchNorm: the running statistics normalise, by hand
spec(
    "running_normalize",
    lambda x: gn.ops.norm.RunningNormalize.apply(
        x, np.linspace(-1, 1, 4, dtype=x.dtype), np.linspace(0.5, 2, 4, dtype=x.dtype), 1e-5
    ),
    lambda x: (x - np.linspace(-1, 1, 4)) / np.sqrt(np.linspace(0.5, 2, 4) + 1e-5),
    [(3, 4)],
)
# BatchNorm's running-statistics step: the identity on x (the update is tested in
# tests/nn against torch.nn.BatchNorm1d/2d's running_mean and running_var)
spec(
    "running_stats",
    lambda x: gn.ops.norm.RunningStats.apply(
        x, gn.zeros(4, dtype=gn.float64), gn.ones(4, dtype=gn.float64), None, (0,), 0.1, False
    ),
    lambda x: x,
    [(3, 4)],
)
# dropout with a fixed generator, so every call draws the same mask: by hand, the mask is
# the same uniform draws kept where >= p, scaled by 1 / (1 - p) (PyTorch draws otherwise)
spec(
    "dropout(0.3)",
    lambda x: gn.nn.functional.dropout(x, 0.3, generator=np.random.default_rng(0)),
    lambda x: x * (np.random.default_rng(0).random(x.shape) >= 0.3) / 0.7,
    [(3, 4)],
)
spec(
    "dropout2d(0.5)",
    lambda x: gn.nn.functional.dropout2d(x, 0.5, generator=np.random.default_rng(1)),
    lambda x: x * (np.random.default_rng(1).random((2, 3, 1, 1)) >= 0.5) / 0.5,
    [(2, 3, 2, 2)],
)
spec(
    "leaky_relu(0.1)",
    lambda x: gn.leaky_relu(x, 0.1),
    lambda x: np.where(x > 0, x, 0.1 * x),
    [(3, 4)],
    _torch_f("leaky_relu", negative_slope=0.1),
)
for _alpha in (1.0, 0.5):
    spec(
        f"elu({_alpha})",
        lambda x, a=_alpha: gn.elu(x, a),
        lambda x, a=_alpha: np.where(x > 0, x, a * (np.exp(x) - 1)),
        [(3, 4)],
        _torch_f("elu", alpha=_alpha),
    )
spec("gelu", gn.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), [(3, 4)], _torch_f("gelu"))
spec(
    "gelu tanh",
    lambda x: gn.gelu(x, approximate="tanh"),
    lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    [(3, 4)],
    _torch_f("gelu", approximate="tanh"),
)
spec("silu", gn.silu, lambda x: x * _sigmoid(x), [(3, 4)], _torch_f("silu"))
spec("sigmoid", gn.sigmoid, _sigmoid, [(3, 4)], lambda x: x.sigmoid())
spec(
    "tanh",
    gn.tanh,
    lambda x: (np.exp(2 * x) - 1) / (np.exp(2 * x) + 1),
    [(3, 4)],
    lambda x: x.tanh(),
)
spec("softplus", gn.softplus, lambda x: np.log(1 + np.exp(x)), [(3, 4)], _torch_f("softplus"))
spec(
    "softplus(beta=2, threshold=1)",
    lambda x: gn.softplus(x, beta=2.0, threshold=1.0),
    lambda x: np.where(2 * x > 1, x, np.log(1 + np.exp(2 * x)) / 2),
    [(3, 4)],
    _torch_f("softplus", beta=2.0, threshold=1.0),
)
for _d in (-1, 0):
    spec(
        f"softmax(dim={_d})",
        lambda x, d=_d: gn.softmax(x, dim=d),
        lambda x, d=_d: np.exp(x) / np.exp(x).sum(axis=d, keepdims=True),
        [(3, 5)],
        lambda x, d=_d: x.softmax(dim=d),
    )
    spec(
        f"log_softmax(dim={_d})",
        lambda x, d=_d: gn.log_softmax(x, dim=d),
        lambda x, d=_d: x - np.log(np.exp(x).sum(axis=d, keepdims=True)),
        [(3, 5)],
        lambda x, d=_d: x.log_softmax(dim=d),
    )
spec(
    "softmax in a hidden layer",
    lambda x, w: gn.softmax(x, dim=1) @ w,
    # inputs lie in [-2, 2]: the textbook formula, not glassnet's max-shifted one
    lambda x, w: _matmul_ref(np.exp(x) / np.exp(x).sum(axis=1, keepdims=True), w),
    [(3, 4), (4, 2)],
    lambda x, w: x.softmax(dim=1) @ w,
)


# ------------------------------------------------------------------ losses and layer ops
_LABELS = np.array([0, 3, 1])
_SOFT = np.array([[0.1, 0.2, 0.3, 0.4], [0.25] * 4, [1.0, 0.0, 0.0, 0.0]])


def _log_softmax_ref(z: np.ndarray) -> np.ndarray:
    """log p_c = z_c - log sum_j e^z_j, written out (the inputs here are small)."""
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _tf():
    return __import__("torch").nn.functional


def _torch_labels():
    return __import__("torch").from_numpy(_LABELS)


spec(
    "cross_entropy",
    lambda z: gn.nn.functional.cross_entropy(z, gn.tensor(_LABELS)),
    lambda z: -_log_softmax_ref(z)[np.arange(3), _LABELS].mean(),
    [(3, 4)],
    lambda z: _tf().cross_entropy(z, _torch_labels()),
)
spec(
    "cross_entropy label_smoothing=0.2, sum",
    lambda z: gn.nn.functional.cross_entropy(
        z, gn.tensor(_LABELS), label_smoothing=0.2, reduction="sum"
    ),
    lambda z: -((0.8 * np.eye(4)[_LABELS] + 0.2 / 4) * _log_softmax_ref(z)).sum(),
    [(3, 4)],
    lambda z: _tf().cross_entropy(z, _torch_labels(), label_smoothing=0.2, reduction="sum"),
)
spec(
    "cross_entropy soft targets, none",
    lambda z: gn.nn.functional.cross_entropy(z, gn.tensor(_SOFT), reduction="none"),
    lambda z: -(_SOFT * _log_softmax_ref(z)).sum(axis=1),
    [(3, 4)],
    lambda z: _tf().cross_entropy(z, __import__("torch").from_numpy(_SOFT), reduction="none"),
)
spec(
    "nll_loss",
    lambda x: gn.nn.functional.nll_loss(x, gn.tensor(_LABELS)),
    lambda x: -x[np.arange(3), _LABELS].mean(),
    [(3, 4)],
    lambda x: _tf().nll_loss(x, _torch_labels()),
)
spec(
    "layer_norm (normalize)",
    lambda x: gn.nn.functional.layer_norm(x, (4,)),
    lambda x: (
        (x - x.mean(axis=1, keepdims=True))
        / np.sqrt(((x - x.mean(axis=1, keepdims=True)) ** 2).mean(axis=1, keepdims=True) + 1e-5)
    ),
    [(3, 4)],
    lambda x: _tf().layer_norm(x, (4,)),
)
_ROWS = np.array([[1, 3], [1, 0]])
spec(
    "embedding",
    lambda w: gn.nn.functional.embedding(gn.tensor(_ROWS), w),
    lambda w: np.stack([np.stack([w[i] for i in row]) for row in _ROWS]),
    [(5, 2)],
    lambda w: _tf().embedding(__import__("torch").from_numpy(_ROWS), w),
)
_BCE_Y = np.array([[0.0, 1.0, 0.3, 0.9], [1.0, 0.0, 0.5, 0.2], [0.7, 0.1, 1.0, 0.0]])
_POS_W = np.array([1.0, 2.0, 0.5, 3.0])


def _softplus_ref(x: np.ndarray) -> np.ndarray:
    return np.log1p(np.exp(x))  # the inputs here are small: no overflow to guard against


spec(
    "binary_cross_entropy",
    lambda x: gn.nn.functional.binary_cross_entropy(x, gn.tensor(_BCE_Y, dtype=x.dtype)),
    lambda p: -(_BCE_Y * np.log(p) + (1 - _BCE_Y) * np.log(1 - p)).mean(),
    [(3, 4)],
    lambda p: _tf().binary_cross_entropy(p, __import__("torch").from_numpy(_BCE_Y)),
    ["probability"],
)
spec(
    "binary_cross_entropy_with_logits pos_weight, sum",
    lambda x: gn.nn.functional.binary_cross_entropy_with_logits(
        x,
        gn.tensor(_BCE_Y, dtype=x.dtype),
        pos_weight=gn.tensor(_POS_W, dtype=x.dtype),
        reduction="sum",
    ),
    lambda x: (_POS_W * _BCE_Y * _softplus_ref(-x) + (1 - _BCE_Y) * _softplus_ref(x)).sum(),
    [(3, 4)],
    lambda x: _tf().binary_cross_entropy_with_logits(
        x,
        __import__("torch").from_numpy(_BCE_Y),
        pos_weight=__import__("torch").from_numpy(_POS_W),
        reduction="sum",
    ),
)


# ------------------------------------------------------------------ indexing, pieces, tiles
# (gather, scatter_add, index_select, masked_fill, tril, triu, clone, flip, repeat, split,
# chunk, unbind, squeeze with a tuple). The references loop or index by hand.
def _torch():
    return __import__("torch")


def _long(a):
    return _torch().from_numpy(np.asarray(a, dtype=np.int64))


# indices repeat on purpose: the gradient must add up where two positions read one element
_IDX = np.array([[0, 3, 0], [2, 2, 1], [1, 0, 3]])
_IDX_SHORT = np.array([[2, 0, 1], [0, 0, 2]])  # (2, 3): smaller than (3, 4) off dim 0


def _gather_ref(x, idx):
    return np.array([[x[i, idx[i, j]] for j in range(idx.shape[1])] for i in range(len(idx))])


def _scatter_add_ref(x, idx, src):
    y = x.copy()
    for i in range(idx.shape[0]):
        for j in range(idx.shape[1]):
            y[i, idx[i, j]] += src[i, j]
    return y


spec(
    "gather(dim=1)",
    lambda x: x.gather(1, gn.tensor(_IDX)),
    lambda x: _gather_ref(x, _IDX),
    [(3, 4)],
    lambda x: x.gather(1, _long(_IDX)),
)
spec(
    "gather(dim=0), index smaller than input",
    lambda x: gn.gather(x, 0, _IDX_SHORT),
    lambda x: np.array([[x[_IDX_SHORT[i, j], j] for j in range(3)] for i in range(2)]),
    [(3, 4)],
    lambda x: _torch().gather(x, 0, _long(_IDX_SHORT)),
)
spec(
    "gather(dim=-1) 3-D",
    lambda x: x.gather(-1, gn.tensor(np.array([[[1], [0], [1]], [[0], [0], [1]]]))),
    lambda x: np.take_along_axis(x, np.array([[[1], [0], [1]], [[0], [0], [1]]]), axis=-1),
    [(2, 3, 2)],
    lambda x: x.gather(-1, _long([[[1], [0], [1]], [[0], [0], [1]]])),
)
spec(
    "gather 0-d",
    lambda x: gn.gather(x, 0, gn.tensor(0)),
    lambda x: x.copy(),
    [()],
    lambda x: x.gather(0, _long(0)),
)
spec(
    "scatter_add(dim=1)",
    lambda x, s: x.scatter_add(1, gn.tensor(_IDX), s),
    lambda x, s: _scatter_add_ref(x, _IDX, s),
    [(3, 4), (3, 3)],
    lambda x, s: x.scatter_add(1, _long(_IDX), s),
)


def _scatter_add_dim0_ref(x, idx, src):
    y = x.copy()
    for i in range(idx.shape[0]):
        for j in range(idx.shape[1]):
            y[idx[i, j], j] += src[i, j]
    return y


spec(
    "scatter_add(dim=0), index smaller than input",
    lambda x, s: gn.scatter_add(x, 0, _IDX_SHORT, s),
    lambda x, s: _scatter_add_dim0_ref(x, _IDX_SHORT, s),
    [(3, 4), (2, 3)],
    lambda x, s: _torch().scatter_add(x, 0, _long(_IDX_SHORT), s),
)
# PyTorch 2.13's backward raises when src is larger than index ("returned an invalid gradient
# ... got [3, 3] but expected shape compatible with [4, 5]"), so no PyTorch here: the unused
# src entries get gradient 0, which gradcheck confirms.
spec(
    "scatter_add, src larger than index",
    lambda x, s: x.scatter_add(1, gn.tensor(_IDX), s),
    lambda x, s: _scatter_add_ref(x, _IDX, s),
    [(3, 4), (4, 5)],
)
spec(
    "index_select(dim=0) repeats",
    lambda x: x.index_select(0, gn.tensor([2, 0, 2, 1])),
    lambda x: np.stack([x[2], x[0], x[2], x[1]]),
    [(3, 4)],
    lambda x: x.index_select(0, _long([2, 0, 2, 1])),
)
spec(
    "index_select(dim=-1)",
    lambda x: gn.index_select(x, -1, [3, 1]),
    lambda x: np.stack([x[..., 3], x[..., 1]], axis=-1),
    [(2, 3, 4)],
    lambda x: _torch().index_select(x, -1, _long([3, 1])),
)
spec(
    "index_select 0-d index",
    lambda x: x.index_select(1, gn.tensor(2)),
    lambda x: x[:, 2:3],
    [(3, 4)],
    lambda x: x.index_select(1, _long(2)),
)
_FILL = np.array([[True, False, False, True], [False, True, True, False], [False] * 4])
_FILL_ROW = np.array([False, True, True, False])


def _filled(x, mask, v):
    m = mask.astype(np.float64)
    return x * (1 - m) + v * m  # the same as where(mask, v, x) for finite v


spec(
    "masked_fill(value=-3.5)",
    lambda x: x.masked_fill(gn.tensor(_FILL), -3.5),
    lambda x: _filled(x, _FILL, -3.5),
    [(3, 4)],
    lambda x: x.masked_fill(_torch().from_numpy(_FILL), -3.5),
)
spec(
    "masked_fill 0-d tensor value",
    lambda x, v: gn.masked_fill(x, _FILL, v),
    lambda x, v: _filled(x, _FILL, v),
    [(3, 4), ()],
    lambda x, v: x.masked_fill(_torch().from_numpy(_FILL), v),
)
spec(
    "masked_fill broadcast mask",
    lambda x: x.masked_fill(gn.tensor(_FILL_ROW), 0.0),
    lambda x: _filled(x, np.broadcast_to(_FILL_ROW, x.shape), 0.0),
    [(2, 3, 4)],
    lambda x: x.masked_fill(_torch().from_numpy(_FILL_ROW), 0.0),
)
spec(
    "masked_fill broadcast input",
    lambda x, v: x.masked_fill(gn.tensor(_FILL), v),
    lambda x, v: _filled(np.broadcast_to(x, (3, 4)), _FILL, v),
    [(3, 1), ()],
    lambda x, v: x.masked_fill(_torch().from_numpy(_FILL), v),
)


def _band(shape, keep):
    """1 where keep(j - i) holds for the last two dims (row i, column j), else 0."""
    i, j = np.arange(shape[-2])[:, None], np.arange(shape[-1])[None, :]
    return keep(j - i).astype(np.float64)


for _k in (0, 1, -2):
    spec(
        f"tril({_k})",
        lambda x, k=_k: x.tril(k),
        lambda x, k=_k: x * _band(x.shape, lambda d: d <= k),
        [(2, 3, 4)],
        lambda x, k=_k: x.tril(k),
    )
    spec(
        f"triu({_k})",
        lambda x, k=_k: gn.triu(x, k),
        lambda x, k=_k: x * _band(x.shape, lambda d: d >= k),
        [(4, 3)],
        lambda x, k=_k: _torch().triu(x, k),
    )
spec("clone", lambda x: x.clone(), lambda x: x + 0.0, [(3, 4)], lambda x: x.clone())
spec(
    "flip(0, 2)",
    lambda x: x.flip(0, 2),
    lambda x: x[::-1, :, ::-1],
    [(2, 3, 4)],
    lambda x: x.flip(0, 2),
)
spec("flip([-1])", lambda x: gn.flip(x, [-1]), lambda x: x[:, ::-1], [(3, 4)], lambda x: x.flip(-1))
spec(
    "repeat(2, 1, 3) adds a leading dim",
    lambda x: x.repeat(2, 1, 3),
    lambda x: np.broadcast_to(x[:, np.arange(12) % 4], (2, 3, 12)),
    [(3, 4)],
    lambda x: x.repeat(2, 1, 3),
)
spec(
    "repeat((3, 2))",
    lambda x: x.repeat((3, 2)),
    lambda x: x[np.ix_(np.arange(6) % 2, np.arange(6) % 3)],
    [(2, 3)],
    lambda x: x.repeat((3, 2)),
)
spec(
    "squeeze((1, 2)) keeps a dim not of size 1",
    lambda x: x.squeeze((1, 2)),
    lambda x: x[:, 0],
    [(3, 1, 4, 1)],
    lambda x: x.squeeze((1, 2)),
)
spec(
    "squeeze([1, -1])",
    lambda x: gn.squeeze(x, [1, -1]),
    lambda x: x[:, 0, :, 0],
    [(3, 1, 4, 1)],
    lambda x: x.squeeze((1, -1)),
)
# the pieces joined back in reverse order: a piece with the wrong place or size would show
spec(
    "split(2, dim=1)",
    lambda x: gn.cat(x.split(2, dim=1)[::-1], dim=1),
    lambda x: np.concatenate([x[:, 4:], x[:, 2:4], x[:, :2]], axis=1),
    [(3, 5)],
    lambda x: _torch().cat(x.split(2, dim=1)[::-1], dim=1),
)
spec(
    "split([1, 0, 3])",
    lambda x: gn.cat(gn.split(x, [1, 0, 3])[::-1]),
    lambda x: np.concatenate([x[1:], x[:1]]),
    [(4, 3)],
    lambda x: _torch().cat(_torch().split(x, [1, 0, 3])[::-1]),
)
spec(
    "chunk(3, dim=-1)",
    lambda x: gn.cat(x.chunk(3, dim=-1)[::-1], dim=-1),
    lambda x: np.concatenate([x[:, 6:], x[:, 3:6], x[:, :3]], axis=-1),
    [(2, 7)],
    lambda x: _torch().cat(x.chunk(3, dim=-1)[::-1], dim=-1),
)
spec(
    "unbind(dim=1)",
    lambda x: gn.stack(gn.unbind(x, 1)[::-1]),
    lambda x: np.array([x[:, 3], x[:, 2], x[:, 1], x[:, 0]]),
    [(3, 4)],
    lambda x: _torch().stack(x.unbind(1)[::-1]),
)


# ------------------------------------------------------------------ unary math, cumsum, prod,
# norm, sort, topk, outer, bmm, einsum, max(a, b) (the opsmath block)

# each reference goes another way than glassnet's NumPy call where one exists
spec("sin", gn.sin, lambda x: np.imag(np.exp(1j * x)), [(3, 4)], lambda x: x.sin())
spec("cos", lambda x: x.cos(), lambda x: np.real(np.exp(1j * x)), [(3, 4)], lambda x: x.cos())
spec("log1p", gn.log1p, lambda x: np.log(1 + x), [(3, 4)], lambda x: x.log1p(), ["positive"])
spec("expm1", lambda x: x.expm1(), lambda x: np.exp(x) - 1, [(3, 4)], lambda x: x.expm1())
spec("erf", gn.erf, _erf, [(3, 4)], lambda x: x.erf())
spec("erf, then sin", lambda x: x.erf().sin(), lambda x: np.sin(_erf(x)), [(2, 5)], None)
spec(
    "sign",
    gn.sign,
    lambda x: np.where(x > 0, 1.0, np.where(x < 0, -1.0, 0.0)),
    [(3, 4)],
    lambda x: x.sign(),
)
spec("floor", lambda x: x.floor(), lambda x: x - np.mod(x, 1.0), [(3, 4)], lambda x: x.floor())
spec(
    "round",
    gn.round,
    lambda x: np.vectorize(round)(x).astype(x.dtype),  # Python rounds half to even too
    [(3, 4)],
    lambda x: x.round(),
)
spec(
    "round(decimals=1)",
    lambda x: x.round(decimals=1),
    lambda x: np.vectorize(lambda v: round(v, 1))(x),
    [(3, 4)],
    lambda x: x.round(decimals=1),
)
spec(
    "round(decimals=-1) of 10x",
    lambda x: (x * 10).round(decimals=-1) + x,
    lambda x: np.vectorize(lambda v: round(v, -1))(x * 10) + x,
    [(3, 4)],
    lambda x: (x * 10).round(decimals=-1) + x,
)
for _sa, _sb in BROADCAST_PAIRS[:3]:
    spec(
        f"max(a, b) {_sa} {_sb}",
        gn.max,
        lambda a, b: np.where(a > b, a, b),
        [_sa, _sb],
        lambda a, b: _torch().max(a, b),
    )
    spec(
        f"a.min(b) {_sa} {_sb}",
        lambda a, b: a.min(b),
        lambda a, b: np.where(a < b, a, b),
        [_sa, _sb],
        lambda a, b: a.min(b),
    )


def _running_sum(x: np.ndarray, axis: int) -> np.ndarray:
    """y_j = sum_{i <= j} x_i, as a product with a lower-triangular matrix of ones."""
    moved = np.moveaxis(x, axis, -1)
    n = moved.shape[-1]
    return np.moveaxis(moved @ np.tril(np.ones((n, n))).T, -1, axis)


for _d in (0, 1, -1):
    spec(
        f"cumsum(dim={_d})",
        lambda x, d=_d: x.cumsum(d),
        lambda x, d=_d: _running_sum(x, d),
        [(2, 3, 4)],
        lambda x, d=_d: x.cumsum(d),
    )
spec(
    "prod()",
    lambda x: x.prod(),
    lambda x: np.multiply.reduce(x.ravel()),
    [(3, 4)],
    lambda x: x.prod(),
)
spec(
    "prod(dim=1)",
    lambda x: gn.prod(x, 1),
    lambda x: x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3],
    [(3, 4)],
    lambda x: x.prod(1),
)
spec(
    "prod(dim=0, keepdim)",
    lambda x: x.prod(dim=0, keepdim=True),
    lambda x: (x[0] * x[1] * x[2])[None],
    [(3, 4)],
    lambda x: x.prod(dim=0, keepdim=True),
)
_NORMS = [
    ("fro", lambda x, ax, k: np.sqrt((x * x).sum(axis=ax, keepdims=k))),
    (2, lambda x, ax, k: np.sqrt((x * x).sum(axis=ax, keepdims=k))),
    (1, lambda x, ax, k: np.abs(x).sum(axis=ax, keepdims=k)),
    (float("inf"), lambda x, ax, k: np.abs(x).max(axis=ax, keepdims=k)),
    (3, lambda x, ax, k: np.cbrt((np.abs(x) ** 3).sum(axis=ax, keepdims=k))),
    (1.5, lambda x, ax, k: (np.abs(x) ** 1.5).sum(axis=ax, keepdims=k) ** (2 / 3)),
    (0.5, lambda x, ax, k: np.sqrt(np.abs(x)).sum(axis=ax, keepdims=k) ** 2),
]
for _p, _ref in _NORMS:
    for _dim, _keep in [(None, False), (1, True), ((0, 2), False)]:
        spec(
            f"norm(p={_p}, dim={_dim}, keepdim={_keep})",
            lambda x, p=_p, d=_dim, k=_keep: x.norm(p, dim=d, keepdim=k),
            lambda x, r=_ref, d=_dim, k=_keep: r(x, d, k),
            [(2, 3, 4)],
            lambda x, p=_p, d=_dim, k=_keep: _torch().norm(x, p, dim=d, keepdim=k),
        )
spec(
    "gn.norm() (default 'fro')",
    gn.norm,
    lambda x: np.sqrt((x * x).sum()),
    [(3, 4)],
    lambda x: _torch().linalg.vector_norm(x),
)
spec(
    "sort(dim=-1).values",
    lambda x: x.sort().values,
    lambda x: np.sort(x, axis=-1),
    [(3, 5)],
    lambda x: x.sort().values,
)
spec(
    "sort(dim=0, descending).values",
    lambda x: gn.sort(x, dim=0, descending=True)[0],
    lambda x: -np.sort(-x, axis=0),
    [(4, 3)],
    lambda x: x.sort(dim=0, descending=True)[0],
)
spec(
    "topk(2).values",
    lambda x: x.topk(2).values,
    lambda x: np.sort(x, axis=-1)[:, ::-1][:, :2],
    [(3, 5)],
    lambda x: x.topk(2).values,
)
spec(
    "topk(3, dim=0, largest=False).values",
    lambda x: gn.topk(x, 3, dim=0, largest=False).values,
    lambda x: np.sort(x, axis=0)[:3],
    [(5, 2, 3)],
    lambda x: x.topk(3, dim=0, largest=False).values,
)
spec(
    "outer",
    gn.outer,
    lambda a, b: a[:, None] * b[None, :],
    [(3,), (4,)],
    lambda a, b: _torch().outer(a, b),
)
spec(
    "bmm",
    lambda a, b: a.bmm(b),
    _matmul_ref,
    [(2, 3, 4), (2, 4, 5)],
    lambda a, b: a.bmm(b),
)
# (equation, shapes, reference by hand)
_EINSUMS = [
    ("ij,jk->ik", [(3, 4), (4, 5)], _matmul_ref),
    ("ij,jk", [(3, 4), (4, 5)], _matmul_ref),  # implicit output
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], _matmul_ref),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)], _matmul_ref),  # ellipsis, broadcast
    ("ii->", [(4, 4)], np.trace),
    ("ii", [(4, 4)], np.trace),
    ("ii->i", [(4, 4)], np.diagonal),
    ("...ii->...i", [(2, 3, 3)], lambda x: np.diagonal(x, axis1=-2, axis2=-1)),
    ("i,j->ij", [(3,), (4,)], lambda a, b: a[:, None] * b[None, :]),
    ("ij->ji", [(3, 4)], np.transpose),
    ("ij->", [(3, 4)], lambda x: np.add.reduce(x, axis=None)),
    ("ij->j", [(3, 4)], lambda x: x[0] + x[1] + x[2]),
    ("i,i->", [(5,), (5,)], lambda a, b: (a * b).sum()),
    (
        "bn,anm,bm->ba",
        [(2, 3), (4, 3, 5), (2, 5)],
        lambda x, w, z: (x[:, None, :, None] * w[None] * z[:, None, None, :]).sum(axis=(2, 3)),
    ),
    ("b i j, b j -> b i", [(2, 3, 4), (2, 4)], lambda a, v: (a * v[:, None, :]).sum(axis=2)),
]
for _eq, _shapes, _ref in _EINSUMS:
    spec(
        f"einsum {_eq!r}",
        lambda *xs, eq=_eq: gn.einsum(eq, *xs),
        _ref,
        _shapes,
        lambda *xs, eq=_eq: _torch().einsum(eq, *xs),
    )
spec(
    "linear 1-D weight (one output)",
    lambda x, w: gn.linear(x, w),
    lambda x, w: (x * w).sum(axis=-1),
    [(5, 3), (3,)],
    lambda x, w: __import__("torch").nn.functional.linear(x, w),
)


# ------------------------------------------------------------------ convolution
def _conv_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolution by its definition, one output position at a time (1 or 2 spatial dims):
    y[n, o, p] = b[o] + sum_{c, k} w[o, c, k] x_pad[n, g Cg + c, p s + k d]."""
    nd = w.ndim - 2
    s, p, d = ((v,) * nd if isinstance(v, int) else v for v in (stride, padding, dilation))
    x = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in p])
    c_out, c_g, *k = w.shape
    out = [(x.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd)]
    y = np.zeros((x.shape[0], c_out, *out))
    for o in range(c_out):
        g = o // (c_out // groups)
        for pos in np.ndindex(*out):
            field = tuple(
                slice(pos[i] * s[i], pos[i] * s[i] + d[i] * (k[i] - 1) + 1, d[i]) for i in range(nd)
            )
            patch = x[(slice(None), slice(g * c_g, (g + 1) * c_g), *field)]
            y[(slice(None), o, *pos)] = (patch * w[o]).reshape(len(x), -1).sum(axis=1)
    return y if b is None else y + b.reshape(c_out, *(1,) * nd)


# (name, glassnet function, torch name, shapes (input, weight[, bias]), keyword arguments)
_CONVS = [
    ("conv1d", "conv1d", [(2, 3, 7), (4, 3, 3), (4,)], {}),
    (
        "conv1d stride 2 padding 1",
        "conv1d",
        [(2, 3, 8), (4, 3, 3), (4,)],
        dict(stride=2, padding=1),
    ),
    (
        "conv1d dilation 2 groups 2",
        "conv1d",
        [(1, 4, 9), (6, 2, 2), (6,)],
        dict(dilation=2, groups=2),
    ),
    ("conv1d depthwise no bias", "conv1d", [(2, 3, 6), (6, 1, 3)], dict(groups=3, padding=1)),
    ("conv2d", "conv2d", [(2, 3, 5, 4), (2, 3, 3, 2), (2,)], {}),
    (
        "conv2d stride 2 padding 1",
        "conv2d",
        [(1, 2, 6, 5), (3, 2, 3, 3), (3,)],
        dict(stride=2, padding=1),
    ),
    (
        "conv2d stride (2, 1) padding (0, 2)",
        "conv2d",
        [(2, 2, 5, 4), (3, 2, 2, 3), (3,)],
        dict(stride=(2, 1), padding=(0, 2)),
    ),
    ("conv2d dilation 2", "conv2d", [(1, 2, 7, 6), (2, 2, 3, 2), (2,)], dict(dilation=2)),
    ("conv2d groups 2", "conv2d", [(2, 4, 4, 5), (6, 2, 2, 3), (6,)], dict(groups=2, padding=1)),
    ("conv2d depthwise no bias", "conv2d", [(1, 3, 5, 5), (3, 1, 3, 3)], dict(groups=3, padding=1)),
]
for _name, _f, _shapes, _kw in _CONVS:
    spec(
        _name,
        lambda *a, f=_f, kw=_kw: getattr(gn.nn.functional, f)(*a, **kw),
        lambda *a, kw=_kw: _conv_ref(*a, **kw),
        _shapes,
        lambda *a, f=_f, kw=_kw: getattr(_torch().nn.functional, f)(*a, **kw),
    )


def _torch_same_conv2d(x, w, b):
    import warnings

    with warnings.catch_warnings():  # torch notes that an asymmetric 'same' pads a copy
        warnings.simplefilter("ignore", UserWarning)
        return _torch().nn.functional.conv2d(x, w, b, padding="same", dilation=(1, 2))


# 'same' pads d (k - 1) in all, the odd one after: the reference pads by hand
spec(
    "conv2d padding 'same' (even kernel, dilation 2)",
    lambda x, w, b: gn.nn.functional.conv2d(x, w, b, padding="same", dilation=(1, 2)),
    lambda x, w, b: _conv_ref(np.pad(x, [(0, 0), (0, 0), (0, 1), (2, 2)]), w, b, dilation=(1, 2)),
    [(1, 2, 4, 5), (3, 2, 2, 3), (3,)],
    lambda x, w, b: _torch_same_conv2d(x, w, b),
)
spec(
    "conv1d padding 'valid', unbatched",
    lambda x, w: gn.nn.functional.conv1d(x, w, padding="valid"),
    lambda x, w: _conv_ref(x[None], w)[0],
    [(3, 6), (2, 3, 4)],
    lambda x, w: _torch().nn.functional.conv1d(x, w, padding="valid"),
)


# ------------------------------------------------------------------ transposed convolution
def _conv_transpose_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution by its definition, one input position at a time: x[n, c, i]
    times w[c, o, k] is added at y_pad[n, g Cog + o, i s + k d]; then p is cut from both ends
    and output_padding positions that nothing reached are kept at the end."""
    nd = w.ndim - 2
    s, p, e, d = (
        (v,) * nd if isinstance(v, int) else v for v in (stride, padding, output_padding, dilation)
    )
    c_in, c_og, *k = w.shape
    c_g = c_in // groups
    full = [(x.shape[2 + i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 + e[i] for i in range(nd)]
    y = np.zeros((x.shape[0], c_og * groups, *full))
    for c in range(c_in):
        g = c // c_g
        for pos in np.ndindex(*x.shape[2:]):
            reach = tuple(
                slice(pos[i] * s[i], pos[i] * s[i] + d[i] * (k[i] - 1) + 1, d[i]) for i in range(nd)
            )
            spot = (slice(None), slice(g * c_og, (g + 1) * c_og), *reach)
            y[spot] += x[(slice(None), c, *pos)].reshape(-1, *(1,) * (nd + 1)) * w[c]
    y = y[(Ellipsis, *(slice(p[i], full[i] - p[i]) for i in range(nd)))]
    return y if b is None else y + b.reshape(-1, *(1,) * nd)


# (name, glassnet function, shapes (input, weight[, bias]), keyword arguments)
_CONV_TRANSPOSES = [
    ("conv_transpose1d", "conv_transpose1d", [(2, 3, 5), (3, 4, 3), (4,)], {}),
    (
        "conv_transpose1d stride 3 padding 2 output_padding 1",
        "conv_transpose1d",
        [(2, 3, 4), (3, 2, 4), (2,)],
        dict(stride=3, padding=2, output_padding=1),
    ),
    (
        "conv_transpose1d dilation 3 output_padding 2 groups 2",
        "conv_transpose1d",
        [(1, 4, 5), (4, 3, 2), (6,)],
        dict(dilation=3, output_padding=2, groups=2),
    ),
    (
        "conv_transpose1d depthwise no bias, unbatched",
        "conv_transpose1d",
        [(3, 6), (3, 2, 3)],
        dict(stride=2, groups=3, padding=1),
    ),
    ("conv_transpose2d", "conv_transpose2d", [(2, 3, 4, 3), (3, 2, 3, 2), (2,)], {}),
    (
        "conv_transpose2d stride 2 padding 1 output_padding 1",
        "conv_transpose2d",
        [(2, 2, 3, 4), (2, 3, 3, 3), (3,)],
        dict(stride=2, padding=1, output_padding=1),
    ),
    (
        "conv_transpose2d stride (2, 3) padding (0, 1) dilation (2, 1) groups 2",
        "conv_transpose2d",
        [(1, 4, 3, 4), (4, 1, 2, 3), (2,)],
        dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2), dilation=(2, 1), groups=2),
    ),
]
for _name, _f, _shapes, _kw in _CONV_TRANSPOSES:
    spec(
        _name,
        lambda *a, f=_f, kw=_kw: getattr(gn.nn.functional, f)(*a, **kw),
        lambda *a, kw=_kw: (
            _conv_transpose_ref(*a, **kw)
            if a[0].ndim == a[1].ndim
            else _conv_transpose_ref(a[0][None], *a[1:], **kw)[0]
        ),
        _shapes,
        lambda *a, f=_f, kw=_kw: getattr(_torch().nn.functional, f)(*a, **kw),
    )


# ------------------------------------------------------------------ pooling
def _pool_ref(
    x, kernel_size, stride=None, padding=0, dilation=1, mode="max", count_include_pad=True
):
    """Pooling by its definition, one output position at a time (1 or 2 spatial dims): the
    max (padding -inf) or the mean (padding 0) of x_pad[n, c, p s + k d] over the taps k."""
    nd = x.ndim - 2
    k, s, p, d = (
        (v,) * nd if isinstance(v, int) else tuple(v)
        for v in (kernel_size, kernel_size if stride is None else stride, padding, dilation)
    )
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, [(0, 0), (0, 0)] + [(q, q) for q in p], constant_values=fill)
    real = np.pad(np.ones(x.shape[2:]), [(q, q) for q in p])  # 1 where x is not padding
    out = [(xp.shape[2 + i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(nd)]
    y = np.zeros((*x.shape[:2], *out))
    for pos in np.ndindex(*out):
        field = tuple(
            slice(pos[i] * s[i], pos[i] * s[i] + d[i] * (k[i] - 1) + 1, d[i]) for i in range(nd)
        )
        patch = xp[(Ellipsis, *field)].reshape(*x.shape[:2], -1)
        if mode == "max":
            y[(Ellipsis, *pos)] = patch.max(axis=-1)
        else:
            count = math.prod(k) if count_include_pad else real[field].sum()
            y[(Ellipsis, *pos)] = patch.sum(axis=-1) / count
    return y


# (name, glassnet/torch function, input shape, keyword arguments)
_POOLS = [
    ("max_pool1d", "max_pool1d", (2, 3, 8), dict(kernel_size=2)),
    (
        "max_pool1d overlapping, padding",
        "max_pool1d",
        (2, 3, 9),
        dict(kernel_size=3, stride=2, padding=1),
    ),
    ("max_pool1d dilation 2", "max_pool1d", (1, 2, 10), dict(kernel_size=3, stride=1, dilation=2)),
    ("max_pool2d", "max_pool2d", (2, 3, 6, 4), dict(kernel_size=2)),
    (
        "max_pool2d (3, 2) stride 1 padding 1",
        "max_pool2d",
        (1, 2, 5, 6),
        dict(kernel_size=(3, 2), stride=1, padding=1),
    ),
    (
        "max_pool2d stride (2, 1) dilation (1, 2)",
        "max_pool2d",
        (2, 2, 7, 7),
        dict(kernel_size=3, stride=(2, 1), dilation=(1, 2)),
    ),
    ("avg_pool1d", "avg_pool1d", (2, 3, 9), dict(kernel_size=3)),
    (
        "avg_pool1d overlapping, padding",
        "avg_pool1d",
        (2, 2, 8),
        dict(kernel_size=4, stride=2, padding=2),
    ),
    (
        "avg_pool1d padding, count_include_pad False",
        "avg_pool1d",
        (2, 2, 7),
        dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    ),
    ("avg_pool2d", "avg_pool2d", (2, 3, 6, 4), dict(kernel_size=2)),
    (
        "avg_pool2d 3 stride 1 padding 1",
        "avg_pool2d",
        (1, 2, 5, 6),
        dict(kernel_size=3, stride=1, padding=1),
    ),
    (
        "avg_pool2d (2, 3) stride (1, 2) padding (1, 1), count_include_pad False",
        "avg_pool2d",
        (2, 2, 5, 7),
        dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), count_include_pad=False),
    ),
]
for _name, _f, _shape, _kw in _POOLS:
    _mode = "max" if _f.startswith("max") else "avg"
    spec(
        _name,
        lambda x, f=_f, kw=_kw: getattr(gn.nn.functional, f)(x, **kw),
        lambda x, m=_mode, kw=_kw: _pool_ref(x, mode=m, **kw),
        [_shape],
        lambda x, f=_f, kw=_kw: getattr(_torch().nn.functional, f)(x, **kw),
    )
spec(
    "avg_pool2d divisor_override 3",
    lambda x: gn.nn.functional.avg_pool2d(x, 2, stride=1, divisor_override=3),
    lambda x: _pool_ref(x, 2, stride=1, mode="avg") * 4 / 3,
    [(1, 2, 4, 5)],
    lambda x: _torch().nn.functional.avg_pool2d(x, 2, stride=1, divisor_override=3),
)
spec(
    "max_pool2d unbatched",
    lambda x: gn.nn.functional.max_pool2d(x, 2, stride=1),
    lambda x: _pool_ref(x[None], 2, stride=1)[0],
    [(2, 4, 5)],
    lambda x: _torch().nn.functional.max_pool2d(x, 2, stride=1),
)


def _adaptive_ref(x, output_size):
    """Adaptive average pooling by its definition: output i (per dimension) averages the
    inputs from floor(i L / out) to ceil((i + 1) L / out), one output position at a time."""
    nd = x.ndim - 2
    sizes = (output_size,) * nd if isinstance(output_size, int) else output_size
    sizes = [x.shape[2 + i] if o is None else o for i, o in enumerate(sizes)]
    y = np.zeros((*x.shape[:2], *sizes))
    for pos in np.ndindex(*sizes):
        field = tuple(
            slice(
                math.floor(pos[i] * x.shape[2 + i] / sizes[i]),
                math.ceil((pos[i] + 1) * x.shape[2 + i] / sizes[i]),
            )
            for i in range(nd)
        )
        y[(Ellipsis, *pos)] = x[(Ellipsis, *field)].mean(axis=tuple(range(2, 2 + nd)))
    return y


# sizes that do not divide (windows of unequal length, overlapping), divide, grow, and None
_ADAPTIVE = [
    ("adaptive_avg_pool1d", (2, 3, 10), 4),
    ("adaptive_avg_pool1d", (3, 7), 7),  # unbatched, identity
    ("adaptive_avg_pool1d", (2, 2, 5), 8),  # more outputs than inputs
    ("adaptive_avg_pool2d", (2, 3, 7, 9), (3, 4)),
    ("adaptive_avg_pool2d", (2, 2, 5, 6), 1),  # global average pooling
    ("adaptive_avg_pool2d", (1, 2, 6, 5), (None, 3)),
    ("adaptive_avg_pool2d", (2, 6, 6), 3),  # unbatched, windows divide
]
for _f, _shape, _size in _ADAPTIVE:
    _batched = len(_shape) == (3 if _f.endswith("1d") else 4)
    spec(
        f"{_f} {_shape} -> {_size}",
        lambda x, f=_f, o=_size: getattr(gn.nn.functional, f)(x, o),
        (lambda x, o=_size: _adaptive_ref(x, o))
        if _batched
        else (lambda x, o=_size: _adaptive_ref(x[None], o)[0]),
        [_shape],
        lambda x, f=_f, o=_size: getattr(_torch().nn.functional, f)(x, o),
    )


# ------------------------------------------------------------------ attention
def _attention_ref(q, k, v, mask=None, scale=None):
    """softmax(q k^T scale + mask) v by its definition, one query row at a time; a boolean
    mask (True = may attend) drops the keys it forbids from that row's softmax."""
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    q, k, v = (np.broadcast_to(a, batch + a.shape[-2:]) for a in (q, k, v))
    if mask is None:
        mask = np.zeros((q.shape[-2], k.shape[-2]))
    mask = np.broadcast_to(mask, batch + (q.shape[-2], k.shape[-2]))
    out = np.zeros(batch + (q.shape[-2], v.shape[-1]))
    for b in np.ndindex(*batch):
        for i in range(q.shape[-2]):
            m = mask[b][i]
            allowed = m if m.dtype == bool else np.ones_like(m, dtype=bool)
            add = np.zeros(m.shape) if m.dtype == bool else m
            scores = np.array([q[b][i] @ k[b][j] * scale + add[j] for j in range(k.shape[-2])])
            w = np.where(allowed, np.exp(scores - scores[allowed].max()), 0.0)
            out[b][i] = (w / w.sum()) @ v[b]
    return out


_CAUSAL = np.tril(np.ones((3, 5), dtype=bool))  # query i sees keys 0..i, top-left aligned
_KEYS_ALLOWED = np.array([[[[True] * 5, [True, False, True, False, True], [False] * 4 + [True]]]])
_ATTENTIONS = [
    ("sdpa", [(2, 3, 4), (2, 5, 4), (2, 5, 6)], {}, {}),
    ("sdpa heads, broadcast batch", [(2, 2, 3, 4), (1, 2, 5, 4), (2, 1, 5, 3)], {}, {}),
    ("sdpa unbatched, scale 0.3", [(3, 4), (5, 4), (5, 2)], dict(scale=0.3), dict(scale=0.3)),
    ("sdpa is_causal", [(2, 3, 4), (2, 5, 4), (2, 5, 6)], dict(is_causal=True), {"mask": _CAUSAL}),
    (
        "sdpa boolean mask (1, 1, L, S)",
        [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)],
        dict(attn_mask=_KEYS_ALLOWED),
        {"mask": _KEYS_ALLOWED},
    ),
]
# PyTorch parity of attention (these cases and more, float64 and float32) is checked in
# tests/ops/test_attention.py; without a torch twin here the specs stay out of the autograd
# fuzzer's vocabulary, whose promised mix of graphs (tests/autograd) depends on that list.
for _name, _shapes, _kw, _ref_kw in _ATTENTIONS:
    spec(
        _name,
        lambda q, k, v, kw=_kw: gn.nn.functional.scaled_dot_product_attention(q, k, v, **kw),
        lambda q, k, v, kw=_ref_kw: _attention_ref(q, k, v, **kw),
        _shapes,
    )
spec(
    "sdpa float mask, its gradient too",
    lambda q, k, v, m: gn.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m),
    lambda q, k, v, m: _attention_ref(q, k, v, mask=m),
    [(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3), (2, 1, 3, 5)],
)


# ------------------------------------------------------------------ recurrence
def _sig(a):
    return 1 / (1 + np.exp(-a))  # the plain formula: the sampled pre-activations stay small


def _rnn_ref(act):
    def ref(x, h, wi, wh, bi=0.0, bh=0.0):
        return act(x @ wi.T + bi + h @ wh.T + bh)

    return ref


def _gru_ref(x, h, wi, wh, bi, bh):
    """PyTorch's GRU: n = tanh(x W_in + b_in + r (h W_hn + b_hn)), h' = (1 - z) n + z h."""
    gi, gh = np.split(x @ wi.T + bi, 3, axis=1), np.split(h @ wh.T + bh, 3, axis=1)
    r, z = _sig(gi[0] + gh[0]), _sig(gi[1] + gh[1])
    n = np.tanh(gi[2] + r * gh[2])
    return (1 - z) * n + z * h


def _lstm_ref(x, h, c, wi, wh, bi, bh):
    """PyTorch's LSTM, gates i, f, g, o; returns [h' | c']."""
    i, f, g, o = np.split(x @ wi.T + bi + h @ wh.T + bh, 4, axis=1)
    c_new = _sig(f) * c + _sig(i) * np.tanh(g)
    return np.concatenate([_sig(o) * np.tanh(c_new), c_new], axis=1)


def _cell_shapes(gates, n=3, f=4, h=2, bias=True):
    shapes = [(n, f), (n, h), (gates * h, f), (gates * h, h)]
    return shapes + [(gates * h,), (gates * h,)] if bias else shapes


spec(
    "rnn_tanh_cell",
    rnn_ops.rnn_tanh_cell,
    _rnn_ref(np.tanh),
    _cell_shapes(1),
    lambda *a: _torch().rnn_tanh_cell(*a),
)
spec(
    "rnn_tanh_cell no bias",
    rnn_ops.rnn_tanh_cell,
    _rnn_ref(np.tanh),
    _cell_shapes(1, bias=False),
    lambda *a: _torch().rnn_tanh_cell(*a),
)
spec(
    "rnn_relu_cell",
    rnn_ops.rnn_relu_cell,
    _rnn_ref(lambda a: np.maximum(a, 0)),
    _cell_shapes(1, h=5),
    lambda *a: _torch().rnn_relu_cell(*a),
)
spec("gru_cell", rnn_ops.gru_cell, _gru_ref, _cell_shapes(3), lambda *a: _torch().gru_cell(*a))
spec(
    "lstm_cell",
    lambda x, h, c, *w: gn.cat(list(rnn_ops.lstm_cell(x, (h, c), *w)), dim=1),
    _lstm_ref,
    [(3, 4), (3, 2), (3, 2), (8, 4), (8, 2), (8,), (8,)],
    lambda x, h, c, *w: _torch().cat(_torch().lstm_cell(x, (h, c), *w), 1),
)
