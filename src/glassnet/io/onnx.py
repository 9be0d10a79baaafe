"""``gn.onnx.export(model, example_input, path)``: a model out to ONNX Runtime and friends.

The one home of ONNX export (``gn.onnx`` is this module; ``glassnet export --onnx`` calls
it). Needs the ``onnx`` extra: ``pip install 'glassnet[onnx]'``.

The model runs once on an example input while every op is recorded (``Function.tracers``);
each recorded op becomes one or a few ONNX nodes (``glassnet.io.onnx_ops``: one emitter per
op, in a table a new op joins with ``@emits(TheirFunction)``), parameters become
initializers named by their place in the model (``0.weight``), and other constant arrays
become initializers too. The batch dimension is symbolic by default, so the file accepts
any batch size.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from glassnet.autograd import function
from glassnet.autograd.grad_mode import no_grad
from glassnet.autograd.tensor import Tensor
from glassnet.io import onnx_sequence  # noqa: F401 - registers the recurrent and attention emitters
from glassnet.io.onnx_ops import EMITTERS, Builder, Op, UnsupportedOpError, emit, emits

__all__ = ["EMITTERS", "UnsupportedOpError", "emits", "export"]


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
        self.ops: list[Op] = []
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
        self.ops.append(Op(fn, args, kwargs, out, where))

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


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
    builder = Builder(helper, numpy_helper, names)
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
    for op in recorder.ops:
        names[id(op.out)] = emit(builder, op)
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
