"""`glassnet train --model cnn|gru`: on MNIST-1D, on MNIST's IDX files, saved, used and
exported again, run as a user runs it (in a subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.cli import common
from tests.cli.test_cli import _one_line_error, glassnet


def _accuracy(stdout: str) -> float:
    line = next(x for x in stdout.splitlines() if x.startswith("test accuracy"))
    return float(line.split()[2])


@pytest.fixture(scope="module")
def mnist1d_cnn_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cnn")
    result = glassnet(
        "train", "--dataset", "mnist1d", "--model", "cnn", "--epochs", "3", "--no-plot",
        "--out", str(out),
    )  # fmt: skip
    return out, result


def test_help_names_the_models_and_what_hidden_means_for_each() -> None:
    text = " ".join(glassnet("train", "--help").stdout.split())
    assert "--model {mlp,cnn,gru}" in text and "(default: mlp)" in text
    assert "mlp: the width of each hidden Linear layer" in text
    assert "cnn: the channels of each convolution" in text
    assert "gru: the hidden size of each GRU layer" in text and "--model gru: 64" in text
    assert "--max-grad-norm NORM" in text and "(default: none); --model gru: 1.0" in text
    assert "torch" not in text.lower()


def test_cnn_on_mnist1d_beats_chance_by_far_and_saves_the_papers_model(mnist1d_cnn_run) -> None:
    out, result = mnist1d_cnn_run
    assert "5,210 parameters" in result.stdout
    assert _accuracy(result.stdout) > 0.3  # ten classes: chance is 0.1
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["type"] == "cnn" and config["model"]["hidden"] == [25, 25, 25]
    assert config["training"]["lr"] == 0.01  # the cnn's own default, not the mlp's
    # one mean and std for every time step, so the signal keeps its shape
    assert len(set(config["standardize"]["mean"])) == 1


def test_a_saved_cnn_run_evaluates_and_predicts_as_torch_does(mnist1d_cnn_run, tmp_path) -> None:
    torch = pytest.importorskip("torch")
    out, result = mnist1d_cnn_run
    reported = _accuracy(result.stdout)
    assert _accuracy(glassnet("evaluate", str(out)).stdout) == reported
    x = gn.data.load_mnist1d().x_test[:20]
    np.save(tmp_path / "x.npy", x)
    rows = glassnet("predict", str(out), "--input", str(tmp_path / "x.npy")).stdout.splitlines()
    predicted = [int(r.split(",")[1]) for r in rows[1:]]
    # the same network written in torch, with the run's weights and scaling
    nn = torch.nn
    twin = nn.Sequential(
        nn.Flatten(), nn.Unflatten(1, (1, 40)),
        nn.Conv1d(1, 25, 5, 2, 1), nn.ReLU(), nn.Conv1d(25, 25, 3, 2, 1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(125, 10),
    )  # fmt: skip
    weights = gn.load(out / "model.safetensors")
    twin.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in weights.items()})
    config = json.loads((out / "config.json").read_text())
    mean, std = (np.float32(config["standardize"][k][0]) for k in ("mean", "std"))
    with torch.no_grad():
        expected = twin(torch.from_numpy((x - mean) / std)).argmax(1).tolist()
    assert predicted == expected


def _torch_cnn(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Flatten(), nn.Unflatten(1, (1, 40)),
        nn.Conv1d(1, 25, 5, 2, 1), nn.ReLU(), nn.Conv1d(25, 25, 3, 2, 1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Linear(125, 10),
    )  # fmt: skip


def _scaled(x: np.ndarray, out: Path) -> np.ndarray:
    """The run's own scaling (one mean and std for every time step) applied by hand."""
    config = json.loads((out / "config.json").read_text())
    mean, std = (np.float32(config["standardize"][k][0]) for k in ("mean", "std"))
    return (x - mean) / std


def test_a_cnn_run_exports_to_onnx_that_computes_what_torch_does(mnist1d_cnn_run, tmp_path):
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    out, _ = mnist1d_cnn_run
    glassnet("export", str(out), "--onnx", str(tmp_path / "m.onnx"))
    x = gn.data.load_mnist1d().x_test[:20].astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    logits = session.run(None, {"input": x})[0]
    twin = _torch_cnn(torch)
    weights = gn.load(out / "model.safetensors")
    twin.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in weights.items()})
    with torch.no_grad():
        expected = twin(torch.from_numpy(_scaled(x, out))).numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-4)


@pytest.fixture(scope="module")
def mnist1d_gru_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gru")
    # batch 16 for 500 steps in 2 epochs: the default 64 needs more epochs to leave chance
    result = glassnet(
        "train", "--dataset", "mnist1d", "--model", "gru", "--epochs", "2", "--batch-size",
        "16", "--no-plot", "--out", str(out),
    )  # fmt: skip
    return out, result


def test_gru_on_mnist1d_beats_chance_clearly_with_its_own_defaults(mnist1d_gru_run) -> None:
    out, result = mnist1d_gru_run
    assert "40 steps of 1 feature -> hidden 64 -> 10, 13,514 parameters" in result.stdout
    assert _accuracy(result.stdout) > 0.25  # ten classes: chance is 0.1
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["type"] == "gru" and config["model"]["hidden"] == [64]
    training = config["training"]
    assert (training["optimizer"], training["lr"], training["max_grad_norm"]) == ("adam", 3e-3, 1)
    assert len(set(config["standardize"]["mean"])) == 1


def test_a_saved_gru_run_evaluates_and_predicts_as_torch_does(mnist1d_gru_run, tmp_path):
    torch = pytest.importorskip("torch")
    out, result = mnist1d_gru_run
    assert _accuracy(glassnet("evaluate", str(out)).stdout) == _accuracy(result.stdout)
    x = gn.data.load_mnist1d().x_test[:20]
    np.save(tmp_path / "x.npy", x)
    rows = glassnet("predict", str(out), "--input", str(tmp_path / "x.npy")).stdout.splitlines()
    predicted = [int(r.split(",")[1]) for r in rows[1:]]
    rnn, head = torch.nn.GRU(1, 64, batch_first=True), torch.nn.Linear(64, 10)
    weights = {
        k: torch.from_numpy(np.array(v.numpy()))
        for k, v in gn.load(out / "model.safetensors").items()
    }
    rnn.load_state_dict({k[4:]: v for k, v in weights.items() if k.startswith("gru.")})
    head.load_state_dict({k[5:]: v for k, v in weights.items() if k.startswith("head.")})
    with torch.no_grad():
        _, h_n = rnn(torch.from_numpy(_scaled(x, out)).unsqueeze(-1))
        expected = head(h_n[-1]).argmax(1).tolist()
    assert predicted == expected


def test_exporting_a_gru_run_works_or_says_in_one_line_what_does(mnist1d_gru_run, tmp_path):
    out, _ = mnist1d_gru_run
    onnx_file = tmp_path / "m.onnx"
    result = glassnet("export", str(out), "--onnx", str(onnx_file), check=False)
    if result.returncode == 0:  # once the exporter translates the GRU: it must be right
        ort = pytest.importorskip("onnxruntime")
        x = gn.data.load_mnist1d().x_test[:20].astype(np.float32)
        session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
        model, config = common.load_run_model(str(out))
        expected = model(gn.tensor(common.standardize(x, config))).data
        np.testing.assert_allclose(session.run(None, {"input": x})[0], expected, atol=1e-4)
    else:
        line = _one_line_error(result, 2)
        assert "GRU" in line and f"{out / 'model.safetensors'}" in line, line
        assert not onnx_file.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "digits"], "--model gru does not fit --dataset digits"),
        (["--dataset", "digits"], "images; use --model cnn"),
        (["--dataset", "spirals"], "not; use --model mlp"),
        (["--dataset", "mnist1d", "--activation", "tanh"], "gates fix its nonlinearities"),
        (["--dataset", "mnist1d", "--hidden", "64,32"], "pass e.g. 64 for one layer or 64,64"),
    ],
)
def test_what_a_gru_cannot_take_is_refused_in_one_line(args, message, tmp_path) -> None:
    result = glassnet("train", "--model", "gru", *args, "--out", str(tmp_path / "r"), check=False)
    line = _one_line_error(result, 2)
    assert message in line, line
    assert not (tmp_path / "r").exists()


def test_a_model_that_does_not_fit_the_dataset_is_refused_with_the_fix(tmp_path) -> None:
    result = glassnet(
        "train", "--dataset", "spirals", "--model", "cnn", "--out", str(tmp_path / "r"),
        check=False,
    )  # fmt: skip
    line = _one_line_error(result, 2)
    assert "--model cnn does not fit --dataset spirals" in line and "use mlp" in line
    assert not (tmp_path / "r").exists()


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _synthetic_mnist(folder: Path, n_train: int = 300, n_test: int = 100) -> None:
    """Digits anyone can tell apart: class k is a bright bar in one of ten places (rows for
    0-4, columns for 5-9), drawn at a random offset with noise."""
    rng = np.random.default_rng(0)

    def images(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n)
        x = rng.integers(0, 60, (n, 28, 28))
        for i, k in enumerate(y):
            at = 3 + 5 * (k % 5) + rng.integers(-1, 2)
            if k < 5:
                x[i, at : at + 2, 4:24] = 255
            else:
                x[i, 4:24, at : at + 2] = 255
        return x, y

    for prefix, n in (("train", n_train), ("t10k", n_test)):
        x, y = images(n)
        _write_idx(folder / f"{prefix}-images-idx3-ubyte", x)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", y)


def test_cnn_learns_mnist_from_the_four_idx_files(tmp_path) -> None:
    data = tmp_path / "mnist"
    data.mkdir()
    _synthetic_mnist(data)
    out = tmp_path / "run"
    result = glassnet(
        "train", "--dataset", "mnist", "--data", str(data), "--model", "cnn", "--hidden", "4,8",
        "--epochs", "3", "--no-plot", "--out", str(out),
    )  # fmt: skip
    assert "28x28 -> channels 4 -> 8 -> 10" in result.stdout
    assert _accuracy(result.stdout) >= 0.9
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["input_shape"] == [28, 28] and config["training"]["epochs"] == 3
    # a saved image run reads images in their own shape
    np.save(tmp_path / "x.npy", np.zeros((2, 28, 28), np.float32))
    assert (
        len(glassnet("predict", str(out), "--input", str(tmp_path / "x.npy")).stdout.splitlines())
        == 3
    )


def test_a_missing_idx_file_is_named(tmp_path) -> None:
    _synthetic_mnist(tmp_path, 20, 10)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    result = glassnet(
        "train", "--dataset", "mnist", "--data", str(tmp_path), "--model", "cnn",
        "--out", str(tmp_path / "r"), check=False,
    )  # fmt: skip
    line = _one_line_error(result, 2)
    assert "t10k-labels-idx1-ubyte (or t10k-labels-idx1-ubyte.gz) is missing" in line
