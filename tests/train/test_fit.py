"""fit, evaluate, predict, callbacks, the divergence guard, and the metrics."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet.data import DataLoader
from glassnet.train import (
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    TrainingDiverged,
    accuracy,
    classification_report,
    confusion_matrix,
)


def _spirals():
    return gn.data.make_spirals(200, 3, noise=0.2, generator=np.random.default_rng(0))


def _model(seed=0):
    gn.manual_seed(seed)
    return gn.train.mlp(2, [64, 64], 3)


def test_fit_learns_spirals_above_95_percent() -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.Adam(model.parameters(), lr=0.01)
    history = gn.fit(
        model,
        gn.nn.CrossEntropyLoss(),
        opt,
        DataLoader(s.train, 32, shuffle=True),
        60,
        val_data=s.test,
        progress=False,
    )
    assert len(history) == 60
    assert history["train_loss"][-1] < history["train_loss"][0] / 5
    assert gn.evaluate(model, s.test)["accuracy"] > 0.95
    assert history["val_accuracy"][-1] == gn.evaluate(model, s.test)["accuracy"]
    assert set(history.to_dict()) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "seconds",
    }
    assert "seconds" not in history.to_dict(include_time=False)


def test_train_accuracy_in_history_is_right() -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.SGD(model.parameters(), lr=0.0)  # frozen: the metric must equal evaluate's
    history = gn.fit(
        model, gn.nn.CrossEntropyLoss(), opt, DataLoader(s.train, 50), 1, progress=False
    )
    # the reference, in NumPy by hand: the frozen model's forward pass, its mean
    # cross-entropy and its accuracy over the whole training split
    h = s.x_train.astype(np.float64).reshape(len(s.x_train), -1)
    for layer in model:
        if isinstance(layer, gn.nn.Linear):
            h = h @ layer.weight.numpy().T.astype(np.float64) + layer.bias.numpy()
        elif isinstance(layer, gn.nn.ReLU):
            h = np.maximum(h, 0)
    y = s.y_train
    shifted = h - h.max(axis=1, keepdims=True)
    loss = (np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(y)), y]).mean()
    correct = (h.argmax(axis=1) == y).mean()
    assert history["train_accuracy"][0] == pytest.approx(correct)
    assert history["train_loss"][0] == pytest.approx(loss, rel=1e-5)
    scores = gn.evaluate(model, s.train, gn.nn.CrossEntropyLoss())
    assert scores["accuracy"] == pytest.approx(correct)
    assert scores["loss"] == pytest.approx(loss, rel=1e-5)


def test_evaluate_and_predict_use_eval_mode_and_no_graph() -> None:
    model = gn.nn.Sequential(gn.nn.Linear(2, 4), gn.nn.Dropout(0.9), gn.nn.Linear(4, 3))
    x = np.random.default_rng(0).standard_normal((10, 2)).astype(np.float32)
    out = gn.predict(model, x, batch_size=3)
    assert out.shape == (10, 3) and not out.requires_grad
    # no dropout: batched predictions equal one plain eval-mode forward pass
    expected = model[2].weight.numpy() @ (
        model[0].weight.numpy() @ x.T + model[0].bias.numpy()[:, None]
    )
    np.testing.assert_allclose(
        out.numpy(), expected.T + model[2].bias.numpy(), rtol=1e-5, atol=1e-6
    )
    assert model.training  # mode restored


def test_early_stopping_stops_and_restores_the_best_weights() -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.SGD(model.parameters(), lr=0.5)
    seen = {}

    def remember(state):
        seen[state.epoch] = {k: v.numpy().copy() for k, v in state.model.state_dict().items()}

    stopper = EarlyStopping(monitor="val_loss", patience=2)
    history = gn.fit(
        model,
        gn.nn.CrossEntropyLoss(),
        opt,
        DataLoader(s.train, 32, shuffle=True),
        200,
        val_data=s.test,
        callbacks=[LambdaCallback(on_epoch_end=remember), stopper],
        progress=False,
    )
    assert len(history) < 200 and "early stopping" in history.stop_reason
    best = int(np.argmin(history["val_loss"])) + 1
    assert stopper.best_epoch == best
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), seen[best][k])


def test_model_checkpoint_saves_only_improvements(tmp_path) -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.Adam(model.parameters(), lr=0.01)
    path = tmp_path / "best.safetensors"
    saves = []
    checkpoint = ModelCheckpoint(path, monitor="val_accuracy")
    original = checkpoint.on_epoch_end

    def counting(state):
        before = path.stat().st_mtime_ns if path.exists() else None
        original(state)
        if path.exists() and path.stat().st_mtime_ns != before:
            saves.append(state.logs["val_accuracy"])

    checkpoint.on_epoch_end = counting
    gn.fit(
        model,
        gn.nn.CrossEntropyLoss(),
        opt,
        DataLoader(s.train, 32),
        15,
        val_data=s.test,
        callbacks=[checkpoint],
        progress=False,
    )
    assert saves == sorted(saves) and len(set(saves)) == len(saves)  # strictly improving
    restored = _model(seed=1)
    extra = gn.io.load_checkpoint(path, restored)
    assert extra["history"]["val_accuracy"][-1] == max(saves)


def test_monitoring_a_missing_metric_is_a_clear_error() -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"metric 'val_loss' is not available .*pass val_data"):
        gn.fit(
            model,
            gn.nn.CrossEntropyLoss(),
            opt,
            s.train,
            1,
            callbacks=[EarlyStopping()],
            progress=False,
        )


def test_divergence_guard_stops_with_advice_and_keeps_the_checkpoint(tmp_path) -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.SGD(model.parameters(), lr=0.05)
    path = tmp_path / "last.safetensors"
    gn.fit(
        model,
        gn.nn.CrossEntropyLoss(),
        opt,
        s.train,
        2,
        callbacks=[ModelCheckpoint(path, "train_loss", save_best_only=False)],
        progress=False,
    )
    saved = path.read_bytes()
    opt.param_groups[0]["lr"] = 1e6
    with pytest.raises(
        TrainingDiverged,
        match=r"the (loss|model's output) became (nan|-?inf) at epoch 1, batch \d+ \(learning rate 1e\+06\); lower the learning rate",
    ) as info:
        gn.fit(
            model,
            gn.nn.CrossEntropyLoss(),
            opt,
            s.train,
            5,
            callbacks=[ModelCheckpoint(path, "train_loss", save_best_only=False)],
            progress=False,
        )
    assert isinstance(info.value.history, gn.train.History)
    assert path.read_bytes() == saved
    fresh = _model(seed=3)
    gn.io.load_checkpoint(path, fresh)
    assert all(np.isfinite(p.data).all() for p in fresh.parameters())


def test_scheduler_steps_per_epoch_and_onecycle_per_batch() -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = gn.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = gn.fit(
        model,
        gn.nn.CrossEntropyLoss(),
        opt,
        DataLoader(s.train, 32),
        3,
        scheduler=sched,
        progress=False,
    )
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    loader = DataLoader(s.train, 32)
    one = gn.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2 * len(loader))
    gn.fit(model, gn.nn.CrossEntropyLoss(), opt, loader, 2, scheduler=one, progress=False)
    assert one.last_epoch == 2 * len(loader)


def test_history_plot_writes_a_png(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    history = gn.train.History(
        [
            {
                "epoch": 1,
                "train_loss": 1.0,
                "train_accuracy": 0.5,
                "val_loss": 1.1,
                "val_accuracy": 0.4,
                "lr": 0.1,
                "seconds": 0.1,
            },
            {
                "epoch": 2,
                "train_loss": 0.5,
                "train_accuracy": 0.8,
                "val_loss": 0.7,
                "val_accuracy": 0.7,
                "lr": 0.1,
                "seconds": 0.1,
            },
        ]
    )
    path = history.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metrics_by_hand() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 2, 0])
    assert accuracy(p, y) == pytest.approx(4 / 6)
    logits = np.eye(3)[p] * 5
    assert accuracy(logits, y) == pytest.approx(4 / 6)
    np.testing.assert_array_equal(confusion_matrix(y, p), [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    report = classification_report(y, p, ["a", "b", "c"], as_dict=True)
    assert report["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["b"]["precision"] == pytest.approx(2 / 3) and report["b"]["recall"] == 1.0
    text = classification_report(y, p, ["a", "b", "c"])
    assert "accuracy" in text and "macro avg" in text


def test_metrics_match_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    np.testing.assert_array_equal(confusion_matrix(y, p), metrics.confusion_matrix(y, p))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(y, p)
    report = classification_report(y, p, as_dict=True)
    for c in range(5):
        assert report[str(c)]["precision"] == pytest.approx(precision[c])
        assert report[str(c)]["recall"] == pytest.approx(recall[c])
        assert report[str(c)]["f1"] == pytest.approx(f1[c])
        assert report[str(c)]["support"] == support[c]


def test_evaluate_defaults_to_the_loss_fit_trained_with_else_leaves_it_out() -> None:
    torch = pytest.importorskip("torch")
    s = _spirals()
    model = _model()
    assert "loss" not in gn.evaluate(model, s.test)  # never trained: no loss is known
    opt = gn.optim.SGD(model.parameters(), lr=0.05)
    loss_fn = gn.nn.CrossEntropyLoss(label_smoothing=0.1)
    gn.fit(model, loss_fn, opt, DataLoader(s.train, 50), 2, progress=False)
    assert list(model.state_dict()) == list(_model().state_dict())  # the loss is no child
    assert "CrossEntropyLoss" not in repr(model)
    scores = gn.evaluate(model, s.test)
    # the reference: PyTorch's cross-entropy, with the same smoothing, on the same outputs
    logits = torch.from_numpy(gn.predict(model, s.x_test).numpy().astype(np.float64))
    target = torch.from_numpy(s.y_test.astype(np.int64))
    want = torch.nn.functional.cross_entropy(logits, target, label_smoothing=0.1).item()
    assert scores["loss"] == pytest.approx(want, rel=1e-5)
    plain = torch.nn.functional.cross_entropy(logits, target).item()
    explicit = gn.evaluate(model, s.test, gn.nn.CrossEntropyLoss())["loss"]
    assert explicit == pytest.approx(plain, rel=1e-5) and abs(explicit - want) > 1e-3


@pytest.mark.parametrize("clip", [None, 0.5])
def test_fit_with_compile_trains_as_fit_without(clip) -> None:
    """fit(compile=True): the same history and weights as the eager loop (float32 rounding),
    with clipping too, and the short last batch of each epoch compiled once."""
    s = _spirals()
    runs = []
    for compiled in (False, True):
        model = _model()
        opt = gn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loader = DataLoader(
            s.train, batch_size=48, shuffle=True, generator=np.random.default_rng(0)
        )
        history = gn.fit(
            model, gn.nn.CrossEntropyLoss(), opt, loader, 4, val_data=s.test,
            progress=False, max_grad_norm=clip, compile=compiled,
        )  # fmt: skip
        runs.append((history, [p.data.copy() for p in model.parameters()]))
    (h_eager, w_eager), (h_comp, w_comp) = runs
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(h_comp[key], h_eager[key], rtol=1e-5)
    for a, b in zip(w_comp, w_eager):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5 * np.abs(b).max())


def test_fit_with_compile_stops_a_diverging_run_with_the_same_advice() -> None:
    s = _spirals()
    model = _model()
    opt = gn.optim.SGD(model.parameters(), lr=1e6)
    weights = None
    with pytest.raises(TrainingDiverged, match=r"became (nan|-?inf) at epoch 1, batch \d+"):
        weights = [p.data.copy() for p in model.parameters()]
        gn.fit(model, gn.nn.CrossEntropyLoss(), opt, s.train, 3, progress=False, compile=True)
    assert weights is not None and all(np.isfinite(p.data).all() for p in model.parameters())
