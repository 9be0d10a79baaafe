"""``gn.explain(op)``: an op's formula and derivative, and its forward and backward source."""

from __future__ import annotations

import inspect as pyinspect
import textwrap

from glassnet.nn.functional import EmbeddingLookup
from glassnet.ops import activation, elementwise, linalg, loss, norm, reduce, shape

# name users call -> the Function that implements it
OPS = {
    "add": elementwise.Add, "sub": elementwise.Sub, "mul": elementwise.Mul,
    "div": elementwise.Div, "neg": elementwise.Neg, "pow": elementwise.Pow,
    "exp": elementwise.Exp, "log": elementwise.Log, "sqrt": elementwise.Sqrt,
    "abs": elementwise.Abs, "clamp": elementwise.Clamp, "maximum": elementwise.Maximum,
    "minimum": elementwise.Minimum, "where": elementwise.Where,
    "sum": reduce.Sum, "mean": reduce.Mean, "amax": reduce.AMax, "amin": reduce.AMin,
    "var": reduce.Var, "std": reduce.Std, "logsumexp": reduce.LogSumExp,
    "reshape": shape.Reshape, "transpose": shape.Transpose, "permute": shape.Permute,
    "expand": shape.Expand, "getitem": shape.GetItem, "cat": shape.Cat, "stack": shape.Stack,
    "matmul": linalg.MatMul, "linear": linalg.Linear,
    "relu": activation.ReLU, "leaky_relu": activation.LeakyReLU, "elu": activation.ELU,
    "gelu": activation.GELU, "silu": activation.SiLU, "sigmoid": activation.Sigmoid,
    "tanh": activation.Tanh, "softplus": activation.Softplus, "softmax": activation.Softmax,
    "log_softmax": activation.LogSoftmax,
    "cross_entropy": loss.CrossEntropy, "nll_loss": loss.NLLLoss,
    "binary_cross_entropy": loss.BinaryCrossEntropy,
    "binary_cross_entropy_with_logits": loss.BinaryCrossEntropyWithLogits,
    "normalize": norm.Normalize, "embedding": EmbeddingLookup,
}  # fmt: skip


def _function(op: str) -> type:
    key = op.strip().lower()
    if key not in OPS:
        raise ValueError(f"explain: unknown op {op!r}; known ops: {', '.join(sorted(OPS))}")
    return OPS[key]


def summary(op: str) -> str:
    """The first line of the op's docstring: its formula and, usually, its derivative."""
    doc = pyinspect.getdoc(_function(op)) or ""
    return doc.splitlines()[0] if doc else ""


def explain(op: str) -> str:
    """The op's docstring (formula, derivative, why) and the source of its forward and
    backward, as one text to print: ``print(gn.explain("softmax"))``."""
    fn = _function(op)
    parts = [
        f"{op} is computed by {fn.__module__}.{fn.__name__}",
        "",
        textwrap.indent(pyinspect.getdoc(fn) or "(no docstring)", "    "),
        "",
        "forward and backward, as they run:",
        "",
    ]
    for method in ("forward", "backward"):
        parts.append(textwrap.dedent(pyinspect.getsource(getattr(fn, method))).rstrip())
        parts.append("")
    return "\n".join(parts)


def list_ops() -> str:
    """One line per op: its name and formula."""
    width = max(len(name) for name in OPS)
    return "\n".join(f"{name:<{width}}  {summary(name)}" for name in sorted(OPS))
