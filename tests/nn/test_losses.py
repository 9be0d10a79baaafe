"""Losses: gradients by finite differences, cross-entropy by hand, and clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassnet as gn

F = gn.nn.functional
W4 = np.array([0.2, 1.0, 3.0, 0.5])

rng = np.random.default_rng(0)
LABELS = rng.integers(0, 4, size=6)
PROBS = rng.random((6, 4)) + 0.05
PROBS /= PROBS.sum(axis=1, keepdims=True)
BINARY = (rng.random((6, 4)) > 0.5).astype(np.float64)
REAL = rng.standard_normal((6, 4))

# name -> loss as a function of the input only (targets fixed above)
LOSSES = {
    "cross_entropy": lambda z: F.cross_entropy(z, gn.tensor(LABELS)),
    "cross_entropy sum": lambda z: F.cross_entropy(z, gn.tensor(LABELS), reduction="sum"),
    "cross_entropy none": lambda z: F.cross_entropy(z, gn.tensor(LABELS), reduction="none"),
    "cross_entropy weight": lambda z: F.cross_entropy(z, gn.tensor(LABELS), weight=gn.tensor(W4)),
    "cross_entropy ignore_index": lambda z: F.cross_entropy(z, gn.tensor(LABELS), ignore_index=1),
    "cross_entropy smoothing": lambda z: F.cross_entropy(z, gn.tensor(LABELS), label_smoothing=0.2),
    "cross_entropy probabilities": lambda z: F.cross_entropy(z, gn.tensor(PROBS)),
    "nll_loss": lambda z: F.nll_loss(gn.log_softmax(z, 1), gn.tensor(LABELS)),
    "nll_loss weight": lambda z: F.nll_loss(
        gn.log_softmax(z, 1), gn.tensor(LABELS), weight=gn.tensor(W4)
    ),
    "bce_with_logits": lambda z: F.binary_cross_entropy_with_logits(z, gn.tensor(BINARY)),
    "bce_with_logits pos_weight": lambda z: F.binary_cross_entropy_with_logits(
        z, gn.tensor(BINARY), pos_weight=gn.tensor(W4)
    ),
    "binary_cross_entropy": lambda z: F.binary_cross_entropy(gn.sigmoid(z), gn.tensor(BINARY)),
    "mse_loss": lambda z: F.mse_loss(z, gn.tensor(REAL)),
    "l1_loss": lambda z: F.l1_loss(z, gn.tensor(REAL)),
    "huber_loss": lambda z: F.huber_loss(z, gn.tensor(REAL), delta=0.5),
    "smooth_l1_loss": lambda z: F.smooth_l1_loss(z, gn.tensor(REAL), beta=0.5),
    "kl_div": lambda z: F.kl_div(gn.log_softmax(z, 1), gn.tensor(PROBS), reduction="batchmean"),
    "kl_div log_target": lambda z: F.kl_div(
        gn.log_softmax(z, 1), gn.log(gn.tensor(PROBS)), log_target=True
    ),
    "bce_with_logits weight none": lambda z: F.binary_cross_entropy_with_logits(
        z, gn.tensor(BINARY), weight=gn.tensor(W4), reduction="none"
    ),
    "mse_loss none": lambda z: F.mse_loss(z, gn.tensor(REAL), reduction="none"),
    "nll_loss ignore sum": lambda z: F.nll_loss(
        gn.log_softmax(z, 1), gn.tensor(LABELS), ignore_index=0, reduction="sum"
    ),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradient_by_finite_differences(name) -> None:
    z = gn.tensor(np.random.default_rng(1).standard_normal((6, 4)) * 2, requires_grad=True)
    assert gn.gradcheck(LOSSES[name], (z,), atol=1e-7, rtol=1e-6)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n_by_hand() -> None:
    z = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    y = np.array([0, 2])
    logits = gn.tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, gn.tensor(y))
    loss.backward()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    assert loss.item() == pytest.approx(-np.log(p[[0, 1], y]).mean())
    np.testing.assert_allclose(logits.grad.data, (p - onehot) / 2)


def test_fused_cross_entropy_equals_unfused_nll_of_log_softmax() -> None:
    z = np.random.default_rng(2).standard_normal((5, 7))
    y = gn.tensor(np.random.default_rng(3).integers(0, 7, size=5))
    a, b = gn.tensor(z, requires_grad=True), gn.tensor(z, requires_grad=True)
    fused, unfused = F.cross_entropy(a, y), F.nll_loss(gn.log_softmax(b, dim=1), y)
    fused.backward()
    unfused.backward()
    # the independent reference, by hand: L = mean(logsumexp(z) - z_y), dL/dz = (p - onehot)/N
    labels = y.numpy()
    lse = np.log(np.exp(z).sum(axis=1))  # |z| < 5 here: the plain formula is exact enough
    p = np.exp(z - lse[:, None])
    loss = (lse - z[np.arange(5), labels]).mean()
    grad = (p - np.eye(7)[labels]) / 5
    assert fused.item() == pytest.approx(loss, rel=1e-12)
    assert unfused.item() == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(a.grad.data, grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(b.grad.data, grad, rtol=1e-10, atol=1e-15)


def test_cross_entropy_with_huge_logits_stays_finite() -> None:
    z = gn.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]], requires_grad=True)  # float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(z, gn.tensor([1, 1]))
        loss.backward()
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(1e4, rel=1e-6)
    assert np.isfinite(z.grad.data).all()


def test_bce_with_logits_is_stable_for_large_logits() -> None:
    z = gn.tensor([1e4, -1e4, 50.0, -50.0], requires_grad=True)
    y = gn.tensor([0.0, 1.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [1e4, 1e4, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(z.grad.data, [1.0, -1.0, 0.0, 0.0], atol=1e-6)


BAD_CALLS = [
    (
        lambda: F.cross_entropy(gn.randn(4, 3), gn.tensor([0, 1, 3, 2])),
        ValueError,
        r"cross_entropy: target 3 at position \(2,\) is not a class index in \[0, 3\) "
        r"\(the input has C = 3 classes\)",
    ),
    (
        lambda: F.cross_entropy(gn.randn(4, 3), gn.tensor([0, -1, 1, 2])),
        ValueError,
        r"target -1 at position \(1,\)",
    ),
    (
        lambda: F.cross_entropy(gn.randn(4, 3), gn.tensor([0.0, 1.0, 1.0, 2.0])),
        TypeError,
        r"cross_entropy: got a float target of shape \(4,\); class-index targets must be integers",
    ),
    (
        lambda: F.cross_entropy(gn.randn(4, 3), gn.tensor([0, 1, 2])),
        ValueError,
        r"cross_entropy: input has batch size 4 but target has 3",
    ),
    (
        lambda: F.cross_entropy(gn.tensor([[np.nan, 0.0], [1.0, 2.0]]), gn.tensor([0, 1])),
        ValueError,
        r"cross_entropy: the input contains NaN \(first at index \(0, 0\)\)",
    ),
    (
        lambda: F.cross_entropy(gn.randn(4, 3), gn.tensor([0, 1, 2, 0]), reduction="avg"),
        ValueError,
        r"cross_entropy: reduction must be one of 'none', 'mean', 'sum', got 'avg'",
    ),
    (
        lambda: F.nll_loss(gn.randn(2, 3), gn.tensor([0.0, 1.0])),
        TypeError,
        r"nll_loss: .*float target",
    ),
    (
        lambda: F.nll_loss(gn.randn(2, 3), gn.tensor([0, 5])),
        ValueError,
        r"nll_loss: target 5 at position \(1,\) is not a class index in \[0, 3\)",
    ),
    (
        lambda: F.mse_loss(gn.randn(64, 1), gn.randn(64)),
        ValueError,
        r"mse_loss: input shape \(64, 1\) and target shape \(64,\) differ",
    ),
    (
        lambda: F.mse_loss(gn.tensor([np.nan, 1.0]), gn.tensor([0.0, 1.0])),
        ValueError,
        r"mse_loss: the input contains NaN",
    ),
    (
        lambda: F.binary_cross_entropy(gn.tensor([1.5, 0.5]), gn.tensor([1.0, 0.0])),
        ValueError,
        r"binary_cross_entropy: input must be probabilities in \[0, 1\]",
    ),
    (
        lambda: F.binary_cross_entropy_with_logits(gn.randn(3), gn.tensor([1, 0, 1])),
        TypeError,
        r"binary_cross_entropy_with_logits: target must be float",
    ),
    (
        lambda: gn.nn.CrossEntropyLoss()(gn.randn(3), gn.tensor([1])),
        ValueError,
        r"cross_entropy: input must have shape \(N, C\)",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_CALLS)
def test_bad_loss_input_is_a_clear_error(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


def test_ignored_targets_contribute_nothing() -> None:
    z = gn.tensor(np.random.default_rng(4).standard_normal((3, 4)), requires_grad=True)
    loss = F.cross_entropy(z, gn.tensor([1, -100, 2]))
    loss.backward()
    assert np.all(z.grad.data[1] == 0)
    # by hand: the mean over the two kept rows of logsumexp(z) - z_y
    rows = z.data[[0, 2]]
    kept = (np.log(np.exp(rows).sum(axis=1)) - rows[[0, 1], [1, 2]]).mean()
    assert loss.item() == pytest.approx(kept, rel=1e-12)
