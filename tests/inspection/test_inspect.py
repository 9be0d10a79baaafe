"""The see-through tools: trace against hand-computed gradients, the graph's shape, the
Monitor's dead-unit count, anomaly detection, and the explain/gradcheck commands."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import numpy as np
import pytest

import glassnet as gn


def _two_layer():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    y = np.array([0, 1, 1, 0])
    w1, w2 = rng.standard_normal((5, 3)), rng.standard_normal((2, 5))
    model = gn.nn.Sequential(gn.nn.Linear(3, 5), gn.nn.ReLU(), gn.nn.Linear(5, 2)).double()
    model.load_state_dict(
        {"0.weight": w1, "0.bias": np.zeros(5), "2.weight": w2, "2.bias": np.zeros(2)}
    )
    return model, x, y, w1, w2


def test_trace_records_each_node_with_the_hand_computed_gradients() -> None:
    model, x, y, w1, w2 = _two_layer()
    loss = gn.nn.functional.cross_entropy(model(gn.tensor(x)), gn.tensor(y))
    with gn.inspect.trace() as t:
        loss.backward()
    assert [s.op for s in t.steps] == [
        "LabelCrossEntropyBackward",
        "LinearBackward",
        "ReLUBackward",
        "LinearBackward",
    ]
    # by hand
    z1 = x @ w1.T
    h = np.maximum(z1, 0)
    z2 = h @ w2.T
    p = np.exp(z2 - z2.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz2 = (p - np.eye(2)[y]) / 4
    dh = dz2 @ w2
    dz1 = dh * (z1 > 0)
    ce, lin2, relu, lin1 = t.steps
    assert ce.grad_out.item() == 1.0
    np.testing.assert_allclose(ce.grad_in[0], dz2)
    np.testing.assert_allclose(lin2.grad_out, dz2)
    np.testing.assert_allclose(lin2.grad_in[0], dh)
    np.testing.assert_allclose(lin2.grad_in[1], dz2.T @ h)
    np.testing.assert_allclose(relu.grad_in[0], dz1)
    np.testing.assert_allclose(lin1.grad_in[1], dz1.T @ x)
    assert lin1.grad_in[0] is None  # the input data needs no gradient
    assert lin2.input_shapes == ((4, 5), (2, 5), (2,))
    table = t.table()
    assert "LinearBackward" in table and f"{np.linalg.norm(dz2):.4g}" in table
    # the observer is gone afterwards
    loss2 = gn.nn.functional.cross_entropy(model(gn.tensor(x)), gn.tensor(y))
    loss2.backward()
    assert len(t.steps) == 4


def test_draw_graph_dot_has_one_node_per_op_and_leaf(tmp_path) -> None:
    model, x, *_ = _two_layer()
    out = model(gn.tensor(x)).sum()
    dot = gn.inspect.draw_graph(out, tmp_path / "g.dot", model=model)
    nodes = re.findall(r"^  n\d+ \[", dot, re.MULTILINE)
    edges = re.findall(r"^  n\d+ -> n\d+;", dot, re.MULTILINE)
    # ops: Linear, ReLU, Linear, Sum; leaves: 4 parameters
    assert len(nodes) == 8 and len(edges) == 7
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f'label="{name}' in dot
    assert dot.count("shape=box") == 4
    assert (tmp_path / "g.dot").read_text() == dot


def test_monitor_counts_exactly_half_the_relu_units_dead() -> None:
    model = gn.nn.Sequential(gn.nn.Linear(4, 8), gn.nn.ReLU(), gn.nn.Linear(8, 2))
    model[0].bias.data[:4] = -1e3  # units 0-3 never fire
    model[0].bias.data[4:] = 1e3  # units 4-7 always fire
    monitor = gn.inspect.Monitor(model)
    optimizer = gn.optim.SGD(model.parameters(), lr=0.0)
    x = gn.tensor(np.random.default_rng(0).uniform(-1, 1, (16, 4)).astype(np.float32))
    for _ in range(3):
        optimizer.zero_grad()
        model(x).sum().backward()
        optimizer.step()
        monitor.step()
    assert monitor.latest()["1"]["dead"] == 0.5
    assert not monitor.warnings()  # 50% is the threshold, not above it
    model[0].bias.data[4] = -1e3
    model(x)
    assert monitor.latest(window=1)["1"]["dead"] == 5 / 8
    assert (
        "layer 1 ReLU(): 62% of ReLU units dead; lower the learning rate or use LeakyReLU"
        in monitor.warnings(window=1)
    )
    model.eval()
    model(x)  # evaluation passes are not recorded
    assert len(monitor.activations["1"]) == 4
    monitor.remove()
    model.train()
    model(x)
    assert len(monitor.activations["1"]) == 4


def test_monitor_reports_saturation_and_update_ratios() -> None:
    model = gn.nn.Sequential(gn.nn.Linear(3, 6), gn.nn.Tanh(), gn.nn.Linear(6, 1))
    model[0].weight.data *= 1000  # tanh inputs far from 0: saturated
    monitor = gn.inspect.Monitor(model)
    optimizer = gn.optim.SGD(model.parameters(), lr=0.1)
    monitor.on_train_begin(None)
    x = gn.tensor(np.random.default_rng(0).standard_normal((8, 3)).astype(np.float32))
    before = model[2].weight.data.copy()
    optimizer.zero_grad()
    model(x).sum().backward()
    optimizer.step()
    monitor.step()
    assert monitor.latest()["1"]["saturated"] > 0.9
    expected = np.linalg.norm(model[2].weight.data - before) / np.linalg.norm(before)
    assert monitor.updates["2.weight"][0] == pytest.approx(expected, rel=1e-5)
    assert any("saturated" in w for w in monitor.warnings())
    assert "update/weight" in monitor.report()


def test_monitor_names_layers_by_path_and_type_as_pytorch_prints_them() -> None:
    torch = pytest.importorskip("torch")
    inner = [gn.nn.Linear(4, 8), gn.nn.Sigmoid(), gn.nn.Linear(8, 3)]
    model = gn.nn.Sequential(gn.nn.Sequential(*inner), gn.nn.ReLU(), gn.nn.Linear(3, 2))
    twin = torch.nn.Sequential(
        torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Sigmoid(), torch.nn.Linear(8, 3)),
        torch.nn.ReLU(),
        torch.nn.Linear(3, 2),
    )
    model[0][0].weight.data *= 100  # saturate the sigmoid so a warning names it
    monitor = gn.inspect.Monitor(model)
    monitor.on_train_begin(None)
    model(gn.randn(16, 4)).sum().backward()
    monitor.step()
    # the reference: PyTorch's module paths and types for the same architecture
    expected = {}
    for path, module in twin.named_modules():
        if isinstance(module, torch.nn.Linear):
            expected[path] = f"{path} Linear({module.in_features}, {module.out_features})"
        elif path and not isinstance(module, torch.nn.Sequential):
            expected[path] = f"{path} {type(module).__name__}()"
    assert monitor.labels == expected
    assert expected["0.0"] == "0.0 Linear(4, 8)" and expected["1"] == "1 ReLU()"
    rows = monitor.report().splitlines()[1:6]
    assert [row[: len(label) + 1] for row, label in zip(rows, expected.values())] == [
        label + " " for label in expected.values()
    ]
    assert any(w.startswith("layer 0.1 Sigmoid(): ") for w in monitor.warnings())


def test_detect_anomaly_names_log_and_the_users_line() -> None:
    x = gn.tensor([1.0, 2.0], requires_grad=True)
    with (
        np.errstate(divide="ignore"),
        pytest.raises(RuntimeError) as info,
        gn.autograd.detect_anomaly(),
    ):
        y = gn.log(x - x).sum()  # the line to be named
        y.backward()
    message = str(info.value)
    assert message.startswith("LogBackward returned a gradient with inf")
    assert __file__ in message and "y = gn.log(x - x).sum()  # the line to be named" in message
    # outside the context nothing is checked: inf - inf reaches x.grad as nan
    with np.errstate(divide="ignore"):
        gn.log(x - x).sum().backward()
    assert np.isnan(x.grad.data).all()


def test_explain_and_its_command() -> None:
    text = gn.explain("relu")
    assert "dy/dx = 1 where x > 0" in text and "def backward(ctx, grad_y):" in text
    with pytest.raises(ValueError, match="unknown op 'nope'"):
        gn.explain("nope")
    result = subprocess.run(
        [sys.executable, "-m", "glassnet", "explain", "softmax"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "diag(s) - s s^T" in result.stdout and "def forward(ctx, x, dim):" in result.stdout
    listing = subprocess.run(
        [sys.executable, "-m", "glassnet", "explain"], capture_output=True, text=True, check=True
    )
    assert listing.stdout.count("\n") >= 40 and "cross_entropy" in listing.stdout


def test_gradcheck_command_checks_every_op() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "glassnet", "gradcheck"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:-1]]
    assert len(rows) == len(gn.inspect.OPS)
    assert all(r[-1] == "pass" and float(r[1]) < 1e-5 for r in rows)
    bad = subprocess.run(
        [sys.executable, "-m", "glassnet", "gradcheck", "nope"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "unknown op 'nope'" in bad.stderr


def test_draw_graph_renders_svg_with_graphviz_or_falls_back_to_dot(tmp_path) -> None:
    import shutil

    model, x, *_ = _two_layer()
    out = model(gn.tensor(x)).sum()
    if shutil.which("dot"):
        gn.inspect.draw_graph(out, tmp_path / "g.svg", model=model)
        assert (tmp_path / "g.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    else:
        with pytest.warns(UserWarning, match="dot program is not installed"):
            gn.inspect.draw_graph(out, tmp_path / "g.svg", model=model)
        assert (tmp_path / "g.dot").read_text().startswith("digraph glassnet {")


def test_draw_graph_without_graphviz_writes_dot_and_says_how_to_render(
    tmp_path, monkeypatch
) -> None:
    import shutil

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # a PATH that holds no dot
    assert shutil.which("dot") is None
    model, x, *_ = _two_layer()
    out = model(gn.tensor(x)).sum()
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning) as caught:
        gn.inspect.draw_graph(out, "graph.svg", model=model)
    (message,) = [str(w.message) for w in caught]
    assert "\n" not in message and "Graphviz" in message
    assert message.endswith("render it with: dot -Tsvg graph.dot -o graph.svg")
    assert not (tmp_path / "graph.svg").exists()
    assert (tmp_path / "graph.dot").read_text().startswith("digraph glassnet {")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asking for .dot itself is no cause for a warning
        gn.inspect.draw_graph(out, "plain.dot", model=model)


def test_monitor_plot_writes_a_png(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    model = gn.nn.Sequential(gn.nn.Linear(3, 8), gn.nn.ReLU(), gn.nn.Linear(8, 2))
    monitor = gn.inspect.Monitor(model)
    optimizer = gn.optim.SGD(model.parameters(), lr=0.1)
    monitor.on_train_begin(None)
    for _ in range(3):
        optimizer.zero_grad()
        model(gn.randn(4, 3)).sum().backward()
        optimizer.step()
        monitor.step()
    path = monitor.plot(tmp_path / "monitor.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trace_records_only_its_own_threads_backward() -> None:
    """A training loop in another thread (a second page of the playground, a data loader
    with a model) runs backward passes while a trace is open: they are not recorded."""
    import threading
    import time

    stop, running = threading.Event(), threading.Event()
    others = [0]

    def other_loop() -> None:
        w = gn.tensor(np.ones(3, np.float32), requires_grad=True)
        while not stop.is_set():
            (w.exp() * 2).sum().backward()
            others[0] += 1
            running.set()

    thread = threading.Thread(target=other_loop)
    thread.start()
    try:
        running.wait(10)
        x = gn.tensor(np.array([1.0, -2.0], np.float32), requires_grad=True)
        with gn.inspect.trace() as t:
            before = others[0]
            for _ in range(50):
                gn.relu(x).sum().backward()
                time.sleep(0.001)  # the other thread runs meanwhile
            assert others[0] > before  # it did
    finally:
        stop.set()
        thread.join()
    assert [s.op for s in t.steps] == ["SumBackward", "ReLUBackward"] * 50
