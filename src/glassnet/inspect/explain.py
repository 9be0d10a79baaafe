"""``gn.explain(op)``: an op's formula and derivative, and its forward and backward source."""

from __future__ import annotations

import inspect as pyinspect
import textwrap

from glassnet.ops.registry import OPS as _REGISTRY

# name users call -> the Function that implements it (from the one op registry)
OPS = {name: op.function for name, op in _REGISTRY.items()}

# everyday names of a family -> the registered op whose Function holds its derivation
ALIASES: dict[str, str] = {
    "conv": "conv2d",
    "convolution": "conv2d",
    "conv_transpose": "conv_transpose2d",
    "rnn": "rnn_tanh_cell",
    "gru": "gru_cell",
    "lstm": "lstm_cell",
    "attention": "scaled_dot_product_attention",
}


def resolve(op: str) -> str | None:
    """The registered name ``op`` stands for (itself or an alias), or None if unknown."""
    key = op.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in OPS else None


def _function(op: str) -> type:
    key = resolve(op)
    if key is None:
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


def ops_markdown() -> str:
    """The op table of ``docs/ops.md``: name, Function and formula of every registered op."""
    rows = ["| op | Function | formula and derivative |", "|---|---|---|"]
    for name, fn in sorted(OPS.items()):
        formula = summary(name).replace("|", "\\|")  # a literal | would split the cell
        rows.append(f"| `{name}` | `{fn.__module__}.{fn.__name__}` | {formula} |")
    return "\n".join(rows) + "\n"
