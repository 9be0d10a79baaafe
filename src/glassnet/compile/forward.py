"""``gn.compile(model)``: the forward pass as straight-line NumPy, and its standalone export.

``predict = gn.compile(model)`` traces ``model(x)`` once per input shape (without a graph,
as under ``gn.no_grad()``) and from then on runs the ops' forward lines into arrays made
once; ``predict(x)`` returns a new tensor each call. ``export_numpy`` writes the same code
as a file that needs only NumPy, with the weights in an ``.npz`` beside it, for any batch
size: the forward pass is written for batches of 2 and of 3, and every number that differs
between the two is the batch size (or a multiple of it) and becomes ``n``.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.autograd.anomaly import _anomaly
from glassnet.autograd.grad_mode import is_grad_enabled, no_grad
from glassnet.autograd.tensor import Tensor
from glassnet.compile.emit import Emitter, Var
from glassnet.compile.step import (
    Built,
    Compiled,
    _plain,
    bind_model,
    emit_forward,
    load,
    module_numbers,
    module_text,
)
from glassnet.compile.trace import Traced, trace_forward, unsupported
from glassnet.nn.module import changes as module_changes


def build_forward(model, traced: Traced, x: np.ndarray) -> tuple[Emitter, str]:
    """The forward pass's lines (into ``e``) and the module text around them."""
    e = Emitter()
    x_var = Var(e.exact("x"), x.shape, x.dtype, False)
    _, values = bind_model(e, model, traced, x_var)
    emit_forward(e, traced, values)
    out = values[id(traced.output)]
    e.line(f"return {out}.copy()  # the caller keeps it; the next call rewrites {out}")
    doc = [
        "The forward pass, written by glassnet.compile.",
        "",
        f"Model: {_plain(type(model).__name__)}. Input x {x.shape} {x.dtype}. Every array",
        "was made once, when the pass was traced; each line writes into one of them.",
    ]
    return e, module_text(e, doc, "make_forward", "forward(x)")


class CompiledForward(Compiled):
    """``y = predict(x)``: the model's forward pass, compiled per input shape (see the
    module docstring). ``predict.source`` is the code of the last shape compiled."""

    _usage = "call predict(x) once"

    def __init__(self, model) -> None:
        super().__init__(model)
        self._watch: dict[tuple, list] = {}  # key -> the numbers kept on the modules
        self._warned = False

    def __call__(self, x: Any, *more: Any) -> Tensor:
        if more:
            raise TypeError(
                "gn.compile(model) compiled the forward pass alone: call predict(x). To "
                "compile a training step, pass the loss and the optimizer: "
                "step = gn.compile(model, loss_fn, optimizer), then loss = step(x, y)"
            )
        xa = x.data if type(x) is Tensor else np.asarray(x)
        fast = self._fast  # the last call's (shape, dtype, module changes) and its code
        if (
            fast is not None
            and fast[0] == (xa.shape, xa.dtype, module_changes[0])
            and not _anomaly.enabled
            and fast[1].bound()
        ):
            return Tensor._make(fast[1].fn(xa))
        self._fast = None
        key = (xa.shape, xa.dtype, tuple(m.training for m in self._modules))
        built = self._cache.get(key)
        stale = built is None or (isinstance(built, Built) and not built.bound())
        if stale or not all(getattr(m, k) == v for m, k, v in self._watch[key]):
            return self._trace(xa, key)
        if isinstance(built, str) or _anomaly.enabled or self._hooked():
            return self._eager(xa)
        # nothing about the modules changed since this check: the next call may skip it
        self._fast = ((xa.shape, xa.dtype, module_changes[0]), built)
        return Tensor._make(built.fn(xa))

    def _eager(self, xa: np.ndarray) -> Tensor:
        with no_grad():
            return self.model(Tensor._make(xa))

    def _trace(self, xa: np.ndarray, key: tuple) -> Tensor:
        if self.model.training and is_grad_enabled() and not self._warned:
            self._warned = True  # PyTorch's torch.compile(model) trains; this one does not
            warnings.warn(
                "gn.compile(model) runs the forward pass without recording a graph "
                "(inference): its outputs have no gradient. To train, compile the whole "
                "step: step = gn.compile(model, loss_fn, optimizer); loss = step(x, y)",
                stacklevel=3,
            )
        self._watch[key] = module_numbers(self._modules)
        if unsupported(self.model):
            return self._eager(xa)
        traced = trace_forward(self.model, Tensor._make(xa))
        if traced.why_not:
            warnings.warn(f"gn.compile: this forward runs eagerly: {traced.why_not}", stacklevel=3)
            self._cache[key] = self._last = traced.why_not
        else:
            e, source = build_forward(self.model, traced, xa)
            fn = load(source, e.arrays, "make_forward")
            params = list(self.model.parameters()) + list(self.model.buffers())
            self._cache[key] = self._last = Built(source, fn, params, [], None)
        return traced.output


class ExportError(ValueError):
    """The model's forward pass cannot be written as NumPy alone (the message says why)."""


def export_numpy(model, sample_shape: tuple[int, ...], directory: str | Path) -> Path:
    """Write ``model.py`` (the forward pass as NumPy code, any batch size) and
    ``weights.npz`` (its arrays) into ``directory``; returns the path of ``model.py``.
    The pass is the model's in eval mode (it is switched for the export, then back).

    The file needs only NumPy: ``import model; forward = model.load("weights.npz");
    logits = forward(x)`` for x of shape (batch, *sample_shape), float32.

    Raises:
        ExportError: an op of the model has no NumPy template yet (it would need glassnet
            to run), or the forward pass cannot be compiled (the reason is named).
    """
    if isinstance(sample_shape, (int, np.integer)):
        sample_shape = (int(sample_shape),)
    if not isinstance(sample_shape, (tuple, list)) or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in sample_shape
    ):
        array = hasattr(sample_shape, "shape")
        got = f"an array of shape {sample_shape.shape}" if array else repr(sample_shape)
        raise TypeError(
            f"export_numpy: sample_shape is one sample's shape without the batch, a tuple of "
            f"positive ints such as (784,) or (1, 28, 28); got {got}"
            + ("; pass x.shape[1:] for a batch x" if array else "")
        )
    sample_shape = tuple(int(d) for d in sample_shape)
    texts, arrays = [], None
    was_training = model.training
    model.eval()  # the exported pass is inference: dropout off, BatchNorm's running statistics
    try:
        for n in (2, 3):
            x = np.zeros((n, *sample_shape), dtype=np.float32)
            traced = trace_forward(model, Tensor._make(x))
            if traced.why_not:
                raise ExportError(f"export --format numpy: {traced.why_not}")
            e, _ = build_forward(model, traced, x)
            texts.append(_standalone(e, model, sample_shape))
            weights = _weights(e)
            if arrays is not None and {k: v.shape for k, v in arrays.items()} != {
                k: v.shape for k, v in weights.items()
            }:  # a constant the forward pass made with the batch in its shape
                raise ExportError(
                    "export --format numpy: the forward pass makes a constant whose shape "
                    "follows the batch size and is not all zeros; export to ONNX instead "
                    "(glassnet export DIR --onnx FILE)"
                )
            arrays = arrays or weights
    finally:
        model.train(was_training)
    source = _with_batch(*texts)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "weights.npz", **arrays)
    path = folder / "model.py"
    path.write_text(source)
    return path


def _weights(e: Emitter) -> dict[str, np.ndarray]:
    """The arrays the code reads that it does not make: the model's parameters and kept
    constants (the rest are its own work arrays, made in the file)."""
    return {
        name: value
        for name, value in e.arrays.items()
        if name not in e.specs and not _zeros(name, value)
    }


def _zeros(name: str, value) -> bool:
    """A constant the forward made of zeros (a recurrent layer's initial state, whose
    shape holds the batch size): the file makes it, np.zeros, for each batch size."""
    return (
        name.startswith("constant")
        and isinstance(value, np.ndarray)
        and value.ndim > 0
        and not np.any(value)
    )


def _standalone(e: Emitter, model, sample_shape: tuple[int, ...]) -> str:
    """The forward pass as a file needing only NumPy, for the batch size it was traced at."""
    for name, value in e.arrays.items():
        if not isinstance(value, np.ndarray):
            raise ExportError(
                f"export --format numpy: the forward pass calls {name!r}, an op with no "
                "NumPy template yet, so the file would need glassnet; export to ONNX "
                "instead (glassnet export DIR --onnx FILE)"
            )
    used = set(re.findall(r"\w+", "\n".join(line for line in e.lines if line)))
    lines = [
        f'"""The forward pass of {_plain(type(model).__name__)}, written by glassnet',
        "(glassnet export --format numpy). It needs only NumPy:",
        "",
        "    import model",
        '    forward = model.load("weights.npz")',
        f"    logits = forward(x)  # x: (batch, {', '.join(map(str, sample_shape))}) float32",
        '"""',
        "",
        "import numpy as np",
        "",
        "",
        "def make_forward(arrays):",
        '    """Bind the code to the weights, and make its work arrays."""',
    ]
    for name, value in e.arrays.items():
        if name not in used:
            continue
        if name in e.specs:
            shape, dtype, order = e.specs[name]
            lines.append(f"    {name} = np.empty({shape}, dtype=np.{dtype}, order={order!r})")
        elif _zeros(name, value):
            lines.append(f"    {name} = np.zeros({value.shape}, dtype=np.{value.dtype})")
        else:
            lines.append(f'    {name} = arrays["{name}"]  # {value.shape} {value.dtype}')
    lines += ["", "    def forward(x):"]
    lines += ["    " + line if line else "" for line in e.lines]
    lines += [
        "",
        "    return forward",
        "",
        "",
        "def load(path):",
        '    """The forward pass with the weights in ``path`` (the .npz written beside this',
        '    file); it takes any batch size, making its work arrays once per size."""',
        "    with np.load(path, allow_pickle=False) as f:",
        "        arrays = {key: f[key] for key in f.files}",
        "    made = {}",
        "",
        "    def forward(x):",
        "        x = np.asarray(x, dtype=np.float32)",
        f"        if x.shape[1:] != {tuple(sample_shape)}:",
        "            raise ValueError(",
        f'                f"expected x of shape (batch, {", ".join(map(str, sample_shape))}), '
        'got {x.shape}"',
        "            )",
        "        if x.shape[0] not in made:",
        "            made[x.shape[0]] = make_forward(arrays, x.shape[0])",
        "        return made[x.shape[0]](x)",
        "",
        "    return forward",
        "",
    ]
    return "\n".join(lines)


def _with_batch(at_2: str, at_3: str) -> str:
    """One text from the texts written at batch 2 and 3: each number that differs is
    k n + c (the batch size n times k, plus c), written so; the rest is the same text."""
    parts_2, parts_3 = re.split(r"(\d+)", at_2), re.split(r"(\d+)", at_3)
    if len(parts_2) != len(parts_3):
        raise ExportError("export --format numpy: the code differs by batch size beyond shapes")
    out = []
    for i, (a, b) in enumerate(zip(parts_2, parts_3)):
        if a == b:
            out.append(a)
        elif i % 2 == 1:  # a number that grows with the batch: a = 2k + c, b = 3k + c
            k = int(b) - int(a)
            c = int(a) - 2 * k
            expr = "n" if k == 1 else f"{k} * n"
            out.append(expr if c == 0 else f"{expr} + {c}" if c > 0 else f"{expr} - {-c}")
        else:
            raise ExportError("export --format numpy: the code differs by batch size")
    text = "".join(out)
    return text.replace("def make_forward(arrays):", "def make_forward(arrays, n):", 1)
