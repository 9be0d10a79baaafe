"""gn.compile(model) runs the forward pass as generated NumPy: the same outputs as
model(x) under no_grad, a new array each call, one trace per input shape; export_numpy
writes it as a file that needs only NumPy and gives the same outputs for any batch size,
checked in a fresh virtual environment without glassnet."""

from __future__ import annotations

import os
import subprocess
import sys
import venv

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.compile import ExportError, export_numpy


def _model() -> nn.Module:
    gn.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.Sigmoid(),
        nn.Linear(16, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 3),
    ).eval()  # fmt: skip


def _eager(model, x: np.ndarray) -> np.ndarray:
    with gn.no_grad():
        return model(gn.tensor(x)).numpy()


def test_compiled_forward_matches_the_model() -> None:
    model = _model()
    predict = gn.compile(model)
    rng = np.random.default_rng(0)
    for batch in (1, 5, 5, 1, 32):
        x = rng.standard_normal((batch, 3, 4)).astype(np.float32)
        y = predict(x)
        np.testing.assert_array_equal(y.numpy(), _eager(model, x))
        assert not y.requires_grad
    assert len(predict._cache) == 3  # one per batch size
    first = predict(np.ones((5, 3, 4), np.float32))
    kept = first.numpy().copy()
    predict(np.zeros((5, 3, 4), np.float32))
    np.testing.assert_array_equal(first.numpy(), kept)  # a new array each call
    assert "def forward(x):" in predict.source and ".forward(" not in predict.source


def test_switching_to_train_mode_traces_again() -> None:
    """Train mode is another trace: its dropout draws the same numbers as eager dropout
    from the same generator state."""
    model = _model()
    predict = gn.compile(model)
    x = np.ones((4, 3, 4), np.float32)
    predict(x)
    model.train()
    with pytest.warns(UserWarning, match="without recording a graph"):
        predict(x)  # traced (eagerly) in train mode
    gn.manual_seed(7)
    compiled = predict(x).numpy()
    gn.manual_seed(7)
    np.testing.assert_array_equal(compiled, _eager(model, x))
    assert "random(out=" in predict.source
    model.eval()
    np.testing.assert_array_equal(predict(x).numpy(), _eager(model, x))
    assert len(predict._cache) == 2


def test_weights_changed_in_place_are_seen() -> None:
    model = _model()
    predict = gn.compile(model)
    x = np.ones((2, 3, 4), np.float32)
    predict(x)
    model[1].weight.data *= 2  # the compiled code reads the same arrays
    np.testing.assert_array_equal(predict(x).numpy(), _eager(model, x))


def _run_exported(folder, x: np.ndarray, python: str) -> np.ndarray:
    np.save(folder / "x.npy", x)
    code = (
        "import numpy as np, model\n"
        "forward = model.load('weights.npz')\n"
        "np.save('y.npy', forward(np.load('x.npy')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run([python, "-c", code], cwd=folder, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return np.load(folder / "y.npy")


def test_export_writes_a_numpy_only_file_for_any_batch_size(tmp_path) -> None:
    model = _model()
    path = export_numpy(model, (3, 4), tmp_path)
    assert path.name == "model.py" and (tmp_path / "weights.npz").exists()
    text = path.read_text()
    assert "glassnet" not in text.replace("written by glassnet", "").replace("glassnet export", "")
    rng = np.random.default_rng(1)
    for batch in (1, 2, 7):
        x = rng.standard_normal((batch, 3, 4)).astype(np.float32)
        got = _run_exported(tmp_path, x, sys.executable)
        np.testing.assert_array_equal(got, _eager(model, x))


@pytest.mark.skipif(os.environ.get("GLASSNET_SKIP_VENV_TESTS") == "1", reason="asked to skip")
def test_the_exported_file_runs_in_a_venv_without_glassnet(tmp_path) -> None:
    """A fresh virtual environment that sees the system's site-packages but not glassnet's
    source: NumPy is there (it is a dependency of everything here), glassnet must not be."""
    model = _model()
    export_numpy(model, (3, 4), tmp_path / "export")
    env_dir = tmp_path / "env"
    venv.EnvBuilder(system_site_packages=False, with_pip=False, symlinks=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    numpy_root = os.path.dirname(os.path.dirname(np.__file__))  # site-packages holding numpy
    site = subprocess.run(
        [python, "-c", "import site; print(site.getsitepackages()[0])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # NumPy only: a .pth that points at NumPy's copy would bring glassnet too, so link it
    os.symlink(os.path.join(numpy_root, "numpy"), os.path.join(site, "numpy"))
    libs = os.path.join(numpy_root, "numpy.libs")
    if os.path.isdir(libs):
        os.symlink(libs, os.path.join(site, "numpy.libs"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    check = subprocess.run(
        [python, "-c", "import glassnet"], capture_output=True, text=True, env=env
    )
    assert check.returncode != 0  # glassnet is not importable there
    x = np.random.default_rng(2).standard_normal((3, 3, 4)).astype(np.float32)
    got = _run_exported(tmp_path / "export", x, python)
    np.testing.assert_array_equal(got, _eager(model, x))


def test_export_is_reachable_from_gn_compile() -> None:
    assert gn.compile.export_numpy is export_numpy


def test_export_refuses_an_op_without_a_numpy_template(tmp_path) -> None:
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2)).eval()
    with pytest.raises(ExportError, match=r"no NumPy template yet.*ONNX"):
        export_numpy(model, (4,), tmp_path)
    assert not (tmp_path / "model.py").exists()


def test_pytorch_habits_get_a_pointer_to_the_training_step() -> None:
    """torch.compile(model) returns a model to train; gn.compile(model) is inference: a
    model in train mode gets a warning saying how to compile a step, and predict(x, y)
    a TypeError saying the same."""
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))  # train mode, as a fresh model is
    predict = gn.compile(model)
    x = np.ones((2, 4), np.float32)
    with pytest.warns(UserWarning, match=r"gn.compile\(model, loss_fn, optimizer\)"):
        out = predict(x)
    assert not out.requires_grad
    with pytest.raises(TypeError, match=r"loss = step\(x, y\)"):
        predict(x, np.zeros(2, int))


class _Recurrent(nn.Module):
    """A two-layer GRU read at its last state: its zero initial state holds the batch size,
    so the exported file must make it per batch size rather than store it."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 6, num_layers=2, batch_first=True)
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        _, h = self.gru(x)
        return self.head(h[-1])


def test_a_gru_exports_for_any_batch_size(tmp_path) -> None:
    gn.manual_seed(0)
    model = _Recurrent().eval()
    export_numpy(model, (5, 2), tmp_path)
    assert "constant" not in str(np.load(tmp_path / "weights.npz").files)  # made, not stored
    rng = np.random.default_rng(4)
    for batch in (1, 4):
        x = rng.standard_normal((batch, 5, 2)).astype(np.float32)
        got = _run_exported(tmp_path, x, sys.executable)
        np.testing.assert_allclose(got, _eager(model, x), rtol=1e-6, atol=1e-7)


def test_export_names_the_sample_shape_when_given_a_batch(tmp_path) -> None:
    model = _model()
    with pytest.raises(TypeError, match=r"one sample's shape.*x.shape\[1:\]"):
        export_numpy(model, np.zeros((2, 3, 4), np.float32), tmp_path)
    assert not (tmp_path / "model.py").exists()
