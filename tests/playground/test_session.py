"""The playground's session without the web: settings checked, training, the backward pass
shown node by node, gradcheck, and the exported files. References are independent: NumPy
by hand, finite differences, the files read back with gn.load and run with Python."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet.playground import backprop, export
from glassnet.playground.session import Session, histogram
from glassnet.playground.settings import PRESETS, SettingError, parse


def _session(**settings) -> Session:
    return Session(parse(settings))


def _train_steps(session: Session, steps: int) -> None:
    while session.step_count < steps and session.stopped is None:
        session.train(seconds=10.0, most=steps - session.step_count)


@pytest.mark.parametrize(
    "raw, field, words",
    [
        (
            {"layers": [{"width": 0}]},
            "layers.0.width",
            "layer 1: width must be a whole number from 1",
        ),
        ({"layers": [{"width": 8}, {"width": "wide"}]}, "layers.1.width", "layer 2: width"),
        (
            {"layers": [{"width": 8, "activation": "swish"}]},
            "layers.0.activation",
            "activation must be one of relu",
        ),
        ({"lr": "fast"}, "lr", "learning rate must be a number above 0"),
        ({"lr": "nan"}, "lr", "got 'nan'"),
        ({"lr": 0}, "lr", "above 0"),
        ({"batch_size": 0}, "batch_size", "batch size must be a whole number from 1 to 1024"),
        ({"dataset": "mnist"}, "dataset", "dataset must be one of spirals"),
        ({"layers": [{"width": 4}] * 13}, "layers", "at most 12 layers"),
        ({"seed": -1}, "seed", "seed must be a whole number"),
    ],
)
def test_bad_settings_are_refused_with_the_field_and_the_fix(raw, field, words) -> None:
    with pytest.raises(SettingError, match=words) as caught:
        parse(raw)
    assert caught.value.field == field


def test_settings_typed_as_text_are_read_as_numbers() -> None:
    s = parse({"layers": [{"width": "12", "activation": "tanh"}], "lr": "0.05", "batch_size": "16"})
    assert (s.layers[0].width, s.layers[0].activation, s.lr, s.batch_size) == (12, "tanh", 0.05, 16)


def test_spirals_with_two_hidden_layers_learn() -> None:
    """The page's default network (2 -> 16 -> 16 -> 2, ReLU, Adam) on two spiral arms: the
    training loss, measured over the whole training set, falls below 0.1."""
    session = _session()
    first = session.history["train"][0]
    _train_steps(session, 3000)
    assert first > 0.5 and session.history["train"][-1] < 0.1
    assert session.accuracy["train"] > 0.95


def test_the_boundary_is_the_models_prediction_on_a_grid() -> None:
    """Each heat-map cell is the argmax of the model's softmax at that point of the plane
    (decoded from the frame and compared with the model run by hand on the same grid)."""
    session = _session(dataset="moons")
    _train_steps(session, 200)
    b = session.boundary()
    n = b["size"]
    x0, x1, y0, y1 = b["extent"]
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y1, y0, n))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
    z = grid.astype(np.float64)
    z = (z - session.scaler.mean) / session.scaler.std
    for module in session.model:  # Linear, ReLU, ..., Linear written out in NumPy
        if isinstance(module, gn.nn.Linear):
            z = z @ module.weight.data.T.astype(np.float64) + module.bias.data
        else:
            z = np.maximum(z, 0)
    import base64

    labels = np.frombuffer(base64.b64decode(b["label"]), np.uint8)
    agree = (labels == z.argmax(1)).mean()
    assert agree > 0.995  # cells exactly on the boundary may round either way
    assert session.points()["train"] and session.points()["classes"] == ["upper", "lower"]


def test_digits_has_no_input_plane_but_trains() -> None:
    session = _session(dataset="digits", layers=[{"width": 32}])
    assert session.boundary() is None and session.points() is None
    _train_steps(session, 300)
    assert session.accuracy["test"] > 0.9


def test_layer_statistics_against_numpy() -> None:
    session = _session(layers=[{"width": 8, "activation": "relu"}])
    _train_steps(session, 5)
    layers = session.layers()
    assert [layer["name"] for layer in layers] == [
        "layer 1: 0 Linear(2 -> 8), 1 ReLU",
        "output: 2 Linear(8 -> 2)",
    ]
    w = session.model[0].weight.data
    np.testing.assert_array_equal(layers[0]["weights"]["counts"], np.histogram(w, 24)[0])
    assert layers[0]["gradient_norm"] == pytest.approx(
        np.linalg.norm(session.model[0].weight.grad.data)
    )
    assert layers[0]["activations"] is not None and layers[1]["activations"] is None


def test_histogram_counts_every_finite_value_and_names_the_rest() -> None:
    values = np.array([0.0, 1.0, 1.0, np.nan, np.inf, 5.0])
    h = histogram(values, 4)
    assert h["counts"] == np.histogram([0, 1, 1, 5], 4)[0].tolist()
    assert (h["lo"], h["hi"], h["nonfinite"]) == (0.0, 5.0, 2)
    assert histogram(np.full(3, 7.0), 4)["counts"] == [0, 0, 3, 0]  # one value: a unit range


def test_the_ten_layer_preset_teaches_what_it_says() -> None:
    """Ten sigmoid layers: the gradient vanishes (warned; gradcheck says the gradients are
    too small to check, not wrong) and the moons are not learned; the same ten layers with
    ReLU, as the preset tells, learn them."""
    settings = PRESETS["ReLU vs sigmoid in 10 layers"]["settings"]
    sigmoid = Session(parse(settings))
    _train_steps(sigmoid, 1500)
    warnings = sigmoid.warnings(sigmoid.layers())
    assert any("gradients vanish" in w and "try ReLU" in w for w in warnings), warnings
    assert sigmoid.accuracy["test"] < 0.7
    assert backprop.gradcheck(sigmoid, "0.weight")["verdict"] in ("agree", "too small to check")
    relu = Session(parse(settings | {"layers": [{"width": 32, "activation": "relu"}] * 10}))
    _train_steps(relu, 1500)
    assert relu.accuracy["test"] > 0.9
    assert not any("vanish" in w for w in relu.warnings(relu.layers()))


def test_step_once_measures_the_losses() -> None:
    session = _session()
    for expected in (1, 2, 3):
        session.step_once()
        assert session.history["step"][-1] == expected == session.step_count


def test_naive_softmax_gives_nan_where_cross_entropy_does_not() -> None:
    """The preset's claim: with the naive loss, e^z overflows and the run stops with the
    reason; the same network with the fused cross-entropy trains on."""
    settings = PRESETS["naive vs stable softmax"]["settings"]
    naive = Session(parse(settings))
    _train_steps(naive, 3000)
    assert naive.stopped is not None and "overflows float32" in naive.stopped
    assert "cross_entropy" in naive.stopped
    stable = Session(parse(settings | {"loss": "cross_entropy"}))
    _train_steps(stable, naive.step_count + 200)
    assert stable.stopped is None and stable.step_count == naive.step_count + 200


def test_a_diverging_run_stops_and_says_why() -> None:
    session = _session(dataset="digits", optimizer="momentum", lr=10, layers=[{"width": 16}])
    _train_steps(session, 500)
    assert (
        session.stopped is not None
        and "lower the learning rate (try 1) and press Build" in session.stopped
    )
    steps = session.step_count
    assert session.train() == 0 and session.step_count == steps  # nothing more happens


# ---------------------------------------------------------------- the backward pass
def test_backward_pass_walks_every_op_with_its_rule_and_shapes() -> None:
    session = _session(layers=[{"width": 16}, {"width": 16}], batch_size=32)
    _train_steps(session, 20)
    before = session.step_count
    weights = session.model[0].weight.data.copy()
    shown = backprop.backward_pass(session)
    assert session.step_count == before + 1  # a real step: the weights moved
    assert not np.array_equal(weights, session.model[0].weight.data)
    ops = [node["op"] for node in shown["nodes"]]
    assert ops == ["LabelCrossEntropy", "Linear", "ReLU", "Linear", "ReLU", "Linear"]
    relu = shown["nodes"][2]
    assert "max(x, 0)" in relu["rule"] and relu["docs"] == "docs/activations.md"
    assert relu["grad_out"]["shape"] == [32, 16] and relu["inputs"][0]["grad"]["shape"] == [32, 16]
    assert relu["inputs"][0]["node"] == 3  # into the Linear below it
    first = shown["nodes"][-1]
    assert [i.get("parameter") for i in first["inputs"]] == ["0.weight", "0.bias"]
    assert first["inputs"][0]["grad"]["shape"] == [16, 2]


def test_the_output_layer_shows_p_minus_y() -> None:
    """The cross-entropy node's gradient is (p - onehot(y)) / N, p the softmax of the
    logits: checked against NumPy on the same batch."""
    session = _session(batch_size=8)
    _train_steps(session, 10)
    logits_seen = {}
    handle = session.model[-1].register_forward_hook(
        lambda module, args, out: logits_seen.update(z=out.data.copy())
    )
    shown = backprop.backward_pass(session)
    handle.remove()
    ce = shown["nodes"][0]["cross_entropy"]
    z = logits_seen["z"].astype(np.float64)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = ce["labels"]
    expected = p[: len(labels)].copy()  # the rows the page shows
    expected[np.arange(len(labels)), labels] -= 1
    expected /= shown["batch"]
    np.testing.assert_allclose(ce["grad"]["values"], expected, rtol=2e-3, atol=1e-7)
    np.testing.assert_allclose(ce["p"]["values"], p[:6], rtol=2e-3)


def test_a_hidden_softmax_shows_its_full_jacobian_product() -> None:
    """J = diag(s) - s s^T built in full; J^T g must be what Softmax's backward returned."""
    session = Session(parse(PRESETS["softmax in a hidden layer"]["settings"]))
    _train_steps(session, 10)
    shown = backprop.backward_pass(session)
    node = next(n for n in shown["nodes"] if n["op"] == "Softmax")
    assert node["docs"] == "docs/softmax.md" and "J = diag(s) - s s^T" in node["rule"]
    sm = node["softmax"]
    s = np.array(sm["s"]["values"][0])
    assert sm["s"]["shape"] == [8] and sm["jacobian"]["shape"] == [8, 8]
    np.testing.assert_allclose(sm["jacobian"]["values"], np.diag(s) - np.outer(s, s), atol=2e-4)
    np.testing.assert_allclose(
        sm["product"]["values"], sm["backward"]["values"], rtol=2e-3, atol=1e-9
    )


def test_gradcheck_agrees_for_every_parameter() -> None:
    session = _session(
        layers=[{"width": 6, "activation": "tanh"}, {"width": 5, "activation": "gelu"}]
    )
    _train_steps(session, 30)
    for name, _ in session.model.named_parameters():
        result = backprop.gradcheck(session, name)
        assert result["relative_error"] < 1e-6, name
        assert result["checked"] == result["elements"]


def test_gradcheck_catches_a_wrong_backward(monkeypatch) -> None:
    """The check can fail: a ReLU backward that lets gradient through where x < 0 too."""
    from glassnet.ops.activation import ReLU

    session = _session(layers=[{"width": 6}])
    _train_steps(session, 30)
    monkeypatch.setattr(ReLU, "backward", staticmethod(lambda ctx, g: g))
    result = backprop.gradcheck(session, "0.weight")
    assert result["relative_error"] > 1e-2 and result["verdict"] == "disagree"


def test_gradcheck_names_the_parameters_when_asked_for_another() -> None:
    with pytest.raises(KeyError, match=r"no parameter 'weight'.*0\.weight, 0\.bias"):
        backprop.gradcheck(_session(), "weight")


# ---------------------------------------------------------------- export
def test_exported_weights_config_and_code(tmp_path) -> None:
    session = _session(dataset="moons", layers=[{"width": 8}], lr=0.05)
    _train_steps(session, 300)
    (tmp_path / "model.safetensors").write_bytes(export.weights(session))
    loaded = gn.load(tmp_path / "model.safetensors")
    for name, value in session.model.state_dict().items():
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())
    config = export.config(session)
    json.dumps(config)  # plain JSON
    assert config["settings"]["dataset"] == "moons" and config["state_dict"]["0.weight"] == [8, 2]
    code = export.train_script(session)
    assert max(len(line) for line in code.splitlines()) <= 100  # as a user's linter wants
    (tmp_path / "train.py").write_text(code)
    run = subprocess.run(
        [sys.executable, "train.py", "--load"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"test accuracy {session.accuracy['test']:.1%}"
    again = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0, again.stderr
    assert float(again.stdout.split()[-1].rstrip("%")) > 80  # trained from scratch


def test_a_nan_output_stops_the_run_with_the_reason() -> None:
    """lr 10 with plain SGD on three wide layers: the output itself becomes nan before any
    loss is taken (cross_entropy refuses nan input): the run stops and says why."""
    session = _session(
        dataset="moons", layers=[{"width": 64}] * 3, optimizer="sgd", lr=10, batch_size=1024
    )
    _train_steps(session, 200)
    assert session.stopped is not None
    assert "the model's output became nan" in session.stopped and "try 1" in session.stopped


def test_gradcheck_of_a_wide_layer_checks_a_sample() -> None:
    session = _session(dataset="digits", layers=[{"width": 256}, {"width": 256}], batch_size=512)
    result = backprop.gradcheck(session, "2.weight")
    assert (result["checked"], result["elements"]) == (512, 65536)
    assert result["relative_error"] < 1e-6


def test_a_backward_pass_records_only_its_own_thread() -> None:
    """Another page training at the same time runs backward passes in its own thread;
    they are not this page's step."""
    import threading

    other = _session(dataset="xor", layers=[{"width": 4, "activation": "tanh"}], batch_size=1)
    stop = threading.Event()

    def train_other() -> None:
        while not stop.is_set():
            other.train(seconds=0.01)

    thread = threading.Thread(target=train_other)
    thread.start()
    try:
        shown = [backprop.backward_pass(_session()) for _ in range(5)]
    finally:
        stop.set()
        thread.join()
    for one in shown:
        assert [n["op"] for n in one["nodes"]] == [
            "LabelCrossEntropy",
            "Linear",
            "ReLU",
            "Linear",
            "ReLU",
            "Linear",
        ]


def test_the_monitor_keeps_a_window_not_the_whole_run() -> None:
    from glassnet.playground.session import MONITOR_KEEP

    session = _session(dataset="xor", layers=[{"width": 2}], batch_size=1)
    _train_steps(session, 3 * MONITOR_KEEP + 5)
    assert all(len(v) <= 2 * MONITOR_KEEP for v in session.monitor.gradients.values())
    assert all(len(v) <= 2 * MONITOR_KEEP for v in session.monitor.activations.values())
