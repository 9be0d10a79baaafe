"""nn.RNN / GRU / LSTM and their cells against PyTorch 2.13: a torch layer's state_dict loaded
(through NumPy) into glassnet gives the same outputs, final states and gradients of the input,
the initial states and every weight (float64 to 1e-9, float32 to 1e-5), for a table of
(num_layers, bidirectional, batch_first, bias, unbatched) cases; state_dict keys, init bounds,
repr, dropout between layers by its definition, and the shape errors. Skipped without torch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

# (num_layers, bidirectional, batch_first, bias, unbatched)
CASES = [
    (1, False, False, True, False),
    (1, True, True, True, False),
    (2, False, True, False, False),
    (2, True, False, True, False),
    (3, True, True, True, True),
    (1, False, False, False, True),
]
LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}), ("LSTM", {})]
F_IN, H, L, N = 3, 4, 6, 2


def _pair(name: str, kwargs: dict, dtype, **shape):
    theirs = getattr(torch.nn, name)(F_IN, H, **kwargs, **shape)
    theirs = theirs.to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(gn.nn, name)(F_IN, H, **kwargs, **shape, dtype=dtype)
    ours.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _run(name, module, x, states, lib):
    """Output, final states and a loss that weighs each of them differently."""
    if name == "LSTM":
        y, (h, c) = module(x, tuple(states))
        finals = [h, c]
    else:
        y, h = module(x, states[0])
        finals = [h]
    loss = (y * y).sum() + sum(((i + 2) * f * f).sum() for i, f in enumerate(finals))
    return y, finals, loss


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-5)])
@pytest.mark.parametrize("layers, bidirectional, batch_first, bias, unbatched", CASES)
@pytest.mark.parametrize("name, kwargs", LAYERS, ids=["rnn_tanh", "rnn_relu", "gru", "lstm"])
def test_matches_pytorch(
    name, kwargs, layers, bidirectional, batch_first, bias, unbatched, dtype, tol
):
    shape = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first, bias=bias)
    ours, theirs = _pair(name, kwargs, dtype, **shape)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(layers)
    d = 2 if bidirectional else 1
    x_shape = (L, F_IN) if unbatched else ((N, L, F_IN) if batch_first else (L, N, F_IN))
    h_shape = (layers * d, H) if unbatched else (layers * d, N, H)
    arrays = [rng.standard_normal(x_shape).astype(dtype)]
    arrays += [
        rng.standard_normal(h_shape).astype(dtype) for _ in range(2 if name == "LSTM" else 1)
    ]
    ins = [gn.tensor(a, requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, finals, loss = _run(name, ours, ins[0], ins[1:], gn)
    y_ref, finals_ref, loss_ref = _run(name, theirs, refs[0], refs[1:], torch)
    loss.backward()
    loss_ref.backward()
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=tol, atol=tol)
    for f, f_ref in zip(finals, finals_ref):
        assert f.shape == tuple(f_ref.shape)
        np.testing.assert_allclose(f.data, f_ref.detach().numpy(), rtol=tol, atol=tol)
    for i, (a, a_ref) in enumerate(zip(ins, refs)):
        np.testing.assert_allclose(
            a.grad.data, a_ref.grad.numpy(), rtol=tol, atol=tol, err_msg=f"input {i}"
        )
    for (k, p), p_ref in zip(ours.named_parameters(), theirs.parameters()):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(p.grad.data, p_ref.grad.numpy(), rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_zero_initial_state_by_default(name):
    ours, theirs = _pair(name, {}, np.float64, num_layers=2)
    x = np.random.default_rng(0).standard_normal((L, N, F_IN))
    y, _ = ours(gn.tensor(x))
    y_ref, _ = theirs(torch.tensor(x))
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["RNNCell", "GRUCell", "LSTMCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_pytorch(name, batched):
    theirs = getattr(torch.nn, name)(F_IN, H).double()
    ours = getattr(gn.nn, name)(F_IN, H, dtype=np.float64)
    ours.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(3)
    lead = (N,) if batched else ()
    x, h, c = (rng.standard_normal((*lead, s)) for s in (F_IN, H, H))
    xs, hs, cs = (gn.tensor(a, requires_grad=True) for a in (x, h, c))
    xt, ht, ct = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    if name == "LSTMCell":
        out, ref = gn.stack(list(ours(xs, (hs, cs)))), torch.stack(theirs(xt, (ht, ct)))
    else:
        out, ref = ours(xs, hs), theirs(xt, ht)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-9)
    (out * out).sum().backward()
    (ref * ref).sum().backward()
    pairs = [(xs, xt), (hs, ht)] + ([(cs, ct)] if name == "LSTMCell" else [])
    for a, b in pairs:
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-9, atol=1e-9)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-9, atol=1e-9)
    default = ours(xs)[0] if name == "LSTMCell" else ours(xs)
    default_ref = theirs(xt)[0] if name == "LSTMCell" else theirs(xt)
    np.testing.assert_allclose(default.data, default_ref.detach().numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "name, args, kwargs",
    [
        ("RNN", (3, 5), dict(num_layers=2, nonlinearity="relu", dropout=0.5)),
        ("GRU", (3, 5), dict(bias=False, batch_first=True, bidirectional=True)),
        ("LSTM", (3, 5), {}),
        ("RNNCell", (3, 5), dict(nonlinearity="relu", bias=False)),
        ("GRUCell", (3, 5), {}),
        ("LSTMCell", (3, 5), dict(bias=False)),
    ],
)
def test_repr_keys_and_init_bounds(name, args, kwargs):
    ours, theirs = getattr(gn.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    bound = 1 / math.sqrt(args[1])
    for (k, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert p.shape == tuple(q.shape), k
        assert p.dtype == np.float32
    values = np.concatenate([p.data.ravel() for p in ours.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.8 * bound  # spread over the interval, not near 0


def test_dropout_between_layers_by_its_definition():
    """p = 1 drops all of layer 0's output, so layer 1 sees zeros: its output is a 1-layer GRU
    (layer 1's weights) run on a zero sequence; eval mode is the identity (torch's output)."""
    ours, theirs = _pair("GRU", {}, np.float64, num_layers=2, dropout=1.0)
    x = gn.tensor(np.random.default_rng(0).standard_normal((L, N, F_IN)))
    top = gn.nn.GRU(H, H, dtype=np.float64)
    top.load_state_dict(
        {k.replace("l1", "l0"): v for k, v in ours.state_dict().items() if "l1" in k}
    )
    expected, _ = top(gn.zeros((L, N, H), dtype=np.float64))
    np.testing.assert_allclose(ours(x)[0].data, expected.data, rtol=1e-12, atol=1e-12)
    ours.eval()
    theirs.eval()
    y_ref, _ = theirs(torch.tensor(x.data))
    np.testing.assert_allclose(ours(x)[0].data, y_ref.detach().numpy(), rtol=1e-9, atol=1e-9)


def test_dropout_half_zeroes_about_half_and_scales_the_rest():
    """With p = 0.5 each of layer 1's inputs is 0 or 2x layer 0's output; checked on the
    second layer's input through a hook-free route: a 2-layer RNN whose layer 1 is the
    identity map on its input (W_ih = I, W_hh = 0, no bias, relu of a positive input)."""
    rnn = gn.nn.RNN(H, H, num_layers=2, nonlinearity="relu", bias=False, dropout=0.5,
                    dtype=np.float64, generator=np.random.default_rng(0))  # fmt: skip
    with gn.no_grad():
        rnn.weight_ih_l0.data[:] = np.eye(H)
        rnn.weight_hh_l0.data[:] = 0
        rnn.weight_ih_l1.data[:] = np.eye(H)
        rnn.weight_hh_l1.data[:] = 0
    x = np.random.default_rng(1).uniform(0.5, 1.5, (200, 8, H))
    y, _ = rnn(gn.tensor(x))
    ratio = y.data / x
    assert set(np.round(np.unique(ratio), 12)) <= {0.0, 2.0}
    assert 0.45 < (ratio == 0).mean() < 0.55


@pytest.mark.parametrize(
    "module, call, match",
    [
        (lambda: gn.nn.GRU(3, 4), lambda m: m(gn.zeros((5, 2, 4))), r"F = input_size = 3"),
        (lambda: gn.nn.GRU(3, 4), lambda m: m(gn.zeros((7, 5, 2, 3))), r"unbatched \(L, F\)"),
        (
            lambda: gn.nn.RNN(3, 4, num_layers=2),
            lambda m: m(gn.zeros((5, 2, 3)), gn.zeros((1, 2, 4))),
            r"h_0 must have shape \(2, 2, 4\)",
        ),
        (
            lambda: gn.nn.LSTM(3, 4),
            lambda m: m(gn.zeros((5, 2, 3)), gn.zeros((1, 2, 4))),
            r"pair \(h_0, c_0\)",
        ),
        (lambda: gn.nn.GRUCell(3, 4), lambda m: m(gn.zeros((5, 2, 3))), r"one time step"),
        (lambda: gn.nn.RNNCell(3, 4), lambda m: m(gn.zeros((2, 3)), gn.zeros((3, 4))), r"\(2, 4\)"),
    ],
)
def test_bad_shapes_name_the_fix(module, call, match):
    with pytest.raises(ValueError, match=match):
        call(module())


@pytest.mark.parametrize("name", ["GRU", "LSTMCell"])
def test_a_float64_input_to_float32_weights_is_refused(name):
    shape = (5, 2, 3) if name == "GRU" else (2, 3)
    with pytest.raises(TypeError, match=r"float\(\)"):
        getattr(gn.nn, name)(3, 4)(gn.zeros(shape, dtype=np.float64))


def test_bad_arguments():
    with pytest.raises(NotImplementedError, match="Linear"):
        gn.nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        gn.nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        gn.nn.GRU(3, 4, dropout=1.5)


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_one_input_feature(name):
    """input_size 1 (a sequence of scalars) takes the broadcast path instead of a matmul."""
    theirs = getattr(torch.nn, name)(1, H, batch_first=True).double()
    ours = getattr(gn.nn, name)(1, H, batch_first=True, dtype=np.float64)
    ours.load_state_dict({k: gn.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((N, L, 1))
    xs, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, y_ref = ours(xs)[0], theirs(xt)[0]
    np.testing.assert_allclose(y.data, y_ref.detach().numpy(), rtol=1e-9, atol=1e-9)
    (y * y).sum().backward()
    (y_ref * y_ref).sum().backward()
    np.testing.assert_allclose(xs.grad.data, xt.grad.numpy(), rtol=1e-9, atol=1e-9)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-9, atol=1e-9)
