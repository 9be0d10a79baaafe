"""MultiheadAttention review fixes against PyTorch 2.13: an integer key_padding_mask or
attn_mask is refused naming bool and float, and the repr is PyTorch's (only out_proj)."""

import numpy as np
import pytest

import glassnet as gn


@pytest.mark.parametrize("which", ["key_padding_mask", "attn_mask"])
@pytest.mark.parametrize("as_tensor", [True, False])
def test_an_integer_mask_is_refused_naming_bool_and_float(which, as_tensor):
    torch = pytest.importorskip("torch")
    shape = (3, 5) if which == "key_padding_mask" else (5, 5)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    tx = torch.zeros(3, 5, 8)
    with pytest.raises((AssertionError, RuntimeError), match="bool and float"):
        tm(tx, tx, tx, **{which: torch.zeros(shape, dtype=torch.long)})
    m = gn.nn.MultiheadAttention(8, 2, batch_first=True)
    x = gn.zeros(3, 5, 8)
    mask = np.zeros(shape, np.int64)
    with pytest.raises(TypeError, match=rf"{which} must be bool .* or float .*int64.*\.bool\(\)"):
        m(x, x, x, **{which: gn.tensor(mask) if as_tensor else mask})


@pytest.mark.parametrize("kwargs", [dict(), dict(batch_first=True, bias=False)])
def test_repr_has_only_out_proj_as_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    ours = repr(gn.nn.MultiheadAttention(8, 2, **kwargs))
    theirs = repr(torch.nn.MultiheadAttention(8, 2, **kwargs))
    # PyTorch's out_proj is a NonDynamicallyQuantizableLinear, a Linear for quantisation
    assert ours == theirs.replace("NonDynamicallyQuantizableLinear", "Linear")
