"""Tracing: run one eager training step and write down the ops its forward pass ran.

``Function.apply`` calls every function in ``function.tracers`` after each op; the tracer
here keeps (Function, arguments, keyword arguments, output) in order. Every tensor an op
read is then one of: the step's input, a parameter or buffer of the model, a tensor of
the model's own attributes (a constant it keeps), or the output of an earlier op. Anything
else (an array made anew each step outside glassnet's ops) cannot be replayed by
straight-line code, and neither can a step whose forward changed state the ops did not
(BatchNorm's running statistics, a random draw outside an op): ``Traced.why_not`` then
says why, and the step stays eager.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet import random as gn_random
from glassnet.autograd import function
from glassnet.autograd.anomaly import _anomaly
from glassnet.autograd.grad_mode import no_grad
from glassnet.autograd.tensor import Tensor, constants
from glassnet.nn.utils import clip_grad_norm_


@dataclass
class Call:
    """One op of the forward pass, as it ran."""

    function: type
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    output: Tensor


@dataclass
class Traced:
    """What one eager step showed: its forward ops, its output, its loss."""

    calls: list[Call]
    output: Tensor
    loss: Tensor | None
    why_not: str = ""  # empty when the step can be compiled
    constants: dict[int, Tensor] = field(default_factory=dict)  # id -> a model's own tensor
    input: Tensor | None = None


def eager_step(
    model, loss_fn, optimizer, x: Tensor, y: Tensor, max_grad_norm=None, stop_if_nan=False
) -> tuple:
    """The training step ``gn.compile`` replaces, exactly as a user writes it: returns the
    loss and the model's output. With ``stop_if_nan``, an output that is not finite is
    returned with a NaN loss before the loss is taken, and nothing is updated."""
    optimizer.zero_grad()
    output = model(x)
    if stop_if_nan and not np.isfinite(output.data).all():
        return Tensor._make(np.asarray(np.nan, dtype=output.dtype)), output
    loss = loss_fn(output, y)
    loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    return loss, output


def unsupported(model, optimizer=None) -> str:
    """Why no step of this model can be compiled now (hooks, anomaly mode), or ''."""
    if _anomaly.enabled:
        return "anomaly detection is on (it checks every op as it runs)"
    for name, module in model.named_modules():
        if module._forward_pre_hooks or module._forward_hooks or module._backward_hooks:
            return f"module {name or type(module).__name__!r} has hooks, which run eagerly"
    for group in optimizer.param_groups if optimizer is not None else ():
        for p in group["params"]:
            if p._hooks:
                return "a parameter has a gradient hook, which runs eagerly"
    return ""


def trace_step(model, loss_fn, optimizer, x: Tensor, y: Tensor, max_grad_norm=None) -> Traced:
    """Run one eager step (it is the real first step: the weights move) and trace it."""
    optimizer.zero_grad()
    traced = _record(model, x)
    traced.loss = loss_fn(traced.output, y)
    traced.loss.backward()
    if max_grad_norm is not None:
        clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    return traced


def trace_forward(model, x: Tensor) -> Traced:
    """Run the model once on ``x`` without recording a graph, and trace it."""
    with no_grad():
        return _record(model, x)


def _record(model, x: Tensor) -> Traced:
    """The forward pass, run with the tracer on, then checked (see the module docstring)."""
    calls: list[Call] = []

    def tracer(fn: type, args: tuple, kwargs: dict, result: Tensor) -> None:
        calls.append(Call(fn, args, dict(kwargs), result))

    buffers = {name: b.data.copy() for name, b in model.named_buffers()}
    generators = _generator_states(model)
    function.tracers.append(tracer)
    try:
        output = model(x)
    finally:
        function.tracers.remove(tracer)
    drew = generators != _generator_states(model)
    written = {  # buffers an op changes as part of its work (BatchNorm's running statistics)
        id(c.args[i]) for c in calls for i in getattr(c.function, "writes", ()) if i < len(c.args)
    }
    changed = [
        name
        for name, b in model.named_buffers()
        if not np.array_equal(buffers[name], b.data) and id(b) not in written
    ]
    traced = Traced(calls, output, None)
    traced.input = x
    if changed:
        traced.why_not = (
            f"the forward pass changed the buffer {changed[0]!r} outside glassnet's ops"
        )
    elif drew and not any(getattr(c.function, "random", False) for c in calls):
        traced.why_not = "the forward pass drew random numbers outside glassnet's ops"
    elif not isinstance(output, Tensor):
        traced.why_not = "the model returned no single tensor"
    else:
        traced.why_not = _check_inputs(traced, model, x)
    return traced


def generators(model) -> list:
    """glassnet's default generator and every generator a module keeps."""
    found = [gn_random.default_generator()]
    for module in model.modules():
        found += [v for v in vars(module).values() if isinstance(v, np.random.Generator)]
    return found


def _generator_states(model) -> list:
    return [g.bit_generator.state for g in generators(model)]


def _check_inputs(traced: Traced, model, x: Tensor) -> str:
    """'' if every tensor an op read is known (see the module docstring), else why not. A tensor the
    code makes the same each time (``constant``: a zero starting state, a number in an
    expression) is known too."""
    known = {id(x)} | {id(p) for p in model.parameters()} | {id(b) for b in model.buffers()}
    own = {}
    for module in model.modules():
        for value in vars(module).values():
            if isinstance(value, Tensor):
                own[id(value)] = value
    for call in traced.calls:
        for a in (*call.args, *call.kwargs.values()):
            if isinstance(a, Tensor) and id(a) not in known:
                if id(a) in own or (constants.get(id(a)) is a and not a.requires_grad):
                    traced.constants[id(a)] = a  # kept as it is: no op writes its input
                else:
                    return (
                        f"{call.function.__name__} read a tensor of shape {a.shape} that the "
                        "forward pass made outside glassnet's ops, which compiled code cannot "
                        "remake each step"
                    )
            elif isinstance(a, np.ndarray) and a.ndim > 0:
                return (
                    f"{call.function.__name__} was given a plain array of shape {a.shape} made "
                    "outside glassnet's ops, which compiled code cannot remake each step"
                )
        known.add(id(call.output))
    return ""
