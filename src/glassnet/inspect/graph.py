"""``gn.inspect.draw_graph``: the computation graph behind a tensor, as Graphviz DOT."""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

from glassnet.autograd.function import Node
from glassnet.autograd.tensor import Tensor


def _label(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(tensor: Tensor, model: Any = None) -> str:
    """DOT text of the graph that produced ``tensor``: one box per op (with its output
    shape), one ellipse per leaf (parameters named by their path in ``model``, if given),
    arrows in the direction the forward pass ran."""
    names = {id(p): name for name, p in model.named_parameters()} if model is not None else {}
    lines = ["digraph glassnet {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    seen: set[int] = set()
    stack: list[Any] = []
    root = tensor.grad_fn if tensor.grad_fn is not None else tensor
    stack.append(root)
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Node):
            lines.append(
                f'  n{id(item)} [shape=box, label="{_label(item.function.__name__)}\\n'
                f'{item.output_shape}"];'
            )
            for edge in item.edges:
                if edge is None:
                    continue
                lines.append(f"  n{id(edge)} -> n{id(item)};")
                stack.append(edge)
        else:
            name = names.get(id(item), "input" if item.grad_fn is None else "tensor")
            lines.append(f'  n{id(item)} [shape=ellipse, label="{_label(name)}\\n{item.shape}"];')
    lines.append("}")
    return "\n".join(lines)


def draw_graph(tensor: Tensor, path: str | Path | None = None, model: Any = None) -> str:
    """Return the DOT text of ``tensor``'s graph; with ``path``, also write it.

    A path ending in .svg, .png or .pdf is rendered by Graphviz's ``dot`` program. When
    ``dot`` is not installed, the DOT text goes to the same path with the suffix .dot, and a
    ``UserWarning`` says so in one line with the command that renders it later
    (``dot -Tsvg graph.dot -o graph.svg``). Any other suffix writes the DOT text to
    ``path`` with the suffix .dot.
    """
    dot = to_dot(tensor, model)
    if path is None:
        return dot
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    rendered = fmt in ("svg", "png", "pdf")
    if rendered and shutil.which("dot"):
        subprocess.run(["dot", f"-T{fmt}", "-o", str(path)], input=dot.encode(), check=True)
        return dot
    dot_path = path.with_suffix(".dot")
    dot_path.write_text(dot, encoding="utf-8")
    if rendered:
        warnings.warn(
            f"draw_graph: Graphviz's dot program is not installed, so the graph was written "
            f"as {dot_path} instead of {path}; install Graphviz (apt install graphviz, brew "
            f"install graphviz) and render it with: dot -T{fmt} {dot_path} -o {path}",
            stacklevel=2,
        )
    return dot
