"""``gn.onnx.export(model, example_input, path)``: a model out to ONNX Runtime and friends.

The one home of ONNX export (``gn.onnx`` is this module; ``glassnet export --onnx`` calls
it). Needs the ``onnx`` extra: ``pip install 'glassnet[onnx]'``.

The model runs once on an example input while every op is recorded (``Function.tracers``);
each recorded op becomes one or a few ONNX nodes, parameters become initializers named by
their place in the model (``0.weight``), and other constant arrays become initializers
too. The batch dimension is symbolic by default, so the file accepts any batch size.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from glassnet.autograd import function
from glassnet.autograd.grad_mode import no_grad
from glassnet.autograd.tensor import Tensor
from glassnet.ops import activation, elementwise, linalg, norm, shape
from glassnet.ops.embedding import EmbeddingLookup

__all__ = ["UnsupportedOpError", "export"]


class UnsupportedOpError(ValueError):
    """The model uses an op that the ONNX exporter does not translate."""


def _require_onnx():
    try:
        import onnx
        from onnx import helper, numpy_helper
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'glassnet[onnx]'"
        ) from None
    return onnx, helper, numpy_helper


class _Recorder:
    """Collects (function, args, output, module path) for every op of one forward pass."""

    def __init__(self, model: Any) -> None:
        self.ops: list[tuple[type, tuple, Tensor, str]] = []
        self.path: list[str] = []
        self.handles = []
        for name, module in model.named_modules():
            self.handles.append(module.register_forward_pre_hook(self._enter(name)))
            self.handles.append(module.register_forward_hook(self._leave))

    def _enter(self, name: str):
        def hook(module: Any, inputs: Any) -> None:
            self.path.append(name)

        return hook

    def _leave(self, module: Any, inputs: Any, output: Any) -> None:
        self.path.pop()

    def __call__(self, fn: type, args: tuple, kwargs: dict, out: Tensor) -> None:
        where = next((p for p in reversed(self.path) if p), "the model")
        self.ops.append((fn, args, kwargs, out, where))

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


class _Builder:
    """Turns recorded ops into ONNX nodes and initializers."""

    def __init__(self, helper: Any, numpy_helper: Any, names: dict[int, str]) -> None:
        self.helper, self.numpy_helper = helper, numpy_helper
        self.names = names  # id(Tensor or ndarray) -> ONNX value name
        self.nodes: list = []
        self.initializers: list = []
        self.counter = 0

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


def _emit(b: _Builder, fn: type, args: tuple, kwargs: dict, out: Tensor, where: str) -> str:
    """ONNX nodes for one recorded op; returns the name of its output."""
    x = args[0]
    if fn is linalg.Linear:
        w, bias = args[1], args[2]
        if x.ndim == 2:
            inputs = [b.value(x), b.value(w)] + ([b.value(bias)] if bias is not None else [])
            return b.node("Gemm", inputs, transB=1)
        y = b.node("MatMul", [b.value(x), b.node("Transpose", [b.value(w)], perm=[1, 0])])
        return b.node("Add", [y, b.value(bias)]) if bias is not None else y
    if fn is linalg.MatMul:
        return b.node("MatMul", [b.value(x), b.value(args[1])])
    simple = {
        activation.ReLU: "Relu",
        activation.Sigmoid: "Sigmoid",
        activation.Tanh: "Tanh",
        elementwise.Exp: "Exp",
        elementwise.Log: "Log",
        elementwise.Sqrt: "Sqrt",
        elementwise.Abs: "Abs",
        elementwise.Neg: "Neg",
    }
    if fn in simple:
        return b.node(simple[fn], [b.value(x)])
    binary = {
        elementwise.Add: "Add",
        elementwise.Sub: "Sub",
        elementwise.Mul: "Mul",
        elementwise.Div: "Div",
        elementwise.Pow: "Pow",
    }
    if fn in binary:
        return b.node(binary[fn], [b.value(args[0]), b.value(args[1])])
    if fn is activation.LeakyReLU:
        return b.node("LeakyRelu", [b.value(x)], alpha=float(args[1]))
    if fn is activation.ELU:
        return b.node("Elu", [b.value(x)], alpha=float(args[1]))
    if fn is activation.SiLU:
        xv = b.value(x)
        return b.node("Mul", [xv, b.node("Sigmoid", [xv])])
    if fn is activation.Softplus:
        beta, threshold = float(args[1]), float(args[2])
        xv = b.value(x)
        z = b.node("Mul", [xv, b.constant(np.float32(beta))])
        smooth = b.node("Div", [b.node("Softplus", [z]), b.constant(np.float32(beta))])
        linear = b.node("Greater", [z, b.constant(np.float32(threshold))])
        return b.node("Where", [linear, xv, smooth])
    if fn is activation.GELU:
        xv = b.value(x)
        half = b.constant(np.asarray(0.5, x.dtype))
        one = b.constant(np.asarray(1.0, x.dtype))
        if args[1] == "tanh":
            cube = b.node("Mul", [xv, b.node("Mul", [xv, xv])])
            inner = b.node(
                "Add", [xv, b.node("Mul", [cube, b.constant(np.asarray(0.044715, x.dtype))])]
            )
            scaled = b.node("Mul", [inner, b.constant(np.asarray(math.sqrt(2 / math.pi), x.dtype))])
            cdf = b.node("Add", [one, b.node("Tanh", [scaled])])
        else:
            cdf = b.node(
                "Add",
                [
                    one,
                    b.node(
                        "Erf", [b.node("Div", [xv, b.constant(np.asarray(math.sqrt(2), x.dtype))])]
                    ),
                ],
            )
        return b.node("Mul", [b.node("Mul", [xv, cdf]), half])
    if fn is activation.Softmax:
        return b.node("Softmax", [b.value(x)], axis=int(args[1]))
    if fn is activation.LogSoftmax:
        return b.node("LogSoftmax", [b.value(x)], axis=int(args[1]))
    if fn is shape.Reshape:
        target = list(out.shape)
        if x.ndim and target and x.shape[0] == target[0]:
            target[0] = 0  # keep the (symbolic) batch size: 0 copies the input's dimension
        return b.node("Reshape", [b.value(x), b.constant(np.asarray(target, np.int64), "shape")])
    if fn is shape.Transpose:
        perm = list(range(x.ndim))
        perm[args[1]], perm[args[2]] = perm[args[2]], perm[args[1]]
        return b.node("Transpose", [b.value(x)], perm=perm)
    if fn is shape.Permute:
        return b.node("Transpose", [b.value(x)], perm=list(args[1]))
    if fn is norm.Normalize:
        axes, eps = tuple(args[1]), float(args[2])
        trailing = tuple(range(x.ndim - len(axes), x.ndim))
        if axes != trailing:
            raise UnsupportedOpError(
                f"ONNX export: {where} normalises over dims {axes} (batch statistics); only "
                "normalisation over the last dims (LayerNorm, or BatchNorm1d in eval mode) is "
                "exported; call model.eval() first"
            )
        ones = b.constant(np.ones(x.shape[axes[0] :], x.dtype), "ones")
        zeros = b.constant(np.zeros(x.shape[axes[0] :], x.dtype), "zeros")
        return b.node("LayerNormalization", [b.value(x), ones, zeros], axis=axes[0], epsilon=eps)
    if fn is EmbeddingLookup:
        indices = b.value(args[1])
        return b.node("Gather", [b.value(args[0]), indices], axis=0)
    if fn is elementwise.Cast:
        onnx_type = b.helper.np_dtype_to_tensor_dtype(np.dtype(args[1]))
        return b.node("Cast", [b.value(x)], to=onnx_type)
    raise UnsupportedOpError(
        f"ONNX export: {where} uses {fn.__name__}, which the exporter does not translate; "
        "supported are Linear, matmul, the activations, Softmax/LogSoftmax, Flatten/reshape, "
        "LayerNorm, BatchNorm1d (eval), Embedding, Dropout (eval) and elementwise arithmetic"
    )


def export(
    model: Any,
    example_input: Any,
    path: str | os.PathLike,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_batch: bool = True,
    opset: int = 17,
) -> Any:
    """Write ``model`` as an ONNX file, traced on ``example_input``; returns the ModelProto.

    The model is put in eval mode for the trace (dropout off, batch norm on running
    statistics) and restored after. The file passes ``onnx.checker.check_model`` with
    ``full_check=True`` before it is written.

    Raises:
        UnsupportedOpError: naming the op and the layer that uses it.
        ImportError: the ``onnx`` package is missing (``pip install 'glassnet[onnx]'``).
    """
    onnx, helper, numpy_helper = _require_onnx()
    x = example_input if isinstance(example_input, Tensor) else Tensor(example_input)
    input_name = (input_names or ["input"])[0]
    output_name = (output_names or ["output"])[0]
    names: dict[int, str] = {id(x): input_name, id(x.data): input_name}
    params = list(model.named_parameters()) + list(model.named_buffers())
    builder = _Builder(helper, numpy_helper, names)
    for name, p in params:
        names[id(p)] = name
        builder.initializers.append(numpy_helper.from_array(np.asarray(p.data), name))
    recorder = _Recorder(model)
    was_training = model.training
    model.eval()
    function.tracers.append(recorder)
    try:
        with no_grad():
            output = model(x)
    finally:
        function.tracers.remove(recorder)
        recorder.close()
        model.train(was_training)
    for fn, args, kwargs, out, where in recorder.ops:
        names[id(out)] = _emit(builder, fn, args, kwargs, out, where)
    if id(output) not in names:
        raise UnsupportedOpError("ONNX export: the model's output does not depend on any traced op")
    builder.node("Identity", [names[id(output)]], output_name)

    def value_info(name: str, array: np.ndarray):
        dims: list = list(array.shape)
        if dynamic_batch and dims:
            dims[0] = "batch"
        return helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(array.dtype), dims
        )

    used = {i for n in builder.nodes for i in n.input}
    initializers = [t for t in builder.initializers if t.name in used]
    graph = helper.make_graph(
        builder.nodes,
        "glassnet",
        [value_info(input_name, x.data)],
        [value_info(output_name, output.data)],
        initializers,
    )
    proto = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="glassnet"
    )
    proto.ir_version = min(proto.ir_version, 9)  # readable by current ONNX Runtime releases
    onnx.checker.check_model(proto, full_check=True)
    from glassnet.io.atomic import atomic_write_bytes

    atomic_write_bytes(path, proto.SerializeToString())
    return proto
