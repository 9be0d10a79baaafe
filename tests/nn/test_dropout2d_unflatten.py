"""Dropout2d by its definition (whole channels zeroed, the rest scaled by 1/(1-p), the
identity in eval) and Unflatten against torch.nn.Unflatten."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest() -> None:
    x = np.random.default_rng(0).uniform(1.0, 2.0, (8, 16, 3, 4))  # no zeros of its own
    layer = gn.nn.Dropout2d(0.25, generator=np.random.default_rng(1)).double()
    xt = gn.tensor(x, requires_grad=True)
    y = layer(xt)
    per_channel = y.data.reshape(8, 16, -1)
    dropped = (per_channel == 0).all(axis=2)
    kept = (per_channel != 0).all(axis=2)
    assert (dropped | kept).all()  # every channel is all-zero or all-kept
    assert 0 < dropped.sum() < dropped.size
    np.testing.assert_allclose(y.data[kept], x[kept] / 0.75, rtol=1e-12)
    y.sum().backward()  # the gradient follows the same mask
    np.testing.assert_allclose(xt.grad.data[kept], 1 / 0.75)
    assert (xt.grad.data[dropped] == 0).all()


def test_dropout2d_is_identity_in_eval_and_for_p_zero() -> None:
    x = gn.tensor(np.random.default_rng(2).standard_normal((2, 3, 4, 4)))
    np.testing.assert_array_equal(gn.nn.Dropout2d(0.9).eval()(x).data, x.data)
    np.testing.assert_array_equal(gn.nn.Dropout2d(0.0)(x).data, x.data)
    assert (gn.nn.Dropout2d(1.0)(x).data == 0).all()


def test_dropout2d_rejects_bad_p_and_shape() -> None:
    with pytest.raises(ValueError, match=r"Dropout2d: p must be a probability"):
        gn.nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match=r"dropout2d: expects input \(N, C, H, W\)"):
        gn.nn.Dropout2d(0.5)(gn.zeros(3, 4))


@pytest.mark.parametrize(
    "dim, size, shape",
    [(1, (2, 3), (4, 6)), (-1, (2, -1, 2), (3, 5, 8)), (0, (2, 2), (4, 3))],
)
def test_unflatten_matches_pytorch(dim, size, shape) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = gn.nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(3).standard_normal(shape)
    xo, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert yo.shape == tuple(yt.shape)
    np.testing.assert_array_equal(yo.data, yt.detach().numpy())
    g = np.random.default_rng(4).standard_normal(yo.shape)
    (yo * gn.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(xo.grad.data, xt.grad.numpy())


def test_unflatten_rejects_sizes_that_do_not_multiply() -> None:
    with pytest.raises(ValueError, match=r"Unflatten: cannot split dimension 1 of size 6"):
        gn.nn.Unflatten(1, (4, 2))(gn.zeros(2, 6))
