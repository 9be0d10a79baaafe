"""Dropout2d against PyTorch 2.13: a 3-D input is read as (N, C, L) with a warning (one
mask value per (dim 0, dim 1) pair, as torch's feature_dropout), ``inplace`` is accepted,
and the repr is PyTorch's."""

import inspect

import numpy as np
import pytest

import glassnet as gn


def _mask_structure(y: np.ndarray, x: np.ndarray, p: float) -> np.ndarray:
    """y / x per (dim 0, dim 1) slice: checks it is constant along the rest, returns it."""
    ratio = (y / x).reshape(*x.shape[:2], -1)
    assert np.all(ratio == ratio[..., :1])
    assert set(np.unique(ratio)) <= {0.0, np.float32(1 / (1 - p))}
    return ratio[..., 0]


def test_3d_input_drops_rows_of_the_last_dim_as_pytorch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).uniform(1, 2, (6, 8, 10)).astype(np.float32)
    with pytest.warns(UserWarning, match=r"\(N, C, L\)"):
        theirs = torch.nn.functional.dropout2d(torch.tensor(x), 0.5).numpy()
    with pytest.warns(UserWarning, match=r"read as \(N, C, L\)"):
        ours = gn.nn.Dropout2d(0.5, generator=np.random.default_rng(1))(gn.tensor(x)).data
    for y in (theirs, ours):  # the same structure; the random draws differ
        kept = _mask_structure(y, x, 0.5)
        assert 0 < kept.mean() < 2  # some (n, c) rows dropped, some kept


def test_inplace_is_accepted_and_the_repr_is_pytorchs():
    torch = pytest.importorskip("torch")
    assert repr(gn.nn.Dropout2d(0.3)) == repr(torch.nn.Dropout2d(0.3))
    assert repr(gn.nn.Dropout2d(0.3, True)) == repr(torch.nn.Dropout2d(0.3, True))
    ours = list(inspect.signature(gn.nn.functional.dropout2d).parameters)
    assert ours[:4] == list(inspect.signature(torch.nn.functional.dropout2d).parameters)
    x = np.random.default_rng(2).uniform(1, 2, (2, 3, 4, 4)).astype(np.float32)
    xt = gn.tensor(x.copy())
    y = gn.nn.functional.dropout2d(xt, 0.5, True, inplace=True, generator=np.random.default_rng(3))
    _mask_structure(y.data, x, 0.5)
    y = gn.nn.Dropout2d(0.5, inplace=True, generator=np.random.default_rng(3))(xt)
    _mask_structure(y.data, x, 0.5)
