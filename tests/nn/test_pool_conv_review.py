"""Review fixes for pooling and convolution arguments, against PyTorch 2.13: integer max
pooling is exact (no -inf cast to an integer), averages and bool input are refused as
PyTorch refuses them, and malformed arguments get errors that name the place."""

import warnings

import numpy as np
import pytest

import glassnet as gn

F = gn.nn.functional


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
@pytest.mark.parametrize("padding", [0, 1])
def test_integer_max_pooling_is_exact(dtype, padding):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).integers(0, 100, (2, 3, 5, 6)).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the -inf padding used to leak a RuntimeWarning
        y = F.max_pool2d(gn.tensor(x), 3, stride=1, padding=padding)
    expected = torch.nn.functional.max_pool2d(
        torch.tensor(x.astype(np.int64)), 3, stride=1, padding=padding
    ).numpy()
    assert y.dtype == dtype
    np.testing.assert_array_equal(y.data, expected)


def test_integer_max_pooling_1d_by_definition():
    x = np.array([[[-7, 3, -2, 5]]], dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.max_pool1d(gn.tensor(x), 3, stride=1, padding=1)
    np.testing.assert_array_equal(y.data, [[[3, 3, 5, 5]]])


@pytest.mark.parametrize(
    "name, call",
    [
        ("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x[0], 2)),
        ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 2)),
        ("avg_pool1d", lambda x: F.avg_pool1d(x[0], 2)),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 2)),
        ("adaptive_avg_pool2d", lambda x: gn.nn.AdaptiveAvgPool2d(1)(x)),
    ],
)
def test_integer_averages_are_refused_with_the_fix(name, call):
    # torch 2.13 raises "not implemented for 'Long'" for adaptive pooling (and for 'Int'
    # for avg_pool2d); glassnet used to return zeros, so it refuses every integer average
    x = gn.tensor(np.arange(16).reshape(1, 1, 4, 4))
    with pytest.raises(TypeError, match=rf"{name}: .*int64.*\.float\(\)"):
        call(x)


@pytest.mark.parametrize(
    "name, shape",
    [
        ("max_pool2d", (1, 1, 4, 4)),
        ("max_pool1d", (1, 4, 4)),
        ("avg_pool2d", (1, 1, 4, 4)),
        ("adaptive_avg_pool2d", (1, 1, 4, 4)),
    ],
)
def test_bool_pooling_is_refused_as_pytorch_does(name, shape):
    torch = pytest.importorskip("torch")
    with pytest.raises(NotImplementedError, match="Bool"):
        getattr(torch.nn.functional, name)(torch.ones(shape, dtype=torch.bool), 2)
    with pytest.raises(TypeError, match=rf"{name}: .*bool input.*\.float\(\)"):
        getattr(F, name)(gn.tensor(np.ones(shape, dtype=bool)), 2)


def test_max_pool_takes_a_numpy_stride():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6)).astype(np.float32)
    y = F.max_pool2d(gn.tensor(x), 2, stride=np.array([2, 1]))
    expected = torch.nn.functional.max_pool2d(torch.tensor(x), 2, stride=(2, 1)).numpy()
    np.testing.assert_array_equal(y.data, expected)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: gn.nn.Conv2d(3, 8, 3, padding=1.0), r"Conv2d: padding must be an int or a tuple"),
        (lambda: gn.nn.Conv2d(3, 8, 2.5), r"Conv2d: kernel_size must be an int or a tuple"),
        (lambda: gn.nn.Conv2d(3, 8, 0), r"Conv2d: kernel_size must be >= 1"),
        (lambda: gn.nn.Conv1d(3, 8, (0,)), r"Conv1d: kernel_size must be >= 1"),
        (lambda: F.max_pool2d(gn.randn(1, 1, 4, 4), 2, stride=2.0), r"max_pool2d: stride must be"),
    ],
)
def test_malformed_arguments_name_the_place(make, message):
    with pytest.raises(ValueError, match=message):
        make()
