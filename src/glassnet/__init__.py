"""glassnet: a see-through deep-learning library on NumPy.

Every op is one ``Function`` whose forward and backward sit side by side under its
derivation; the API follows PyTorch's names, so ``import glassnet as gn`` reads like
``import torch``.
"""

from glassnet import autograd, nn, ops, optim
from glassnet._allocator import keep_freed_memory
from glassnet.autograd import (
    Function,
    GradcheckError,
    Tensor,
    enable_grad,
    gradcheck,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
    tensor,
)
from glassnet.autograd.device import device

# after the ops: gn.compile reads their emit templates (the name is the function; the
# package stays importable as glassnet.compile.<module>)
from glassnet.compile import compile
from glassnet.creation import (
    arange,
    bool_,
    double,
    empty,
    eye,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    half,
    int8,
    int16,
    int32,
    int64,
    linspace,
    long,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    short,
    uint8,
    zeros,
    zeros_like,
)

# PyTorch's dtype names that are also Python builtins: gn.int, gn.float, gn.bool
from glassnet.creation import bool_ as bool
from glassnet.creation import float32 as float
from glassnet.creation import int32 as int
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
from glassnet.ops.indexing import gather, index_select, masked_fill, scatter_add, tril, triu
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
    chunk,
    clone,
    expand,
    flatten,
    flip,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unbind,
    unsqueeze,
)
from glassnet.ops.sort import sort, topk
from glassnet.random import default_generator, manual_seed

# Tensor's differentiable operators and methods (a + b, x.sum(), x.relu()) are ops, which
# sit above the engine; they are attached here, once (see glassnet/ops/methods.py).
ops.methods.install(Tensor)

# Training steps free and remake the same arrays every time; keep that memory in the
# process rather than page-faulting it back in each step (see glassnet/_allocator.py).
keep_freed_memory()

__version__ = "0.1.0"

# Loaded on first use, so that `import glassnet` stays light: data, training and files are
# not needed to build and differentiate a model.
_LAZY_MODULES = {
    "data": "glassnet.data",
    "io": "glassnet.io",
    "train": "glassnet.train",
    "cli": "glassnet.cli",
    "inspect": "glassnet.inspect",
    # gn.onnx and gn.interop, as in PyTorch; they live with the other file formats in io/
    "onnx": "glassnet.io.onnx",
    "interop": "glassnet.io.interop",
}
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
        return importlib.import_module(_LAZY_MODULES[name])
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
    "bool",
    "bool_",
    "cat",
    "chunk",
    "clamp",
    "clone",
    "compile",
    "cos",
    "cumsum",
    "data",
    "default_generator",
    "device",
    "div",
    "double",
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
    "flip",
    "float",
    "float16",
    "float32",
    "float64",
    "floor",
    "from_numpy",
    "full",
    "gather",
    "gelu",
    "gradcheck",
    "half",
    "index_select",
    "inference_mode",
    "inspect",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "interop",
    "io",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "leaky_relu",
    "linear",
    "linspace",
    "load",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "long",
    "manual_seed",
    "masked_fill",
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
    "scatter_add",
    "set_grad_enabled",
    "short",
    "sigmoid",
    "sign",
    "silu",
    "sin",
    "softmax",
    "softplus",
    "sort",
    "split",
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
    "tril",
    "triu",
    "uint8",
    "unbind",
    "unsqueeze",
    "var",
    "where",
    "zeros",
    "zeros_like",
]
