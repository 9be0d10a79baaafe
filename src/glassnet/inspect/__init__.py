"""Tools that show what backprop does: ``trace``, ``draw_graph``, ``Monitor``,
``detect_anomaly``, ``explain`` and the per-op gradient checks."""

from glassnet.autograd.anomaly import detect_anomaly
from glassnet.inspect.explain import OPS, explain, list_ops
from glassnet.inspect.graph import draw_graph, to_dot
from glassnet.inspect.monitor import Monitor
from glassnet.inspect.trace import Step, trace

__all__ = [
    "OPS",
    "Monitor",
    "Step",
    "detect_anomaly",
    "draw_graph",
    "explain",
    "list_ops",
    "to_dot",
    "trace",
]
