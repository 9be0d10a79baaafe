"""The ONNX translation of each op: one emitter per ``Function``, in one table.

``gn.onnx.export`` records every op of one forward pass; for each it looks up
``EMITTERS[type of the op]`` and calls it with a ``Builder`` (which names values, makes
constants and appends nodes) and the recorded ``Op``; the emitter returns the ONNX name of
the op's output. An op missing from the table raises ``UnsupportedOpError`` naming it and
the layer that used it.

A new op gets its entry with the decorator, next to the others of its family::

    @emits(rnn.GRUCell)
    def _gru_cell(b: Builder, op: Op) -> str:
        ...  # a few ONNX nodes, returning the name of the output

The nodes target opset 17 (``LayerNormalization`` is there; ``GroupNormalization`` and
``RMSNormalization`` are not, so those norms are built from primitives by their ops).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops import (
    activation,
    conv,
    elementwise,
    indexing,
    linalg,
    norm,
    pool,
    reduce,
    shape,
)
from glassnet.ops.embedding import EmbeddingLookup


class UnsupportedOpError(ValueError):
    """The model uses an op that the ONNX exporter does not translate."""


class Op(NamedTuple):
    """One recorded op: its Function, its arguments as it was called, its output, and the
    path of the innermost module that ran it (for error messages)."""

    fn: type
    args: tuple
    kwargs: dict
    out: Tensor
    where: str


class Builder:
    """Turns recorded ops into ONNX nodes and initializers."""

    def __init__(self, helper: Any, numpy_helper: Any, names: dict[int, str]) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.names = names  # id(Tensor or ndarray) -> ONNX value name
        self.nodes: list = []
        self.initializers: list = []
        self.counter = 0
        # constants folded from ops on constants alone (a layer's own zero state, stacked)
        self.folded: set[str] = set()

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}_{self.counter}"

    def constant(self, value: Any, hint: str = "const") -> str:
        array = np.asarray(value)
        name = self.fresh(hint)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def value(self, x: Any) -> str:
        """The ONNX name of an op input: a traced value, a parameter, or a new constant."""
        key = id(x)
        if key in self.names:
            return self.names[key]
        if isinstance(x, Tensor) and id(x.data) in self.names:
            return self.names[id(x.data)]
        array = x.data if isinstance(x, Tensor) else x
        name = self.constant(array)
        self.names[key] = name
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        output = output or self.fresh(op.lower())
        self.nodes.append(self.helper.make_node(op, inputs, [output], **attrs))
        return output


Emitter = Callable[[Builder, Op], str]
EMITTERS: dict[type, Emitter] = {}


def emits(*functions: type) -> Callable[[Emitter], Emitter]:
    """Register the decorated emitter as the ONNX translation of ``functions``."""

    def register(emit: Emitter) -> Emitter:
        for fn in functions:
            EMITTERS[fn] = emit
        return emit

    return register


def emit(b: Builder, op: Op) -> str:
    """ONNX nodes for one recorded op; returns the name of its output."""
    emitter = EMITTERS.get(op.fn)
    if emitter is None:
        raise UnsupportedOpError(
            f"ONNX export: {op.where} uses {op.fn.__name__}, which the exporter does not "
            "translate; supported are Linear, matmul, the activations, Softmax/LogSoftmax, "
            "Flatten/Unflatten/reshape, Conv1d/2d, max/avg/adaptive-avg pooling, LayerNorm, "
            "BatchNorm1d/2d (eval), GroupNorm, RMSNorm, Embedding, Dropout/Dropout2d (eval), "
            "RNN/GRU/LSTM and their cells, MultiheadAttention and the Transformer layers, "
            "indexing, cat/stack, mean/sum and elementwise arithmetic"
        )
    return emitter(b, op)


def _same_op(onnx_op: str, arity: int) -> Emitter:
    """The emitter of an op that is one ONNX op of the same meaning on its inputs."""

    def same(b: Builder, op: Op) -> str:
        return b.node(onnx_op, [b.value(a) for a in op.args[:arity]])

    return same


for _fn, _name in {
    activation.ReLU: "Relu",
    activation.Sigmoid: "Sigmoid",
    activation.Tanh: "Tanh",
    elementwise.Exp: "Exp",
    elementwise.Log: "Log",
    elementwise.Sqrt: "Sqrt",
    elementwise.Abs: "Abs",
    elementwise.Neg: "Neg",
}.items():
    EMITTERS[_fn] = _same_op(_name, 1)
for _fn, _name in {
    elementwise.Add: "Add",
    elementwise.Sub: "Sub",
    elementwise.Mul: "Mul",
    elementwise.Div: "Div",
    elementwise.Pow: "Pow",
    linalg.MatMul: "MatMul",
}.items():
    EMITTERS[_fn] = _same_op(_name, 2)


# --- linear algebra and activations -------------------------------------------------------


@emits(linalg.Linear)
def _linear(b: Builder, op: Op) -> str:
    x, w, bias = op.args[:3]
    if x.ndim == 2:
        inputs = [b.value(x), b.value(w)] + ([b.value(bias)] if bias is not None else [])
        return b.node("Gemm", inputs, transB=1)
    y = b.node("MatMul", [b.value(x), b.node("Transpose", [b.value(w)], perm=[1, 0])])
    return b.node("Add", [y, b.value(bias)]) if bias is not None else y


@emits(activation.LeakyReLU)
def _leaky_relu(b: Builder, op: Op) -> str:
    return b.node("LeakyRelu", [b.value(op.args[0])], alpha=float(op.args[1]))


@emits(activation.ELU)
def _elu(b: Builder, op: Op) -> str:
    return b.node("Elu", [b.value(op.args[0])], alpha=float(op.args[1]))


@emits(activation.SiLU)
def _silu(b: Builder, op: Op) -> str:
    xv = b.value(op.args[0])
    return b.node("Mul", [xv, b.node("Sigmoid", [xv])])


@emits(activation.Softplus)
def _softplus(b: Builder, op: Op) -> str:
    beta, threshold = float(op.args[1]), float(op.args[2])
    xv = b.value(op.args[0])
    z = b.node("Mul", [xv, b.constant(np.float32(beta))])
    smooth = b.node("Div", [b.node("Softplus", [z]), b.constant(np.float32(beta))])
    linear = b.node("Greater", [z, b.constant(np.float32(threshold))])
    return b.node("Where", [linear, xv, smooth])


@emits(activation.GELU)
def _gelu(b: Builder, op: Op) -> str:
    x = op.args[0]
    xv = b.value(x)

    def const(value: float) -> str:
        return b.constant(np.asarray(value, x.dtype))

    if op.args[1] == "tanh":
        cube = b.node("Mul", [xv, b.node("Mul", [xv, xv])])
        inner = b.node("Add", [xv, b.node("Mul", [cube, const(0.044715)])])
        scaled = b.node("Mul", [inner, const(math.sqrt(2 / math.pi))])
        cdf = b.node("Add", [const(1.0), b.node("Tanh", [scaled])])
    else:
        cdf = b.node("Add", [const(1.0), b.node("Erf", [b.node("Div", [xv, const(math.sqrt(2))])])])
    return b.node("Mul", [b.node("Mul", [xv, cdf]), const(0.5)])


@emits(activation.Softmax)
def _softmax(b: Builder, op: Op) -> str:
    return b.node("Softmax", [b.value(op.args[0])], axis=int(op.args[1]))


@emits(activation.LogSoftmax)
def _log_softmax(b: Builder, op: Op) -> str:
    return b.node("LogSoftmax", [b.value(op.args[0])], axis=int(op.args[1]))


# --- shapes, types, lookups ---------------------------------------------------------------


@emits(shape.Reshape)
def _reshape(b: Builder, op: Op) -> str:
    x, target = op.args[0], list(op.out.shape)
    if x.ndim and target and x.shape[0] == target[0]:
        target[0] = 0  # keep the (symbolic) batch size: 0 copies the input's dimension
    return b.node("Reshape", [b.value(x), b.constant(np.asarray(target, np.int64), "shape")])


@emits(shape.Transpose)
def _transpose(b: Builder, op: Op) -> str:
    x, dim0, dim1 = op.args[:3]
    perm = list(range(x.ndim))
    perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
    return b.node("Transpose", [b.value(x)], perm=perm)


@emits(shape.Permute)
def _permute(b: Builder, op: Op) -> str:
    return b.node("Transpose", [b.value(op.args[0])], perm=list(op.args[1]))


@emits(EmbeddingLookup)
def _embedding(b: Builder, op: Op) -> str:
    return b.node("Gather", [b.value(op.args[0]), b.value(op.args[1])], axis=0)


@emits(indexing.IndexSelect)
def _index_select(b: Builder, op: Op) -> str:
    """Slices picked by index along a dim (how padding_mode 'reflect', 'replicate' and
    'circular' pad a conv's input): ONNX's Gather."""
    x, index, dim = op.args[:3]
    indices = b.constant(np.asarray(index, np.int64), "indices")
    return b.node("Gather", [b.value(x), indices], axis=int(dim))


@emits(elementwise.Cast)
def _cast(b: Builder, op: Op) -> str:
    onnx_type = b.helper.np_dtype_to_tensor_dtype(np.dtype(op.args[1]))
    return b.node("Cast", [b.value(op.args[0])], to=onnx_type)


# --- reductions (RMSNorm's mean of squares, and models' own means and sums) ---------------


def _axes(x: Tensor, axes: Any) -> list[int]:
    return list(range(x.ndim)) if axes is None else [a % max(x.ndim, 1) for a in axes]


@emits(reduce.Mean)
def _mean(b: Builder, op: Op) -> str:
    x, axes, keepdim = op.args[:3]
    # opset 17 takes ReduceMean's axes as an attribute (an input only from opset 18)
    return b.node("ReduceMean", [b.value(x)], axes=_axes(x, axes), keepdims=int(keepdim))


@emits(reduce.Sum)
def _sum(b: Builder, op: Op) -> str:
    x, axes, keepdim = op.args[:3]
    # ReduceSum has taken its axes as an input since opset 13
    axes_name = b.constant(np.asarray(_axes(x, axes), np.int64), "axes")
    return b.node("ReduceSum", [b.value(x), axes_name], keepdims=int(keepdim))


# --- normalisation ------------------------------------------------------------------------


@emits(norm.Normalize)
def _normalize(b: Builder, op: Op) -> str:
    """(x - mean) / sqrt(var + eps) over the last dims: LayerNormalization without its
    scale and shift (the layer's weight and bias follow as Mul and Add). LayerNorm lands
    here, and GroupNorm too: it reshapes to (N, G, -1) and normalises the last dim."""
    x, axes, eps = op.args[0], tuple(op.args[1]), float(op.args[2])
    trailing = tuple(range(x.ndim - len(axes), x.ndim))
    if axes != trailing:
        raise UnsupportedOpError(
            f"ONNX export: {op.where} normalises over dims {axes} (batch statistics); only "
            "normalisation over the last dims (LayerNorm, GroupNorm, or BatchNorm in eval "
            "mode) is exported; call model.eval() first"
        )
    ones = b.constant(np.ones(x.shape[axes[0] :], x.dtype), "ones")
    zeros = b.constant(np.zeros(x.shape[axes[0] :], x.dtype), "zeros")
    return b.node("LayerNormalization", [b.value(x), ones, zeros], axis=axes[0], epsilon=eps)


@emits(norm.RunningNormalize)
def _running_normalize(b: Builder, op: Op) -> str:
    """Evaluation BatchNorm, (x - running_mean) / sqrt(running_var + eps) per channel:
    BatchNormalization with a scale of ones and a shift of zeros (the layer's weight and
    bias follow as Mul and Add)."""
    x, mean, var, eps = op.args[:4]
    ones = b.constant(np.ones(x.shape[1], x.dtype), "ones")
    zeros = b.constant(np.zeros(x.shape[1], x.dtype), "zeros")
    inputs = [b.value(x), ones, zeros, b.value(mean), b.value(var)]
    return b.node("BatchNormalization", inputs, epsilon=float(eps))


# --- convolution and pooling --------------------------------------------------------------


def _onnx_pads(padding: tuple[tuple[int, int], ...]) -> list[int]:
    """glassnet's ((before, after) per dim) as ONNX's [all befores, then all afters]."""
    return [lo for lo, _ in padding] + [hi for _, hi in padding]


@emits(conv.Conv)
def _conv(b: Builder, op: Op) -> str:
    x, w, bias = op.args[:3]
    k = op.kwargs
    inputs = [b.value(x), b.value(w)] + ([b.value(bias)] if bias is not None else [])
    return b.node(
        "Conv",
        inputs,
        kernel_shape=list(w.shape[2:]),
        strides=list(k["stride"]),
        pads=_onnx_pads(k["padding"]),
        dilations=list(k["dilation"]),
        group=int(k["groups"]),
    )


@emits(pool.MaxPool)
def _max_pool(b: Builder, op: Op) -> str:
    k = op.kwargs
    return b.node(
        "MaxPool",
        [b.value(op.args[0])],
        kernel_shape=list(k["kernel"]),
        strides=list(k["stride"]),
        pads=_onnx_pads(k["padding"]),
        dilations=list(k["dilation"]),
    )


@emits(pool.AvgPool)
def _avg_pool(b: Builder, op: Op) -> str:
    x, k = op.args[0], op.kwargs
    divisor = k["divisor_override"]
    y = b.node(
        "AveragePool",
        [b.value(x)],
        kernel_shape=list(k["kernel"]),
        strides=list(k["stride"]),
        pads=_onnx_pads(k["padding"]),
        count_include_pad=int(k["count_include_pad"] or divisor is not None),
    )
    if divisor is None:
        return y
    # ONNX has no divisor_override: the window's sum is the kernel-area mean times the area
    scale = math.prod(k["kernel"]) / divisor
    return b.node("Mul", [y, b.constant(np.asarray(scale, x.dtype))])
