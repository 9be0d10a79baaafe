"""The pooling layers against PyTorch's in float64: the same output and input gradient (to
1e-9) for each layer and argument set, the same repr, and the same attributes a user reads.
Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

# (class name, constructor arguments, keyword arguments, input shape)
CASES = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2), (2, 3, 11)),
    ("MaxPool1d", (2,), {}, (3, 8)),  # unbatched
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", ((3, 2),), dict(stride=1, padding=(1, 0)), (2, 2, 5, 6)),
    ("AvgPool1d", (4,), dict(stride=2, padding=2), (2, 3, 9)),
    ("AvgPool1d", (3,), dict(stride=1, padding=1, count_include_pad=False), (2, 2, 7)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1), (2, 3, 7, 8)),
    ("AvgPool2d", ((2, 3),), dict(stride=1, count_include_pad=False, padding=1), (2, 5, 6)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (1, 2, 4, 6)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 10)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 4, 5, 5)),
    ("AdaptiveAvgPool2d", ((4, 3),), {}, (3, 9, 7)),  # unbatched
]


@pytest.mark.parametrize("case", range(len(CASES)), ids=lambda i: CASES[i][0] + str(i))
def test_same_output_and_input_gradient_as_pytorch(case: int) -> None:
    name, args, kwargs, shape = CASES[case]
    ours, theirs = getattr(gn.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape)
    x_ours, x_theirs = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    assert y_ours.dtype == np.float64
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=1e-9, atol=1e-9)
    g = rng.standard_normal(tuple(y_theirs.shape))
    y_ours.backward(gn.tensor(g))
    y_theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), rtol=1e-9, atol=1e-9)


def test_attributes_match_pytorch() -> None:
    layers = [
        ("MaxPool2d", (2,), dict(padding=1)),
        ("MaxPool1d", (3, None, 1, 2, True)),
        ("AvgPool1d", (3,), dict(padding=1)),
        ("AvgPool2d", ((2, 3),), dict(count_include_pad=False)),
    ]
    for name, args, *kw in layers:
        kw = kw[0] if kw else {}
        ours, theirs = getattr(gn.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        for attr in ("kernel_size", "stride", "padding", "dilation", "ceil_mode"):
            assert getattr(ours, attr, None) == getattr(theirs, attr, None), (name, attr)


def test_max_pool_return_indices_in_a_module() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    y, idx = gn.nn.MaxPool2d(2, return_indices=True)(gn.tensor(x))
    y_t, idx_t = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(idx.data, idx_t.numpy())
    np.testing.assert_allclose(y.data, y_t.numpy(), rtol=0, atol=0)


def test_pooling_layers_have_no_parameters_and_keep_float32() -> None:
    net = gn.nn.Sequential(gn.nn.MaxPool2d(2), gn.nn.AvgPool2d(2), gn.nn.AdaptiveAvgPool2d(1))
    assert list(net.parameters()) == [] and net.state_dict() == {}
    assert net(gn.zeros(2, 3, 8, 8)).shape == (2, 3, 1, 1)
    assert net(gn.zeros(2, 3, 8, 8)).dtype == np.float32
