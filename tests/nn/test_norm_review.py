"""Review fixes for the normalisation layers and Linear, against PyTorch 2.13: a float64
input into a float32 layer is refused ("mixed dtype"), BatchNorm takes bias=False,
device/dtype are positional as in PyTorch, and BatchNorm prints as PyTorch does."""

import inspect

import numpy as np
import pytest

import glassnet as gn

LAYERS = {
    "BatchNorm1d": (lambda nn: nn.BatchNorm1d(3), (4, 3)),
    "BatchNorm1d eval": (lambda nn: nn.BatchNorm1d(3).eval(), (4, 3, 5)),
    "BatchNorm2d": (lambda nn: nn.BatchNorm2d(3), (2, 3, 4, 4)),
    "BatchNorm2d no running stats": (
        lambda nn: nn.BatchNorm2d(3, track_running_stats=False),
        (2, 3, 4, 4),
    ),
    "GroupNorm": (lambda nn: nn.GroupNorm(1, 3), (2, 3, 4)),
    "LayerNorm": (lambda nn: nn.LayerNorm(3), (2, 3)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_a_float64_input_into_a_float32_layer_is_refused(name):
    torch = pytest.importorskip("torch")
    make, shape = LAYERS[name]
    with pytest.raises(RuntimeError, match="mixed dtype"):
        make(torch.nn)(torch.zeros(shape, dtype=torch.float64))
    with pytest.raises(
        TypeError, match=r"float64 but the layer's parameters are float32.*\.float\(\)"
    ):
        make(gn.nn)(gn.tensor(np.random.default_rng(0).random(shape)))


@pytest.mark.parametrize("kind", ["BatchNorm1d", "BatchNorm2d"])
def test_batchnorm_bias_false_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    t = getattr(torch.nn, kind)(3, bias=False)
    g = getattr(gn.nn, kind)(3, bias=False)
    assert g.bias is None and t.bias is None
    assert list(g.state_dict()) == list(t.state_dict())
    assert repr(g) == repr(t)
    shape = (4, 3) if kind == "BatchNorm1d" else (2, 3, 4, 4)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        t.weight.uniform_(0.5, 2.0)
    g.load_state_dict({k: v.numpy() for k, v in t.state_dict().items()})
    np.testing.assert_allclose(g(gn.tensor(x)).data, t(torch.tensor(x)).detach().numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "args", [dict(), dict(affine=False), dict(track_running_stats=False, momentum=None)]
)
def test_batchnorm_repr_is_pytorchs(args):
    torch = pytest.importorskip("torch")
    assert repr(gn.nn.BatchNorm2d(5, **args)) == repr(torch.nn.BatchNorm2d(5, **args))
    assert repr(gn.nn.BatchNorm1d(5, **args)) == repr(torch.nn.BatchNorm1d(5, **args))


@pytest.mark.parametrize(
    "name", ["Linear", "BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "RMSNorm"]
)
def test_device_and_dtype_sit_where_pytorch_has_them(name):
    torch = pytest.importorskip("torch")
    ours = inspect.signature(getattr(gn.nn, name)).parameters
    theirs = inspect.signature(getattr(torch.nn, name)).parameters
    positional = [k for k, p in theirs.items() if p.kind == p.POSITIONAL_OR_KEYWORD]
    assert [k for k, p in ours.items() if p.kind == p.POSITIONAL_OR_KEYWORD] == positional
    args = {"Linear": (3, 4), "GroupNorm": (1, 3)}.get(name, (3,))
    layer = getattr(gn.nn, name)(*args, device="cpu", dtype=np.float64)
    assert all(p.dtype == np.float64 for p in layer.parameters())
    with pytest.raises(RuntimeError, match="CPU"):
        getattr(gn.nn, name)(*args, device="cuda")
