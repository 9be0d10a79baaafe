"""PyTorch both ways and scikit-learn in: the same outputs on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

nn = gn.nn


def _layers():
    return {
        "Linear": (lambda: nn.Linear(6, 4), (6,)),
        "Linear no bias": (lambda: nn.Linear(6, 4, bias=False), (6,)),
        "activations": (
            lambda: nn.Sequential(
                nn.Linear(6, 6),
                nn.ReLU(),
                nn.LeakyReLU(0.2),
                nn.ELU(0.5),
                nn.GELU("tanh"),
                nn.SiLU(),
                nn.Softplus(2.0, 3.0),
                nn.Tanh(),
                nn.Sigmoid(),
                nn.GELU(),
            ),
            (6,),
        ),
        "Softmax": (lambda: nn.Sequential(nn.Linear(6, 3), nn.Softmax(dim=1)), (6,)),
        "LogSoftmax": (lambda: nn.Sequential(nn.Linear(6, 3), nn.LogSoftmax(dim=-1)), (6,)),
        "Dropout Flatten Identity": (
            lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Identity(), nn.Linear(12, 2)),
            (3, 4),
        ),
        "LayerNorm": (
            lambda: nn.Sequential(nn.LayerNorm(6), nn.LayerNorm(6, elementwise_affine=False)),
            (6,),
        ),
        "BatchNorm1d": (
            lambda: nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5, momentum=None)),
            (6,),
        ),
        "nested": (
            lambda: nn.Sequential(nn.Sequential(nn.Linear(6, 5), nn.ReLU()), nn.Linear(5, 2)),
            (6,),
        ),
    }


@pytest.mark.parametrize("name", list(_layers()))
def test_to_torch_and_back_give_the_same_outputs(name) -> None:
    torch = pytest.importorskip("torch")
    make, shape = _layers()[name]
    gn.manual_seed(0)
    model = make().double()
    if any(isinstance(m, nn.BatchNorm1d) for m in model.modules()):
        model(gn.tensor(np.random.default_rng(0).standard_normal((8, *shape)) * 2 + 1))
    model.eval()
    x = np.random.default_rng(1).standard_normal((7, *shape))
    twin = gn.interop.to_torch(model)
    assert not twin.training
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    ours = gn.predict(model, x).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    back = gn.interop.from_torch(twin)
    assert type(back) is type(model) and list(back.state_dict()) == list(model.state_dict())
    np.testing.assert_allclose(gn.predict(back, x).numpy(), ours, rtol=1e-12, atol=1e-14)


def test_from_torch_of_a_torch_built_model() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Embedding(20, 4, padding_idx=0),
        torch.nn.Flatten(),
        torch.nn.Linear(12, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    )
    ours = gn.interop.from_torch(theirs)
    assert ours[0].padding_idx == 0 and ours[0].weight.dtype == np.float32
    tokens = np.random.default_rng(0).integers(0, 20, (5, 3))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(tokens)).numpy()
    np.testing.assert_allclose(gn.predict(ours, tokens).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_unsupported_layers_are_named() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(
        TypeError,
        match="cannot convert PixelShuffle from PyTorch; supported layers: AdaptiveAvgPool1d",
    ):
        gn.interop.from_torch(torch.nn.Sequential(torch.nn.PixelShuffle(2)))

    class Custom(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="cannot convert Custom from glassnet"):
        gn.interop.to_torch(Custom())


def test_safetensors_files_move_between_glassnet_and_pytorch(tmp_path) -> None:
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file

    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    model(gn.randn(6, 4))
    model.eval()
    gn.save(model.state_dict(), tmp_path / "glassnet.safetensors")
    twin = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 2)
    ).eval()
    twin.load_state_dict(load_file(tmp_path / "glassnet.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        np.testing.assert_allclose(
            twin(torch.from_numpy(x)).numpy(), gn.predict(model, x).numpy(), rtol=1e-5, atol=1e-6
        )
    # and back: a file written by PyTorch loads into glassnet
    with torch.no_grad():
        for p in twin.parameters():
            p.mul_(0.5)
    save_file(twin.state_dict(), tmp_path / "torch.safetensors")
    model.load_state_dict(gn.load(tmp_path / "torch.safetensors"))
    with torch.no_grad():
        np.testing.assert_allclose(
            gn.predict(model, x).numpy(), twin(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6
        )


@pytest.mark.parametrize(
    ("kind", "activation", "classes"),
    [
        ("classifier", "relu", 3),
        ("classifier", "tanh", 2),
        ("classifier", "logistic", 4),
        ("regressor", "relu", 0),
        ("regressor", "identity", 0),
    ],
)
def test_from_sklearn_predicts_the_same(kind, activation, classes) -> None:
    neural = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 5))
    if kind == "classifier":
        y = np.array(["ant", "bee", "cat", "dog"])[rng.integers(0, classes, 120)]
        estimator = neural.MLPClassifier(
            (16, 8), activation=activation, max_iter=300, random_state=0
        )
    else:
        y = x[:, 0] * 2 - x[:, 1]
        estimator = neural.MLPRegressor(
            hidden_layer_sizes=(16,), activation=activation, max_iter=300, random_state=0
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(x, y)
    model = gn.interop.from_sklearn(estimator)
    out = gn.predict(model, x).numpy()
    if kind == "classifier":
        np.testing.assert_allclose(out, estimator.predict_proba(x), rtol=1e-6, atol=1e-9)
        assert (model.classes[out.argmax(axis=1)] == estimator.predict(x)).all()
    else:
        np.testing.assert_allclose(out.reshape(-1), estimator.predict(x), rtol=1e-6, atol=1e-9)


def test_from_sklearn_refuses_what_it_cannot_convert() -> None:
    neural = pytest.importorskip("sklearn.neural_network")
    with pytest.raises(
        TypeError,
        match="expects a fitted MLPClassifier or MLPRegressor, got MLPClassifier that has not been fitted",
    ):
        gn.interop.from_sklearn(neural.MLPClassifier())
    with pytest.raises(TypeError, match="got str"):
        gn.interop.from_sklearn("model")


def _whole_models():
    class EmbeddingMLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.Embedding(30, 4), nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 3)
            )

        def forward(self, tokens):
            return self.net(tokens)

    rng = np.random.default_rng(3)
    return {
        "digits MLP": (gn.train.mlp(64, [128, 64], 10, dropout=0.2), rng.standard_normal((9, 64))),
        "BatchNorm and Dropout": (
            nn.Sequential(
                nn.Linear(10, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 4)
            ),
            rng.standard_normal((9, 10)),
        ),
        "Embedding + MLP": (EmbeddingMLP().net, rng.integers(0, 30, (9, 3))),
    }


@pytest.mark.parametrize("name", ["digits MLP", "BatchNorm and Dropout", "Embedding + MLP"])
def test_whole_models_round_trip_through_pytorch(name) -> None:
    torch = pytest.importorskip("torch")
    gn.manual_seed(4)
    model, x = _whole_models()[name]
    model.double()
    if x.dtype.kind == "f":  # move the batch-norm statistics off their start
        model(gn.tensor(np.random.default_rng(0).standard_normal((16, x.shape[1])) * 2))
    model.eval()
    twin = gn.interop.to_torch(model)
    with torch.no_grad():
        theirs = twin(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(gn.predict(model, x).numpy(), theirs, rtol=1e-10, atol=1e-12)
    back = gn.interop.from_torch(twin)
    np.testing.assert_allclose(gn.predict(back, x).numpy(), theirs, rtol=1e-10, atol=1e-12)
