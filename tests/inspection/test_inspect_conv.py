"""The see-through tools on convolutional networks: the Monitor's dead filters counted
against NumPy by hand (conv, batch norm and ReLU written out), its statistics and
histograms on 4-D activations, and trace / draw_graph showing the conv and pool nodes with
their shapes and PyTorch's gradients."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

nn = gn.nn


def _conv_by_hand(x, w, b, padding):
    """y[n, o, i, j] = b[o] + sum_{c, ki, kj} x_pad[n, c, i + ki, j + kj] w[o, c, ki, kj]."""
    nd = w.ndim - 2
    x = np.pad(x, ((0, 0), (0, 0), *[(padding, padding)] * nd))
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2:], axis=tuple(range(2, 2 + nd)))
    letters = "hw"[:nd] if nd == 2 else "h"
    taps = "kl"[:nd]
    y = np.einsum(f"nc{letters}{taps},oc{taps}->no{letters}", win, w)
    return y + b.reshape(-1, *(1,) * nd)


def _dead_by_hand(relu_out):
    """Channels (dim 1) whose value is zero for every sample at every position."""
    return np.mean([(relu_out[:, c] == 0).all() for c in range(relu_out.shape[1])])


def _train_step(model, monitor, x):
    optimizer = gn.optim.SGD(model.parameters(), lr=0.0)
    optimizer.zero_grad()
    (model(gn.tensor(x)) ** 2).sum().backward()
    optimizer.step()
    monitor.step()


def test_monitor_counts_the_dead_filters_of_a_conv_relu() -> None:
    gn.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
    bias = model[0].bias.data
    bias[[0, 2, 5]] = -100.0  # forced dead: no input here reaches +100
    bias[[1, 3]] = 100.0  # forced alive
    monitor = gn.inspect.Monitor(model, histograms=True)
    x = np.random.default_rng(0).uniform(-1, 1, (6, 3, 7, 7)).astype(np.float32)
    _train_step(model, monitor, x)
    relu = np.maximum(_conv_by_hand(x, model[0].weight.data, bias, 1), 0)
    expected = _dead_by_hand(relu)
    assert expected >= 3 / 8 and monitor.units["1"] == "filters"
    assert monitor.latest()["1"]["dead"] == pytest.approx(expected, abs=0)
    # statistics and histogram of the 4-D activation, against the same hand computation
    assert monitor.latest()["1"]["mean"] == pytest.approx(relu.mean(), rel=1e-5)
    assert monitor.latest()["1"]["std"] == pytest.approx(relu.std(), rel=1e-5)
    counts, edges = monitor.histograms["1"]
    assert counts.sum() == relu.size
    np.testing.assert_allclose(edges, np.histogram(relu, 30)[1], rtol=1e-5)
    # a value on a bin edge may fall either side after float32 rounding
    assert np.abs(counts - np.histogram(relu, 30)[0]).sum() <= 4
    assert monitor.labels == {"0": "0 Conv2d(3, 8, 3)", "1": "1 ReLU()"}


def test_dead_filters_after_conv_batchnorm_relu_and_the_warning() -> None:
    gn.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 6, 3), nn.BatchNorm2d(6), nn.ReLU())
    model[1].bias.data[[0, 1, 2, 4]] = -100.0  # batch norm output is (about) within +-5
    monitor = gn.inspect.Monitor(model)
    x = np.random.default_rng(1).standard_normal((5, 2, 6, 6)).astype(np.float32)
    _train_step(model, monitor, x)
    z = _conv_by_hand(x, model[0].weight.data, model[0].bias.data, 0).astype(np.float64)
    mean, var = z.mean(axis=(0, 2, 3), keepdims=True), z.var(axis=(0, 2, 3), keepdims=True)
    w, b = model[1].weight.data.reshape(1, -1, 1, 1), model[1].bias.data.reshape(1, -1, 1, 1)
    relu = np.maximum((z - mean) / np.sqrt(var + 1e-5) * w + b, 0)
    expected = _dead_by_hand(relu)
    assert expected == 4 / 6
    assert monitor.latest()["2"]["dead"] == expected
    assert (
        "layer 2 ReLU(): 67% of conv filters dead (zero at every position of every sample); "
        "lower the learning rate or use LeakyReLU"
    ) in monitor.warnings()
    assert "67%" in monitor.report()


def test_conv1d_units_are_channels_and_linear_units_are_features() -> None:
    """(N, C, L) after a Conv1d: a unit is a channel; (N, T, F) after a Linear: a feature
    of the last dimension, even though both outputs are 3-D."""

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.relu1 = nn.Conv1d(2, 5, 3), nn.ReLU()
            self.fc, self.relu2 = nn.Linear(6, 4), nn.ReLU()

        def forward(self, x):
            h = self.relu1(self.conv(x))  # (N, 5, 6)
            return self.relu2(self.fc(h))  # (N, 5, 4): features last

    gn.manual_seed(2)
    model = Net()
    model.conv.bias.data[[1, 4]] = -100.0
    model.fc.bias.data[[0]] = -100.0
    monitor = gn.inspect.Monitor(model)
    x = np.random.default_rng(2).uniform(-1, 1, (7, 2, 8)).astype(np.float32)
    _train_step(model, monitor, x)
    h = np.maximum(_conv_by_hand(x, model.conv.weight.data, model.conv.bias.data, 0), 0)
    expected_filters = _dead_by_hand(h)
    y = np.maximum(h @ model.fc.weight.data.T + model.fc.bias.data, 0)
    expected_units = np.mean([(y[..., f] == 0).all() for f in range(y.shape[-1])])
    assert expected_filters >= 2 / 5 and expected_units >= 1 / 4
    stats = monitor.latest()
    assert stats["relu1"]["dead"] == expected_filters and monitor.units["relu1"] == "filters"
    assert stats["relu2"]["dead"] == expected_units and monitor.units["relu2"] == "units"


def test_monitor_histogram_skips_non_finite_values() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.ReLU())
    assert not gn.inspect.Monitor(model).histograms  # off unless asked for
    monitor = gn.inspect.Monitor(model, histograms=True)
    x = np.ones((2, 1, 3, 3), np.float32)
    x[0, 0, 0, 0] = np.nan
    model(gn.tensor(x))
    counts, _ = monitor.histograms["1"]
    assert counts.sum() == 2 * 2 * 3 * 3 - 2  # the NaN pixel in both channels


def test_monitor_histogram_of_large_nearly_equal_outputs() -> None:
    """Outputs like 7518.40 +- one float32 step (a saturated, overconfident net) are too
    close for NumPy to split into 30 float32 bins; the histogram still counts them all."""
    model = nn.Sequential(nn.Linear(1, 3), nn.ReLU())
    model[0].weight.data[:] = 0
    model[0].bias.data[:] = np.float32(7518.4)
    model[0].bias.data[1] = np.nextafter(np.float32(7518.4), np.float32(8000))
    monitor = gn.inspect.Monitor(model, histograms=True)
    model(gn.tensor(np.ones((4, 1), np.float32)))
    counts, edges = monitor.histograms["1"]
    assert counts.sum() == 12 and edges[0] <= 7518.4 <= edges[-1]


def test_trace_shows_conv_and_pool_nodes_with_shapes_and_torch_gradients() -> None:
    torch = pytest.importorskip("torch")
    gn.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Flatten()
    ).double()
    x = np.random.default_rng(3).standard_normal((4, 2, 8, 8))
    with gn.inspect.trace() as t:
        model(gn.tensor(x)).sum().backward()
    ops = [s.op for s in t.steps]
    assert ops == [
        "SumBackward",
        "ReshapeBackward",
        "AvgPoolBackward",
        "MaxPoolBackward",
        "ReLUBackward",
        "ConvBackward",
    ]
    steps = dict(zip(ops, t.steps))
    conv, max_pool, avg_pool = (
        steps["ConvBackward"],
        steps["MaxPoolBackward"],
        steps["AvgPoolBackward"],
    )
    assert conv.output_shape == (4, 3, 8, 8)
    assert conv.input_shapes == (None, (3, 2, 3, 3), (3,))  # the data needs no gradient
    assert max_pool.output_shape == (4, 3, 4, 4) and max_pool.input_shapes == ((4, 3, 8, 8),)
    assert avg_pool.output_shape == (4, 3, 2, 2) and avg_pool.input_shapes == ((4, 3, 4, 4),)
    table = t.table()
    assert "ConvBackward" in table and "(4, 3, 8, 8)" in table and "(3, 2, 3, 3)" in table
    # the gradients each node passed on, against PyTorch's for the same network
    twin = gn.interop.to_torch(model)
    xt = torch.from_numpy(x).requires_grad_(True)
    h = twin[0](xt)
    h.retain_grad()
    p = twin[2](twin[1](h))
    p.retain_grad()
    twin[4](twin[3](p)).sum().backward()
    np.testing.assert_allclose(conv.grad_in[1], twin[0].weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(conv.grad_in[2], twin[0].bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(conv.grad_out, h.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(max_pool.grad_out, p.grad.numpy(), rtol=1e-10)


def test_draw_graph_shows_conv_and_pool_boxes_with_shapes() -> None:
    model = nn.Sequential(nn.Conv1d(2, 3, 3), nn.MaxPool1d(2), nn.AdaptiveAvgPool1d(1))
    dot = gn.inspect.draw_graph(model(gn.randn(4, 2, 10)).sum(), model=model)
    assert 'label="Conv\\n(4, 3, 8)"' in dot
    assert 'label="MaxPool\\n(4, 3, 4)"' in dot
    assert 'label="0.weight\\n(3, 2, 3)"' in dot
