"""``to``, ``cpu``, ``device`` and the dtype names, with PyTorch's signatures: code written
for PyTorch runs on the CPU unchanged, and asking for another device says how to fix it."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn


def test_device_prints_and_compares_as_pytorch() -> None:
    x = gn.ones(2)
    assert repr(x.device) == "device(type='cpu')"
    assert str(x.device) == "cpu"
    assert x.device == gn.device("cpu") and x.device.type == "cpu" and x.device.index is None
    assert repr(gn.device("cpu:0")) == "device(type='cpu', index=0)"
    assert x.is_cuda is False
    torch = pytest.importorskip("torch")
    assert repr(x.device) == repr(torch.ones(2).device)
    assert repr(gn.device("cpu", 0)) == repr(torch.device("cpu", 0))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.to("cpu"),
        lambda x: x.to(device="cpu"),
        lambda x: x.to(gn.device("cpu")),
        lambda x: x.to(x.device),
        lambda x: x.cpu(),
        lambda x: x.to(gn.float32),
        lambda x: x.to("cpu", gn.float32, non_blocking=True),
    ],
)
def test_to_and_cpu_return_the_tensor_itself_when_nothing_changes(call) -> None:
    x = gn.ones(2, 3, requires_grad=True)
    assert call(x) is x  # as PyTorch, so that parameters moved "to the CPU" stay parameters


@pytest.mark.parametrize(
    ("call", "dtype"),
    [
        (lambda x: x.to(gn.float64), np.float64),
        (lambda x: x.to("cpu", gn.float64), np.float64),
        (lambda x: x.to(device="cpu", dtype=gn.double), np.float64),
        (lambda x: x.to(dtype=gn.half), np.float16),
        (lambda x: x.to(gn.tensor([1, 2])), np.int64),
        (lambda x: x.to("float64"), np.float64),  # glassnet took NumPy dtype names before
        (lambda x: x.int(), np.int32),
        (lambda x: x.half(), np.float16),
        (lambda x: x.short(), np.int16),
    ],
)
def test_to_converts_the_dtype(call, dtype) -> None:
    y = call(gn.tensor([[1.5, -2.0]]))
    assert y.dtype == dtype
    assert y.tolist() == np.array([[1.5, -2.0]]).astype(dtype).tolist()


def test_to_with_copy_true_copies_and_passes_the_gradient() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cpu", copy=True)
    assert y is not x and not np.shares_memory(y.data, x.data)
    (y * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.to("cuda"),
        lambda x: x.to("cuda:0", gn.float32),
        lambda x: x.to(device="mps"),
        lambda x: x.cuda(),
        lambda x: gn.device("cuda"),
    ],
)
def test_another_device_fails_naming_the_fix(call) -> None:
    with pytest.raises(RuntimeError, match="glassnet runs on NumPy on the CPU"):
        call(gn.ones(2))


def test_to_rejects_what_is_neither_a_device_nor_a_dtype() -> None:
    with pytest.raises(TypeError, match=r"neither a device .* nor a dtype"):
        gn.ones(2).to("gpu")
    with pytest.raises(TypeError, match="unexpected keyword"):
        gn.ones(2).to(dtype=gn.float64, memory="pinned")


def test_pytorch_dtype_names() -> None:
    names = {
        "long": np.int64,
        "int": np.int32,
        "short": np.int16,
        "float": np.float32,
        "double": np.float64,
        "half": np.float16,
        "bool": np.bool_,
        "uint8": np.uint8,
    }
    for name, dtype in names.items():
        assert np.dtype(getattr(gn, name)) == dtype, name
        assert gn.zeros(2, dtype=getattr(gn, name)).dtype == dtype, name
    torch = pytest.importorskip("torch")
    for name in names:
        expected = torch.zeros(1, dtype=getattr(torch, name)).numpy().dtype
        assert np.dtype(getattr(gn, name)) == expected, name


def test_creation_functions_take_pytorchs_device_argument() -> None:
    for make in (
        lambda d: gn.zeros(2, device=d),
        lambda d: gn.ones(2, 3, device=d),
        lambda d: gn.full((2,), 1.5, device=d),
        lambda d: gn.empty(2, device=d),
        lambda d: gn.randn(2, device=d),
        lambda d: gn.rand(2, device=d),
        lambda d: gn.randint(0, 5, (3,), device=d),
        lambda d: gn.randperm(4, device=d),
        lambda d: gn.arange(3, device=d),
        lambda d: gn.linspace(0, 1, 5, device=d),
        lambda d: gn.eye(2, device=d),
        lambda d: gn.zeros_like(gn.ones(2), device=d),
        lambda d: gn.tensor([1.0, 2.0], device=d),
    ):
        assert make("cpu").device == gn.device("cpu")
        assert make(gn.device("cpu")).device == gn.device("cpu")
        with pytest.raises(RuntimeError, match="runs on NumPy on the CPU"):
            make("cuda")


def test_a_module_moves_to_the_cpu_and_dtypes_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for lib in (gn, torch):
        model = lib.nn.Linear(2, 3)
        assert model.to("cpu") is model and model.cpu() is model
        assert model.to(lib.device("cpu")) is model
        assert model.to("cpu", lib.float64) is model
        assert str(model.weight.dtype).endswith("float64")
    with pytest.raises(RuntimeError, match="runs on NumPy on the CPU"):
        gn.nn.Linear(2, 3).cuda()
    with pytest.raises(RuntimeError, match="runs on NumPy on the CPU"):
        gn.nn.Linear(2, 3).to("cuda:0")
