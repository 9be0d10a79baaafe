"""Every op in the spec table against PyTorch: same inputs, same output, same gradients.

Skipped when torch is missing; CI installs exactly torch==2.13.0 so it never skips there.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.ops.specs import SPECS, OpSpec, sample

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("spec", [s for s in SPECS if s.torch is not None], ids=str)
def test_forward_and_gradients_match_pytorch(spec: OpSpec) -> None:
    rng = np.random.default_rng(1)
    arrays = [sample(rng, shape, spec.domain(i)) for i, shape in enumerate(spec.shapes)]

    ours = [gn.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, ref = spec.fn(*ours), spec.torch(*theirs)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)

    v = rng.standard_normal(out.shape)
    out.backward(gn.tensor(v))
    ref.backward(torch.tensor(v))
    for i, (x, t) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            x.grad.data, t.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=f"input {i}"
        )
