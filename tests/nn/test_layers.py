"""Layers: gradients by finite differences, PyTorch-style errors, mode-dependent behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

nn = gn.nn

GRADCHECK_LAYERS = {
    "Linear": (lambda: nn.Linear(4, 3), (5, 4)),
    "LayerNorm": (lambda: nn.LayerNorm(4), (3, 4)),
    "LayerNorm 2-D": (lambda: nn.LayerNorm((2, 3)), (2, 2, 3)),
    "BatchNorm1d train": (lambda: nn.BatchNorm1d(3), (6, 3)),
    "BatchNorm1d train (N, C, L)": (lambda: nn.BatchNorm1d(3), (4, 3, 2)),
    "BatchNorm1d eval": (lambda: nn.BatchNorm1d(3).eval(), (6, 3)),
    "MLP": (lambda: nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2)), (3, 4)),
}


def _call_with(model, names, values, x):
    """Run ``model`` on x with ``values`` standing in for its parameters ``names`` (so that
    gradcheck can perturb them and receive their gradients), then put the originals back."""
    modules = dict(model.named_modules())
    slots = [(modules[n.rpartition(".")[0]], n.rpartition(".")[2]) for n in names]
    originals = [m._parameters[attr] for m, attr in slots]
    try:
        for (m, attr), value in zip(slots, values):
            m._parameters[attr] = value
        return model(x)
    finally:
        for (m, attr), original in zip(slots, originals):
            m._parameters[attr] = original


@pytest.mark.parametrize("name", list(GRADCHECK_LAYERS))
def test_layer_gradients_wrt_input_and_parameters(name) -> None:
    make, shape = GRADCHECK_LAYERS[name]
    model = make().double()
    rng = np.random.default_rng(0)
    names = [n for n, _ in model.named_parameters()]
    # non-trivial values for every parameter (norm layers start at weight 1, bias 0)
    values = [
        gn.tensor(rng.uniform(0.5, 1.5, p.shape), requires_grad=True) for p in model.parameters()
    ]
    x = gn.tensor(rng.standard_normal(shape), requires_grad=True)
    assert gn.gradcheck(lambda x, *ps: _call_with(model, names, ps, x), (x, *values))


def test_embedding_gradient_by_finite_differences() -> None:
    idx = gn.tensor([[1, 3, 1], [0, 4, 1]])
    weight = gn.tensor(np.random.default_rng(0).standard_normal((5, 2)), requires_grad=True)
    assert gn.gradcheck(lambda w: gn.nn.functional.embedding(idx, w), (weight,))


def test_embedding_gradient_accumulates_repeated_indices_and_skips_padding() -> None:
    emb = nn.Embedding(5, 2, padding_idx=0).double()
    idx = gn.tensor([[1, 1, 0], [3, 1, 0]])
    emb(idx).sum().backward()
    expected = np.zeros((5, 2))
    expected[1] = 3  # index 1 used three times
    expected[3] = 1
    np.testing.assert_array_equal(emb.weight.grad.data, expected)
    assert np.all(emb.weight.data[0] == 0)


def test_linear_wrong_input_shape_message() -> None:
    layer = nn.Linear(784, 128)
    with pytest.raises(ValueError) as info:
        layer(gn.zeros(64, 28, 28))
    assert str(info.value) == (
        "Linear(784 -> 128) expects input (..., 784), got (64, 28, 28); flatten it first"
    )
    with pytest.raises(ValueError, match=r"expects input \(\.\.\., 784\), got \(64, 100\)"):
        layer(gn.zeros(64, 100))


def test_linear_default_init_bounds() -> None:
    layer = nn.Linear(100, 400, generator=np.random.default_rng(0))
    bound = 1 / np.sqrt(100)
    assert np.abs(layer.weight.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.99 * bound  # U(-b, b) reaches near b
    assert np.abs(layer.bias.data).max() <= bound
    assert layer.weight.dtype == np.float32


def test_dropout_is_inverted_and_only_active_in_training() -> None:
    drop = nn.Dropout(0.25, generator=np.random.default_rng(0))
    x = gn.ones(200, 500)
    y = drop(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)  # survivors scaled by 1/(1-p)
    assert abs(y.data.mean() - 1.0) < 0.01  # expectation preserved
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_batchnorm_statistics_by_hand() -> None:
    bn = nn.BatchNorm1d(2).double()
    x = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    y = bn(gn.tensor(x))
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y.data, (x - mean) / np.sqrt(var + 1e-5))
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mean)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(0, ddof=1))
    assert bn.num_batches_tracked.item() == 1
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(gn.tensor(np.ones((1, 2))))


def test_layer_and_batch_norm_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\)\) expects input \(\.\.\., 4\)"):
        nn.LayerNorm(4)(gn.zeros(2, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\) expects input \(N, 4\)"):
        nn.BatchNorm1d(4)(gn.zeros(2, 5))


def test_embedding_errors() -> None:
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match=r"index 7 is out of range for 5 embeddings"):
        emb(gn.tensor([1, 7]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(gn.tensor([1.0]))


def test_one_hot() -> None:
    out = nn.functional.one_hot(gn.tensor([0, 2, 1]), num_classes=3)
    np.testing.assert_array_equal(out.data, np.eye(3, dtype=np.int64)[[0, 2, 1]])
