"""The ready-made models: their layers are the published ones, and their state dicts load
into the same layers written in PyTorch, which then compute the same outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.train.models import MODELS, cnn, mlp
from tests.torch_twin import compare_module, copy_weights_to_torch


def _parameter_count(model: gn.nn.Module) -> int:
    return sum(p.data.size for p in model.parameters())


def test_cnn_for_signals_is_the_mnist1d_papers_convbase() -> None:
    model = cnn((40,), (25, 25, 25), 10)
    convs = [m for m in model if isinstance(m, gn.nn.Conv1d)]
    assert [(c.kernel_size, c.stride, c.padding) for c in convs] == [
        ((5,), (2,), (1,)),
        ((3,), (2,), (1,)),
        ((3,), (2,), (1,)),
    ]
    # by hand: 1*25*5+25, then 25*25*3+25 twice, then the Linear 25*5 -> 10
    assert _parameter_count(model) == 150 + 1900 + 1900 + 125 * 10 + 10 == 5210
    assert model(gn.tensor(np.zeros((3, 40), np.float32))).shape == (3, 10)
    assert model(gn.tensor(np.zeros((3, 1, 40), np.float32))).shape == (3, 10)


def test_cnn_for_images_halves_the_size_per_block() -> None:
    model = cnn((28, 28), (32, 64), 10)
    assert model[-1].in_features == 64 * 7 * 7
    assert model(gn.tensor(np.zeros((2, 784), np.float32))).shape == (2, 10)
    assert model(gn.tensor(np.zeros((2, 1, 28, 28), np.float32))).shape == (2, 10)
    assert cnn((8, 8), (32, 64), 10)[-1].in_features == 64 * 2 * 2
    assert cnn((3, 8, 8), (4,), 5)[2].in_channels == 3


def test_cnn_refuses_shapes_it_does_not_fit_and_names_the_fix() -> None:
    with pytest.raises(ValueError, match=r"too small for 3 convolution.*use mlp"):
        cnn((2,), (25, 25, 25), 2)
    with pytest.raises(ValueError, match=r"before layer 4\); pass at most 3 hidden sizes"):
        cnn((8, 8), (4, 4, 4, 4), 10)
    with pytest.raises(ValueError, match=r"input_shape must be"):
        cnn((2, 3, 4, 5), (4,), 10)


def test_every_builder_takes_the_sample_shape_first() -> None:
    assert {"mlp", "cnn"} <= set(MODELS)
    assert mlp((8, 8), [16], 10)[1].in_features == 64


@pytest.mark.parametrize(
    ("shape", "hidden"), [((40,), (25, 25, 25)), ((12, 12), (3, 5)), ((2, 8, 8), (4,))]
)
def test_cnn_state_dict_loads_into_the_same_torch_sequential(shape, hidden) -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    gn.manual_seed(0)
    model = cnn(shape, hidden, 10, dropout=0.0).to(dtype=gn.float64)
    if len(shape) == 1:
        channels, sizes = 1, shape
        blocks = [
            nn.Conv1d(1, 25, 5, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv1d(25, 25, 3, stride=2, padding=1),
            nn.ReLU(),
        ]
        features = 25 * 5
    else:
        channels, sizes = (1, shape) if len(shape) == 2 else (shape[0], shape[1:])
        blocks, c, side = [], channels, sizes[0]
        for width in hidden:
            blocks += [nn.Conv2d(c, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2)]
            c, side = width, side // 2
        features = c * side * side
    twin = nn.Sequential(
        nn.Flatten(),
        nn.Unflatten(1, (channels, *sizes)),
        *blocks,
        nn.Flatten(),
        nn.Linear(features, 10),
    ).double()
    copy_weights_to_torch(model, twin)
    x = np.random.default_rng(1).standard_normal((4, int(np.prod(shape))))
    compare_module(model, twin, x, rtol=1e-9, atol=1e-9)
