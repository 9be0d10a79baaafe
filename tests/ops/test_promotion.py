"""Type promotion against PyTorch: every binary op, for every pair of dtypes, with each
operand a tensor, a 0-d tensor or a Python number, gives PyTorch's result dtype and
values; gradients come back in each input's own dtype."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

DTYPES = ("bool", "uint8", "int32", "int64", "float32", "float64")
VALUES = {"b": [True, False, True], "u": [1, 2, 3], "i": [1, 2, 3], "f": [0.5, 1.5, 2.5]}
DIVISORS = {"b": [True, True, True], "u": [2, 1, 3], "i": [2, 1, 3], "f": [2.5, 0.5, 1.5]}
SCALARS = {"bool": True, "int": 2, "float": 2.5}
FORMS = ("tensor", "0-d")

OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / b, lambda a, b: a / b),
    "pow": (lambda a, b: a**b, lambda a, b: a**b),
    "maximum": (gn.maximum, torch.maximum),
    "minimum": (gn.minimum, torch.minimum),
    "where": (
        lambda a, b: gn.where(gn.tensor([True, False, True]), a, b),
        lambda a, b: torch.where(torch.tensor([True, False, True]), a, b),
    ),
    "eq": (lambda a, b: a == b, lambda a, b: a == b),
    "lt": (lambda a, b: a < b, lambda a, b: a < b),
    "ge": (lambda a, b: a >= b, lambda a, b: a >= b),
}


def _operand(kind: str, dtype: str, first: bool):
    """(glassnet operand, torch operand) for a dtype name or a Python scalar kind."""
    if kind == "scalar":
        value = SCALARS[dtype]
        return value, value
    values = (VALUES if first else DIVISORS)[np.dtype(dtype).kind]  # no division by 0
    array = np.array(values if kind == "tensor" else values[0], dtype=dtype)
    return gn.tensor(array), torch.from_numpy(array.copy())


def _torch_accepts(op: str, left: tuple, right: tuple) -> bool:
    try:
        OPS[op][1](_operand(*left, first=True)[1], _operand(*right, first=False)[1])
    except (RuntimeError, TypeError):
        return False
    return True


def _cases():
    """Every pair PyTorch accepts (it refuses a few, such as bool - bool: those are no
    reference, so they are left out of the table rather than skipped)."""
    tensor_like = [(form, dt) for form in FORMS for dt in DTYPES]
    scalars = [("scalar", name) for name in SCALARS]
    for op in OPS:
        for left, right in itertools.product(tensor_like + scalars, repeat=2):
            if left[0] == "scalar" and right[0] == "scalar":
                continue
            if not _torch_accepts(op, left, right):
                continue
            yield pytest.param(
                op, left, right, id=f"{op}-{left[0]}:{left[1]}-{right[0]}:{right[1]}"
            )


@pytest.mark.parametrize("op, left, right", list(_cases()))
def test_result_dtype_and_values_match_pytorch(op, left, right) -> None:
    ours_fn, torch_fn = OPS[op]
    a, ta = _operand(*left, first=True)
    b, tb = _operand(*right, first=False)
    expected = torch_fn(ta, tb)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = ours_fn(a, b)
    assert str(got.dtype) == str(expected.dtype).removeprefix("torch.")
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-6)


def test_numpy_scalars_count_as_python_numbers() -> None:
    x = gn.tensor(np.array([1, 2], dtype=np.int32))
    assert (x * np.int64(2)).dtype == np.int32
    assert (x * np.float64(2.5)).dtype == np.float32
    assert (gn.tensor([1.0, 2.0]) / np.float64(3)).dtype == np.float32


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where"])
@pytest.mark.parametrize(
    "shapes", [((3,), ()), ((), (3,)), ((3,), (3,))], ids=["tensor-0d", "0d-tensor", "both"]
)
def test_gradients_come_back_in_each_inputs_dtype(op, shapes) -> None:
    ours_fn, torch_fn = OPS[op]
    rng = np.random.default_rng(0)
    arrays = [
        rng.uniform(0.5, 2.0, size=shapes[0]).astype(np.float32),
        rng.uniform(0.5, 2.0, size=shapes[1]),
    ]
    ours = [gn.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours_fn(*ours), torch_fn(*theirs)
    assert str(out.dtype) == str(ref.dtype).removeprefix("torch.")
    out.sum().backward()
    ref.sum().backward()
    for x, t in zip(ours, theirs):
        assert x.grad.dtype == x.dtype
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-6)


def test_matmul_refuses_mixed_dtypes_as_pytorch_does() -> None:
    a, b = gn.ones((2, 3)), gn.ones((3, 2), dtype=gn.float64)
    with pytest.raises(TypeError, match="same dtype"):
        a @ b
    with pytest.raises(RuntimeError):
        torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)


@pytest.mark.parametrize("method", ["long", "bool", "int64", "int32"])
def test_casting_to_integer_or_bool_ends_the_graph(method) -> None:
    x = gn.tensor([1.5, -2.0], requires_grad=True)
    y = getattr(x, method)() if method in ("long", "bool") else x.to(getattr(gn, method))
    t = torch.tensor([1.5, -2.0], requires_grad=True)
    ty = getattr(t, method)() if method in ("long", "bool") else t.to(getattr(torch, method))
    assert y.requires_grad is ty.requires_grad is False
    assert y.grad_fn is None
    np.testing.assert_array_equal(y.data, ty.numpy())


def test_float_casts_stay_differentiable() -> None:
    x = gn.tensor([1.5, -2.0], requires_grad=True)
    y = x.double()
    assert y.requires_grad and y.dtype == np.float64
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
