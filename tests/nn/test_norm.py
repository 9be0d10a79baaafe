"""The normalisation layers against PyTorch's in float64: outputs, input and parameter
gradients, running statistics and state_dict keys (to 1e-9). Skipped without torch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-9, atol=1e-9)


def _close(ours, theirs) -> None:
    np.testing.assert_allclose(np.asarray(ours.data), theirs.detach().numpy(), **TOL)


@pytest.mark.parametrize(
    "kwargs",
    [{}, dict(momentum=None), dict(momentum=0.3, eps=1e-3), dict(affine=False)],
    ids=str,
)
def test_batchnorm2d_matches_pytorch(kwargs: dict) -> None:
    ours = gn.nn.BatchNorm2d(3, **kwargs).double()
    theirs = torch.nn.BatchNorm2d(3, **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(0)
    if ours.affine:  # non-trivial affine parameters, the same on both sides
        w, b = rng.standard_normal(3), rng.standard_normal(3)
        ours.weight.data[...], ours.bias.data[...] = w, b
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    for _step in range(3):
        x = rng.standard_normal((4, 3, 5, 6)) * 2 + 1
        xo, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        _close(yo, yt)
        g = rng.standard_normal(x.shape)
        (yo * gn.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        _close(xo.grad, xt.grad)
    if ours.affine:
        _close(ours.weight.grad, theirs.weight.grad)
        _close(ours.bias.grad, theirs.bias.grad)
    _close(ours.running_mean, theirs.running_mean)
    _close(ours.running_var, theirs.running_var)
    assert int(ours.num_batches_tracked.data) == int(theirs.num_batches_tracked) == 3
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4))
    _close(ours(gn.tensor(x)), theirs(torch.tensor(x)))


def test_batchnorm2d_without_running_stats_uses_batch_stats_in_eval() -> None:
    ours = gn.nn.BatchNorm2d(2, track_running_stats=False).double().eval()
    theirs = torch.nn.BatchNorm2d(2, track_running_stats=False).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = np.random.default_rng(1).standard_normal((3, 2, 4, 5))
    _close(ours(gn.tensor(x)), theirs(torch.tensor(x)))


def test_batchnorm2d_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\) expects input \(N, 3, H, W\)"):
        gn.nn.BatchNorm2d(3)(gn.zeros(4, 3))
    with pytest.raises(ValueError, match="BatchNorm2d"):
        gn.nn.BatchNorm2d(3)(gn.zeros(2, 4, 5, 5))


@pytest.mark.parametrize(
    "groups, channels, shape, affine",
    [(2, 6, (3, 6, 4, 5), True), (1, 4, (2, 4, 7), True), (4, 4, (2, 4, 3, 3), False)],
)
def test_groupnorm_matches_pytorch(groups, channels, shape, affine) -> None:
    ours = gn.nn.GroupNorm(groups, channels, eps=1e-4, affine=affine).double()
    theirs = torch.nn.GroupNorm(groups, channels, eps=1e-4, affine=affine).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(2)
    if affine:
        w, b = rng.standard_normal(channels), rng.standard_normal(channels)
        ours.weight.data[...], ours.bias.data[...] = w, b
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    x = rng.standard_normal(shape) * 3 - 1
    xo, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    _close(yo, yt)
    g = rng.standard_normal(shape)
    (yo * gn.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(xo.grad, xt.grad)
    if affine:
        _close(ours.weight.grad, theirs.weight.grad)
        _close(ours.bias.grad, theirs.bias.grad)
    _close(
        gn.nn.functional.group_norm(gn.tensor(x), groups),
        torch.nn.functional.group_norm(torch.tensor(x), groups),
    )


def test_groupnorm_rejects_indivisible_channels() -> None:
    with pytest.raises(
        ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"
    ):
        gn.nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="divisible by num_groups=4"):
        gn.nn.functional.group_norm(gn.zeros(2, 6, 3), 4)


@pytest.mark.parametrize(
    "shape, normalized_shape, eps, affine",
    [((3, 5), 5, None, True), ((2, 3, 4), (3, 4), 1e-3, True), ((4, 6), (6,), None, False)],
)
def test_rmsnorm_matches_pytorch(shape, normalized_shape, eps, affine) -> None:
    ours = gn.nn.RMSNorm(normalized_shape, eps=eps, elementwise_affine=affine).double()
    theirs = torch.nn.RMSNorm(normalized_shape, eps=eps, elementwise_affine=affine).double()
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(3)
    if affine:
        w = rng.standard_normal(ours.weight.shape)
        ours.weight.data[...] = w
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
    x = rng.standard_normal(shape) * 0.1  # small values, so eps matters
    x[0] = 0.0  # an all-zero row stays finite
    xo, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    _close(yo, yt)
    g = rng.standard_normal(shape)
    (yo * gn.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    _close(xo.grad, xt.grad)
    if affine:
        _close(ours.weight.grad, theirs.weight.grad)


def test_rms_norm_default_eps_is_the_dtype_epsilon() -> None:
    x = np.full((1, 4), 1e-5, dtype=np.float32)  # mean(x^2) = 1e-10, below float32 eps
    y = gn.nn.functional.rms_norm(gn.tensor(x), 4)
    expected = torch.nn.functional.rms_norm(torch.tensor(x), (4,))
    np.testing.assert_allclose(y.data, expected.numpy(), rtol=1e-6)
    assert y.dtype == np.float32
