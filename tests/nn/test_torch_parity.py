"""Each layer and loss against PyTorch: same weights and inputs give the same outputs and
gradients (float64 to 1e-10, float32 to 1e-5). Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.torch_twin import compare_module, copy_weights_to_torch

torch = pytest.importorskip("torch")
nn, tnn = gn.nn, torch.nn

# name -> (glassnet module factory, torch module factory, input shape, input kind)
LAYERS = {
    "Linear": (lambda: nn.Linear(5, 4), lambda: tnn.Linear(5, 4), (3, 5), "real"),
    "Linear no bias": (
        lambda: nn.Linear(5, 4, bias=False),
        lambda: tnn.Linear(5, 4, bias=False),
        (3, 5),
        "real",
    ),
    "Linear 3-D": (lambda: nn.Linear(5, 4), lambda: tnn.Linear(5, 4), (2, 3, 5), "real"),
    "MLP": (
        lambda: nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)),
        lambda: tnn.Sequential(tnn.Linear(6, 8), tnn.ReLU(), tnn.Linear(8, 3)),
        (4, 6),
        "real",
    ),
    "Flatten": (lambda: nn.Flatten(), lambda: tnn.Flatten(), (2, 3, 4), "real"),
    "Identity": (lambda: nn.Identity(), lambda: tnn.Identity(), (2, 3), "real"),
    "LayerNorm": (lambda: nn.LayerNorm(4), lambda: tnn.LayerNorm(4), (3, 4), "real"),
    "LayerNorm 2-D shape": (
        lambda: nn.LayerNorm((3, 4)),
        lambda: tnn.LayerNorm((3, 4)),
        (2, 3, 4),
        "real",
    ),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), lambda: tnn.BatchNorm1d(4), (8, 4), "real"),
    "BatchNorm1d (N, C, L)": (
        lambda: nn.BatchNorm1d(3),
        lambda: tnn.BatchNorm1d(3),
        (5, 3, 4),
        "real",
    ),
    "BatchNorm1d no affine": (
        lambda: nn.BatchNorm1d(4, affine=False),
        lambda: tnn.BatchNorm1d(4, affine=False),
        (8, 4),
        "real",
    ),
    "Embedding": (lambda: nn.Embedding(10, 3), lambda: tnn.Embedding(10, 3), (4, 5), "index"),
    "Embedding padding_idx": (
        lambda: nn.Embedding(10, 3, padding_idx=0),
        lambda: tnn.Embedding(10, 3, padding_idx=0),
        (4, 5),
        "index",
    ),
    "ReLU": (lambda: nn.ReLU(), lambda: tnn.ReLU(), (3, 4), "real"),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), (3, 4), "real"),
    "ELU": (lambda: nn.ELU(0.7), lambda: tnn.ELU(0.7), (3, 4), "real"),
    "GELU": (lambda: nn.GELU(), lambda: tnn.GELU(), (3, 4), "real"),
    "GELU tanh": (lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), (3, 4), "real"),
    "SiLU": (lambda: nn.SiLU(), lambda: tnn.SiLU(), (3, 4), "real"),
    "Sigmoid": (lambda: nn.Sigmoid(), lambda: tnn.Sigmoid(), (3, 4), "real"),
    "Tanh": (lambda: nn.Tanh(), lambda: tnn.Tanh(), (3, 4), "real"),
    "Softplus": (lambda: nn.Softplus(2.0, 3.0), lambda: tnn.Softplus(2.0, 3.0), (3, 4), "real"),
    "Softmax": (lambda: nn.Softmax(dim=1), lambda: tnn.Softmax(dim=1), (3, 4), "real"),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), lambda: tnn.LogSoftmax(dim=1), (3, 4), "real"),
    "Dropout (eval)": (
        lambda: nn.Dropout(0.5).eval(),
        lambda: tnn.Dropout(0.5).eval(),
        (3, 4),
        "real",
    ),
}


def _input(shape, kind, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "index":
        return rng.integers(0, 10, size=shape)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize(("dtype", "tol"), [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_layer_matches_pytorch(name, dtype, tol) -> None:
    make, make_twin, shape, kind = LAYERS[name]
    model, twin = make(), make_twin()
    if dtype == np.float64:
        model.double()
        twin.double()
    copy_weights_to_torch(model, twin)
    compare_module(model, twin, _input(shape, kind, dtype), rtol=tol, atol=tol)


def test_batchnorm_running_statistics_and_eval_match_pytorch() -> None:
    model, twin = nn.BatchNorm1d(4).double(), tnn.BatchNorm1d(4).double()
    for momentum in (0.1, None):
        model, twin = (
            nn.BatchNorm1d(4, momentum=momentum).double(),
            tnn.BatchNorm1d(4, momentum=momentum).double(),
        )
        rng = np.random.default_rng(0)
        for _ in range(5):
            x = rng.standard_normal((6, 4)) * 3 + 1
            model(gn.tensor(x))
            twin(torch.from_numpy(x))
        for key, value in twin.state_dict().items():
            np.testing.assert_allclose(model.state_dict()[key].numpy(), value.numpy(), rtol=1e-12)
        model.eval()
        twin.eval()
        compare_module(model, twin, rng.standard_normal((3, 4)), rtol=1e-10, atol=1e-10)


LOSSES = {
    "cross_entropy": (
        lambda z, y: gn.nn.functional.cross_entropy(z, y),
        lambda z, y: torch.nn.functional.cross_entropy(z, y),
        "index",
    ),
    "cross_entropy sum": (
        lambda z, y: gn.nn.functional.cross_entropy(z, y, reduction="sum"),
        lambda z, y: torch.nn.functional.cross_entropy(z, y, reduction="sum"),
        "index",
    ),
    "cross_entropy none": (
        lambda z, y: gn.nn.functional.cross_entropy(z, y, reduction="none"),
        lambda z, y: torch.nn.functional.cross_entropy(z, y, reduction="none"),
        "index",
    ),
    "cross_entropy weight": (
        lambda z, y: gn.nn.functional.cross_entropy(
            z, y, weight=gn.tensor(np.array([0.2, 1.0, 3.0, 0.5]))
        ),
        lambda z, y: torch.nn.functional.cross_entropy(
            z, y, weight=torch.tensor([0.2, 1.0, 3.0, 0.5], dtype=torch.float64)
        ),
        "index",
    ),
    "cross_entropy ignore_index": (
        lambda z, y: gn.nn.functional.cross_entropy(z, y, ignore_index=2),
        lambda z, y: torch.nn.functional.cross_entropy(z, y, ignore_index=2),
        "index",
    ),
    "cross_entropy label_smoothing": (
        lambda z, y: gn.nn.functional.cross_entropy(z, y, label_smoothing=0.1),
        lambda z, y: torch.nn.functional.cross_entropy(z, y, label_smoothing=0.1),
        "index",
    ),
    "cross_entropy weight+smoothing+ignore": (
        lambda z, y: gn.nn.functional.cross_entropy(
            z,
            y,
            weight=gn.tensor(np.array([0.2, 1.0, 3.0, 0.5])),
            ignore_index=1,
            label_smoothing=0.2,
        ),
        lambda z, y: torch.nn.functional.cross_entropy(
            z,
            y,
            weight=torch.tensor([0.2, 1.0, 3.0, 0.5], dtype=torch.float64),
            ignore_index=1,
            label_smoothing=0.2,
        ),
        "index",
    ),
    "cross_entropy probabilities": (
        lambda z, y: gn.nn.functional.cross_entropy(z, y),
        lambda z, y: torch.nn.functional.cross_entropy(z, y),
        "probs",
    ),
    "cross_entropy probabilities smoothing weight": (
        lambda z, y: gn.nn.functional.cross_entropy(
            z, y, label_smoothing=0.3, weight=gn.tensor(np.array([0.2, 1.0, 3.0, 0.5]))
        ),
        lambda z, y: torch.nn.functional.cross_entropy(
            z,
            y,
            label_smoothing=0.3,
            weight=torch.tensor([0.2, 1.0, 3.0, 0.5], dtype=torch.float64),
        ),
        "probs",
    ),
    "cross_entropy (N, C, d)": (
        lambda z, y: gn.nn.functional.cross_entropy(z, y, label_smoothing=0.1),
        lambda z, y: torch.nn.functional.cross_entropy(z, y, label_smoothing=0.1),
        "index-spatial",
    ),
    "nll_loss": (
        lambda z, y: gn.nn.functional.nll_loss(gn.log_softmax(z, 1), y),
        lambda z, y: torch.nn.functional.nll_loss(z.log_softmax(1), y),
        "index",
    ),
    "nll_loss weight ignore": (
        lambda z, y: gn.nn.functional.nll_loss(
            gn.log_softmax(z, 1),
            y,
            weight=gn.tensor(np.array([0.2, 1.0, 3.0, 0.5])),
            ignore_index=0,
        ),
        lambda z, y: torch.nn.functional.nll_loss(
            z.log_softmax(1),
            y,
            weight=torch.tensor([0.2, 1.0, 3.0, 0.5], dtype=torch.float64),
            ignore_index=0,
        ),
        "index",
    ),
    "bce_with_logits": (
        lambda z, y: gn.nn.functional.binary_cross_entropy_with_logits(z, y),
        lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(z, y),
        "binary",
    ),
    "bce_with_logits pos_weight weight": (
        lambda z, y: gn.nn.functional.binary_cross_entropy_with_logits(
            z,
            y,
            weight=gn.tensor(np.array([1.0, 0.5, 2.0, 1.5])),
            pos_weight=gn.tensor(np.array([3.0, 1.0, 0.5, 2.0])),
        ),
        lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(
            z,
            y,
            weight=torch.tensor([1.0, 0.5, 2.0, 1.5], dtype=torch.float64),
            pos_weight=torch.tensor([3.0, 1.0, 0.5, 2.0], dtype=torch.float64),
        ),
        "binary",
    ),
    "binary_cross_entropy": (
        lambda z, y: gn.nn.functional.binary_cross_entropy(gn.sigmoid(z), y),
        lambda z, y: torch.nn.functional.binary_cross_entropy(z.sigmoid(), y),
        "binary",
    ),
    "mse_loss": (gn.nn.functional.mse_loss, torch.nn.functional.mse_loss, "real"),
    "mse_loss sum": (
        lambda z, y: gn.nn.functional.mse_loss(z, y, reduction="sum"),
        lambda z, y: torch.nn.functional.mse_loss(z, y, reduction="sum"),
        "real",
    ),
    "l1_loss": (gn.nn.functional.l1_loss, torch.nn.functional.l1_loss, "real"),
    "huber_loss": (
        lambda z, y: gn.nn.functional.huber_loss(z, y, delta=0.7),
        lambda z, y: torch.nn.functional.huber_loss(z, y, delta=0.7),
        "real",
    ),
    "smooth_l1_loss": (
        lambda z, y: gn.nn.functional.smooth_l1_loss(z, y, beta=0.6),
        lambda z, y: torch.nn.functional.smooth_l1_loss(z, y, beta=0.6),
        "real",
    ),
    "kl_div batchmean": (
        lambda z, y: gn.nn.functional.kl_div(gn.log_softmax(z, 1), y, reduction="batchmean"),
        lambda z, y: torch.nn.functional.kl_div(z.log_softmax(1), y, reduction="batchmean"),
        "probs",
    ),
    "kl_div log_target": (
        lambda z, y: gn.nn.functional.kl_div(
            gn.log_softmax(z, 1), gn.log(y), reduction="sum", log_target=True
        ),
        lambda z, y: torch.nn.functional.kl_div(
            z.log_softmax(1), y.log(), reduction="sum", log_target=True
        ),
        "positive-probs",
    ),
}


def _loss_inputs(kind: str, rng):
    z = rng.standard_normal((6, 4)) * 2
    if kind == "index":
        return z, rng.integers(0, 4, size=6)
    if kind == "index-spatial":
        return rng.standard_normal((3, 4, 5)), rng.integers(0, 4, size=(3, 5))
    if kind in ("probs", "positive-probs"):
        p = rng.random((6, 4)) + 0.05
        if kind == "probs":
            p[0, 1] = 0.0  # a zero probability: 0 log 0 must count as 0
        return z, p / p.sum(axis=1, keepdims=True)
    if kind == "binary":
        return z, (rng.random((6, 4)) > 0.5).astype(np.float64)
    return z, rng.standard_normal((6, 4))


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_pytorch(name) -> None:
    ours, theirs, kind = LOSSES[name]
    z, y = _loss_inputs(kind, np.random.default_rng(3))
    gz = gn.tensor(z, requires_grad=True)
    tz = torch.tensor(z, requires_grad=True)
    out, ref = ours(gz, gn.tensor(y)), theirs(tz, torch.from_numpy(y))
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(gn.tensor(v))
    ref.backward(torch.from_numpy(v))
    np.testing.assert_allclose(gz.grad.data, tz.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (nn.CrossEntropyLoss(label_smoothing=0.05), tnn.CrossEntropyLoss(label_smoothing=0.05)),
        (nn.NLLLoss(), tnn.NLLLoss()),
    ],
    ids=["CrossEntropyLoss", "NLLLoss"],
)
def test_loss_modules_in_float32_match_pytorch(ours, theirs) -> None:
    rng = np.random.default_rng(5)
    z = rng.standard_normal((8, 5)).astype(np.float32)
    y = rng.integers(0, 5, size=8)
    out = ours(gn.tensor(z), gn.tensor(y))
    ref = theirs(torch.from_numpy(z), torch.from_numpy(y))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-5)


def test_state_dict_loads_into_pytorch_model_and_gives_same_outputs() -> None:
    model = nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3)
    )
    twin = tnn.Sequential(
        tnn.Linear(6, 16), tnn.BatchNorm1d(16), tnn.ReLU(), tnn.Dropout(0.2), tnn.Linear(16, 3)
    )
    model(gn.randn(10, 6))  # move the running statistics off their start
    copy_weights_to_torch(model, twin)
    model.eval()
    twin.eval()
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    with gn.no_grad():
        ours = model(gn.tensor(x)).numpy()
    np.testing.assert_allclose(
        ours, twin(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert list(model.state_dict()) == list(twin.state_dict())
