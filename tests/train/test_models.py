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


@pytest.mark.parametrize(("shape", "hidden"), [((12,), (8,)), ((5, 3), (6, 6))])
def test_gru_classifier_matches_torch_gru_and_linear(shape, hidden) -> None:
    torch = pytest.importorskip("torch")
    model = MODELS["gru"](shape, hidden, 4, generator=np.random.default_rng(0)).eval()
    features = shape[1] if len(shape) == 2 else 1
    twin_gru = torch.nn.GRU(features, hidden[0], len(hidden), batch_first=True).double()
    twin_head = torch.nn.Linear(hidden[0], 4).double()
    weights = {
        k: torch.from_numpy(v.data.astype(np.float64)) for k, v in model.state_dict().items()
    }
    twin_gru.load_state_dict({k[4:]: v for k, v in weights.items() if k.startswith("gru.")})
    twin_head.load_state_dict({k[5:]: v for k, v in weights.items() if k.startswith("head.")})
    x = np.random.default_rng(1).standard_normal((3, *shape))
    flat = gn.tensor(x.reshape(3, -1).astype(np.float32))  # as the command line feeds it
    with torch.no_grad():
        _, h_n = twin_gru(torch.from_numpy(x.reshape(3, shape[0], features)))
        expected = twin_head(h_n[-1]).numpy()
    np.testing.assert_allclose(model(flat).data, expected, atol=1e-5)
    np.testing.assert_allclose(model(gn.tensor(x.astype(np.float32))).data, expected, atol=1e-5)


def test_gru_classifier_refuses_what_a_gru_cannot_be_and_names_the_fix() -> None:
    gru = MODELS["gru"]
    with pytest.raises(ValueError, match=r"all layers of a GRU have one size.*e\.g\. 64,64"):
        gru((40,), (64, 32), 10)
    with pytest.raises(ValueError, match=r"e\.g\. 64"):
        gru((40,), (), 10)
    with pytest.raises(ValueError, match=r"gates fix its nonlinearities"):
        gru((40,), (8,), 10, activation="tanh")
    with pytest.raises(ValueError, match=r"use cnn for images"):
        gru((1, 28, 28), (8,), 10)
