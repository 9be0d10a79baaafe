"""nn.Conv1d / nn.Conv2d against PyTorch: a torch layer's state_dict loaded into glassnet gives
the same output and gradients (float64 to 1e-9, float32 to 1e-5); PyTorch's initialisation
bounds, repr and argument errors; padding 'same' with even kernels and dilation, depthwise
convolutions with a channel multiplier and every padding_mode. Skipped without torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

# (glassnet class, torch class, constructor arguments, input shape)
CASES = [
    (gn.nn.Conv2d, torch.nn.Conv2d, (3, 4, 3), {}, (2, 3, 7, 6)),
    (
        gn.nn.Conv2d,
        torch.nn.Conv2d,
        (4, 6, (3, 2)),
        dict(stride=2, padding=1, groups=2),
        (2, 4, 8, 7),
    ),
    (
        gn.nn.Conv2d,
        torch.nn.Conv2d,
        (3, 3, 3),
        dict(padding="same", groups=3, bias=False),
        (1, 3, 5, 5),
    ),
    (
        gn.nn.Conv2d,
        torch.nn.Conv2d,
        (2, 4, 2),
        dict(dilation=(2, 1), padding=(1, 0)),
        (2, 6, 5),
    ),  # unbatched
    (
        gn.nn.Conv1d,
        torch.nn.Conv1d,
        (3, 5, 4),
        dict(stride=3, dilation=2, padding="valid"),
        (2, 3, 20),
    ),
    # 'same' with even kernels and dilation pads d (k - 1) in all, the odd one after
    (gn.nn.Conv2d, torch.nn.Conv2d, (2, 3, (2, 4)), dict(padding="same"), (2, 2, 5, 6)),
    (gn.nn.Conv1d, torch.nn.Conv1d, (2, 3, 4), dict(padding="same", dilation=3), (2, 2, 9)),
    # depthwise with a channel multiplier of 3
    (gn.nn.Conv1d, torch.nn.Conv1d, (2, 6, 3), dict(groups=2, stride=2), (2, 2, 9)),
    (gn.nn.Conv2d, torch.nn.Conv2d, (3, 6, 3), dict(groups=3, padding=2), (2, 3, 4, 5)),
    # the padding modes: each padded place is a copy of an input place
    (
        gn.nn.Conv2d,
        torch.nn.Conv2d,
        (2, 3, 3),
        dict(padding=2, padding_mode="reflect"),
        (2, 2, 4, 5),
    ),
    (
        gn.nn.Conv1d,
        torch.nn.Conv1d,
        (2, 3, 3),
        dict(padding=3, padding_mode="replicate"),
        (2, 2, 2),
    ),
    (
        gn.nn.Conv2d,
        torch.nn.Conv2d,
        (2, 3, 3),
        dict(padding=(1, 3), padding_mode="circular"),
        (2, 3, 4),
    ),
    (
        gn.nn.Conv2d,
        torch.nn.Conv2d,
        (2, 4, (2, 3)),
        dict(padding="same", dilation=(1, 2), padding_mode="reflect", groups=2),
        (1, 2, 4, 6),
    ),
    (
        gn.nn.Conv1d,
        torch.nn.Conv1d,
        (2, 2, 4),
        dict(padding="same", padding_mode="circular", bias=False),
        (2, 2, 5),
    ),
    (
        gn.nn.Conv1d,
        torch.nn.Conv1d,
        (2, 2, 3),
        dict(padding="valid", padding_mode="reflect"),
        (1, 2, 5),
    ),
]


# torch notes that an even kernel with 'same' pads a copy of the input: true, and not our concern
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_torch_state_dict_gives_same_output_and_gradients(case: int, dtype, tol: float) -> None:
    ours_cls, torch_cls, args, kwargs, shape = CASES[case]
    torch.manual_seed(case)
    theirs = torch_cls(*args, **kwargs).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = ours_cls(*args, **kwargs, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})

    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape).astype(dtype)
    x_ours, x_theirs = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(y_ours.data, y_theirs.detach().numpy(), rtol=tol, atol=tol)
    g = rng.standard_normal(y_theirs.shape).astype(dtype)
    y_ours.backward(gn.tensor(g))
    y_theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), rtol=tol, atol=tol)
    for name, p in theirs.named_parameters():
        mine = getattr(ours, name).grad.data
        np.testing.assert_allclose(mine, p.grad.numpy(), rtol=tol, atol=tol, err_msg=name)


def test_repr_matches_pytorch() -> None:
    kwargs = [
        {},
        dict(stride=2, padding=1),
        dict(padding="same", dilation=2, groups=2, bias=False),
        dict(padding=1, padding_mode="circular"),
    ]
    for kw in kwargs:
        assert repr(gn.nn.Conv2d(4, 6, 3, **kw)) == repr(torch.nn.Conv2d(4, 6, 3, **kw))
        assert repr(gn.nn.Conv1d(4, 6, 3, **kw)) == repr(torch.nn.Conv1d(4, 6, 3, **kw))


def test_default_init_bounds_are_pytorchs() -> None:
    """kaiming_uniform_(a = sqrt 5) on (out, in/groups, kH, kW) is U(+-1/sqrt(fan_in)), and the
    bias draws from the same interval, fan_in = in/groups * kH * kW = 2 * 15 = 30."""
    layer = gn.nn.Conv2d(4, 64, (3, 5), groups=2, generator=np.random.default_rng(0))
    bound = 1 / math.sqrt(30)
    for p in (layer.weight.data, layer.bias.data):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound
        assert np.abs(p).max() > 0.9 * bound  # spread over the whole interval, not narrower
    assert layer.weight.shape == (64, 2, 3, 5) and layer.bias.shape == (64,)


def test_errors_name_the_layer_and_the_fix() -> None:
    with pytest.raises(ValueError, match="divisible by groups"):
        gn.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="needs stride 1"):
        gn.nn.Conv2d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(TypeError, match="output_padding belongs to ConvTranspose2d"):
        gn.nn.Conv2d(3, 4, 3, output_padding=1)
    with pytest.raises(ValueError, match="padding_mode must be one of 'zeros', 'reflect'"):
        gn.nn.Conv1d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"needs a spatial size of at least 4 in dimension 2"):
        gn.nn.Conv1d(2, 4, 3, padding=3, padding_mode="reflect")(gn.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"needs a spatial size of at least 4 in dimension 1"):
        gn.nn.Conv2d(2, 4, 3, padding=(4, 0), padding_mode="circular")(gn.zeros((2, 3, 9)))
    with pytest.raises(ValueError, match=r"Conv2d\(3 -> 4\) expects input \(N, C_in, H, W\)"):
        gn.nn.Conv2d(3, 4, 3)(gn.zeros((2, 5, 8, 8)))
    with pytest.raises(ValueError, match="kernel"):
        gn.nn.functional.conv1d(gn.zeros((1, 2, 2)), gn.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"weight.shape\[1\] \* groups"):
        gn.nn.functional.conv2d(gn.zeros((1, 3, 4, 4)), gn.zeros((2, 2, 3, 3)))


def test_padding_mode_limits_are_pytorchs() -> None:
    """Reflect may pad size - 1 (not size), circular size (not more), replicate anything: the
    glassnet error comes exactly where PyTorch's does."""
    for mode, ok, too_far in (("reflect", 2, 3), ("circular", 3, 4), ("replicate", 7, None)):
        x = np.random.default_rng(0).standard_normal((1, 1, 3))
        ours = gn.nn.Conv1d(1, 1, 1, padding=ok, padding_mode=mode, bias=False, dtype=np.float64)
        theirs = torch.nn.Conv1d(1, 1, 1, padding=ok, padding_mode=mode, bias=False).double()
        ours.load_state_dict({"weight": theirs.weight.detach().numpy()})
        np.testing.assert_allclose(
            ours(gn.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12
        )
        if too_far is not None:
            with pytest.raises(RuntimeError):
                torch.nn.Conv1d(1, 1, 1, padding=too_far, padding_mode=mode)(torch.zeros(1, 1, 3))
            with pytest.raises(ValueError, match="use less padding or padding_mode='zeros'"):
                gn.nn.Conv1d(1, 1, 1, padding=too_far, padding_mode=mode)(gn.zeros((1, 1, 3)))
