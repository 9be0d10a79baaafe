"""Module: registration, names, modes, hooks, repr and the state dict."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import glassnet as gn

nn = gn.nn


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3)
        self.register_buffer("scale", gn.ones(3))
        self.register_buffer("cache", gn.zeros(3), persistent=False)
        self.not_registered = [nn.Linear(2, 2)]  # a plain list hides its modules

    def forward(self, x):
        return self.fc2(gn.relu(self.bn(self.fc1(x)))) * self.scale


def test_attribute_assignment_registers_parameters_modules_and_buffers() -> None:
    m = TwoLayer()
    assert [n for n, _ in m.named_parameters()] == [
        "fc1.weight",
        "fc1.bias",
        "bn.weight",
        "bn.bias",
        "fc2.weight",
        "fc2.bias",
    ]
    assert list(m.state_dict()) == [
        "scale",
        "fc1.weight",
        "fc1.bias",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
        "fc2.weight",
        "fc2.bias",
    ]
    assert [n for n, _ in m.named_children()] == ["fc1", "bn", "fc2"]
    assert [n for n, _ in m.named_modules()] == ["", "fc1", "bn", "fc2"]
    assert len(list(m.buffers())) == 5
    assert isinstance(m.fc1.weight, nn.Parameter)


def test_shared_parameters_are_listed_once() -> None:
    a = nn.Linear(3, 3)
    m = nn.Sequential(a, nn.ReLU(), a)
    assert len(list(m.parameters())) == 2


def test_train_eval_and_zero_grad() -> None:
    m = TwoLayer()
    assert m.training and m.bn.training
    m.eval()
    assert not m.training and not m.bn.training
    m.train()
    m(gn.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.data == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_requires_grad_apply_and_double() -> None:
    m = TwoLayer()
    m.fc1.requires_grad_(False)
    assert not m.fc1.weight.requires_grad and m.fc2.weight.requires_grad
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Linear", "TwoLayer"]
    m.double()
    assert m.fc1.weight.dtype == np.float64 and m.bn.running_mean.dtype == np.float64
    assert m.bn.num_batches_tracked.dtype == np.int64  # integer buffers are not converted
    assert m(gn.randn(3, 4, dtype=gn.float64)).dtype == np.float64


def test_forward_hooks_see_and_can_replace_outputs() -> None:
    m = nn.Linear(3, 2)
    seen = []
    handle = m.register_forward_hook(lambda mod, inputs, out: seen.append(out.shape))
    m(gn.randn(4, 3))
    assert seen == [(4, 2)]
    handle.remove()
    m(gn.randn(4, 3))
    assert len(seen) == 1
    m.register_forward_hook(lambda mod, inputs, out: out * 0)
    assert np.all(m(gn.randn(4, 3)).data == 0)


def test_repr_is_laid_out_like_pytorch() -> None:
    m = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=128, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2)\n"
        "  (3): Linear(in_features=128, out_features=10, bias=True)\n"
        ")"
    )


def test_sequential_indexing_slicing_append_and_ordered_dict() -> None:
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(m) == 3 and isinstance(m[0], nn.Linear) and isinstance(m[-1], nn.Linear)
    head = m[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    assert head(gn.randn(5, 2)).shape == (5, 3)
    m.append(nn.Sigmoid())
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    with pytest.raises(IndexError, match="out of range for 3 modules"):
        nn.Sequential(nn.ReLU(), nn.ReLU(), nn.ReLU())[5]


def test_module_list_and_dict_register_their_modules() -> None:
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    ml.append(nn.Linear(2, 1))
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    md = nn.ModuleDict({"enc": nn.Linear(2, 2), "dec": nn.Linear(2, 2)})
    assert "enc" in md and list(md.keys()) == ["enc", "dec"]
    assert list(md.state_dict())[:2] == ["enc.weight", "enc.bias"]


def test_state_dict_round_trip() -> None:
    a, b = TwoLayer(), TwoLayer()
    a(gn.randn(6, 4))  # move running stats
    b.load_state_dict(a.state_dict())
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    a.eval()
    b.eval()
    x = gn.randn(3, 4)
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_load_state_dict_keeps_parameter_objects() -> None:
    m = nn.Linear(2, 2)
    weight = m.weight
    m.load_state_dict({"weight": np.ones((2, 2), np.float32), "bias": np.zeros(2, np.float32)})
    assert m.weight is weight and np.all(weight.data == 1)


def test_strict_load_lists_every_problem_and_changes_nothing() -> None:
    m = TwoLayer()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    bad = {k: v.numpy().copy() + 1 for k, v in m.state_dict().items()}
    bad["fc1.weight"] = np.zeros((5, 4), np.float32)
    bad["fc2.bias"] = np.zeros(3, np.float64)
    del bad["bn.running_var"]
    bad["extra.weight"] = np.zeros(1, np.float32)
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(bad)
    message = str(info.value)
    assert (
        "size mismatch for fc1.weight: the checkpoint has shape (5, 4), the model has (8, 4)"
        in message
    )
    assert "fc2.bias" not in message  # float64 into float32 is a cast, as in PyTorch
    assert "missing key 'bn.running_var'" in message
    assert "unexpected key 'extra.weight'" in message
    assert "nothing was changed" in message
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_non_strict_load_reports_missing_and_unexpected_keys() -> None:
    m = nn.Linear(2, 2)
    result = m.load_state_dict(
        {"weight": np.ones((2, 2), np.float32), "other": np.ones(1)}, strict=False
    )
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    assert np.all(m.weight.data == 1)


def test_module_without_super_init_is_a_clear_error() -> None:
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Broken()


def test_a_module_used_twice_is_saved_under_both_names_like_pytorch() -> None:
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(model.parameters())) == 2  # but trained once
    torch = pytest.importorskip("torch")
    t_shared = torch.nn.Linear(3, 3)
    assert list(torch.nn.Sequential(t_shared, torch.nn.ReLU(), t_shared).state_dict()) == list(
        model.state_dict()
    )


def test_load_state_dict_casts_into_the_model_dtype_as_pytorch_copy_does() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = {
        "0.weight": rng.standard_normal((3, 2)),  # float64 into float32: rounded
        "0.bias": np.array([1, -2, 3], dtype=np.int64),  # integers into float32
        "1.weight": rng.standard_normal(3),
        "1.bias": rng.standard_normal(3).astype(np.float32),
        "1.running_mean": rng.standard_normal(3),
        "1.running_var": rng.uniform(1, 2, 3),
        "1.num_batches_tracked": np.array(7.9),  # float into the int64 counter: truncated
    }
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    weight = model[0].weight
    version = weight._version
    model.load_state_dict(values)
    twin.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in values.items()})
    theirs = twin.state_dict()
    for key, ours in model.state_dict().items():
        want = theirs[key].numpy()
        assert ours.dtype == want.dtype, key
        np.testing.assert_array_equal(ours.numpy(), want)
    assert model[0].weight is weight and weight._version > version
    # shapes must still match, and a failing load still changes nothing
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    bad = dict(values, **{"0.bias": np.zeros(4)})
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.bias.*\(4,\).*\(3,\)"):
        model.load_state_dict(bad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])
    with pytest.raises(RuntimeError, match=r"dtype mismatch for 0\.bias: the checkpoint has <U1"):
        model.load_state_dict(dict(values, **{"0.bias": np.array(["a", "b", "c"])}))
