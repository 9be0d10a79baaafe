"""gn.compile's training step does what the eager loop does: the same losses and the same
weights after 100 steps (float32 to 1e-5 relative, float64 to 1e-12), for every optimizer
and its options, with ops that have code templates and ops that are called as their
Function, shared weights, a learning-rate scheduler, a short last batch (a second shape),
and models it cannot compile (dropout, BatchNorm), which run eagerly with a warning. The
eager loop is the definition the compiled code must reproduce; each test runs both from
the same initial weights and data."""

from __future__ import annotations

import ast
import shutil
import subprocess
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.train.models import MODELS

STEPS = 100


def _mlp(dtype: str = "float32") -> nn.Module:
    gn.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 8),
        nn.Sigmoid(), nn.Linear(8, 4),
    )  # fmt: skip
    return model.double() if dtype == "float64" else model


def _data(dtype: str = "float32", batch: int = 8, count: int = 10):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((count, batch, 12)).astype(dtype)
    y = rng.integers(0, 4, (count, batch))
    return x, y


def _train(make_model, make_opt, compiled: bool, dtype="float32", loss_fn=None, steps=STEPS,
           data=None, scheduler=None, keep_grads=False, clip=None, between=None):  # fmt: skip
    """Train from the same start; ``between(i, model, optimizer)``, if given, changes
    something before step i. Returns (losses, final parameters, model, optimizer, step)."""
    model = make_model(dtype)
    optimizer = make_opt(model.parameters())
    sched = scheduler(optimizer) if scheduler else None
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    xs, ys = data if data is not None else _data(dtype)
    step = (
        gn.compile(model, loss_fn, optimizer, keep_grads=keep_grads, max_grad_norm=clip)
        if compiled
        else None
    )
    losses = []
    for i in range(steps):
        if between:
            between(i, model, optimizer)
        x, y = gn.tensor(xs[i % len(xs)]), gn.tensor(ys[i % len(ys)])
        if compiled:
            loss = step(x, y)
        else:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
        losses.append(loss.item())
        if sched:
            sched.step()
    return losses, [p.data.copy() for p in model.parameters()], model, optimizer, step


def _close(actual, desired, dtype) -> None:
    """Equal to float rounding: within 1e-5 (float32) or 1e-12 (float64) of the largest
    magnitude in the array (elements near zero come from cancellation, where a relative
    error per element says nothing)."""
    rtol = 1e-5 if dtype == "float32" else 1e-12
    desired = np.asarray(desired, dtype=np.float64)
    scale = np.abs(desired).max()
    np.testing.assert_allclose(actual, desired, rtol=0, atol=rtol * scale)


def _assert_same(eager, compiled, dtype) -> None:
    _close(compiled[0], eager[0], dtype)  # the 100 losses
    for a, b in zip(compiled[1], eager[1]):  # the weights after 100 steps
        _close(a, b, dtype)


OPTIMIZERS = {
    "sgd": lambda p: gn.optim.SGD(p, lr=0.1),
    "sgd-momentum": lambda p: gn.optim.SGD(p, lr=0.05, momentum=0.9),
    "sgd-nesterov-decay": lambda p: gn.optim.SGD(
        p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3
    ),
    "sgd-dampening-maximize": lambda p: gn.optim.SGD(
        p, lr=0.01, momentum=0.5, dampening=0.3, maximize=True
    ),
    "adam": lambda p: gn.optim.Adam(p, lr=1e-2),
    "adam-amsgrad-decay": lambda p: gn.optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-2),
    "adamw-maximize": lambda p: gn.optim.AdamW(p, lr=1e-3, maximize=True),
    "rmsprop": lambda p: gn.optim.RMSprop(p, lr=1e-3, momentum=0.5),
    "adagrad": lambda p: gn.optim.Adagrad(p, lr=1e-2),
    "nadam": lambda p: gn.optim.NAdam(p, lr=1e-2),
    "radam": lambda p: gn.optim.RAdam(p, lr=1e-2),
    "adamax": lambda p: gn.optim.Adamax(p, lr=1e-2),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_compiled_training_matches_eager(name: str, dtype: str) -> None:
    eager = _train(_mlp, OPTIMIZERS[name], False, dtype)
    compiled = _train(_mlp, OPTIMIZERS[name], True, dtype)
    _assert_same(eager, compiled, dtype)
    assert "def train_step(x, y):" in compiled[4].source  # it did compile, not fall back
    # the optimizer's state is the eager one's too: state_dict moves between the two
    for s_eager, s_comp in zip(eager[3].state.values(), compiled[3].state.values()):
        for key, value in s_eager.items():
            _close(s_comp[key], value, dtype)


@pytest.mark.parametrize("name", ["adam", "sgd-momentum"])
def test_gradients_are_left_in_grad_as_after_an_eager_step(name: str) -> None:
    """Adam stores every gradient; SGD adds a weight's gradient product straight into its
    momentum (.grad None) unless keep_grads=True asks for them."""
    eager = _train(_mlp, OPTIMIZERS[name], False, steps=3)
    compiled = _train(_mlp, OPTIMIZERS[name], True, steps=3)
    kept = _train(_mlp, OPTIMIZERS[name], True, steps=3, keep_grads=True)
    assert "def train_step" in kept[4].source
    named = dict(compiled[2].named_parameters())
    for (key, p_eager), p_kept in zip(eager[2].named_parameters(), kept[2].parameters()):
        np.testing.assert_allclose(p_kept.grad.data, p_eager.grad.data, rtol=1e-5, atol=1e-7)
        if name.startswith("sgd") and key.endswith("weight"):
            assert named[key].grad is None
        else:
            np.testing.assert_allclose(
                named[key].grad.data, p_eager.grad.data, rtol=1e-5, atol=1e-7
            )
    _assert_same(eager, kept, "float32")


class _Tied(nn.Module):
    """One weight used twice (its gradients must add), and an op with no code template
    (LayerNorm's Normalize, called as its Function) between templated ones."""

    def __init__(self, dtype: str = "float32") -> None:
        super().__init__()
        gn.manual_seed(0)
        self.inner = nn.Linear(12, 12)
        self.norm = nn.LayerNorm(12)
        self.out = nn.Linear(12, 4)
        if dtype == "float64":
            self.double()

    def forward(self, x):
        h = self.inner(x).relu()
        h = self.norm(self.inner(h))  # the same Linear again
        return self.out(nn.functional.leaky_relu(h, 0.1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shared_weights_and_ops_without_templates(dtype: str) -> None:
    eager = _train(_Tied, OPTIMIZERS["sgd-momentum"], False, dtype)
    compiled = _train(_Tied, OPTIMIZERS["sgd-momentum"], True, dtype)
    _assert_same(eager, compiled, dtype)
    source = compiled[4].source
    assert "gradients add" in source  # the tied weight's two gradients are summed
    assert "Normalize.forward(" in source and "Normalize.backward(" in source


def test_a_learning_rate_scheduler_is_followed() -> None:
    sched = lambda o: gn.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5)  # noqa: E731
    eager = _train(_mlp, OPTIMIZERS["sgd-momentum"], False, scheduler=sched)
    compiled = _train(_mlp, OPTIMIZERS["sgd-momentum"], True, scheduler=sched)
    _assert_same(eager, compiled, "float32")


def test_a_short_last_batch_is_traced_once_more_and_cached() -> None:
    rng = np.random.default_rng(2)
    x_all = rng.standard_normal((10, 12)).astype(np.float32)
    y_all = rng.integers(0, 4, 10)
    batches = [(x_all[i : i + 4], y_all[i : i + 4]) for i in (0, 4, 8)] * 10  # 4, 4, 2, ...
    data = ([b[0] for b in batches], [b[1] for b in batches])
    eager = _train(_mlp, OPTIMIZERS["adam"], False, data=data, steps=30)
    compiled = _train(_mlp, OPTIMIZERS["adam"], True, data=data, steps=30)
    _assert_same(eager, compiled, "float32")
    assert len(compiled[4]._cache) == 2  # one step per batch shape, each traced once
    assert "Input x (2, 12)" in compiled[4].source  # the last one compiled


def test_an_eager_island_for_a_loss_without_a_template() -> None:
    mse = lambda out, y: nn.functional.mse_loss(out, nn.functional.one_hot(y, 4).float())  # noqa: E731
    eager = _train(_mlp, OPTIMIZERS["sgd-momentum"], False, loss_fn=mse)
    compiled = _train(_mlp, OPTIMIZERS["sgd-momentum"], True, loss_fn=mse)
    _assert_same(eager, compiled, "float32")
    assert "its gradient from the engine" in compiled[4].source


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dropout_draws_what_eager_dropout_draws(dtype: str) -> None:
    def make(dtype="float32"):
        gn.manual_seed(0)
        model = nn.Sequential(
            nn.Linear(12, 16), nn.Dropout(0.3), nn.ReLU(), nn.Linear(16, 4), nn.Dropout(0.1)
        )
        return model.double() if dtype == "float64" else model

    eager = _train(make, OPTIMIZERS["sgd-momentum"], False, dtype)
    compiled = _train(make, OPTIMIZERS["sgd-momentum"], True, dtype)
    _assert_same(eager, compiled, dtype)
    assert "random(out=" in compiled[4].source


@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batchnorm_running_statistics_follow_as_in_eager(momentum, dtype: str) -> None:
    """BatchNorm in training mode: the batch normalises, the running statistics (and
    num_batches_tracked, and momentum=None's cumulative average) are updated as in eager;
    then eval mode normalises with them."""

    def make(dtype="float32"):
        gn.manual_seed(0)
        model = nn.Sequential(
            nn.Linear(12, 16), nn.BatchNorm1d(16, momentum=momentum), nn.ReLU(),
            nn.Linear(16, 4),
        )  # fmt: skip
        return model.double() if dtype == "float64" else model

    eager = _train(make, OPTIMIZERS["sgd-momentum"], False, dtype)
    compiled = _train(make, OPTIMIZERS["sgd-momentum"], True, dtype)
    _assert_same(eager, compiled, dtype)
    assert "def train_step" in compiled[4].source
    for (name, a), b in zip(compiled[2].named_buffers(), eager[2].buffers()):
        _close(a.data, b.data, dtype) if a.data.dtype.kind == "f" else None
        assert a.data.dtype.kind == "f" or (a.data == b.data).all(), name
    x = gn.tensor(_data(dtype)[0][0])
    compiled[2].eval()
    eager[2].eval()
    predict = gn.compile(compiled[2])
    predict(x)
    _close(predict(x).data, eager[2](x).data, dtype)
    assert "def forward(x)" in predict.source


class _Hidden(nn.Module):
    """State changed outside glassnet's ops: a step that stays eager and says why."""

    def __init__(self, dtype: str = "float32") -> None:
        super().__init__()
        gn.manual_seed(0)
        self.fc = nn.Linear(12, 4)
        self.register_buffer("calls", gn.zeros(1))

    def forward(self, x):
        self.calls.data += 1  # not an op: compiled code could not replay it
        return self.fc(x)


def test_what_cannot_be_compiled_runs_eagerly_and_says_why() -> None:
    eager = _train(_Hidden, OPTIMIZERS["sgd-momentum"], False)
    with pytest.warns(UserWarning, match="runs eagerly.*changed the buffer 'calls'"):
        compiled = _train(_Hidden, OPTIMIZERS["sgd-momentum"], True)
    _assert_same(eager, compiled, "float32")
    assert compiled[4].source.startswith("# eager:")
    assert compiled[2].calls.data[0] == STEPS  # every step ran, eagerly


def test_bad_labels_get_the_eager_error() -> None:
    model = _mlp()
    step = gn.compile(model, nn.CrossEntropyLoss(), gn.optim.SGD(model.parameters(), lr=0.1))
    x, y = _data()
    step(x[0], y[0])
    bad = y[1].copy()
    bad[3] = 7
    with pytest.raises(ValueError, match="not a class index"):
        step(x[1], bad)


def test_a_nan_in_the_output_gets_the_eager_error() -> None:
    model = _mlp()
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    step = gn.compile(model, nn.CrossEntropyLoss(), opt)
    x, y = _data()
    step(x[0], y[0])
    weights = [p.data.copy() for p in model.parameters()]
    x_nan = x[1].copy()
    x_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="contains NaN"):
        step(x_nan, y[1])
    for p, w in zip(model.parameters(), weights):  # no update happened
        np.testing.assert_array_equal(p.data, w)


def test_source_is_asked_for_before_the_first_step() -> None:
    model = _mlp()
    step = gn.compile(model, nn.CrossEntropyLoss(), gn.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(RuntimeError, match="call step"):
        step.source  # noqa: B018


def test_compile_needs_the_loss_and_the_optimizer() -> None:
    with pytest.raises(TypeError, match="pass both the loss and the optimizer, or neither"):
        gn.compile(_mlp(), nn.CrossEntropyLoss())


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_the_generated_source_passes_ruff(tmp_path) -> None:
    steps = [_train(_mlp, OPTIMIZERS[name], True, steps=2)[4] for name in ("sgd-momentum", "adam")]
    steps.append(_train(_Tied, OPTIMIZERS["rmsprop"], True, steps=2)[4])
    for i, step in enumerate(steps):
        path = tmp_path / f"step_{i}.py"
        path.write_text(step.source)
        result = subprocess.run(
            ["ruff", "check", "--no-cache", "--isolated", "--line-length", "100", str(path)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + step.source


def test_hooks_added_after_compiling_make_the_step_eager() -> None:
    model = _mlp()
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    step = gn.compile(model, nn.CrossEntropyLoss(), opt)
    x, y = _data()
    step(x[0], y[0])
    seen = []
    model[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        step(x[1], y[1])
    assert seen == [(8, 16)]  # the hook ran: the step went eager


def test_linear_weights_are_kept_transposed_in_memory_and_stay_usable(tmp_path) -> None:
    """gn.compile keeps trained Linear weights in Fortran order (faster products): the same
    values and shapes, a state_dict that saves and loads, and eager steps that go on to
    match an all-eager run."""
    eager = _train(_mlp, OPTIMIZERS["sgd-momentum"], False, steps=20)
    compiled = _train(_mlp, OPTIMIZERS["sgd-momentum"], True, steps=10)
    model, opt = compiled[2], compiled[3]
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    assert all(w.data.flags.f_contiguous for w in weights)
    assert all(opt.state[w]["momentum_buffer"].flags.f_contiguous for w in weights)
    xs, ys = _data()
    loss_fn = nn.CrossEntropyLoss()
    for i in range(10, 20):  # eager from here, on the transposed weights
        opt.zero_grad()
        loss_fn(model(gn.tensor(xs[i % 10])), gn.tensor(ys[i % 10])).backward()
        opt.step()
    for a, b in zip(model.parameters(), eager[2].parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-5, atol=1e-7)
    gn.save(model.state_dict(), tmp_path / "m.safetensors")
    again = _mlp()
    again.load_state_dict(gn.load(tmp_path / "m.safetensors"))
    for a, b in zip(again.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize(
    "kind, shape",
    [("cnn", (20,)), ("cnn", (12, 12)), ("gru", (10,)), ("gru", (6, 3))],
)
def test_conv_and_recurrent_models_match_eager(kind: str, shape: tuple) -> None:
    """The MNIST-1D-style CNN, a LeNet-style CNN and GRU classifiers (ops without code
    templates run as their Functions, a GRU's zero initial state is made once): the same
    losses and weights as eager after 100 steps."""
    hidden = (4, 4) if kind == "cnn" else (8,)

    def make(dtype="float32"):
        model = MODELS[kind](shape, hidden, 3, generator=np.random.default_rng(0))
        return model.double() if dtype == "float64" else model

    rng = np.random.default_rng(3)
    data = (
        rng.standard_normal((10, 6, int(np.prod(shape)))).astype(np.float32),
        rng.integers(0, 3, (10, 6)),
    )
    eager = _train(make, OPTIMIZERS["sgd-momentum"], False, data=data)
    compiled = _train(make, OPTIMIZERS["sgd-momentum"], True, data=data)
    _assert_same(eager, compiled, "float32")
    assert "def train_step" in compiled[4].source


def test_names_that_reach_the_source_cannot_break_out_of_a_comment() -> None:
    """Class and function names go into the generated text's comments and docstring: a
    name made to end them (a newline, quotes) is written without those characters."""

    class Evil(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(12, 4)

        def forward(self, x):
            return self.fc(x)

    Evil.__name__ = 'E"""\nraise SystemExit  # '

    def loss(out, y):
        return nn.functional.cross_entropy(out, y)

    loss.__name__ = "x\nraise SystemExit"
    model = Evil()
    step = gn.compile(model, loss, gn.optim.SGD(model.parameters(), lr=0.1))
    x, y = _data()
    for i in range(3):
        step(x[i], y[i])  # the second and third run the generated code
    tree = ast.parse(step.source)  # the text stayed in its comments and docstring
    assert not any(isinstance(node, ast.Raise) for node in ast.walk(tree))


class _Elementwise(nn.Module):
    """Residual adds, broadcast products and quotients, a constant the module keeps and a
    plain number: the elementwise templates and their summed-back gradients."""

    def __init__(self, dtype: str = "float32") -> None:
        super().__init__()
        gn.manual_seed(0)
        self.a = nn.Linear(12, 12)
        self.b = nn.Linear(12, 4)
        self.scale = nn.Parameter(gn.tensor(np.linspace(0.5, 1.5, 12, dtype=np.float32)))
        self.shift = gn.tensor(np.full((1, 12), 0.25, dtype=np.float32))  # a kept constant
        if dtype == "float64":
            self.double()
            self.shift = self.shift.double()

    def forward(self, x):
        h = self.a(x).tanh()
        h = h + x  # residual
        h = (h - self.shift) * self.scale  # broadcast over the batch
        h = h / (self.scale * 2.0 + 1.0)
        return self.b(h * h)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_ops_with_broadcasting(dtype: str) -> None:
    eager = _train(_Elementwise, OPTIMIZERS["adam"], False, dtype)
    compiled = _train(_Elementwise, OPTIMIZERS["adam"], True, dtype)
    _assert_same(eager, compiled, dtype)
    source = compiled[4].source
    assert ".forward(" not in source  # every op here has a template
    assert "summed over the" in source and "broadcast dimensions" in source


@pytest.mark.parametrize("name", ["sgd-momentum", "adam"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_clipping_matches_clip_grad_norm(name: str, dtype: str) -> None:
    """max_grad_norm: every gradient first, then clip_grad_norm_'s scaling, then the
    updates, as the eager loop does; a norm small enough that every step is clipped."""
    eager = _train(_mlp, OPTIMIZERS[name], False, dtype, clip=0.05)
    compiled = _train(_mlp, OPTIMIZERS[name], True, dtype, clip=0.05)
    _assert_same(eager, compiled, dtype)
    assert "clip_grad_norm" in compiled[4].source


@pytest.mark.parametrize(
    "loss",
    [
        nn.CrossEntropyLoss(label_smoothing=0.1),
        nn.CrossEntropyLoss(weight=gn.tensor([1.0, 2.0, 0.5, 1.5]), reduction="sum"),
        nn.CrossEntropyLoss(weight=gn.tensor([1.0, 2.0, 0.5, 1.5]), label_smoothing=0.2),
    ],
)
def test_cross_entropy_with_smoothing_and_class_weights(loss) -> None:
    eager = _train(_mlp, OPTIMIZERS["adam"], False, loss_fn=loss)
    compiled = _train(_mlp, OPTIMIZERS["adam"], True, loss_fn=loss)
    _assert_same(eager, compiled, "float32")
    assert "the target matrix A" in compiled[4].source


class _Tempered(nn.Module):
    """A number kept on the module and changed between steps (a temperature annealed
    during training): the generated code has it written in, so each change retraces."""

    def __init__(self, dtype: str = "float32") -> None:
        super().__init__()
        gn.manual_seed(0)
        self.fc = nn.Linear(12, 4)
        self.temperature = 2.0

    def forward(self, x):
        return self.fc(x) / self.temperature


def test_a_number_changed_on_a_module_is_followed() -> None:
    runs = []
    for compiled in (False, True):
        model = _Tempered()
        opt = gn.optim.SGD(model.parameters(), lr=0.1)
        step = gn.compile(model, nn.CrossEntropyLoss(), opt) if compiled else None
        xs, ys = _data()
        losses = []
        for i in range(30):
            model.temperature = 2.0 - i / 20  # annealed every step
            x, y = gn.tensor(xs[i % 10]), gn.tensor(ys[i % 10])
            if compiled:
                losses.append(step(x, y).item())
            else:
                opt.zero_grad()
                loss = nn.functional.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        runs.append((losses, [p.data.copy() for p in model.parameters()]))
    _assert_same(runs[0], runs[1], "float32")


def test_gradcheck_still_sees_weights_kept_in_fortran_order() -> None:
    """After a compiled step the Linear weights are Fortran-ordered: gradcheck perturbs
    them in place all the same (a reshape(-1) copy would perturb nothing)."""
    model = _mlp("float64")
    step = gn.compile(model, nn.CrossEntropyLoss(), gn.optim.SGD(model.parameters(), lr=0.1))
    x, y = _data("float64")
    step(x[0], y[0])
    step(x[1], y[1])
    w = model[0].weight
    assert w.data.flags.f_contiguous and not w.data.flags.c_contiguous
    xs = gn.tensor(x[2])
    assert gn.gradcheck(lambda w: (xs @ w.T).tanh().sum(), [w])


class _Softmaxes(nn.Module):
    """Softmax in a hidden layer, leaky ReLU, and log-softmax at the output (with NLL):
    their templates, the softmax backward as a vector-Jacobian product."""

    def __init__(self, dtype: str = "float32") -> None:
        super().__init__()
        gn.manual_seed(0)
        self.a, self.b = nn.Linear(12, 16), nn.Linear(16, 4)
        if dtype == "float64":
            self.double()

    def forward(self, x):
        h = nn.functional.softmax(self.a(x), dim=1) * 4.0
        h = nn.functional.leaky_relu(h - 0.2, 0.1)
        return nn.functional.log_softmax(self.b(h), dim=-1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_in_a_hidden_layer_leaky_relu_and_log_softmax(dtype: str) -> None:
    eager = _train(_Softmaxes, OPTIMIZERS["adam"], False, dtype, loss_fn=nn.NLLLoss())
    compiled = _train(_Softmaxes, OPTIMIZERS["adam"], True, dtype, loss_fn=nn.NLLLoss())
    _assert_same(eager, compiled, dtype)
    source = compiled[4].source
    for op in ("Softmax", "LeakyReLU", "LogSoftmax"):
        assert f"{op}.forward(" not in source and f"# {op}:" in source
    assert "s * (g - g . s)" in source


class _Convs(nn.Module):
    """Convolutions with padding, dilation, stride, groups, "same" and no bias: the Conv
    template against the eager op."""

    def __init__(self, dtype: str = "float32") -> None:
        super().__init__()
        gn.manual_seed(0)
        self.c1 = nn.Conv2d(2, 4, 3, padding=(1, 2), dilation=(1, 2))  # (N, 4, 3, 2)
        self.c2 = nn.Conv2d(4, 4, 2, stride=(1, 2), groups=2, bias=False)  # (N, 4, 2, 1)
        self.c3 = nn.Conv1d(4, 3, 3, padding="same")  # (N, 3, 2)
        self.fc = nn.Linear(6, 4)
        if dtype == "float64":
            self.double()

    def forward(self, x):
        h = self.c2(self.c1(x.reshape(x.shape[0], 2, 3, 2)).relu()).relu()
        h = self.c3(h.reshape(h.shape[0], 4, 2)).tanh()
        return self.fc(h.reshape(h.shape[0], -1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_convolutions_written_out(dtype: str) -> None:
    eager = _train(_Convs, OPTIMIZERS["sgd-momentum"], False, dtype)
    compiled = _train(_Convs, OPTIMIZERS["sgd-momentum"], True, dtype)
    _assert_same(eager, compiled, dtype)
    source = compiled[4].source
    assert "Conv.forward(" not in source and "im2col" in source


class _DeepGRU(nn.Module):
    """Two stacked bidirectional GRU layers without biases, read through slices and a
    stack: the GRU template's input gradient (the upper layer's x comes from the lower
    layer) and the GetItem and Stack templates."""

    def __init__(self, dtype: str = "float32", bias: bool = False) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.gru = nn.GRU(3, 5, num_layers=2, bias=bias, batch_first=True, bidirectional=True,
                          generator=rng)  # fmt: skip
        self.head = nn.Linear(2 * 5, 3, generator=rng)
        if dtype == "float64":
            self.double()

    def forward(self, x):
        out, h = self.gru(x.reshape(x.shape[0], 4, 3))
        return self.head(out[:, -1] + h[-2:].sum(0).repeat(1, 2)[:, :10] * 0.5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [False, True])
def test_stacked_bidirectional_gru_matches_eager(dtype: str, bias: bool) -> None:
    """The GRU cell's code template against the eager cells: same losses and weights after
    100 Adam steps, in both precisions."""
    rng = np.random.default_rng(5)
    data = (
        rng.standard_normal((10, 6, 12)).astype(dtype),
        rng.integers(0, 3, (10, 6)),
    )

    def make(d):
        return _DeepGRU(d, bias)

    eager = _train(make, OPTIMIZERS["adam"], False, dtype=dtype, data=data)
    compiled = _train(make, OPTIMIZERS["adam"], True, dtype=dtype, data=data)
    _assert_same(eager, compiled, dtype)
    source = compiled[4].source
    assert "GRUCell.forward" not in source and "dh = dgh W_hh" in source  # written out
    assert "dx = dgi W_ih" in source  # the upper layer's input gradient


class _Picks(nn.Module):
    """Basic slices (written as code) and an integer-array index that names a column twice
    (declined by the template: it runs as the Function, whose np.add.at sums both)."""

    def __init__(self, dtype: str = "float32") -> None:
        super().__init__()
        self.fc = nn.Linear(12, 6, generator=np.random.default_rng(0))
        self.out = nn.Linear(7, 4, generator=np.random.default_rng(1))
        if dtype == "float64":
            self.double()

    def forward(self, x):
        h = self.fc(x).tanh()
        picked = h[:, np.array([0, 2, 2, 5])]
        return self.out(gn.cat([h[:, 1:4], picked], dim=1))


def test_slices_and_index_arrays_match_eager() -> None:
    eager = _train(_Picks, OPTIMIZERS["sgd-momentum"], False)
    compiled = _train(_Picks, OPTIMIZERS["sgd-momentum"], True)
    _assert_same(eager, compiled, "float32")
    source = compiled[4].source
    assert "[:, 1:4]" in source and "GetItem.forward" in source  # one written, one called


@pytest.mark.parametrize(
    "index",
    [0, -1, slice(1, None), slice(None, None, 2), (slice(None), 2), (Ellipsis, 1),
     (None, slice(1, 3)), (1, slice(None, -1, 2), None), (np.int64(2),)],
)  # fmt: skip
def test_basic_index_code_selects_what_numpy_selects(index) -> None:
    from glassnet.ops.shape import basic_index_code

    a = np.arange(60).reshape(3, 4, 5)
    code = basic_index_code(index)
    np.testing.assert_array_equal(eval(f"a[{code}]"), a[index])  # our own text


def test_index_arrays_and_masks_have_no_index_code() -> None:
    from glassnet.ops.shape import basic_index_code

    assert basic_index_code(np.array([0, 1])) is None
    assert basic_index_code((slice(None), np.array([True, False]))) is None
