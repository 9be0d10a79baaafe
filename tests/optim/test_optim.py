"""Optimizers without PyTorch: one step by hand, state dicts, resuming, errors."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

ALL_OPTIMIZERS = [
    gn.optim.SGD,
    gn.optim.Adam,
    gn.optim.AdamW,
    gn.optim.RMSprop,
    gn.optim.Adagrad,
    gn.optim.NAdam,
    gn.optim.RAdam,
    gn.optim.Adamax,
]


def _param(values):
    p = gn.nn.Parameter(np.array(values, dtype=np.float64))
    return p


def test_sgd_momentum_two_steps_by_hand() -> None:
    p = _param([1.0, -2.0])
    opt = gn.optim.SGD([p], lr=0.1, momentum=0.9)
    for _ in range(2):
        p.grad = gn.tensor(np.array([0.5, 1.0]))
        opt.step()
    # b1 = g, b2 = 0.9 g + g = 1.9 g; theta = theta0 - lr (g + 1.9 g)
    np.testing.assert_allclose(p.data, [1.0 - 0.1 * 2.9 * 0.5, -2.0 - 0.1 * 2.9 * 1.0])


def test_adam_first_step_moves_each_parameter_by_lr() -> None:
    # After bias correction m_hat = g and v_hat = g^2, so the step is lr * sign(g).
    p = _param([1.0, -2.0, 3.0])
    opt = gn.optim.Adam([p], lr=0.01)
    p.grad = gn.tensor(np.array([1e-3, -50.0, 7.0]))
    opt.step()
    np.testing.assert_allclose(p.data, [0.99, -1.99, 2.99], atol=1e-7)


def test_optimizers_keep_float32_and_update_in_place() -> None:
    model = gn.nn.Linear(3, 2)
    weight_array = model.weight.data
    for cls in ALL_OPTIMIZERS:
        opt = cls(model.parameters(), lr=0.01)
        model(gn.randn(4, 3)).sum().backward()
        opt.step()
        opt.zero_grad()
        assert model.weight.data is weight_array and model.weight.dtype == np.float32
        for state in opt.state.values():
            for value in state.values():
                if isinstance(value, np.ndarray):
                    assert value.dtype == np.float32


def _train(model, opt, sched, batches):
    for x, y in batches:
        opt.zero_grad()
        gn.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        sched.step()


def test_resuming_from_state_dicts_equals_training_straight_through() -> None:
    rng = np.random.default_rng(0)
    batches = [
        (
            gn.tensor(rng.standard_normal((8, 4)).astype(np.float32)),
            gn.tensor(rng.integers(0, 3, 8)),
        )
        for _ in range(20)
    ]

    def make():
        gn.manual_seed(0)
        model = gn.nn.Sequential(gn.nn.Linear(4, 8), gn.nn.ReLU(), gn.nn.Linear(8, 3))
        opt = gn.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
        sched = gn.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        return model, opt, sched

    straight = make()
    _train(*straight, batches)

    first = make()
    _train(*first, batches[:10])
    saved = [first[0].state_dict(), first[1].state_dict(), first[2].state_dict()]
    saved = [
        {k: (v.numpy().copy() if hasattr(v, "numpy") else v) for k, v in saved[0].items()},
        *saved[1:],
    ]
    resumed = make()
    resumed[0].load_state_dict(saved[0])
    resumed[1].load_state_dict(saved[1])
    resumed[2].load_state_dict(saved[2])
    _train(*resumed, batches[10:])
    for a, b in zip(straight[0].parameters(), resumed[0].parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_state_dict_uses_pytorch_layout() -> None:
    model = gn.nn.Linear(2, 2)
    opt = gn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(gn.randn(3, 2)).sum().backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][0]["lr"] == 0.1
    assert set(sd["state"]) == {0, 1} and "momentum_buffer" in sd["state"][0]


def test_optimizer_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="SGD got an empty parameter list"):
        gn.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD: lr must be non-negative, got -0\.1"):
        gn.optim.SGD(gn.nn.Linear(2, 2).parameters(), lr=-0.1)
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        gn.optim.Adam(gn.nn.Parameter(np.zeros(2)), lr=0.1)
    x = gn.randn(2, requires_grad=True)
    with pytest.raises(ValueError, match="can only optimize leaf tensors"):
        gn.optim.SGD([x * 2], lr=0.1)
    opt = gn.optim.SGD(gn.nn.Linear(2, 2).parameters(), lr=0.1)
    other = gn.optim.SGD(gn.nn.Linear(3, 3).parameters(), lr=0.1)
    other_sd = other.state_dict()
    other_sd["param_groups"][0]["params"] = [0]
    with pytest.raises(ValueError, match="group 0 has 1 parameters in the saved state and 2 here"):
        opt.load_state_dict(other_sd)


def test_clip_grad_norm_and_value_by_hand() -> None:
    a, b = _param([3.0, 0.0]), _param([0.0, 4.0])
    a.grad, b.grad = gn.tensor(np.array([3.0, 0.0])), gn.tensor(np.array([0.0, 4.0]))
    total = gn.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(
        np.concatenate([a.grad.data, b.grad.data]), [0.6, 0, 0, 0.8], atol=1e-6
    )
    a.grad = gn.tensor(np.array([np.inf, 0.0]))
    with pytest.raises(RuntimeError, match=r"the total norm of order 2\.0 of the gradients is inf"):
        gn.nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    b.grad = gn.tensor(np.array([-3.0, 0.2]))
    gn.nn.utils.clip_grad_value_([b], 0.5)
    np.testing.assert_allclose(b.grad.data, [-0.5, 0.2])


@pytest.mark.parametrize("cls", ALL_OPTIMIZERS, ids=lambda c: c.__name__)
def test_each_step_bumps_the_version_of_each_parameter_it_changed(cls) -> None:
    model = gn.nn.Linear(3, 2)
    opt = cls(model.parameters(), lr=0.01)
    for step in range(1, 4):
        opt.zero_grad()
        model(gn.randn(4, 3)).sum().backward()
        model.bias.grad = None  # no gradient: not changed, version kept
        opt.step()
        assert (model.weight._version, model.bias._version) == (step, 0)


def test_zero_grad_in_place_bumps_the_gradient_version() -> None:
    p = _param([1.0, 2.0])
    p.grad = gn.tensor(np.array([0.5, 0.5]))
    gn.optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad._version == 1 and not p.grad.data.any()


ADAM_OPTIONS = [
    dict(),
    dict(amsgrad=True, betas=(0.8, 0.99)),
    dict(weight_decay=0.1),
    dict(weight_decay=0.1, decoupled=True, amsgrad=True),
    dict(maximize=True, eps=1e-3),
]
SGD_OPTIONS = [
    dict(),
    dict(momentum=0.9),
    dict(momentum=0.9, dampening=0.3, weight_decay=0.01),
    dict(momentum=0.9, nesterov=True, maximize=True),
]


def _random_gradients(shape, steps=200):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(shape) * rng.uniform(0.01, 10) for _ in range(steps)]


def _step_beside_reference(opt, p, reference, keys, **fixed):
    """Step ``opt`` and its written-out ``reference`` on the same 200 random gradients, the
    reference reading the hyper-parameters ``keys`` from the group; its (theta, state)."""
    theta, state = p.data.copy(), {}
    group = opt.param_groups[0]
    for g in _random_gradients(p.shape):
        p.grad = gn.tensor(g)
        opt.step()
        theta = reference(theta, g, state, **fixed, **{k: group[k] for k in keys})
    return theta, state


@pytest.mark.parametrize("options", ADAM_OPTIONS)
def test_adam_fast_path_agrees_with_the_reference_over_200_steps(options) -> None:
    from glassnet.optim.adam import adam_step_reference

    options = dict(options)
    decoupled = options.pop("decoupled", False)
    cls = gn.optim.AdamW if decoupled else gn.optim.Adam
    p = _param(np.linspace(-1, 1, 12).reshape(3, 4))
    opt = cls([p], lr=0.01, **options)
    keys = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    theta, state = _step_beside_reference(opt, p, adam_step_reference, keys, decoupled=decoupled)
    np.testing.assert_allclose(p.data, theta, rtol=1e-12, atol=1e-14)
    for key, value in opt.state[p].items():
        np.testing.assert_allclose(value, state[key], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("options", SGD_OPTIONS)
def test_sgd_fast_path_agrees_with_the_reference_over_200_steps(options) -> None:
    from glassnet.optim.sgd import sgd_step_reference

    p = _param(np.linspace(-1, 1, 12).reshape(3, 4))
    opt = gn.optim.SGD([p], lr=0.01, **options)
    keys = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    theta, _ = _step_beside_reference(opt, p, sgd_step_reference, keys)
    np.testing.assert_allclose(p.data, theta, rtol=1e-12, atol=1e-14)


def test_nadam_radam_adamax_first_steps_by_hand() -> None:
    # Adamax's first step: m = 0.1 g, u = |g| + eps, so theta moves by lr sign(g) (eps aside).
    p = _param([1.0, -2.0])
    opt = gn.optim.Adamax([p], lr=0.01)
    p.grad = gn.tensor(np.array([3.0, -0.5]))
    opt.step()
    np.testing.assert_allclose(p.data, [0.99, -1.99], rtol=1e-7)
    # RAdam's first steps (rho_t <= 5) are momentum SGD on m_hat = g.
    p = _param([1.0, -2.0])
    opt = gn.optim.RAdam([p], lr=0.01)
    p.grad = gn.tensor(np.array([3.0, -0.5]))
    opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.03, -2.0 + 0.005])
    # NAdam's first step: mu_1 = 0.9 (1 - 0.5 * 0.96^0.004), v_hat = g^2, so theta moves by
    # lr sign(g) ((1 - mu_1) / (1 - mu_1) + mu_2 (1 - 0.9) / (1 - mu_1 mu_2)), eps aside.
    mu1, mu2 = (0.9 * (1 - 0.5 * 0.96 ** (0.004 * t)) for t in (1, 2))
    p = _param([1.0])
    opt = gn.optim.NAdam([p], lr=0.01)
    p.grad = gn.tensor(np.array([2.0]))
    opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.01 * (1 + mu2 * 0.1 / (1 - mu1 * mu2))])
