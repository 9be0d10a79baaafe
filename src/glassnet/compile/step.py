"""``gn.compile(model, loss_fn, optimizer)``: a training step as straight-line NumPy.

The first call with a new input shape runs the ordinary eager step (it is the real
step: the weights move) and traces its forward pass. From the trace, code is written:
each op's forward from its Function's ``emit`` (an op without one is called as its
Function), then the loss, then the ops' backwards in reverse order, where a value used
twice gets the sum of its gradients, and each parameter is updated as soon as its
gradient is complete and no later backward reads it. Every array is made once, with the
shapes of that call; later calls with the same shapes run the code and allocate almost
nothing. ``step.source`` is that code.
"""

from __future__ import annotations

import linecache
import math
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.autograd.anomaly import _anomaly
from glassnet.autograd.function import Node
from glassnet.autograd.grad_mode import is_grad_enabled
from glassnet.autograd.tensor import Tensor
from glassnet.compile import losses, updates
from glassnet.compile.emit import Emitter, Var
from glassnet.compile.trace import Traced, eager_step, generators, trace_step, unsupported
from glassnet.nn.module import changes as module_changes
from glassnet.ops.linalg import Linear
from glassnet.ops.registry import docs_page


def _summary(function: type) -> tuple[str, str]:
    """``Name: the first sentence of its docstring`` and its docs page, for a comment."""
    doc = (function.__doc__ or "").strip().splitlines()
    first = doc[0].strip() if doc else ""
    first = first.split(".  ")[0].split(". ")[0].rstrip(".")
    if len(first) > 50:
        first = first.split(", ")[0]
    return _plain(f"{function.__name__}: {first}"), docs_page(function)


def _param_names(e: Emitter, model) -> dict[int, tuple[str, Any]]:
    """id(parameter or buffer) -> (its name in the code, the tensor): ``0.weight`` is
    ``weight_0``, ``fc.bias`` is ``bias_fc``."""
    out = {}
    for kind in (model.named_parameters(), model.named_buffers()):
        for key, t in kind:
            *path, last = key.split(".")
            out[id(t)] = ("_".join([last, *path]), t)
    return out


class Built:
    """One compiled step: the function, its source, and what it was bound to."""

    def __init__(self, source: str, fn: Callable, params: list, grads: list, check) -> None:
        self.source, self.fn, self.params, self.grads, self.check = source, fn, params, grads, check
        self.arrays = [p.data for p in params]
        # which tensors wanted gradients when traced: freezing one changes the code
        self.requires = [p.requires_grad for p in params]
        self.state: list[tuple] = []  # (parameter, key, array) of the optimizer state used
        self.optimizer_state: dict = {}  # the optimizer's state dict, as traced
        self.output = None  # the model's output, as a tensor over the code's own array
        self.stateful = False  # its forward changes buffers or draws random numbers
        self.structure: tuple = ()  # the optimizer's set-up it was written for

    def bound(self) -> bool:
        """Do the parameters and buffers still hold the arrays the code was written for,
        want the gradients they wanted, and have no gradient hook (which runs eagerly)?
        (A forward pass alone asks only the first.)"""
        if not self.grads and not self.state:
            return all(p.data is a for p, a in zip(self.params, self.arrays))
        return all(
            p.data is a and p.requires_grad is r and not p._hooks
            for p, a, r in zip(self.params, self.arrays, self.requires)
        ) and all(
            (s := self.optimizer_state.get(p)) is not None and s.get(k) is a
            for p, k, a in self.state
        )


def build(
    model,
    loss_fn,
    optimizer,
    traced: Traced,
    x: np.ndarray,
    y: np.ndarray,
    keep_grads: bool,
    max_grad_norm: float | None = None,
) -> Built:
    """Write and load the step's code for this trace (see the module docstring)."""
    _fortran_weights(_needed(traced), optimizer)
    e = Emitter()
    x_var, y_var = (
        Var(e.exact("x"), x.shape, x.dtype, False),
        Var(e.exact("y"), y.shape, y.dtype, False),
    )
    names, values = bind_model(e, model, traced, x_var)
    param_vars = {key: values[key] for key in names}

    groups = [e.bind(g, f"group_{i}", exact=True) for i, g in enumerate(optimizer.param_groups)]
    group_of = {id(p): i for i, g in enumerate(optimizer.param_groups) for p in g["params"]}
    top = len(e.lines)  # the optimizer's numbers go here, once the step shows which it reads
    backs = emit_forward(e, traced, values)
    output = values[id(traced.output)]
    kept_output = output
    if output.name not in e.arrays or not output.owned:  # a view, or a Function's own array
        kept_output = e.new(output.shape, output.dtype, "output_copy")
        e.line(f"np.copyto({kept_output}, {output})  # the output, kept for the caller")

    e.blank()
    reduction = losses.plain_cross_entropy(loss_fn, traced.output.data, y)
    e.comment(f"---- loss: {_loss_name(loss_fn)}")
    if reduction is not None:
        loss_name, g_out = losses.emit_cross_entropy(e, output, y_var, reduction)
    else:
        loss_name, g_out = losses.emit_eager_loss(e, loss_fn, output, y_var)

    grads: dict[str, Var] = {output.name: g_out}
    first: dict[int, int] = {}  # parameter -> the first op that reads it (its last backward)
    uses: dict[int, int] = {}  # parameter -> how many ops read it
    for index, (call, *_rest) in enumerate(backs):
        for a in call.args:
            if isinstance(a, Tensor) and id(a) in param_vars:
                first.setdefault(id(a), index)
                uses[id(a)] = uses.get(id(a), 0) + 1
    tensors = {id(t): t for _, t in names.values()}
    param_grads: list[tuple[Any, Any]] = []
    deferred: list[tuple] = []  # updates waiting for the gradients' joint norm
    for index in reversed(range(len(backs))):
        call, inputs, needs, back, out = backs[index]
        g = grads.pop(out.name, None)
        if g is not None and any(needs):
            page = _summary(call.function)[1]
            e.comment(f"{_plain(call.function.__name__)} backward  ({page})")
            results = back(g)
            results = results if isinstance(results, tuple) else (results,)
            seen: set[str] = set()
            for inp, need, r in zip(inputs, needs, results):
                if r is None or not need or not isinstance(inp, Var):
                    continue
                if r is g or r.name in seen:  # shared with another value: never add into it
                    r = Var(r.name, r.shape, r.dtype, owned=False)
                seen.add(r.name)
                _accumulate(e, grads, inp, r)
        for key, i in first.items():
            if i == index and param_vars[key].name in grads:
                p = param_vars[key]
                gp = grads.pop(p.name)
                param, group = tensors[key], optimizer.param_groups[group_of[key]]
                product = None
                fuse = not keep_grads and max_grad_norm is None
                if fuse and uses[key] == 1 and updates.fusable(optimizer, group):
                    product = e.take_product(gp)
                if product is not None:
                    e.comment(f"SGD update of {p.name}, its gradient's product added straight in")
                    updates.emit_fused_sgd(e, optimizer, param, p, product, group_of[key], group)
                    param_grads.append((param, None))
                    continue
                if gp.name not in e.arrays:  # an op's own array: kept in one the step owns
                    kept = e.grad(p)
                    e.line(f"np.copyto({kept}, {gp})")
                    gp = kept
                if max_grad_norm is not None:  # every gradient first: the norm needs them all
                    deferred.append((param, p, gp, group_of[key]))
                else:
                    _update(e, optimizer, param, p, gp, group_of[key])
                param_grads.append((param, Tensor._make(e.arrays[gp.name])))
    if max_grad_norm is not None:
        order = {id(t): i for i, t in enumerate(model.parameters())}
        deferred.sort(key=lambda item: order[id(item[0])])  # clip_grad_norm_'s order
        clip = e.bind(updates.clip_grads, "clip_grad_norm", exact=True)
        listed = ", ".join(str(gp) for _, _, gp, _ in deferred)
        e.comment(f"clip_grad_norm_: all gradients scaled so their joint norm <= {max_grad_norm}")
        e.line(f"{clip}([{listed}], {e.ref(float(max_grad_norm))})")
        for param, p, gp, group in deferred:
            _update(e, optimizer, param, p, gp, group)
    e.line(f"return {loss_name}")
    e.lines = [line for line in e.lines if line is not None]
    body = "\n".join(e.lines)
    hyper = [line for name, line in updates.read_hyper(optimizer, groups) if name in body]
    if hyper:
        head = "# the optimizer's numbers, read each step (a scheduler may change them)"
        e.lines[top:top] = ["    " + line for line in [head, *hyper]] + [""]
    source = _module(e, model, loss_fn, optimizer, x_var, y_var)
    fn = load(source, e.arrays, "make_step")
    params = [t for _, t in names.values()]  # parameters and buffers
    classes = traced.output.shape[1] if reduction is not None else None
    built = Built(source, fn, params, param_grads, classes)
    built.output = Tensor._make(e.arrays[kept_output.name])
    built.optimizer_state = optimizer.state
    built.state = [
        (p, k, v)
        for p, s in optimizer.state.items()
        for k, v in s.items()
        if isinstance(v, np.ndarray) and any(v is a for a in e.arrays.values())
    ]
    built.stateful = any(
        getattr(c.function, "random", False) or getattr(c.function, "writes", ())
        for c in traced.calls
    )
    return built


def _snapshot(model) -> tuple:
    """The buffers' values and the generators' states, to undo a forward pass."""
    buffers = [(b, b.data.copy()) for b in model.buffers()]
    return buffers, [(g, g.bit_generator.state) for g in generators(model)]


def _restore(model, saved: tuple) -> None:
    buffers, generators = saved
    for b, values in buffers:
        np.copyto(b.data, values)
    for g, state in generators:
        g.bit_generator.state = state


def _labels_below(labels: np.ndarray, classes: int) -> bool:
    """All labels in [0, classes): one pass over 32- and 64-bit integers, a negative label
    read as unsigned being larger than any class."""
    if labels.dtype.kind == "i" and labels.itemsize in (4, 8):
        return bool(labels.view(f"u{labels.itemsize}").max() < classes)
    return bool(labels.min() >= 0 and labels.max() < classes)


def module_numbers(modules: list) -> list[tuple]:
    """(module, name, value) of every number the modules keep as attributes (a dropout's
    p, a temperature annealed between steps): the generated code has them written in, so
    a change means a new trace. Numbers read from elsewhere (a global, a closure) are not
    watched: keep what changes during training on a module."""
    return [(m, k, v) for m in modules for k, v in vars(m).items() if type(v) in (bool, int, float)]


def _update(e: Emitter, optimizer, param, p: Var, gp: Var, group: int) -> None:
    e.comment(f"{_plain(type(optimizer).__name__)} update of {p.name}, after its gradient")
    updates.emit_update(e, optimizer, param, p, gp, group, optimizer.param_groups[group])


def bind_model(e: Emitter, model, traced: Traced, x: Var) -> tuple[dict, dict[int, Var]]:
    """Names for the model's parameters and buffers (``weight_0`` for ``0.weight``), its
    kept constants and the input: (id -> (name, tensor) for parameters and buffers,
    id -> Var for every tensor the ops may read)."""
    names = _param_names(e, model)
    values: dict[int, Var] = {id(traced.input): x}
    for key, (name, t) in names.items():
        values[key] = e.array(t.data, name, exact=True)
    for key, t in traced.constants.items():
        values[key] = e.array(t.data, "constant")
    return names, values


def emit_forward(e: Emitter, traced: Traced, values: dict[int, Var]) -> list[tuple]:
    """Each op's forward, in order (its Function's ``emit``, or the Function called);
    ``values`` gains each output's Var. Returns (call, inputs, needs, backward, output)
    per op, for the backward pass."""
    e.comment("---- forward")
    backs = []
    for call in _needed(traced):
        inputs = [values[id(a)] if isinstance(a, Tensor) else a for a in call.args]
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in call.args)
        text, page = _summary(call.function)
        e.comment(f"{text}  ({page})")
        emit = getattr(call.function, "emit", None)
        e.expected = (call.output.shape, call.output.dtype)
        made = NotImplemented if emit is None else emit(e, needs, *inputs, **call.kwargs)
        # an op's emit may decline a case it has no template for (an index array, say)
        out, back = _as_function(e, call, needs, inputs) if made is NotImplemented else made
        if out.shape != call.output.shape or out.dtype != call.output.dtype:
            raise RuntimeError(  # an op's emit disagrees with its forward: a glassnet bug
                f"gn.compile: {call.function.__name__}.emit made {out.shape} {out.dtype}, "
                f"its forward {call.output.shape} {call.output.dtype}"
            )
        values[id(call.output)] = out
        backs.append((call, inputs, needs, back, out))
    return backs


def _loss_name(loss_fn) -> str:
    """``CrossEntropyLoss`` for a module, ``cross_entropy`` for a function."""
    return _plain(getattr(loss_fn, "__name__", type(loss_fn).__name__))


def _plain(text: str) -> str:
    """``text`` with only letters, digits and plain punctuation: names and docstrings go
    into the generated code's comments, where no quote or newline may end them."""
    return re.sub(r"[^\w .,:;()\[\]=^+\-*/<>|]", "", str(text))


def _fortran_weights(calls: list, optimizer) -> None:
    """Keep each trained Linear weight (out, in) in Fortran order from now on: (in, out) in
    memory, the same values and shape. Its forward product x W^T then reads W^T as stored,
    and its gradient is written as x^T g, which OpenBLAS runs 1.3-2x faster at batch 32-128
    than g^T x into (out, in) rows; the optimizer's arrays for it follow, so each update
    still runs through all three in step (see glassnet/_blas.py)."""
    for call in calls:
        w = call.args[1] if call.function is Linear else None
        batch = math.prod(call.args[0].shape[:-1]) if w is not None else 0
        if w is None or w.ndim != 2 or not w.requires_grad or batch <= 1:
            continue
        if w.data.flags.f_contiguous:
            continue
        w.data = np.asfortranarray(w.data)
        state = optimizer.state.get(w, {})
        for key, value in state.items():
            if isinstance(value, np.ndarray) and value.shape == w.shape:
                state[key] = np.asfortranarray(value)
        optimizer._scratch.pop(w, None)


def _needed(traced: Traced) -> list:
    """The calls the output depends on, in order (ops whose result nothing used drop out)."""
    wanted = {id(traced.output)}
    keep = []
    for call in reversed(traced.calls):
        if id(call.output) in wanted:
            keep.append(call)
            wanted.update(id(a) for a in call.args if isinstance(a, Tensor))
    return keep[::-1]


def _accumulate(e: Emitter, grads: dict[str, Var], value: Var, g: Var) -> None:
    """Add one more gradient for ``value``: the multivariate chain rule's sum."""
    have = grads.get(value.name)
    if have is None:
        grads[value.name] = g
    elif have.owned:
        e.line(f"np.add({have}, {g}, out={have})  # {value} is used twice: gradients add")
    else:
        total = e.grad(value)
        e.line(f"np.add({have}, {g}, out={total})  # {value} is used twice: its gradients add")
        grads[value.name] = total


def _as_function(e: Emitter, call, needs: tuple, inputs: list) -> tuple[Var, Callable]:
    """An op without ``emit``: its Function's forward and backward, called as they are."""
    fn = e.bind(call.function, call.function.__name__, exact=True)
    node = e.bind(Node, "Node", exact=True)
    ctx = e.name(f"ctx_{call.function.__name__}")
    args = []
    for a in inputs:
        args.append(
            str(a) if isinstance(a, Var) else (repr(a) if _literal(a) else e.bind(a, "arg"))
        )
    kwargs = ""
    if call.kwargs:
        kwargs = ", **" + e.bind(call.kwargs, "kwargs")
    e.line(f"{ctx} = {node}({fn}, {needs!r})")
    out = e.assign(
        f"np.asarray({fn}.forward({ctx}, {', '.join(args)}{kwargs}))",
        call.output.shape,
        call.output.dtype,
        call.function.__name__,
    )

    def backward(g: Var) -> tuple:
        got = e.name("grads")
        e.line(f"{got} = {fn}.backward({ctx}, {g})")
        e.line(f"{got} = {got} if isinstance({got}, tuple) else ({got},)")
        result = []
        for i, (a, need) in enumerate(zip(inputs, needs)):
            if isinstance(a, Var) and need:
                result.append(e.assign(f"{got}[{i}]", a.shape, a.dtype, f"grad_{a.name}"))
            else:
                result.append(None)
        return tuple(result)

    return out, backward


def _literal(value: Any) -> bool:
    """Values written into the code as they are (a dim, a shape, a flag)."""
    if isinstance(value, (bool, int, float, str, type(None))):
        return True
    if isinstance(value, tuple):
        return all(_literal(v) for v in value)
    return False


def _module(e: Emitter, model, loss_fn, optimizer, x: Var, y: Var) -> str:
    """The training step's module text (see ``module_text``)."""
    doc = [
        "One training step, written by glassnet.compile.",
        "",
        f"Model: {_plain(type(model).__name__)}; loss: {_loss_name(loss_fn)};"
        f" optimizer: {_plain(type(optimizer).__name__)}.",
        f"Input x {x.shape} {x.dtype}, labels y {y.shape} {y.dtype}. Every array was made",
        "once, when the step was traced; each line writes into one of them.",
    ]
    return module_text(e, doc, "make_step", f"train_step({x}, {y})")


def module_text(e: Emitter, doc: list[str], maker: str, signature: str) -> str:
    """A module: ``maker(arrays)`` binds the names the lines use to the arrays and objects
    they stand for, then returns the function ``signature`` whose body is the lines."""
    head = ['"""' + doc[0], *doc[1:], '"""', "", "import numpy as np", "", ""]
    head += [
        f"def {maker}(arrays):",
        '    """Bind the code to its arrays (parameters, buffers, state)."""',
    ]
    used = set(re.findall(r"\w+", "\n".join(line for line in e.lines if line)))
    for name in e.arrays:
        if name not in used:
            continue
        note = e.notes.get(name, "")
        head.append(f'    {name} = arrays["{name}"]' + (f"  # {note}" if note else ""))
    head += ["", f"    def {signature}:"]
    body = ["    " + line if line else "" for line in e.lines]
    name = signature.split("(")[0]
    return "\n".join([*head, *body, "", f"    return {name}", ""])


_counter = [0]


def load(source: str, arrays: dict[str, Any], maker: str) -> Callable:
    """Run the module text (made here, never read from a file) and bind it."""
    _counter[0] += 1
    filename = f"<glassnet.compile step {_counter[0]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[maker](arrays)


class Compiled:
    """What a compiled step and a compiled forward pass share: the code per input shape,
    the last one compiled (``source``), the module walk for hooks."""

    _usage = "call step(x, y) once"

    def __init__(self, model) -> None:
        self.model = model
        self._cache: dict[tuple, Built | str] = {}
        self._fast: tuple | None = None  # the last call's state and code, while unchanged
        self._modules = list(model.modules())
        self._last: Built | str | None = None

    @property
    def source(self) -> str:
        """The generated code of the last shape compiled (the reason, if it stayed eager)."""
        if self._last is None:
            raise RuntimeError(
                "gn.compile: nothing is compiled yet: the code is traced on its first call; "
                f"{self._usage}, then read .source"
            )
        return self._last.source if isinstance(self._last, Built) else f"# eager: {self._last}"

    def _hooked(self) -> bool:
        return any(
            m._forward_hooks or m._forward_pre_hooks or m._backward_hooks for m in self._modules
        )


class CompiledStep(Compiled):
    """``loss = step(x, y)``: one training step, compiled per input shape (see the module
    docstring). ``step.source`` is the code of the last shape compiled."""

    def __init__(
        self,
        model,
        loss_fn,
        optimizer,
        keep_grads: bool = False,
        max_grad_norm: float | None = None,
    ) -> None:
        super().__init__(model)
        self.loss_fn, self.optimizer = loss_fn, optimizer
        self.keep_grads, self.max_grad_norm = keep_grads, max_grad_norm
        # what a step whose loss is NaN or inf does: "eager" runs the eager step, whose
        # error says what went wrong; "return" returns that loss, nothing updated (fit)
        self.on_nonfinite = "eager"
        self.last_output: Tensor | None = None  # the model's output in the last step
        self._watch: dict[tuple, tuple] = {}  # key -> (numbers on modules, optimizer set-up)

    def __call__(self, x: Any, y: Any) -> Tensor:
        xa = x.data if isinstance(x, Tensor) else np.asarray(x)
        ya = y.data if isinstance(y, Tensor) else np.asarray(y)
        state = (xa.shape, xa.dtype, ya.shape, ya.dtype, module_changes[0])
        fast = self._fast  # the last call's state and code, if nothing changed since
        if fast is not None and fast[0] == state and self._current(fast[1]):
            return self._run(fast[1], xa, ya)
        self._fast = None
        key = (xa.shape, xa.dtype, ya.shape, ya.dtype, tuple(m.training for m in self._modules))
        built = self._cache.get(key)
        if built is None or not self._still(built, key):
            return self._trace(xa, ya, key)
        if isinstance(built, str) or _anomaly.enabled or self._hooked():
            return self._eager(xa, ya)
        self._fast = (state, built)
        return self._run(built, xa, ya)

    def _current(self, built: Built) -> bool:
        """The checks that no module change can show: parameters' arrays, anomaly mode,
        grad mode, the optimizer's set-up."""
        return built.bound() and not _anomaly.enabled and self._same_setup(built.structure)

    def _same_setup(self, structure: tuple) -> bool:
        """Grad mode on (under no_grad the eager step raises: let it) and the optimizer set
        up as when the code was traced."""
        return is_grad_enabled() and structure == updates.structure(self.optimizer)

    def _run(self, built: Built, xa: np.ndarray, ya: np.ndarray) -> Tensor:
        if built.check is not None and not _labels_below(ya, built.check):
            return self._eager(xa, ya)  # ignored labels, or an error eager mode explains
        saved = _snapshot(self.model) if built.stateful else None
        loss = built.fn(xa, ya)
        if loss is None:  # the loss is not finite: nothing was updated
            if saved is not None:  # undo the forward's running statistics and draws
                _restore(self.model, saved)
            if self.on_nonfinite == "return":
                self.last_output = built.output
                return Tensor._make(np.asarray(np.nan, dtype=xa.dtype))
            return self._eager(xa, ya)
        self.last_output = built.output
        for param, grad in built.grads:
            param.grad = grad  # None where the gradient went straight into the update
            param._version_counter[0] += 1
        return Tensor._make(np.asarray(loss))

    def _still(self, built: Built | str, key: tuple) -> bool:
        """Is the code still the model's? The same parameter arrays, the same numbers kept
        on the modules, the same optimizer set-up (else it is traced again)."""
        if isinstance(built, Built) and not built.bound():
            return False
        watched, structure = self._watch[key]
        return self._same_setup(structure) and all(getattr(m, k) == v for m, k, v in watched)

    def _eager(self, xa: np.ndarray, ya: np.ndarray) -> Tensor:
        loss, self.last_output = eager_step(
            self.model, self.loss_fn, self.optimizer, Tensor._make(xa), Tensor._make(ya),
            self.max_grad_norm, self.on_nonfinite == "return",
        )  # fmt: skip
        return loss

    def _trace(self, xa: np.ndarray, ya: np.ndarray, key: tuple) -> Tensor:
        why = unsupported(self.model, self.optimizer)
        if why:
            return self._eager(xa, ya)
        self._watch[key] = (module_numbers(self._modules), updates.structure(self.optimizer))
        x, y = Tensor._make(xa), Tensor._make(ya)
        traced = trace_step(self.model, self.loss_fn, self.optimizer, x, y, self.max_grad_norm)
        self.last_output = traced.output
        if traced.why_not:
            warnings.warn(f"gn.compile: this step runs eagerly: {traced.why_not}", stacklevel=3)
            self._cache[key] = self._last = traced.why_not
        else:
            self._cache[key] = self._last = build(
                self.model, self.loss_fn, self.optimizer, traced, xa, ya, self.keep_grads,
                self.max_grad_norm,
            )  # fmt: skip
            self._last.structure = self._watch[key][1]
        return traced.loss
