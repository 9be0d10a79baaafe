"""nn.ConvTranspose1d / nn.ConvTranspose2d and F.conv_transpose1d / 2d against PyTorch: a torch
layer's state_dict loaded into glassnet gives the same output and input, weight and bias
gradients (float64 to 1e-9, float32 to 1e-5) over a table of stride, padding, output_padding,
dilation and groups; output_size; PyTorch's initialisation bounds, repr and argument errors.
Skipped without torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")
F = gn.nn.functional

# (dimensions, constructor arguments, keyword arguments, input shape)
CASES = [
    (1, (3, 4, 3), {}, (2, 3, 6)),
    (1, (4, 6, 4), dict(stride=3, padding=2, output_padding=2, groups=2), (2, 4, 5)),
    (1, (2, 3, 3), dict(stride=1, dilation=3, output_padding=2, bias=False), (2, 2, 4)),
    (1, (3, 6, 2), dict(stride=2, groups=3), (3, 5)),  # depthwise x2, unbatched
    (2, (3, 2, 3), {}, (2, 3, 4, 5)),
    (2, (2, 3, 3), dict(stride=2, padding=1, output_padding=1), (2, 2, 4, 3)),
    (2, (4, 4, (3, 2)), dict(stride=(2, 3), padding=(1, 0), output_padding=(0, 2)), (1, 4, 3, 3)),
    (2, (4, 6, 2), dict(stride=2, dilation=(2, 1), groups=2, output_padding=1), (2, 4, 3, 4)),
    (2, (3, 3, 3), dict(stride=2, groups=3, padding=1, bias=False), (2, 3, 3, 3)),  # depthwise
    (2, (2, 3, (1, 3)), dict(padding=(0, 1)), (2, 4, 5)),  # unbatched
]


def _layers(nd: int, args, kwargs, dtype):
    ours_cls = gn.nn.ConvTranspose1d if nd == 1 else gn.nn.ConvTranspose2d
    torch_cls = torch.nn.ConvTranspose1d if nd == 1 else torch.nn.ConvTranspose2d
    theirs = torch_cls(*args, **kwargs).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = ours_cls(*args, **kwargs, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _compare(ours, theirs, x, tol, rng, **forward_kwargs) -> None:
    x_ours, x_theirs = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours, **forward_kwargs), theirs(x_theirs, **forward_kwargs)
    assert y_ours.shape == tuple(y_theirs.shape) and y_ours.dtype == x.dtype
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(y_theirs.shape).astype(x.dtype)
    y_ours.backward(gn.tensor(g))
    y_theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), rtol=tol, atol=tol)
    for name, p in theirs.named_parameters():
        mine = getattr(ours, name).grad.data
        np.testing.assert_allclose(mine, p.grad.numpy(), rtol=tol, atol=tol, err_msg=name)


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_torch_state_dict_gives_same_output_and_gradients(case: int, dtype, tol: float) -> None:
    nd, args, kwargs, shape = CASES[case]
    torch.manual_seed(case)
    ours, theirs = _layers(nd, args, kwargs, dtype)
    rng = np.random.default_rng(case)
    _compare(ours, theirs, rng.standard_normal(shape).astype(dtype), tol, rng)


@pytest.mark.parametrize(
    "output_size", [(7, 7), (8, 8), [1, 3, 8, 9], (7, 9)], ids=lambda s: str(list(s))
)
def test_output_size_picks_one_of_the_strides_sizes(output_size) -> None:
    """Stride (2, 3), padding 1, kernel 3: an input of (4, 3) can give H = (4 - 1) 2 - 2 + 3
    = 7 or 8 and W = (3 - 1) 3 - 2 + 3 = 7, 8 or 9."""
    torch.manual_seed(0)
    ours, theirs = _layers(2, (2, 3, 3), dict(stride=(2, 3), padding=1), np.float64)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 4, 3))
    _compare(ours, theirs, x, 1e-9, rng, output_size=output_size)
    assert ours(gn.tensor(x), output_size=output_size).shape[-2:] == tuple(output_size[-2:])


def test_output_size_out_of_reach_names_the_range() -> None:
    layer = gn.nn.ConvTranspose1d(2, 2, 3, stride=3)
    with pytest.raises(ValueError, match=r"between \(9,\) and \(11,\)"):
        layer(gn.zeros((1, 2, 3)), output_size=[12])
    with pytest.raises(ValueError, match="output_size must have 1 or 3 elements"):
        layer(gn.zeros((1, 2, 3)), output_size=[1, 9])
    with pytest.raises(ValueError, match="output_size must have 1 or 2 elements"):
        layer(gn.zeros((2, 3)), output_size=[1, 2, 9])
    assert layer(gn.zeros((2, 3)), output_size=[2, 10]).shape == (2, 10)


def test_is_the_input_gradient_of_conv() -> None:
    """The defining property, with no reference implementation: for conv y = conv(x, w),
    x.grad after y.backward(g) is conv_transpose(g, w) with the same arguments."""
    rng = np.random.default_rng(3)
    x = gn.tensor(rng.standard_normal((2, 4, 10, 8)), requires_grad=True)
    w = gn.tensor(rng.standard_normal((6, 2, 3, 2)))
    kw = dict(stride=(2, 3), padding=(1, 2), dilation=(1, 2), groups=2)
    y = F.conv2d(x, w, **kw)
    g = rng.standard_normal(y.shape)
    y.backward(gn.tensor(g))
    # the conv left (10 + 2 - 3) % 2 = 1 row unread, (8 + 4 - 3) % 3 = 0 columns: that row
    # is what output_padding gives back
    back = F.conv_transpose2d(gn.tensor(g), w, **kw, output_padding=(1, 0))
    np.testing.assert_allclose(back.data, x.grad.data, rtol=1e-12, atol=1e-12)


def test_repr_matches_pytorch() -> None:
    kwargs = [
        {},
        dict(stride=2, padding=1, output_padding=1),
        dict(dilation=2, groups=2, bias=False, output_padding=1),
    ]
    for kw in kwargs:
        for ours, theirs in (
            (gn.nn.ConvTranspose2d, torch.nn.ConvTranspose2d),
            (gn.nn.ConvTranspose1d, torch.nn.ConvTranspose1d),
        ):
            assert repr(ours(4, 6, 3, **kw)) == repr(theirs(4, 6, 3, **kw))


def test_default_init_bounds_are_pytorchs() -> None:
    """kaiming_uniform_(a = sqrt 5) on (in, out/groups, kH, kW): fan_in is weight.shape[1]
    times the kernel, out/groups * kH * kW = 32 * 15 = 480, as PyTorch computes it."""
    layer = gn.nn.ConvTranspose2d(4, 64, (3, 5), groups=2, generator=np.random.default_rng(0))
    assert layer.weight.shape == (4, 32, 3, 5) and layer.bias.shape == (64,)
    bound = 1 / math.sqrt(480)
    for p in (layer.weight.data, layer.bias.data):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.9 * bound


def test_errors_name_the_place_and_the_fix() -> None:
    with pytest.raises(ValueError, match="smaller than either stride or dilation"):
        F.conv_transpose2d(gn.zeros((1, 2, 3, 3)), gn.zeros((2, 2, 3, 3)), output_padding=1)
    with pytest.raises(ValueError, match=r"output_padding=\(2,\), stride=\(2,\), dilation=\(1,"):
        gn.nn.ConvTranspose1d(2, 2, 3, stride=2, output_padding=2)(gn.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match="only padding_mode='zeros'"):
        gn.nn.ConvTranspose2d(2, 2, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="'same' and 'valid' exist only for Conv"):
        gn.nn.ConvTranspose2d(2, 2, 3, padding="same")
    with pytest.raises(ValueError, match="exist only for conv"):
        F.conv_transpose1d(gn.zeros((1, 2, 3)), gn.zeros((2, 2, 3)), padding="same")
    with pytest.raises(ValueError, match=r"expects C_in = weight.shape\[0\] = 3"):
        F.conv_transpose2d(gn.zeros((1, 2, 3, 3)), gn.zeros((3, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"bias must have shape \(C_out,\) = \(4,\)"):
        F.conv_transpose1d(gn.zeros((1, 2, 3)), gn.zeros((2, 2, 3)), gn.zeros(2), groups=2)
    with pytest.raises(ValueError, match="which is empty"):
        F.conv_transpose1d(gn.zeros((1, 2, 1)), gn.zeros((2, 2, 1)), padding=1)
    with pytest.raises(TypeError, match="share one dtype"):
        F.conv_transpose1d(gn.zeros((1, 2, 3)), gn.zeros((2, 2, 3), dtype=np.float64))
    with pytest.raises(ValueError, match=r"ConvTranspose2d\(3 -> 4\) expects input"):
        gn.nn.ConvTranspose2d(3, 4, 3)(gn.zeros((2, 5, 8, 8)))


def test_pytorch_refuses_what_we_refuse() -> None:
    """The output_padding rule is PyTorch's own, not a stricter one of ours."""
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        torch.nn.functional.conv_transpose2d(
            torch.zeros(1, 2, 3, 3), torch.zeros(2, 2, 3, 3), output_padding=1
        )
    # allowed when the dilation is larger than the stride, in both
    x, w = np.ones((1, 2, 3)), np.ones((2, 2, 3))
    ours = F.conv_transpose1d(gn.tensor(x), gn.tensor(w), output_padding=2, dilation=3)
    theirs = torch.nn.functional.conv_transpose1d(
        torch.tensor(x), torch.tensor(w), output_padding=2, dilation=3
    )
    np.testing.assert_allclose(ours.data, theirs.numpy())


@pytest.mark.parametrize("fn", ["conv2d", "conv_transpose2d"])
@pytest.mark.parametrize(
    "kw, fix",
    [
        (dict(padding=-1), "pass 0 for none"),
        (dict(stride=0), "1 is the default"),
        (dict(bias=np.zeros(2, np.float32)), "pass bias=None for no bias"),
    ],
)
def test_bad_conv_arguments_name_the_fix(fn, kw, fix):
    x = gn.randn(1, 2, 5, 5)
    w = gn.randn(3, 2, 3, 3) if fn == "conv2d" else gn.randn(2, 3, 3, 3)
    if "bias" in kw:
        kw = {"bias": gn.tensor(kw["bias"])}
    with pytest.raises(ValueError, match=fix):
        getattr(gn.nn.functional, fn)(x, w, **kw)
