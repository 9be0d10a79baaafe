"""glassnet: a see-through deep-learning library on NumPy.

Every op is one ``Function`` whose forward and backward sit side by side under its
derivation; the API follows PyTorch's names, so ``import glassnet as gn`` reads like
``import torch``.
"""

from glassnet import autograd, nn, ops, optim
from glassnet.autograd import (
    Function,
    GradcheckError,
    Tensor,
    enable_grad,
    gradcheck,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
    tensor,
)
from glassnet.autograd.creation import (
    arange,
    bool_,
    empty,
    eye,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    int8,
    int16,
    int32,
    int64,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    uint8,
    zeros,
    zeros_like,
)
from glassnet.autograd.random import default_generator, manual_seed
from glassnet.ops.activation import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from glassnet.ops.elementwise import (
    abs,
    add,
    clamp,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    sqrt,
    sub,
    where,
)
from glassnet.ops.linalg import bmm, einsum, linear, matmul, outer
from glassnet.ops.pointwise import cos, erf, expm1, floor, log1p, round, sign, sin
from glassnet.ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    cumsum,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    sum,
    var,
)
from glassnet.ops.shape import (
    cat,
    expand,
    flatten,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from glassnet.ops.sort import sort, topk

__version__ = "0.1.0"

# Loaded on first use, so that `import glassnet` stays light: data, training and files are
# not needed to build and differentiate a model.
_LAZY_MODULES = ("data", "io", "train", "cli", "inspect", "onnx", "interop")
_LAZY_NAMES = {
    "fit": "glassnet.train",
    "evaluate": "glassnet.train",
    "predict": "glassnet.train",
    "save": "glassnet.io",
    "load": "glassnet.io",
    "explain": "glassnet.inspect",
}


def __getattr__(name: str):
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"glassnet.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Function",
    "GradcheckError",
    "Tensor",
    "__version__",
    "abs",
    "add",
    "amax",
    "amin",
    "arange",
    "argmax",
    "argmin",
    "autograd",
    "bmm",
    "bool_",
    "cat",
    "clamp",
    "cos",
    "cumsum",
    "data",
    "default_generator",
    "div",
    "einsum",
    "elu",
    "empty",
    "enable_grad",
    "erf",
    "evaluate",
    "exp",
    "expand",
    "explain",
    "expm1",
    "eye",
    "fit",
    "flatten",
    "float16",
    "float32",
    "float64",
    "floor",
    "from_numpy",
    "full",
    "gelu",
    "gradcheck",
    "inspect",
    "int8",
    "int16",
    "int32",
    "int64",
    "interop",
    "io",
    "is_grad_enabled",
    "leaky_relu",
    "linear",
    "linspace",
    "load",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "nn",
    "no_grad",
    "norm",
    "ones",
    "ones_like",
    "onnx",
    "ops",
    "optim",
    "outer",
    "permute",
    "pow",
    "predict",
    "prod",
    "rand",
    "randint",
    "randn",
    "randperm",
    "relu",
    "reshape",
    "round",
    "save",
    "set_grad_enabled",
    "sigmoid",
    "sign",
    "silu",
    "sin",
    "softmax",
    "softplus",
    "sort",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "tanh",
    "tensor",
    "topk",
    "train",
    "transpose",
    "uint8",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
]
