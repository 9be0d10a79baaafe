"""Module backward hooks, built as PyTorch's ``BackwardHook`` builds them: from tensor hooks
placed around one call of the module.

``hook(module, grad_input, grad_output)`` must run once the gradients with respect to every
positional input of a call are known, and may replace them. The engine hooks tensors, not
modules, so each call is wrapped in ops that change no value:

    inputs -> pack: every input that requires grad, flattened and joined into one tensor
           -> unpack: each input back as a slice of it -> module.forward -> outputs
           -> pack -> unpack -> what the caller gets

Every unpacked slice sends its gradient to the packed tensor, and the engine sums them
before that tensor's hook runs; so the hook on the packed inputs sees the gradient of every
input at once, which is the moment the module's hook is due, and what it returns goes on
down the graph. The hook on the packed outputs runs earlier and records ``grad_output``.
The wrapping is only built when a module has backward hooks and gradients are recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.ops.shape import Cat, GetItem, Reshape


def _pack(tensors: list[Tensor], where: str) -> tuple[Tensor, list[tuple[int, int]]]:
    """One tensor holding every element of ``tensors``, and each one's (start, stop) in it."""
    dtypes = sorted({str(t.dtype) for t in tensors})
    if len(dtypes) > 1:
        raise TypeError(
            f"register_full_backward_hook: the {where} that require grad have different "
            f"dtypes ({', '.join(dtypes)}); give them one dtype (.float() or .double())"
        )
    bounds, start = [], 0
    for t in tensors:
        bounds.append((start, start + t.data.size))
        start += t.data.size
    flat = [Reshape.apply(t, (-1,)) for t in tensors]
    return Cat.apply(*flat, dim=0), bounds


def _unpack(packed: Tensor, bounds: list[tuple[int, int]], like: list[Tensor]) -> list[Tensor]:
    return [
        Reshape.apply(GetItem.apply(packed, slice(a, b)), t.shape)
        for (a, b), t in zip(bounds, like)
    ]


def _split(grad: np.ndarray, bounds: list[tuple[int, int]], like: list[Tensor]) -> list[Tensor]:
    return [Tensor._make(grad[a:b].reshape(t.shape)) for (a, b), t in zip(bounds, like)]


class BackwardHookCall:
    """The hooks of one call of ``module``: wraps its inputs, then its outputs."""

    def __init__(self, module: Any, hooks: list[Callable]) -> None:
        self.module, self.hooks = module, hooks
        self.n_inputs = 0
        self.input_positions: list[int] = []
        self.grad_output: tuple[Tensor | None, ...] | None = None

    def setup_inputs(self, args: tuple) -> tuple:
        """The positional inputs the module's forward should see instead of ``args``."""
        self.n_inputs = len(args)
        self.input_positions = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        ]
        if not self.input_positions:
            return args
        inputs = [args[i] for i in self.input_positions]
        packed, bounds = _pack(inputs, f"inputs of {type(self.module).__name__}")
        # PyTorch gives zeros for a tensor input that needs no gradient (None for the rest)
        constant = {
            i: a for i, a in enumerate(args) if isinstance(a, Tensor) and not a.requires_grad
        }

        def on_grad_input(grad: Tensor) -> np.ndarray:
            grads = _split(grad.data, bounds, inputs)
            grad_input: list[Tensor | None] = [None] * self.n_inputs
            for position, a in constant.items():
                grad_input[position] = Tensor._make(np.zeros(a.shape, dtype=a.dtype))
            for position, g in zip(self.input_positions, grads):
                grad_input[position] = g
            result = self._run_user_hooks(tuple(grad_input))
            new = np.array(grad.data)  # a fresh array: the engine's may be held elsewhere
            for (a, b), position, t in zip(bounds, self.input_positions, inputs):
                g = result[position]
                new[a:b] = 0 if g is None else _array(g, t, position, self.module).reshape(-1)
            return new

        packed.register_hook(on_grad_input)
        unpacked = iter(_unpack(packed, bounds, inputs))
        return tuple(next(unpacked) if i in self.input_positions else a for i, a in enumerate(args))

    def setup_outputs(self, output: Any) -> Any:
        """What the caller gets instead of ``output`` (a Tensor, or a tuple or list of them)."""
        many = isinstance(output, (tuple, list))
        items = list(output) if many else [output]
        positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        tensors = [i for i, o in enumerate(items) if isinstance(o, Tensor)]
        if not positions:
            return output
        outputs = [items[i] for i in positions]
        packed, bounds = _pack(outputs, f"outputs of {type(self.module).__name__}")

        def on_grad_output(grad: Tensor) -> None:
            by_position = dict(zip(positions, _split(grad.data, bounds, outputs)))
            self.grad_output = tuple(by_position.get(i) for i in tensors)
            if not self.input_positions:  # nothing below to wait for: the hook runs now
                result = self._run_user_hooks((None,) * self.n_inputs)
                if any(g is not None for g in result):
                    raise RuntimeError(
                        f"backward hook of {type(self.module).__name__}: no input of this "
                        "call requires grad, so the hook must return None (or None for every "
                        "gradient), as in PyTorch"
                    )

        packed.register_hook(on_grad_output)
        for i, t in zip(positions, _unpack(packed, bounds, outputs)):
            items[i] = t
        return type(output)(items) if many else items[0]

    def _run_user_hooks(self, grad_input: tuple) -> tuple:
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(
                    f"backward hook of {type(self.module).__name__} returned "
                    f"{len(result)} gradient(s), expected {len(grad_input)} (one per "
                    "positional input, None where there is none)"
                )
            grad_input = result
        return grad_input


def _array(g: Any, like: Tensor, position: int, module: Any) -> np.ndarray:
    array = g.data if isinstance(g, Tensor) else np.asarray(g)
    if array.shape != like.shape:
        raise RuntimeError(
            f"backward hook of {type(module).__name__} returned a gradient of shape "
            f"{array.shape} for input {position}, which has shape {like.shape}; return one of "
            "the input's shape"
        )
    return array
