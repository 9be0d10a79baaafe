"""``gn.onnx.export(model, example_input, path)``: models out to ONNX Runtime and friends.

Needs the ``onnx`` extra (``pip install 'glassnet[onnx]'``); see
``glassnet.io.onnx_export`` for how the trace becomes a graph.
"""

from glassnet.io.onnx_export import UnsupportedOpError, export

__all__ = ["UnsupportedOpError", "export"]
