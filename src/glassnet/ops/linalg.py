"""Matrix products: matmul (1-D, 2-D, batched, broadcast), bmm, outer, the fused
``linear``, and einsum."""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

from glassnet.autograd.function import Function
from glassnet.autograd.tensor import Tensor
from glassnet.ops.elementwise import unbroadcast


class MatMul(Function):
    """Y = A @ B.   grad_A = grad_Y @ B^T,  grad_B = A^T @ grad_Y.

    Why: Y_ij = sum_k A_ik B_kj, so dL/dA_ik = sum_j dL/dY_ij B_kj (a row of grad_Y times a
    row of B), which is (grad_Y B^T)_ik; likewise for B. A 1-D operand is treated as a
    1-row (for A) or 1-column (for B) matrix and the added dimension dropped again; batch
    dimensions broadcast, so their gradients are summed back (``unbroadcast``).
    """

    @staticmethod
    def forward(ctx, a, b):
        # grad_A reads only B and grad_B only A: save just what is needed (as Mul does)
        ctx.shapes = (a.shape, b.shape)
        ctx.save_for_backward(
            a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None
        )
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        shape_a, shape_b = ctx.shapes
        shape_a2 = (1, *shape_a) if len(shape_a) == 1 else shape_a  # a row
        shape_b2 = (*shape_b, 1) if len(shape_b) == 1 else shape_b  # a column
        # grad_y in the shape of a2 @ b2: the dimensions dropped for 1-D operands put back
        batch = np.broadcast_shapes(shape_a2[:-2], shape_b2[:-2])
        g = grad_y.reshape(batch + (shape_a2[-2], shape_b2[-1]))
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            b2 = np.swapaxes(b.reshape(shape_b2), -1, -2)
            grad_a = unbroadcast(np.matmul(g, b2), shape_a2).reshape(shape_a)
        if ctx.needs_input_grad[1]:
            a2 = np.swapaxes(a.reshape(shape_a2), -1, -2)
            grad_b = unbroadcast(np.matmul(a2, g), shape_b2).reshape(shape_b)
        return grad_a, grad_b


class Linear(Function):
    """y = x W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    Backward, with g = dL/dy and the batch dimensions flattened into rows:
        grad_x = g W          (each input feature collects from every output)
        grad_W = g^T x        (a sum over the batch of outer products)
        grad_b = sum_rows g   (the bias is added to every row)
    One op instead of matmul + transpose + add: fewer nodes, and no temporary W^T.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        # grad_x reads only W and grad_W only x: a first layer (x needs no gradient) keeps
        # no W, so an optimizer step before its backward is fine, as in PyTorch
        need_x, need_w, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if need_w else None, weight if need_x else None)
        y = x @ weight.T
        if bias is not None:
            y += bias  # y is a fresh array: adding in place saves one allocation
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad
        rows = grad_y.reshape(-1, grad_y.shape[-1])
        grad_x = grad_y @ weight if needs_x else None
        grad_w = None
        if needs_w:
            inputs = x.reshape(-1, x.shape[-1])
            # Fast path at batch 1: grad_W is one outer product, and BLAS runs a k=1 matrix
            # product about 5x slower than a broadcasting multiply (670 vs 110 us measured
            # for 512 x 784); linear_weight_grad_reference is the plain formula it replaces.
            grad_w = rows.T * inputs if len(rows) == 1 else rows.T @ inputs
        grad_b = rows.sum(axis=0) if needs_b else None
        return grad_x, grad_w, grad_b

    @staticmethod
    def emit(e, needs, x, weight, bias):
        """gn.compile: forward and backward above as NumPy lines writing into arrays made
        once (``out=``); rows as in backward, the batch dimensions flattened."""
        y = e.new((*x.shape[:-1], weight.shape[0]), x.dtype, "linear")
        e.line(f"np.matmul({x}, {weight}.T, out={y})")
        if bias is not None:
            e.line(f"np.add({y}, {bias}, out={y})")

        def backward(g):
            need_x, need_w, need_b = needs
            rows, inputs = (  # as backward: the batch dimensions flattened into rows
                (f"{g}.reshape(-1, {g.shape[-1]})", f"{x}.reshape(-1, {x.shape[-1]})")
                if len(x.shape) != 2
                else (str(g), str(x))
            )
            grad_x = grad_w = grad_b = None
            if need_x:
                grad_x = e.grad(x)
                e.line(f"np.matmul({g}, {weight}, out={grad_x})  # grad_x = g W")
            if need_w:
                grad_w = e.grad(weight)
                single = len(x.shape) == 1 or x.shape[:-1] in ((1,), ())
                if e.fortran(weight) and not single:
                    # W kept (in, out) in memory: grad_W too, written as its transpose x^T g,
                    # a product BLAS runs 1.3-2x faster than g^T x into (out, in) rows; an
                    # optimizer may add it straight into its momentum instead (e.product)
                    e.product(f"{inputs}.T", rows, grad_w, transposed=True, note="grad_W = g^T x")
                else:
                    product = "np.multiply" if single else "np.matmul"  # batch 1: an outer
                    e.line(f"{product}({rows}.T, {inputs}, out={grad_w})  # grad_W = g^T x")
            if need_b:
                grad_b = e.grad(bias)
                e.line(f"np.sum({rows}, axis=0, out={grad_b})  # grad_b = sum of g's rows")
            return grad_x, grad_w, grad_b

        return y, backward


def linear_weight_grad_reference(grad_y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """grad_W = g^T x as written, one matrix product for every batch size (the plain
    version of ``Linear.backward``'s batch-1 fast path; a test checks that they agree)."""
    return grad_y.reshape(-1, grad_y.shape[-1]).T @ x.reshape(-1, x.shape[-1])


class Outer(Function):
    """Y = a b^T, Y_ij = a_i b_j.   grad_a = grad_Y b,  grad_b = grad_Y^T a.

    Why: a_i appears in row i of Y, once per j, with slope b_j; so dL/da_i = sum_j
    grad_Y_ij b_j. Likewise b_j collects column j weighted by a.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(
            a if ctx.needs_input_grad[1] else None, b if ctx.needs_input_grad[0] else None
        )
        return np.multiply.outer(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved_tensors
        grad_a = grad_y @ b if ctx.needs_input_grad[0] else None
        grad_b = grad_y.T @ a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics (1-D, 2-D, batched with broadcasting)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and "
            f"{b.shape}; use * for multiplication by a scalar"
        )
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the last dimension of the "
            f"first ({k_a}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
            f"dimension of the second ({k_b})"
        )
    if a.dtype != b.dtype:
        raise TypeError(
            f"matmul: both operands must have the same dtype, got {a.dtype} and {b.dtype} "
            "(PyTorch refuses mixed dtypes here too); convert one, e.g. b.to(a.dtype)"
        )
    return MatMul.apply(a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` as one op; weight has shape (out_features, in_features)."""
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape}; "
            f"the input's last dimension must be in_features = {weight.shape[-1]}"
        )
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != x.dtype):
        dtypes = {x.dtype, weight.dtype} | ({bias.dtype} if bias is not None else set())
        raise TypeError(
            f"linear: input, weight and bias must share one dtype, got "
            f"{', '.join(sorted(str(d) for d in dtypes))}; convert the input with .float() "
            "(or the model with .double())"
        )
    if weight.ndim == 1:
        # PyTorch accepts a weight of shape (in_features,): one output, its dimension
        # dropped. That is a matrix-vector product, whose rule MatMul already has.
        y = MatMul.apply(x, weight)
        return y if bias is None else y + bias
    if weight.ndim != 2:
        raise ValueError(
            f"linear: weight must have shape (out_features, in_features), got {weight.shape}"
        )
    return Linear.apply(x, weight, bias)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: ``outer(a, b)[i, j] = a[i] * b[j]``."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(
            f"outer: both operands must be 1-D, got shapes {a.shape} and {b.shape}; "
            "flatten them first, or use a[:, None] * b for a batched outer product"
        )
    return Outer.apply(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product of (B, n, m) and (B, m, p): ``matmul`` without broadcasting.

    Raises:
        ValueError: unless both are 3-D with equal batch sizes and fitting inner sizes.
    """
    if a.ndim != 3 or b.ndim != 3:
        raise ValueError(
            f"bmm: both operands must be 3-D (batch, rows, cols), got shapes {a.shape} and "
            f"{b.shape}; use matmul for other shapes"
        )
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ValueError(
            f"bmm: shapes {a.shape} and {b.shape} do not fit: expected (B, n, m) and "
            f"(B, m, p) with the same B and m"
        )
    return MatMul.apply(a, b)


# ------------------------------------------------------------------ einsum
@dataclass(frozen=True)
class EinsumEquation:
    """An einsum equation with '...' spelled out as letters and the output made explicit.

    Attributes:
        inputs: one string of letters per operand, one letter per dimension.
        output: the letters of the output, in order.
        shapes: each operand's shape once its '...' dimensions are broadcast together.
    """

    inputs: tuple[str, ...]
    output: str
    shapes: tuple[tuple[int, ...], ...]

    def text(self, inputs: tuple[str, ...], output: str) -> str:
        return ",".join(inputs) + "->" + output


class Einsum(Function):
    """y = einsum(equation, *operands).   grad of each operand = einsum(grad_y, the others).

    The forward multiplies the operands' elements wherever the letters they share agree,
    and sums over the letters missing from the output. y is linear in each operand, so
    each gradient is one more einsum: for operand k with letters s_k,
    grad_k = einsum(out, s_j for every j != k -> s_k)(grad_y, the others).
    E.g. 'ij,jk->ik' gives grad_A = einsum('ik,jk->ij', g, B) = g B^T, as for matmul.
    Two letters need care. A letter only in operand k (j in 'ij->i', a sum) is on no
    right-hand side, so that einsum leaves it out and the gradient is copied along it (the
    gradient of a sum). A letter repeated in operand k ('ii->i', the diagonal) makes y
    depend only on the diagonal, so the gradient is written there and is 0 elsewhere.
    """

    @staticmethod
    def forward(ctx, *operands, equation):
        ctx.equation = equation
        full = [np.broadcast_to(x, s) for x, s in zip(operands, equation.shapes)]
        ctx.save_for_backward(*full)
        ctx.shapes = tuple(x.shape for x in operands)
        text = equation.text(equation.inputs, equation.output)
        y = np.einsum(text, *full, optimize=len(full) > 1)
        # with one operand np.einsum may return a view of it ('ij->ji', 'ii->i'): copy, so
        # the output never shares memory with its input
        return np.array(y, copy=True) if len(full) == 1 else y

    @staticmethod
    def backward(ctx, grad_y):
        full = ctx.saved_tensors
        eq = ctx.equation
        grads = []
        for k, (letters, operand) in enumerate(zip(eq.inputs, full)):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [x for j, x in enumerate(full) if j != k]
            other_letters = tuple(s for j, s in enumerate(eq.inputs) if j != k)
            unique = "".join(dict.fromkeys(letters))
            reachable = set(eq.output).union(*other_letters)
            kept = "".join(c for c in unique if c in reachable)
            g = np.einsum(eq.text((eq.output, *other_letters), kept), grad_y, *others)
            size = dict(zip(letters, operand.shape))
            # letters summed only inside this operand: the gradient is the same along them
            g = g.reshape([size[c] if c in kept else 1 for c in unique])
            g = np.broadcast_to(g, [size[c] for c in unique])
            if len(unique) < len(letters):  # repeated letters: only the diagonal is reached
                diagonal = g
                g = np.zeros(operand.shape, dtype=grad_y.dtype)
                g[_diagonal_index(letters, unique, size)] = diagonal
            grads.append(unbroadcast_to(g, ctx.shapes[k]))
        return tuple(grads)


def _diagonal_index(letters: str, unique: str, size: dict[str, int]) -> tuple[np.ndarray, ...]:
    """Index arrays that pick, from an array with one axis per letter of ``letters``, the
    elements where repeated letters have equal indices, arranged with one axis per
    letter of ``unique`` (the layout of einsum('ii->i'))."""
    axis = {c: i for i, c in enumerate(unique)}
    return tuple(
        np.arange(size[c]).reshape([-1 if i == axis[c] else 1 for i in range(len(unique))])
        for c in letters
    )


def unbroadcast_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes where ``shape`` has 1 and grad does not (same ndim)."""
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad


def _parse_einsum(equation: str, shapes: list[tuple[int, ...]]) -> EinsumEquation:
    """Check an equation against the operands' shapes and spell it out (see EinsumEquation)."""

    def fail(problem: str) -> ValueError:
        return ValueError(f"einsum {equation!r} with operand shapes {shapes}: {problem}")

    text = equation.replace(" ", "")
    if text.count("->") > 1 or set(text) - set(string.ascii_letters + ",.->"):
        raise fail("use letters a-z, A-Z, ',' between operands, one '->' and '...'")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise fail(f"the equation names {len(terms)} operands, {len(shapes)} were given")
    for term in (*terms, rhs):
        if term.replace("...", "", 1).count(".") or "-" in term or ">" in term:
            raise fail(f"{term!r} is malformed: '...' may appear once per operand")
    free = [c for c in string.ascii_letters if c not in text]
    n_ellipsis = [
        len(shape) - len(t.replace("...", "")) if "..." in t else 0
        for t, shape in zip(terms, shapes)
    ]
    for term, shape, n in zip(terms, shapes, n_ellipsis):
        letters = term.replace("...", "")
        if ("..." in term and n < 0) or ("..." not in term and len(letters) != len(shape)):
            raise fail(f"{term!r} has {len(letters)} letters for a {len(shape)}-D operand")
    width = max(n_ellipsis, default=0)
    dots = "".join(free[:width])
    inputs = tuple(t.replace("...", dots[width - n :]) for t, n in zip(terms, n_ellipsis))

    size: dict[str, int] = {}
    for letters, shape in zip(inputs, shapes):
        for c, n in zip(letters, shape):
            if c in dots:  # '...' dimensions broadcast: 1 stretches
                size[c] = n if size.get(c, 1) == 1 else size[c]
                if n not in (1, size[c]):
                    raise fail(f"the '...' dimensions {shape} do not broadcast")
            elif size.setdefault(c, n) != n:
                raise fail(f"letter {c!r} stands for sizes {size[c]} and {n}; they must match")

    if arrow:
        output = rhs.replace("...", dots)
        missing = sorted(set(output) - set("".join(inputs)))
        if missing or len(set(output)) != len(output):
            raise fail("each output letter must appear once, and in some operand")
    else:  # implicit output: '...' first, then the letters used once, in alphabetical order
        used = "".join(inputs)
        once = sorted(c for c in set(used) if used.count(c) == 1 and c not in dots)
        output = dots + "".join(once)
    full = tuple(tuple(size[c] for c in letters) for letters in inputs)
    return EinsumEquation(inputs, output, full)


def einsum(equation: str, *operands: Tensor | list) -> Tensor:
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Args:
        equation: one group of letters per operand, separated by commas, one letter per
            dimension; '...' stands for broadcast dimensions; '->' and the output letters
            are optional (without them the output is '...' and the letters used once,
            in alphabetical order).
        *operands: the tensors (or one list of them, as PyTorch also accepts).

    Returns:
        The product of the operands, summed over the letters missing from the output.

    Raises:
        ValueError: naming the equation and shapes, for any mismatch between them.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in operands]
    parsed = _parse_einsum(equation, [x.shape for x in tensors])
    return Einsum.apply(*tensors, equation=parsed)
