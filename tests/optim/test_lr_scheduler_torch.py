"""Every learning-rate schedule, alone and stacked, against PyTorch: the lr (and the cycled
momentum) of every parameter group after every step, to 1e-12. Also: step(epoch), groups
added after the scheduler was made, and state dicts that go through JSON.

Each case is one function of (the library's lr_scheduler module, optimizer) that returns
the schedulers to step each epoch, so the very same code builds the glassnet and the
PyTorch schedule.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

STEPS = 200


class Halving:
    """A callable object: PyTorch saves its attributes in the state dict, functions not."""

    def __init__(self) -> None:
        self.rate = 0.5

    def __call__(self, epoch: int) -> float:
        return 1.0 / (1.0 + self.rate * epoch)


SINGLE = {
    "StepLR": lambda S, o: [S.StepLR(o, step_size=30, gamma=0.5)],
    "MultiStepLR repeated milestone": lambda S, o: [S.MultiStepLR(o, [50, 120, 120, 150], 0.3)],
    "ConstantLR": lambda S, o: [S.ConstantLR(o, factor=0.25, total_iters=20)],
    "LinearLR warm-up": lambda S, o: [S.LinearLR(o, start_factor=0.1, total_iters=40)],
    "LinearLR decay": lambda S, o: [S.LinearLR(o, 1.0, 0.05, total_iters=150)],
    "ExponentialLR": lambda S, o: [S.ExponentialLR(o, gamma=0.99)],
    "PolynomialLR": lambda S, o: [S.PolynomialLR(o, total_iters=120, power=2.0)],
    "CosineAnnealingLR": lambda S, o: [S.CosineAnnealingLR(o, T_max=40, eta_min=0.001)],
    "LambdaLR": lambda S, o: [S.LambdaLR(o, lambda e: 1 / (1 + 0.05 * e))],
    "LambdaLR per group": lambda S, o: [S.LambdaLR(o, [lambda e: 0.99**e, Halving()])],
    "MultiplicativeLR": lambda S, o: [S.MultiplicativeLR(o, lambda e: 0.98 if e % 3 else 1.01)],
    "CosineAnnealingWarmRestarts": lambda S, o: [S.CosineAnnealingWarmRestarts(o, T_0=15)],
    "CosineAnnealingWarmRestarts T_mult": lambda S, o: [
        S.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2, eta_min=0.002)
    ],
    "CyclicLR triangular": lambda S, o: [S.CyclicLR(o, 0.01, 0.1, step_size_up=20)],
    "CyclicLR triangular2": lambda S, o: [
        S.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], 15, 25, mode="triangular2")
    ],
    "CyclicLR exp_range": lambda S, o: [
        S.CyclicLR(o, 0.01, 0.1, 10, mode="exp_range", gamma=0.99, max_momentum=0.95)
    ],
    "CyclicLR scale_fn iterations": lambda S, o: [
        S.CyclicLR(o, 0.01, 0.1, 12, scale_fn=lambda x: 0.9**x, scale_mode="iterations")
    ],
    "CyclicLR scale_fn cycle no momentum": lambda S, o: [
        S.CyclicLR(o, 0.01, 0.1, 12, scale_fn=Halving(), cycle_momentum=False)
    ],
    "OneCycleLR": lambda S, o: [S.OneCycleLR(o, max_lr=[0.1, 0.2], total_steps=STEPS)],
    "OneCycleLR three_phase linear": lambda S, o: [
        S.OneCycleLR(o, 0.1, STEPS, three_phase=True, anneal_strategy="linear")
    ],
}

STACKED = {
    "StepLR + ExponentialLR": lambda S, o: [S.StepLR(o, 30, 0.5), S.ExponentialLR(o, 0.99)],
    "LinearLR warm-up + CosineAnnealingLR": lambda S, o: [
        S.LinearLR(o, start_factor=0.1, total_iters=20),
        S.CosineAnnealingLR(o, T_max=60),
    ],
    "CosineAnnealingLR + LinearLR warm-up": lambda S, o: [
        S.CosineAnnealingLR(o, T_max=60, eta_min=0.001),
        S.LinearLR(o, start_factor=0.1, total_iters=20),
    ],
    "ConstantLR + MultiStepLR": lambda S, o: [
        S.ConstantLR(o, 0.5, total_iters=40),
        S.MultiStepLR(o, [30, 90], 0.2),
    ],
    "PolynomialLR + ExponentialLR + StepLR": lambda S, o: [
        S.PolynomialLR(o, total_iters=150, power=0.5),
        S.ExponentialLR(o, 0.995),
        S.StepLR(o, 50, 0.5),
    ],
    "MultiplicativeLR + CosineAnnealingLR": lambda S, o: [
        S.MultiplicativeLR(o, lambda e: 0.99),
        S.CosineAnnealingLR(o, T_max=25),
    ],
    "ExponentialLR + CyclicLR (which overrides)": lambda S, o: [
        S.ExponentialLR(o, 0.99),
        S.CyclicLR(o, 0.01, 0.1, 20),
    ],
    "ChainedScheduler": lambda S, o: [
        S.ChainedScheduler([S.LinearLR(o, 0.2, total_iters=10), S.ExponentialLR(o, 0.98)])
    ],
    "ChainedScheduler with an optimizer": lambda S, o: [
        S.ChainedScheduler([S.ConstantLR(o, 0.1, 5), S.CosineAnnealingLR(o, 30)], optimizer=o)
    ],
    "SequentialLR warm-up then cosine": lambda S, o: [
        S.SequentialLR(
            o, [S.LinearLR(o, 0.1, total_iters=20), S.CosineAnnealingLR(o, T_max=80)], [20]
        )
    ],
    "SequentialLR three parts": lambda S, o: [
        S.SequentialLR(
            o,
            [S.ConstantLR(o, 0.1, 10), S.ExponentialLR(o, 0.97), S.StepLR(o, 10, 0.5)],
            milestones=[15, 90],
        )
    ],
    "SequentialLR of CyclicLR and warm restarts": lambda S, o: [
        S.SequentialLR(
            o,
            [S.CyclicLR(o, 0.01, 0.1, 10), S.CosineAnnealingWarmRestarts(o, 20, 2)],
            milestones=[60],
        )
    ],
}

CASES = {**SINGLE, **STACKED}


def _optimizers(kind: str):
    """The same two-group optimizer in both libraries (the groups have different lrs)."""

    def make(lib, module):
        a, b = (module.Parameter(lib.zeros(3, dtype=lib.float64)) for _ in range(2))
        groups = [{"params": [a]}, {"params": [b], "lr": 0.2}]
        if kind == "SGD":
            return lib.optim.SGD(groups, lr=0.05, momentum=0.9)
        return lib.optim.Adam(groups, lr=0.01, betas=(0.9, 0.99))

    return make(gn, gn.nn), make(torch, torch.nn)


def _state(opt) -> list[list[float]]:
    """Per group: the lr and whichever momentum the optimizer has (SGD's or beta1, beta2)."""
    return [
        [g["lr"], *([g["momentum"]] if "momentum" in g else g["betas"])] for g in opt.param_groups
    ]


def _assert_same(ours, theirs, where) -> None:
    for mine, reference in zip(_state(ours), _state(theirs), strict=True):
        assert mine == pytest.approx(reference, rel=1e-12, abs=1e-15), where


def _step(opt, schedulers) -> None:
    opt.step()  # no gradients: nothing moves, but PyTorch wants it before scheduler.step()
    for s in schedulers:
        s.step()


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("case", list(CASES))
def test_schedule_matches_pytorch_step_by_step(case, kind) -> None:
    ours, theirs = _optimizers(kind)
    mine, reference = (
        CASES[case](gn.optim.lr_scheduler, ours),
        CASES[case](torch.optim.lr_scheduler, theirs),
    )
    _assert_same(ours, theirs, "after construction")
    for t in range(STEPS):
        _step(ours, mine)
        _step(theirs, reference)
        _assert_same(ours, theirs, f"step {t + 1}")
    for s, r in zip(mine, reference):
        assert s.get_last_lr() == pytest.approx(r.get_last_lr(), rel=1e-12)


def test_stacked_schedules_really_compose() -> None:
    # The factors multiply: StepLR's drop and ExponentialLR's decay both show in the lr.
    ours, _ = _optimizers("SGD")
    schedulers = STACKED["StepLR + ExponentialLR"](gn.optim.lr_scheduler, ours)
    for _ in range(60):
        _step(ours, schedulers)
    assert ours.param_groups[0]["lr"] == pytest.approx(0.05 * 0.5**2 * 0.99**60, rel=1e-12)


def _json(state):
    return json.loads(json.dumps(state))


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_through_json_resumes_the_schedule(case) -> None:
    # Straight through in PyTorch; glassnet saves after 70 steps, and a fresh optimizer and
    # schedule (made first, as PyTorch asks) load the saved state and carry on.
    ours, theirs = _optimizers("SGD")
    mine = CASES[case](gn.optim.lr_scheduler, ours)
    reference = CASES[case](torch.optim.lr_scheduler, theirs)
    for _ in range(70):
        _step(ours, mine)
        _step(theirs, reference)
    saved_opt = ours.state_dict()
    saved = [_json(s.state_dict()) for s in mine]
    ours, _ = _optimizers("SGD")
    mine = CASES[case](gn.optim.lr_scheduler, ours)
    ours.load_state_dict(saved_opt)
    for s, state in zip(mine, saved):
        s.load_state_dict(state)
    for t in range(70, STEPS):
        _step(ours, mine)
        _step(theirs, reference)
        _assert_same(ours, theirs, f"step {t + 1}")


def test_callable_object_attributes_are_saved_and_restored() -> None:
    ours, _ = _optimizers("SGD")
    halving = Halving()
    halving.rate = 0.25
    sched = gn.optim.lr_scheduler.LambdaLR(ours, [lambda e: 1.0, halving])
    state = _json(sched.state_dict())
    assert state["lr_lambdas"] == [None, {"rate": 0.25}]
    fresh = Halving()
    gn.optim.lr_scheduler.LambdaLR(_optimizers("SGD")[0], [lambda e: 1.0, fresh]).load_state_dict(
        state
    )
    assert fresh.rate == 0.25


CLOSED_FORM = {
    "StepLR": lambda S, o: S.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, [5, 12, 12, 30], 0.3),
    "ConstantLR": lambda S, o: S.ConstantLR(o, 0.25, total_iters=10),
    "LinearLR": lambda S, o: S.LinearLR(o, 0.1, 0.9, total_iters=20),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, total_iters=25, power=1.5),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "LambdaLR (no closed form: get_lr)": lambda S, o: S.LambdaLR(o, lambda e: 0.9**e),
    "CyclicLR (no closed form: get_lr)": lambda S, o: S.CyclicLR(o, 0.01, 0.1, 5),
}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("case", list(CLOSED_FORM))
def test_step_with_an_epoch_uses_the_closed_form_as_pytorch(case) -> None:
    ours, theirs = _optimizers("SGD")
    mine = CLOSED_FORM[case](gn.optim.lr_scheduler, ours)
    reference = CLOSED_FORM[case](torch.optim.lr_scheduler, theirs)
    for epoch in [3, None, None, 17, 12, None, 40, 0, None, 33, 33, None]:
        ours.step()
        theirs.step()
        mine.step(epoch)
        reference.step(epoch)
        _assert_same(ours, theirs, f"epoch {epoch}")
    with pytest.warns(UserWarning, match="deprecated"):
        mine.step(5)


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_take_fractional_epochs_as_pytorch(T_mult) -> None:
    ours, theirs = _optimizers("SGD")
    args = dict(T_0=4, T_mult=T_mult, eta_min=0.001)
    mine = gn.optim.lr_scheduler.CosineAnnealingWarmRestarts(ours, **args)
    reference = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, **args)
    rng = np.random.default_rng(T_mult)
    epochs = [0.5, 1.25, 3.99, 4.0, 4.5, None, None, 11.75, 12.0, 27.3, None, 2.0, 100.2, 52.0]
    epochs += [float(e) for e in np.round(rng.uniform(0, 200, 20), 3)]
    for epoch in epochs:
        ours.step()
        theirs.step()
        mine.step(epoch)
        reference.step(epoch)
        _assert_same(ours, theirs, f"epoch {epoch}")
        assert (mine.T_cur, mine.T_i, mine.last_epoch) == pytest.approx(
            (reference.T_cur, reference.T_i, reference.last_epoch), rel=1e-12
        )


def _step_or_error(opt, schedulers):
    try:
        _step(opt, schedulers)
    except (ValueError, KeyError) as error:
        return type(error)
    return None


@pytest.mark.parametrize("case", list(CASES))
def test_a_group_added_later_is_scheduled_as_in_pytorch(case) -> None:
    # Chainable schedules scale the new group's lr from then on; schedules computed from
    # initial_lr fail in PyTorch (a length mismatch or a missing key), and so here.
    ours, theirs = _optimizers("SGD")
    mine = CASES[case](gn.optim.lr_scheduler, ours)
    reference = CASES[case](torch.optim.lr_scheduler, theirs)
    for t in range(STEPS):
        if t == 25:
            ours.add_param_group({"params": [gn.nn.Parameter(np.zeros(2))], "lr": 0.3})
            theirs.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.3})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs_failed = _step_or_error(theirs, reference)
        ours_failed = _step_or_error(ours, mine)
        assert ours_failed == theirs_failed, f"step {t + 1}"
        if theirs_failed:
            return
        _assert_same(ours, theirs, f"step {t + 1}")


def test_a_group_added_later_gets_a_clear_error_from_closed_form_schedules() -> None:
    ours, _ = _optimizers("SGD")
    sched = gn.optim.lr_scheduler.LambdaLR(ours, lambda e: 0.5**e)
    ours.add_param_group({"params": [gn.nn.Parameter(np.zeros(2))]})
    with pytest.raises(ValueError, match="computed 2 learning rates for 3 parameter groups"):
        sched.step()


def test_reduce_lr_on_plateau_with_a_group_added_later_as_pytorch() -> None:
    for min_lr in (0.001, [0.001, 0.002]):
        ours, theirs = _optimizers("SGD")
        mine = gn.optim.lr_scheduler.ReduceLROnPlateau(ours, patience=1, min_lr=min_lr)
        reference = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, patience=1, min_lr=min_lr)
        ours.add_param_group({"params": [gn.nn.Parameter(np.zeros(2))], "lr": 0.3})
        theirs.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.3})
        for t in range(20):
            if isinstance(min_lr, list) and t == 2:
                with pytest.raises(RuntimeError):
                    reference.step(1.0)
                with pytest.raises(RuntimeError, match=r"set scheduler\.min_lrs"):
                    mine.step(1.0)
                break
            mine.step(1.0)
            reference.step(1.0)
            _assert_same(ours, theirs, f"step {t + 1}")
        else:
            assert ours.param_groups[2]["lr"] == 0.001  # it was reduced to the floor


SCHEDULER_ERRORS = [
    (lambda S, o: S.ConstantLR(o, factor=1.5), ValueError, r"ConstantLR: factor must be in"),
    (lambda S, o: S.CyclicLR(o, 0.1, 1.0, mode="sine"), ValueError, r"CyclicLR: mode must be"),
    (lambda S, o: S.CyclicLR(o, [0.1], 1.0), ValueError, r"base_lr has 1 values but the opt"),
    (lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, r"T_0 must be a pos"),
    (lambda S, o: S.CosineAnnealingWarmRestarts(o, 5, T_mult=1.5), ValueError, r"T_mult must"),
    (lambda S, o: S.OneCycleLR(o, 0.1, 10, pct_start=1), ValueError, r"pct_start must be a float"),
    (lambda S, o: S.SequentialLR(o, [S.StepLR(o, 2)], [3]), ValueError, r"1 schedulers need 0"),
    (lambda S, o: S.ChainedScheduler([]), ValueError, r"at least one scheduler"),
    (
        lambda S, o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]),
        ValueError,
        r"ReduceLROnPlateau, whose step needs a metric",
    ),
    (lambda S, o: S.StepLR(o, 3, last_epoch=4), KeyError, r"has no 'initial_lr'"),
]


@pytest.mark.parametrize("build, error, message", SCHEDULER_ERRORS)
def test_scheduler_errors_as_pytorch_with_a_message_that_helps(build, error, message) -> None:
    ours, theirs = _optimizers("SGD")
    with pytest.raises(error, match=message):
        build(gn.optim.lr_scheduler, ours)
    with pytest.raises(error):
        build(torch.optim.lr_scheduler, theirs)


def test_other_optimizer_in_a_chain_is_refused() -> None:
    a, b = _optimizers("SGD")[0], _optimizers("SGD")[0]
    S = gn.optim.lr_scheduler
    with pytest.raises(ValueError, match="drives another optimizer"):
        S.ChainedScheduler([S.StepLR(a, 2), S.StepLR(b, 2)])
    assert math.isclose(a.param_groups[0]["lr"], 0.05)
