"""Cases an independent review found the compiled step getting wrong, each now checked
against the eager loop: classes ignored by cross-entropy, parameters frozen or unfrozen
mid-run, hooks and buffers changed after compiling, 1-D input to Linear, a cleared
optimizer state, names that collide or shadow the code's own, a non-finite clipping norm,
a NaN step undoing its forward's side effects, export leaving the model as it was."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.compile import export_numpy
from tests.compile.test_compile_step import _assert_same, _data, _train


def _pair(make, steps, between=None, loss_fn=None, opt=None, data=None, clip=None):
    """Run the eager loop and the compiled step from the same start; ``between(i, model,
    optimizer)`` changes something before step i in both."""
    opt = opt or (lambda p: gn.optim.SGD(p, lr=0.05, momentum=0.9))

    def run(compiled: bool):
        return _train(lambda dtype: make(), opt, compiled, loss_fn=loss_fn, steps=steps,
                      data=data, clip=clip, between=between)  # fmt: skip

    runs = [run(False), run(True)]
    _assert_same(runs[0], runs[1], "float32")
    return runs


def _mlp():
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))


def test_a_class_ignored_by_cross_entropy() -> None:
    _pair(_mlp, 20, loss_fn=nn.CrossEntropyLoss(ignore_index=0))


def test_freezing_and_unfreezing_a_parameter_mid_run() -> None:
    def between(i, model, optimizer):
        model[0].weight.requires_grad = i < 5 or i >= 12

    _pair(_mlp, 20, between)


def test_a_gradient_hook_added_after_compiling_runs() -> None:
    def between(i, model, optimizer):
        if i == 5:
            model[2].weight.register_hook(lambda g: g * 0)

    _pair(_mlp, 12, between)


def test_a_buffer_replaced_after_compiling() -> None:
    def make():
        gn.manual_seed(0)
        return nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))

    def between(i, model, optimizer):
        if i == 5:
            model[1].running_mean = gn.zeros(16)
            model[1].running_var.data = np.full(16, 2.0, np.float32)

    runs = _pair(make, 12, between)
    np.testing.assert_allclose(runs[1][2][1].running_var.data, runs[0][2][1].running_var.data)


def test_batchnorm_in_eval_mode_fine_tuning() -> None:
    """Frozen running statistics (model.eval() while training the weights): the compiled
    step's normalise-by-running-statistics template, forward and backward, in 1-D and 2-D."""

    def make():
        gn.manual_seed(0)
        model = nn.Sequential(
            nn.Linear(12, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Unflatten(1, (3, 2, 2)),
            nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 4),
        )  # fmt: skip
        model(gn.randn(16, 12))  # running statistics away from 0 and 1
        return model.eval()

    _pair(make, 12)


@pytest.mark.parametrize("bias", [True, False])
def test_one_dimensional_input_to_linear(bias: bool) -> None:
    def make():
        gn.manual_seed(0)
        return nn.Linear(4, 4, bias=bias)

    rng = np.random.default_rng(0)
    data = (
        rng.standard_normal((5, 4)).astype(np.float32),
        rng.standard_normal((5, 4)).astype(np.float32),
    )
    _pair(make, 10, loss_fn=nn.MSELoss(), data=data)


def test_a_cleared_optimizer_state() -> None:
    def between(i, model, optimizer):
        if i == 6:
            optimizer.state.clear()

    _pair(_mlp, 12, between)


def test_names_that_collide_or_shadow_the_code() -> None:
    class Named(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            gn.manual_seed(0)
            setattr(self, "\ufb01", nn.Linear(12, 16))  # noqa: B010 - Python would fold self.\ufb01 to self.fi
            self.fi = nn.Linear(16, 16)
            self.t = nn.Parameter(gn.ones(16))
            self.c = nn.Parameter(gn.zeros(16))
            self.np = nn.Linear(16, 4)
            self.range = nn.Parameter(gn.ones(4))  # a builtin's name

        def forward(self, x):
            h = self.fi(getattr(self, "\ufb01")(x).relu()) * self.t + self.c  # noqa: B009
            return self.np(h) * self.range

    _pair(Named, 10)


def test_an_infinite_clipping_norm() -> None:
    _pair(_mlp, 6, clip=float("inf"))


def test_fit_with_compile_on_models_ending_in_a_view_or_a_function() -> None:
    s = gn.data.make_spirals(64, 3, noise=0.2, generator=np.random.default_rng(0))
    for tail in (nn.Flatten(), nn.LogSoftmax(dim=1)):
        gn.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3), tail)
        opt = gn.optim.SGD(model.parameters(), lr=0.1)
        loss = nn.NLLLoss() if isinstance(tail, nn.LogSoftmax) else nn.CrossEntropyLoss()
        history = gn.fit(model, loss, opt, s.train, 2, progress=False, compile=True)
        assert history["train_accuracy"][-1] is not None


def test_a_nan_step_leaves_running_statistics_and_draws_as_eager() -> None:
    def make():
        gn.manual_seed(0)
        return nn.Sequential(
            nn.Linear(12, 16), nn.BatchNorm1d(16), nn.Dropout(0.2), nn.ReLU(), nn.Linear(16, 4)
        )

    x, y = _data()
    ends = []
    for compiled in (False, True):
        model = make()
        opt = gn.optim.SGD(model.parameters(), lr=0.05)
        step = gn.compile(model, nn.CrossEntropyLoss(), opt)
        bad = x[3].copy()
        bad[0, 0] = np.nan
        for i in range(3):
            if compiled:
                step(x[i], y[i])
            else:
                opt.zero_grad()
                nn.functional.cross_entropy(model(gn.tensor(x[i])), gn.tensor(y[i])).backward()
                opt.step()
        with pytest.raises(ValueError, match="NaN"):
            if compiled:
                step(bad, y[3])
            else:
                opt.zero_grad()
                nn.functional.cross_entropy(model(gn.tensor(bad)), gn.tensor(y[3]))
        ends.append(([b.data.copy() for b in model.buffers()], gn.default_generator().random()))
    for a, b in zip(ends[0][0], ends[1][0]):
        np.testing.assert_array_equal(a, b)
    assert ends[0][1] == ends[1][1]  # the generator at the same place


def test_export_leaves_the_model_as_it_was_and_exports_eval_batchnorm(tmp_path) -> None:
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    model(gn.randn(16, 4))  # some running statistics
    before = [b.data.copy() for b in model.buffers()]
    export_numpy(model, (4,), tmp_path)
    assert model.training
    for b, kept in zip(model.buffers(), before):
        np.testing.assert_array_equal(b.data, kept)
    namespace: dict = {}
    exec(compile((tmp_path / "model.py").read_text(), "model.py", "exec"), namespace)
    forward = namespace["load"](str(tmp_path / "weights.npz"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    model.eval()
    with gn.no_grad():
        np.testing.assert_allclose(forward(x), model(gn.tensor(x)).data, rtol=1e-6, atol=1e-6)


def test_a_compiled_step_under_no_grad_raises_as_eager() -> None:
    model = _mlp()
    step = gn.compile(model, nn.CrossEntropyLoss(), gn.optim.SGD(model.parameters(), lr=0.1))
    x, y = _data()
    step(x[0], y[0])
    step(x[1], y[1])
    with gn.no_grad(), pytest.raises(RuntimeError, match="does not require grad"):
        step(x[2], y[2])
