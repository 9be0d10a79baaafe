"""Helpers for the PyTorch parity tests: build a torch twin with the same weights."""

from __future__ import annotations

import numpy as np

import glassnet as gn


def copy_weights_to_torch(model: gn.nn.Module, twin) -> None:
    """Load glassnet's state_dict into the torch twin, through NumPy arrays."""
    import torch

    twin.load_state_dict(
        {k: torch.from_numpy(np.array(v.numpy())) for k, v in model.state_dict().items()}
    )


def compare_module(model, twin, x: np.ndarray, rtol: float, atol: float, seed: int = 0):
    """Same input -> same output, same input gradient, same parameter gradients."""
    import torch

    floating = x.dtype.kind == "f"
    ours_x = gn.tensor(x, requires_grad=floating)
    theirs_x = torch.tensor(x, requires_grad=floating)
    out, ref = model(ours_x), twin(theirs_x)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=rtol, atol=atol)
    v = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(gn.tensor(v))
    ref.backward(torch.from_numpy(v))
    if floating:
        np.testing.assert_allclose(
            ours_x.grad.data, theirs_x.grad.numpy(), rtol=rtol, atol=atol, err_msg="input grad"
        )
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            p.grad.data, theirs[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name
        )


def assert_same_torch_module(back, theirs) -> None:
    """``back`` (a glassnet model sent to torch) is ``theirs`` again: every constructor
    argument (the repr), the state_dict's keys in order, and each tensor's dtype and values."""
    import torch

    assert repr(back) == repr(theirs)  # every constructor argument made the trip
    state, returned = theirs.state_dict(), back.state_dict()
    assert list(returned) == list(state)
    for key, value in state.items():
        assert returned[key].dtype == value.dtype and torch.equal(returned[key], value), key
