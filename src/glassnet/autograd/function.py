"""Function: one differentiable operation, forward and backward side by side.

Write an op by subclassing ``Function`` with two static methods::

    class Exp(Function):
        '''y = e^x.   dy/dx = e^x = y, so grad_x = grad_y * y.'''

        @staticmethod
        def forward(ctx, x):
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad_y):
            (y,) = ctx.saved_tensors
            return grad_y * y

    y = Exp.apply(x)

``forward`` and ``backward`` see plain NumPy arrays. ``backward`` receives the gradient
of the output and returns one gradient per forward input, a vector-Jacobian product:
``grad_input = grad_output @ J``, computed without ever building J.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.anomaly import _anomaly, user_frame
from glassnet.autograd.grad_mode import _mode
from glassnet.autograd.tensor import Tensor

# Functions called as tracer(function, args, kwargs, output) after every op runs: how the
# ONNX exporter records a model's forward pass without the ops knowing about it.
tracers: list = []

_FREED_MESSAGE = (
    "trying to backward through the graph a second time (or to read saved arrays after "
    "they were freed): {name} released its saved arrays after the first backward. "
    "Pass retain_graph=True to the first backward() if you need to go through it again."
)

_MODIFIED_MESSAGE = (
    "one of the arrays needed for gradient computation has been modified by an in-place "
    "operation: {name} saved a tensor of shape {shape} at version {saved}, and it is now "
    "at version {now}. Make the in-place change after backward(), or write it out of place "
    "(w = w + 1 instead of w += 1) so the saved values stay as they were."
)


class Node:
    """The record of one op in the graph; also the ``ctx`` that forward and backward share.

    Attributes:
        function: the ``Function`` subclass whose backward this node runs.
        needs_input_grad: one bool per forward input: does it need a gradient?
        edges: one per tensor input (plain arguments such as a dim are not edges): where
            its gradient goes: the producing Node, the leaf Tensor itself, or None when
            that input needs no gradient.
        output_shape, output_dtype: of the tensor this node produced; the engine
            checks incoming gradients against them.
    """

    def __init__(self, function: type, needs_input_grad: tuple[bool, ...]) -> None:
        self.function = function
        self.needs_input_grad = needs_input_grad
        self.edges: tuple[Any, ...] = ()
        self.input_positions: tuple[int, ...] = ()  # edges[k] is forward input positions[k]
        self._saved: tuple[Any, ...] = ()
        # (shape, version counter, version at save) of each tensor whose values were saved
        self._saved_versions: tuple[tuple[tuple[int, ...], list[int], int], ...] = ()
        self._freed = False
        self._hooks: list | None = None
        self._retained: Any = None  # weak reference to the output, after retain_grad()
        self.output_shape: tuple[int, ...] = ()
        self.output_dtype: np.dtype | None = None

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep what backward will need; ``saved_tensors`` returns it as a tuple.

        Every array backward reads goes through here (never a plain ``ctx`` attribute), so
        the engine can free it after backward and check that no in-place change touched
        an input or output it came from.
        """
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What forward saved. Raises once backward has freed it (see ``retain_graph``),
        or when a tensor it came from was changed in place since."""
        if self._freed:
            raise RuntimeError(_FREED_MESSAGE.format(name=self.name()))
        for shape, counter, version in self._saved_versions:
            if counter[0] != version:
                raise RuntimeError(
                    _MODIFIED_MESSAGE.format(
                        name=self.name(), shape=shape, saved=version, now=counter[0]
                    )
                )
        return self._saved

    def release(self) -> None:
        """Drop the saved arrays: called by the engine after this node's backward ran."""
        if self._saved:
            self._freed = True
            self._saved = ()
            self._saved_versions = ()

    def name(self) -> str:
        """``<Op>Backward``, as PyTorch names its nodes."""
        return self.function.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple[Any, ...]:
        """Where the gradient goes next, one entry per tensor input (as in PyTorch)."""
        return self.edges

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class Function:
    """Base class of every differentiable op; subclass it to write your own."""

    @staticmethod
    def forward(ctx: Node, *args: Any, **kwargs: Any) -> np.ndarray:
        """Compute the output array from input arrays (and plain Python parameters)."""
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx: Node, grad_output: np.ndarray) -> Any:
        """Return d(loss)/d(input) for each forward input, given d(loss)/d(output)."""
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run forward on the arrays inside ``args`` and, if needed, record the node.

        The graph is recorded only when grad mode is on and at least one input tensor
        requires grad; otherwise this costs one forward call and one Tensor.
        """
        raw = [a.data if isinstance(a, Tensor) else a for a in args]
        if _mode.enabled:
            needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
            track = True in needs
        else:  # no_grad: nothing will be recorded, so nothing needs checking
            needs, track = (False,) * len(args), False
        ctx = Node(cls, needs)
        out = cls.forward(ctx, *raw, **kwargs)
        if type(out) is not np.ndarray:
            out = np.asarray(out)  # NumPy reductions return scalars; keep arrays throughout
        result = Tensor._make(out, requires_grad=track, grad_fn=ctx if track else None)
        if out.base is not None:
            _share_version_with_base(result, args)
        if track:
            _record(ctx, args, needs, result)
        for tracer in tracers:
            tracer(cls, args, kwargs, result)
        return result


def _record(ctx: Node, args: tuple, needs: tuple, result: Tensor) -> None:
    """Link the node into the graph (where each tensor input's gradient must go) and note
    the version of every tensor whose values were saved."""
    positions = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor))
    ctx.input_positions = positions
    ctx.edges = tuple(
        (args[i] if args[i].grad_fn is None else args[i].grad_fn) if needs[i] else None
        for i in positions
    )
    ctx.output_shape = result.data.shape
    ctx.output_dtype = result.data.dtype
    if _anomaly.enabled:
        ctx.created_at = user_frame()
    if ctx._saved:
        ctx._saved_versions = _versions_of_saved(ctx._saved, [args[i] for i in positions], result)


def _memory_of(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (itself, or the base its views lead to)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _share_version_with_base(result: Tensor, args: tuple) -> None:
    """A view (reshape, a slice, a transpose) shares its input's version counter, as in
    PyTorch: an in-place change through either one changes the values of both."""
    memory = _memory_of(result.data)
    for a in args:
        if isinstance(a, Tensor) and _memory_of(a.data) is memory:
            result._version_counter = a._version_counter
            return


def _versions_of_saved(saved: tuple, inputs: list[Tensor], output: Tensor) -> tuple:
    """(shape, version counter, version now) of each input or output tensor whose memory a
    saved array shares (the array itself or a view of it). The counter, not the tensor, is
    kept: holding the output tensor here would make a reference cycle through its grad_fn."""
    # by id: the saved arrays are alive (ctx holds them), so their owners' ids are unique;
    # one walk to the owner per tensor, not one per tensor and saved array
    memories = {id(_memory_of(s)) for s in saved if isinstance(s, np.ndarray)}
    return tuple(
        (t.shape, t._version_counter, t._version_counter[0])
        for t in (*inputs, output)
        if id(_memory_of(t.data)) in memories
    )
