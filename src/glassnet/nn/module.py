"""Module: the base class of layers and models.

Assigning a ``Parameter``, a ``Module`` or a registered buffer as an attribute registers
it, so ``parameters()`` and ``state_dict()`` find it under the attribute's name, and
nested modules give dotted names (``fc1.weight``, ``0.bias``), exactly as PyTorch does.
That is what lets weights move between glassnet and PyTorch without renaming.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from glassnet.autograd.grad_mode import is_grad_enabled
from glassnet.autograd.tensor import Tensor
from glassnet.nn.backward_hook import BackwardHookCall
from glassnet.nn.parameter import Parameter


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` did not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]


_hook_ids = itertools.count()


# Counts every change to any module's attributes, mode or hooks: compiled code
# (gn.compile) checks this one number before each call instead of walking the modules.
changes = [0]


class _RemovableHandle:
    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)
        changes[0] += 1


class Module:
    """Base class for every layer and model; subclass it and define ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called; "
                "call super().__init__() first in your module's __init__"
            )
        changes[0] += 1
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter {name!r}; "
                    "wrap it in gn.nn.Parameter (or assign None)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign a {type(value).__name__} to submodule {name!r}")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"buffer {name!r} must be a Tensor, got {type(value).__name__}")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._modules, self._buffers):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, a declared but absent parameter) as ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a Parameter or None")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a tensor that is state but not trained (e.g. BatchNorm's running mean).

        Persistent buffers are saved in ``state_dict()``; non-persistent ones are not.
        """
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}): expected a Tensor or None")
        self._forget(name)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): {type(module).__name__} is not a Module")
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output. Subclasses define it; call the module, not this."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)  # the common case, kept cheap
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hooks = None
        if self._backward_hooks and is_grad_enabled():
            backward_hooks = BackwardHookCall(self, list(self._backward_hooks.values()))
            args = backward_hooks.setup_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hooks is not None:
            output = backward_hooks.setup_outputs(output)
        return output

    def register_forward_hook(self, hook: Callable) -> _RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward; returning a value
        replaces the output. Returns a handle with ``remove()``."""
        key = next(_hook_ids)
        self._forward_hooks[key] = hook
        changes[0] += 1
        return _RemovableHandle(self._forward_hooks, key)

    def register_forward_pre_hook(self, hook: Callable) -> _RemovableHandle:
        """Call ``hook(module, args)`` before every forward, with the positional arguments
        as a tuple; returning a value replaces them (a tuple, or one value that becomes the
        only argument), as in PyTorch. Returns a handle with ``remove()``."""
        key = next(_hook_ids)
        self._forward_pre_hooks[key] = hook
        changes[0] += 1
        return _RemovableHandle(self._forward_pre_hooks, key)

    def register_full_backward_hook(self, hook: Callable) -> _RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the inputs of a call are computed, as in PyTorch.

        ``grad_input`` has one entry per positional input (None for one that is not a
        tensor, zeros for a tensor that needs no gradient, as PyTorch gives), and
        ``grad_output`` one per tensor output. Returning a
        tuple like ``grad_input`` replaces those gradients on their way down; None keeps
        them. When no input needs a gradient the hook runs with ``grad_input`` all None
        and must return None. Calls made while gradients are recorded are hooked; it is
        built from tensor hooks around the call (see ``glassnet.nn.backward_hook``).
        Returns a handle with ``remove()``.
        """
        key = next(_hook_ids)
        self._backward_hooks[key] = hook
        changes[0] += 1
        return _RemovableHandle(self._backward_hooks, key)

    # ------------------------------------------------------------ walking the tree
    def named_modules(
        self, memo: set | None = None, prefix: str = ""
    ) -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted name, module)`` for this module and every descendant, once each."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        """Yield this module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for the direct submodules."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        """Yield the direct submodules."""
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, registry: str, prefix: str, recurse: bool
    ) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        walk = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in walk:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))  # a shared (tied) tensor is listed once
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted name, parameter)``; a parameter shared by two layers comes once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield every parameter (what an optimizer trains)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted name, buffer)``."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield every buffer."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------ modes and bulk changes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics).

        Calls each child's own ``train``, as PyTorch does, so a subclass that overrides it
        (to keep a frozen part in eval mode, say) is honoured.
        """
        object.__setattr__(self, "training", bool(mode))
        changes[0] += 1
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode; same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter (None by default, as in PyTorch)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.data.fill(0)
                p.grad._bump_version()

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient tracking of every parameter (e.g. to freeze a layer)."""
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and then on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _cast_floats(self, dtype: Any) -> Module:
        for m in self.modules():
            for registry in (m._parameters, m._buffers):
                for t in registry.values():
                    if t is not None and t.dtype.kind == "f":
                        t.data = t.data.astype(dtype)
                        if t.grad is not None:
                            t.grad = Tensor._make(t.grad.data.astype(dtype))
        return self

    def double(self) -> Module:
        """Convert floating-point parameters and buffers to float64, in place."""
        return self._cast_floats(np.float64)

    def float(self) -> Module:
        """Convert floating-point parameters and buffers to float32, in place."""
        return self._cast_floats(np.float32)

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating-point parameters and buffers to a dtype, in place, with PyTorch's
        signatures: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``.
        The CPU is the only device, so ``model.to("cpu")`` changes nothing."""
        from glassnet.ops.device import to_arguments

        dtype, _ = to_arguments(args, kwargs)
        return self if dtype is None else self._cast_floats(np.dtype(dtype))

    def cpu(self) -> Module:
        """Every module lives on the CPU already: returns self."""
        return self

    def cuda(self, device: Any = None) -> Module:
        """Refused with the fix: glassnet runs on NumPy on the CPU."""
        from glassnet.autograd.device import check_device

        check_device("cuda" if device is None else device)
        return self

    # ------------------------------------------------------------ state dict
    def state_dict(self, prefix: str = "") -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, as PyTorch names them.

        The values are detached tensors sharing memory with the module's (copy them to
        keep a snapshot).
        """
        return OrderedDict((k, v.detach()) for k, v in self._state_targets(prefix).items())

    def _state_targets(self, prefix: str = "") -> OrderedDict[str, Tensor]:
        """The module's own parameter and persistent buffer tensors, by state-dict name.

        A submodule used twice appears under both names, as in PyTorch's state_dict.
        """
        dot = f"{prefix}." if prefix else ""
        targets: OrderedDict[str, Tensor] = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                targets[dot + name] = p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                targets[dot + name] = b
        for name, child in self._modules.items():
            if child is not None:
                targets.update(child._state_targets(dot + name))
        return targets

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        Values are copied into the existing tensors, as PyTorch's ``copy_`` does: each
        keeps its dtype, so a float64 checkpoint loads into a float32 model by casting
        (rounding to float32), and optimizers keep their references. Every key and shape is
        checked before anything is copied, so a failing load leaves the module exactly as
        it was (stricter than PyTorch, which copies the keys that fit before it raises).

        Args:
            state_dict: a mapping from dotted names to Tensors or NumPy arrays.
            strict: require the keys to match exactly (missing and unexpected keys are
                errors); with False they are reported in the result instead.

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing every missing, unexpected and mismatched key.
        """
        targets = self._state_targets()
        given = {
            k: (v.data if isinstance(v, Tensor) else np.asarray(v)) for k, v in state_dict.items()
        }
        missing = [k for k in targets if k not in given]
        unexpected = [k for k in given if k not in targets]
        problems = []
        for key, target in targets.items():
            if key not in given:
                continue
            value = given[key]
            if value.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: the checkpoint has shape {value.shape}, "
                    f"the model has {target.shape}"
                )
            elif value.dtype.kind not in "biuf":
                problems.append(
                    f"dtype mismatch for {key}: the checkpoint has {value.dtype}, which does not "
                    f"convert to the model's {target.dtype}; give numbers (bool, int or float)"
                )
        if strict:
            problems += [f"missing key {k!r}" for k in missing]
            problems += [f"unexpected key {k!r}" for k in unexpected]
        if problems:
            raise RuntimeError(
                f"error(s) in loading state_dict for {type(self).__name__} (nothing was "
                "changed):\n  " + "\n  ".join(problems)
            )
        for key, target in targets.items():
            if key in given:
                # In place, cast to the target's dtype (copy_ semantics): optimizers keep
                # their references, and a float32 model stays float32.
                np.copyto(target.data, given[key], casting="unsafe")
                target._bump_version()
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr; override in layers."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        name = type(self).__name__
        if not lines:
            return f"{name}()"
        if len(lines) == 1 and not self._modules:
            return f"{name}({lines[0]})"
        return f"{name}(\n  " + "\n  ".join(lines) + "\n)"
