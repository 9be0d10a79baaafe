"""ONNX export: every supported layer and three whole models give ONNX Runtime the same
outputs as glassnet (float32, 1e-5) at batch 1 and 17 from one dynamic-batch file."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
nn = gn.nn

LAYERS = {
    "Linear": (lambda: nn.Linear(6, 4), (6,)),
    "Linear 3-D input": (lambda: nn.Linear(6, 4), (3, 6)),
    "ReLU": (lambda: nn.ReLU(), (6,)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (6,)),
    "ELU": (lambda: nn.ELU(0.7), (6,)),
    "GELU": (lambda: nn.GELU(), (6,)),
    "GELU tanh": (lambda: nn.GELU("tanh"), (6,)),
    "SiLU": (lambda: nn.SiLU(), (6,)),
    "Sigmoid": (lambda: nn.Sigmoid(), (6,)),
    "Tanh": (lambda: nn.Tanh(), (6,)),
    "Softplus": (lambda: nn.Softplus(2.0, 3.0), (6,)),
    "Softmax": (lambda: nn.Softmax(dim=1), (6,)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=-1), (6,)),
    "Dropout (eval)": (lambda: nn.Sequential(nn.Linear(6, 6), nn.Dropout(0.5)), (6,)),
    "Flatten": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), (3, 4)),
    "Identity": (lambda: nn.Sequential(nn.Identity(), nn.Linear(6, 2)), (6,)),
    "LayerNorm": (lambda: nn.LayerNorm(6), (6,)),
    "BatchNorm1d (eval)": (lambda: nn.BatchNorm1d(6), (6,)),
    "BatchNorm1d (N, C, L)": (lambda: nn.BatchNorm1d(3), (3, 5)),
}


def _inputs(shape, seed):
    return {
        n: np.random.default_rng(seed + n).standard_normal((n, *shape)).astype(np.float32)
        for n in (1, 17)
    }


def _check(model, example, inputs, tmp_path):
    """The file passes ONNX's full check, runs in ONNX Runtime and agrees with glassnet's
    eval-mode forward at every batch size in ``inputs``."""
    path = tmp_path / "model.onnx"
    gn.onnx.export(model, example, path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = ort.InferenceSession(str(path))
    for x in inputs.values():
        expected = gn.predict(model, x).numpy()
        (got,) = session.run(None, {"input": x})
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    return proto


_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.GroupNorm, nn.RMSNorm)


def _move_batchnorm_statistics(model, shape):
    """A few training batches, so eval mode uses running statistics far from (0, 1), and
    non-trivial scales and shifts on the norm layers, so a swapped one shows."""
    if any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in model.modules()):
        model.train()
        rng = np.random.default_rng(0)
        for _ in range(3):
            model(gn.tensor(rng.standard_normal((8, *shape)).astype(np.float32) * 2 + 1))
    for m in model.modules():
        for name in ("weight", "bias"):
            p = getattr(m, name, None)
            if isinstance(m, _NORMS) and p is not None:
                p.data[...] = np.random.default_rng(1).uniform(0.5, 1.5, p.shape)


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_onnx_runtime(name, tmp_path) -> None:
    make, shape = LAYERS[name]
    gn.manual_seed(0)
    model = make()
    _move_batchnorm_statistics(model, shape)
    _check(model, gn.randn(2, *shape), _inputs(shape, 0), tmp_path)


def test_digits_mlp_matches_onnx_runtime(tmp_path) -> None:
    splits = gn.data.load_digits()
    gn.manual_seed(0)
    model = gn.train.mlp(64, [128, 64], 10, dropout=0.2)
    gn.fit(
        model,
        nn.CrossEntropyLoss(),
        gn.optim.Adam(model.parameters(), lr=1e-3),
        splits.train,
        2,
        progress=False,
    )
    _check(model, splits.x_test[:2], {1: splits.x_test[:1], 17: splits.x_test[:17]}, tmp_path)


def test_model_with_batchnorm_and_dropout_matches_onnx_runtime(tmp_path) -> None:
    gn.manual_seed(1)
    model = nn.Sequential(
        nn.Linear(10, 32),
        nn.BatchNorm1d(32),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(32, 16),
        nn.BatchNorm1d(16),
        nn.Tanh(),
        nn.Dropout(0.3),
        nn.Linear(16, 4),
    )
    _move_batchnorm_statistics(model, (10,))
    _check(model, gn.randn(2, 10), _inputs((10,), 5), tmp_path)


class EmbeddingMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.mlp = nn.Sequential(nn.Flatten(), nn.Linear(5 * 8, 16), nn.GELU(), nn.Linear(16, 3))

    def forward(self, tokens):
        return self.mlp(self.embed(tokens))


def test_embedding_mlp_matches_onnx_runtime(tmp_path) -> None:
    gn.manual_seed(2)
    model = EmbeddingMLP()
    rng = np.random.default_rng(0)
    inputs = {n: rng.integers(0, 50, (n, 5)) for n in (1, 17)}
    _check(model, gn.tensor(inputs[1]), inputs, tmp_path)


def test_parameters_keep_their_names_as_initializers(tmp_path) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    gn.onnx.export(model, gn.randn(1, 3), tmp_path / "m.onnx")
    names = {t.name for t in onnx.load(str(tmp_path / "m.onnx")).graph.initializer}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= names


def test_unsupported_op_names_the_op_and_the_layer(tmp_path) -> None:
    class Pooling(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return gn.amax(self.fc(x), dim=1)

    model = nn.Sequential(nn.Linear(4, 4), Pooling())
    with pytest.raises(
        gn.onnx.UnsupportedOpError,
        match=r"ONNX export: 1 uses AMax, which the exporter does not translate",
    ):
        gn.onnx.export(model, gn.randn(2, 4), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_export_command_builds_the_scaling_into_the_graph(tmp_path) -> None:
    run = tmp_path / "run"
    subprocess.run(
        [sys.executable, "-m", "glassnet", "train", "--epochs", "3", "--out", str(run)],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "glassnet",
            "export",
            str(run),
            "--onnx",
            str(tmp_path / "digits.onnx"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "output 'logits' (batch, 10)" in out.stdout
    splits = gn.data.load_digits()
    raw = splits.x_test[:17]
    np.save(tmp_path / "x.npy", raw)
    predicted = subprocess.run(
        [sys.executable, "-m", "glassnet", "predict", str(run), "--input", str(tmp_path / "x.npy")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[1:]
    (logits,) = ort.InferenceSession(str(tmp_path / "digits.onnx")).run(None, {"input": raw})
    assert [line.split(",")[1] for line in predicted] == [str(k) for k in logits.argmax(axis=1)]
