"""Optimizer updates as straight-line code, one parameter at a time.

Each writes, for one parameter, the same arithmetic as the optimizer's own ``_update`` (the
same operations in the same order, so compiled and eager training agree to the last bit
or nearly), reading the hyper-parameters from the parameter group every step (so a
learning-rate scheduler works) and the state from the optimizer's own arrays (so
``optimizer.state_dict()`` and an eager step afterwards see what the compiled steps did).
An optimizer without code here is called as it is, one parameter at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet import _blas
from glassnet.compile.emit import Emitter, Var
from glassnet.nn.utils import _vector_norm as vector_norm
from glassnet.optim.adam import Adam, AdamW
from glassnet.optim.sgd import SGD


def structure(optimizer) -> tuple:
    """What the generated code depends on beyond numbers read each step: a change here
    (momentum switched on, amsgrad) means the step is traced again."""
    keys = ("maximize", "nesterov", "amsgrad")
    out: list[Any] = [type(optimizer), id(optimizer.state), len(optimizer.param_groups)]
    for group in optimizer.param_groups:
        out.append(len(group["params"]))
        out.extend(group.get(k) for k in keys)
        out.extend(bool(group.get(k)) for k in ("momentum", "weight_decay", "dampening"))
    return tuple(out)


def read_hyper(optimizer, group_names: list[str]) -> list[tuple[str, str]]:
    """(local name, its line) for each group's numbers: ``lr_0 = group_0["lr"]``."""
    keys = {SGD: ("lr", "momentum", "dampening", "weight_decay")}
    if type(optimizer) not in (SGD, Adam, AdamW):
        return []
    wanted = keys.get(type(optimizer), ("lr", "betas", "eps", "weight_decay"))
    return [
        (f"{key}_{i}", f'{key}_{i} = {name}["{key}"]')
        for i, name in enumerate(group_names)
        for key in wanted
    ]


def emit_update(
    e: Emitter, optimizer, param, p: Var, grad: Var, group: int, group_dict: dict[str, Any]
) -> None:
    """The update of parameter ``p`` (the Tensor ``param``) from its gradient ``grad``."""
    kind = type(optimizer)
    if kind is SGD:
        _sgd(e, optimizer, param, p, grad, group, group_dict)
    elif kind in (Adam, AdamW):
        _adam(e, optimizer, param, p, grad, group, group_dict, decoupled=kind is AdamW)
    else:
        opt = e.bind(optimizer, "optimizer", exact=True)
        tensor = e.bind(param, f"param_{p.name}", exact=True)
        groups = e.bind(optimizer.param_groups, "param_groups", exact=True)
        e.line(
            f"{opt}._update({tensor}, {grad}, {opt}.state.setdefault({tensor}, {{}}), "
            f"{groups}[{group}])"
        )


def fusable(optimizer, group: dict[str, Any]) -> bool:
    """Whether this parameter's update can take its gradient's product straight into the
    momentum buffer (or the parameter): SGD without Nesterov momentum (which reads g again)."""
    return type(optimizer) is SGD and not group["nesterov"]


def emit_fused_sgd(e, optimizer, param, p: Var, product: tuple, i: int, group) -> None:
    """SGD with the gradient's matrix product added straight into where it is consumed:
    b = momentum b + (1 - dampening) a @ b_ in one BLAS call (``gemm``), then
    theta -= lr b; without momentum, theta -= lr a @ b_ in one. The gradient itself is
    never stored (``.grad`` stays None), which saves writing and reading it once more."""
    a, b_, transposed, note = product
    gemm, axpy = e.bind(_blas.gemm, "gemm", exact=True), e.bind(_blas.axpy, "axpy", exact=True)
    t = ".T" if transposed else ""
    sign = "-" if group["maximize"] else ""
    if group["momentum"]:
        buf = e.array(optimizer.state[param]["momentum_buffer"], f"momentum_{p.name}", exact=True)
        e.comment(f"b = momentum b + grad_W, the product {note} added in (never stored)")
        e.line(f"{gemm}({sign}(1 - dampening_{i}), {a}, {b_}, momentum_{i}, {buf}{t})")
        if group["weight_decay"]:
            e.line(f"{axpy}((1 - dampening_{i}) * weight_decay_{i}, {p}, {buf})  # + wd theta")
        e.line(f"{axpy}(-lr_{i}, {buf}, {p})  # theta = theta - lr b")
    else:
        if group["weight_decay"]:
            e.line(f"np.multiply({p}, 1 - lr_{i} * weight_decay_{i}, out={p})  # decay theta")
        plus = "" if group["maximize"] else "-"
        e.line(f"{gemm}({plus}lr_{i}, {a}, {b_}, 1.0, {p}{t})  # theta = theta - lr g, {note}")


def _negated(e: Emitter, p: Var, g: str, group: dict) -> str:
    """g, or -g into a new array when the group maximizes (both optimizers' first line)."""
    if not group["maximize"]:
        return g
    negated = e.like(p, f"negated_{p.name}")
    e.line(f"np.negative({g}, out={negated})")
    return str(negated)


def _l2_decayed(e: Emitter, p: Var, g: str, i: int) -> str:
    """g + weight_decay theta into a new array, as ``apply_weight_decay`` computes it."""
    decayed = e.like(p, f"decayed_{p.name}")
    e.line(f"np.multiply({p}, weight_decay_{i}, out={decayed})")
    e.line(f"np.add({g}, {decayed}, out={decayed})  # g + weight_decay theta")
    return str(decayed)


def _sgd(e, optimizer, param, p, grad, i, group) -> None:
    axpy, axpby = e.bind(_blas.axpy, "axpy", exact=True), e.bind(_blas.axpby, "axpby", exact=True)
    g = _negated(e, p, str(grad), group)
    if group["weight_decay"]:
        g = _l2_decayed(e, p, g, i)
    if group["momentum"]:
        buf = optimizer.state[param]["momentum_buffer"]
        b = e.array(buf, f"momentum_{p.name}", exact=True)
        e.line(f"{axpby}(1 - dampening_{i}, {g}, momentum_{i}, {b})  # b = momentum b + g")
        if group["nesterov"]:
            ahead = e.like(p, f"nesterov_{p.name}")
            e.line(f"np.multiply({b}, momentum_{i}, out={ahead})")
            e.line(f"np.add({g}, {ahead}, out={ahead})  # g + momentum b")
            g = str(ahead)
        else:
            g = str(b)
    e.line(f"{axpy}(-lr_{i}, {g}, {p})  # theta = theta - lr g")


def _adam(e, optimizer, param, p, grad, i, group, decoupled: bool) -> None:
    state = optimizer.state[param]
    s = e.array(optimizer.scratch(param), f"scratch_{p.name}", exact=True)
    m = e.array(state["exp_avg"], f"m_{p.name}", exact=True)
    v = e.array(state["exp_avg_sq"], f"v_{p.name}", exact=True)
    st = e.bind(state, f"state_{p.name}", exact=True)
    g = _negated(e, p, str(grad), group)
    e.line(f'{st}["step"] += 1')
    t = "t"
    e.line(f'{t} = {st}["step"]')
    if group["weight_decay"] and decoupled:
        e.line(f"np.multiply({p}, 1 - lr_{i} * weight_decay_{i}, out={p})  # AdamW: decay theta")
    elif group["weight_decay"]:
        g = _l2_decayed(e, p, g, i)
    axpy, axpby = e.bind(_blas.axpy, "axpy", exact=True), e.bind(_blas.axpby, "axpby", exact=True)
    e.line(f"{axpby}(1 - betas_{i}[0], {g}, betas_{i}[0], {m})  # m = beta1 m + (1 - beta1) g")
    e.line(f"np.multiply({g}, {g}, out={s})")
    e.line(f"{axpby}(1 - betas_{i}[1], {s}, betas_{i}[1], {v})  # v = beta2 v + (1 - beta2) g^2")
    if group["amsgrad"]:
        vmax = e.array(state["max_exp_avg_sq"], f"v_max_{p.name}", exact=True)
        e.line(f"np.maximum({vmax}, {v}, out={vmax})")
        v = vmax
    e.line(f"c = (1 - betas_{i}[1] ** {t}) ** 0.5  # sqrt(v_hat) = sqrt(v) / c")
    e.line(f"np.sqrt({v}, out={s})")
    e.line(f"np.add({s}, eps_{i} * c, out={s})")
    e.line(f"np.divide({m}, {s}, out={s})")
    e.line(
        f"{axpy}(-lr_{i} * c / (1 - betas_{i}[0] ** {t}), {s}, {p})  # theta -= lr m_hat / (...)"
    )


def clip_grads(grads: list[np.ndarray], max_norm: float) -> None:
    """``clip_grad_norm_`` on the step's gradient arrays, in place, with its arithmetic: the
    2-norm of each, the norm of those norms, then every gradient times
    min(max_norm / (total + 1e-6), 1)."""
    norms = np.array([vector_norm(g, 2.0) for g in grads])
    total = vector_norm(norms, 2.0)
    coefficient = float(np.minimum(max_norm / (total + 1e-6), 1.0))
    for g in grads:
        with np.errstate(invalid="ignore"):  # inf * 0 = NaN, as in PyTorch
            g *= np.asarray(coefficient, dtype=g.dtype)
