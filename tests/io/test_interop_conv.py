"""PyTorch both ways for the convolutional family: ``from_torch`` of a PyTorch-built model
gives PyTorch's outputs (float64, 1e-9), ``to_torch`` gives back the same layers (same repr)
and the same state_dict, bit for bit, and a glassnet-built model moves to PyTorch with its
outputs unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.torch_twin import assert_same_torch_module

torch = pytest.importorskip("torch")

# Each case is written once against a namespace ``t`` (torch.nn or glassnet.nn): the two
# libraries share the layer names and arguments, so one lambda builds the model in either.
CASES = {
    "Conv1d": (lambda t: t.Conv1d(3, 5, 3, stride=2, padding=1, dilation=2, bias=False), (3, 12)),
    "Conv1d same groups": (lambda t: t.Conv1d(4, 8, 3, padding="same", groups=4), (4, 9)),
    "Conv2d": (
        lambda t: t.Conv2d(3, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=3),
        (3, 9, 8),
    ),
    "Conv2d valid": (lambda t: t.Conv2d(3, 4, 3, padding="valid"), (3, 6, 5)),
    "MaxPool1d": (lambda t: t.MaxPool1d(3, stride=2, padding=1), (3, 11)),
    "MaxPool2d": (
        lambda t: t.MaxPool2d((3, 2), stride=(2, 1), padding=1, dilation=(1, 2)),
        (2, 9, 8),
    ),
    "AvgPool1d": (lambda t: t.AvgPool1d(3, stride=2, padding=1, count_include_pad=False), (3, 11)),
    "AvgPool2d": (lambda t: t.AvgPool2d(3, 2, 1, divisor_override=5), (2, 9, 8)),
    "AdaptiveAvgPool1d": (lambda t: t.AdaptiveAvgPool1d(4), (3, 10)),
    "AdaptiveAvgPool2d": (lambda t: t.AdaptiveAvgPool2d((3, None)), (2, 7, 5)),
    "BatchNorm2d": (lambda t: t.BatchNorm2d(4, momentum=None), (4, 5, 3)),
    "BatchNorm2d batch statistics": (
        lambda t: t.BatchNorm2d(4, affine=False, track_running_stats=False),
        (4, 5, 3),
    ),
    "GroupNorm": (lambda t: t.GroupNorm(2, 4, eps=1e-3), (4, 5, 3)),
    "GroupNorm no affine": (lambda t: t.GroupNorm(4, 4, affine=False), (4, 6)),
    "GroupNorm no bias": (lambda t: t.GroupNorm(2, 4, bias=False), (4, 5, 3)),
    "RMSNorm": (lambda t: t.RMSNorm((5, 6)), (3, 5, 6)),
    "RMSNorm eps, no affine": (lambda t: t.RMSNorm(6, eps=1e-4, elementwise_affine=False), (6,)),
    "Dropout2d Flatten Unflatten": (
        lambda t: t.Sequential(
            t.Conv2d(2, 3, 2), t.Dropout2d(0.3), t.Flatten(), t.Unflatten(1, (3, -1))
        ),
        (2, 5, 4),
    ),
    "small CNN": (
        lambda t: t.Sequential(
            t.Conv2d(1, 4, 3, padding=1),
            t.BatchNorm2d(4),
            t.ReLU(),
            t.MaxPool2d(2),
            t.Flatten(),
            t.Linear(4 * 4 * 4, 3),
        ),
        (1, 8, 8),
    ),
}


def _norm_layers(t):
    return tuple(getattr(t, n) for n in ("BatchNorm2d", "GroupNorm", "RMSNorm"))


def _torch_model(name):
    """The case built by PyTorch, in float64, with norm weights off their 1/0 start and
    batch-norm running statistics moved by a few training batches."""
    make, shape = CASES[name]
    torch.manual_seed(0)
    model = make(torch.nn).double()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _norm_layers(torch.nn)):
                for p in m.parameters():
                    p.uniform_(0.5, 1.5)
        model.train()
        for _ in range(3):
            model(torch.randn(8, *shape, dtype=torch.float64) * 2 + 1)
    return model.eval(), shape


@pytest.mark.parametrize("name", list(CASES))
def test_from_torch_gives_the_same_outputs_and_to_torch_round_trips(name) -> None:
    theirs, shape = _torch_model(name)
    x = np.random.default_rng(1).standard_normal((5, *shape))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    ours = gn.interop.from_torch(theirs)
    assert not ours.training
    assert all(p.dtype == np.float64 for p in ours.parameters())
    np.testing.assert_allclose(gn.predict(ours, x).numpy(), expected, rtol=1e-9, atol=1e-12)
    back = gn.interop.to_torch(ours)
    assert_same_torch_module(back, theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_glassnet_model_moves_to_torch_with_its_outputs(name) -> None:
    make, shape = CASES[name]
    gn.manual_seed(2)
    model = make(gn.nn).double()
    for m in model.modules():
        if isinstance(m, _norm_layers(gn.nn)):
            for p in m.parameters():
                p.data[...] = np.random.default_rng(3).uniform(0.5, 1.5, p.shape)
    rng = np.random.default_rng(4)
    model(gn.tensor(rng.standard_normal((8, *shape)) * 2 + 1))  # training: move statistics
    model.eval()
    twin = gn.interop.to_torch(model)
    assert not twin.training
    assert list(twin.state_dict()) == list(model.state_dict())
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), model.state_dict()[key].numpy())
    x = rng.standard_normal((5, *shape))
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(gn.predict(model, x).numpy(), theirs, rtol=1e-9, atol=1e-12)


def test_a_training_step_agrees_after_from_torch() -> None:
    """Training mode too: batch statistics, the running-statistics update, and every
    parameter's gradient agree after conversion."""
    theirs, shape = _torch_model("small CNN")
    ours = gn.interop.from_torch(theirs.train())
    x = np.random.default_rng(5).standard_normal((6, *shape))
    y = theirs(torch.from_numpy(x))
    y.square().sum().backward()
    out = ours(gn.tensor(x))
    (out * out).sum().backward()
    np.testing.assert_allclose(out.numpy(), y.detach().numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-10, err_msg=name
        )
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-12)


def test_a_batch_norm_without_bias_crosses_both_ways_with_its_flag():
    torch = pytest.importorskip("torch")
    mine = gn.nn.Sequential(gn.nn.BatchNorm2d(4, bias=False), gn.nn.BatchNorm2d(4, affine=False))
    theirs = gn.interop.to_torch(mine)
    assert theirs[0].bias is None and theirs[0].weight is not None
    assert repr(theirs) == repr(mine)
    back = gn.interop.from_torch(torch.nn.Sequential(torch.nn.BatchNorm2d(4, bias=False)))
    assert back[0].bias is None and repr(back[0]) == repr(torch.nn.BatchNorm2d(4, bias=False))
