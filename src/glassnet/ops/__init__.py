"""Every differentiable op: one ``Function`` per op, grouped by family, with its derivative."""

from glassnet.ops import activation, elementwise, linalg, methods, reduce, shape
from glassnet.ops.elementwise import unbroadcast

__all__ = ["activation", "elementwise", "linalg", "methods", "reduce", "shape", "unbroadcast"]
