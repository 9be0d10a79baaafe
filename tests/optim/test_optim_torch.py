"""Every optimizer with every option, and every scheduler: 200 steps on the same small MLP
from the same initial weights give the same parameters as PyTorch (float64, 1e-9)."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.torch_twin import copy_weights_to_torch

torch = pytest.importorskip("torch")

OPTIMIZERS = {
    "SGD": ("SGD", dict(lr=0.05)),
    "SGD momentum": ("SGD", dict(lr=0.05, momentum=0.9)),
    "SGD momentum dampening": ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    "SGD nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    "SGD weight_decay": ("SGD", dict(lr=0.05, momentum=0.5, weight_decay=0.01)),
    "SGD maximize": ("SGD", dict(lr=0.01, momentum=0.9, weight_decay=0.01, maximize=True)),
    "Adam": ("Adam", dict(lr=0.01)),
    "Adam betas eps": ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    "Adam weight_decay": ("Adam", dict(lr=0.01, weight_decay=0.05)),
    "Adam amsgrad": ("Adam", dict(lr=0.01, amsgrad=True)),
    "Adam maximize": ("Adam", dict(lr=0.01, maximize=True)),
    "AdamW": ("AdamW", dict(lr=0.01)),
    "AdamW weight_decay amsgrad": ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    "RMSprop": ("RMSprop", dict(lr=0.005)),
    "RMSprop centered momentum": ("RMSprop", dict(lr=0.005, centered=True, momentum=0.8)),
    "RMSprop weight_decay alpha": ("RMSprop", dict(lr=0.005, alpha=0.9, weight_decay=0.01)),
    "RMSprop maximize": ("RMSprop", dict(lr=0.005, momentum=0.5, maximize=True)),
    "Adagrad": ("Adagrad", dict(lr=0.05)),
    "Adagrad lr_decay weight_decay": (
        "Adagrad",
        dict(lr=0.05, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1),
    ),
    "NAdam": ("NAdam", dict()),
    "NAdam betas eps momentum_decay": (
        "NAdam",
        dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, momentum_decay=0.01),
    ),
    "NAdam weight_decay": ("NAdam", dict(lr=0.01, weight_decay=0.05)),
    "NAdam decoupled_weight_decay": (
        "NAdam",
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    ),
    "NAdam maximize": ("NAdam", dict(lr=0.01, maximize=True)),
    "RAdam": ("RAdam", dict(lr=0.01)),
    "RAdam betas eps": ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6)),
    "RAdam weight_decay": ("RAdam", dict(lr=0.01, weight_decay=0.05)),
    "RAdam decoupled_weight_decay": (
        "RAdam",
        dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
    ),
    "RAdam maximize": ("RAdam", dict(lr=0.01, maximize=True)),
    "Adamax": ("Adamax", dict()),
    "Adamax betas eps": ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    "Adamax weight_decay": ("Adamax", dict(lr=0.01, weight_decay=0.05)),
    "Adamax maximize": ("Adamax", dict(lr=0.01, maximize=True)),
}

SCHEDULERS = {
    "StepLR": ("StepLR", dict(step_size=30, gamma=0.5)),
    "MultiStepLR": ("MultiStepLR", dict(milestones=[50, 120, 150], gamma=0.3)),
    "ExponentialLR": ("ExponentialLR", dict(gamma=0.99)),
    "CosineAnnealingLR": ("CosineAnnealingLR", dict(T_max=80, eta_min=0.001)),
    "LinearLR": ("LinearLR", dict(start_factor=0.1, end_factor=1.0, total_iters=40)),
    "OneCycleLR": ("OneCycleLR", dict(max_lr=0.1, total_steps=200)),
    "OneCycleLR three_phase linear": (
        "OneCycleLR",
        dict(max_lr=0.1, total_steps=200, three_phase=True, anneal_strategy="linear"),
    ),
    "LambdaLR": ("LambdaLR", dict(lr_lambda=lambda epoch: 1 / (1 + 0.05 * epoch))),
    # cycles the momentum (Adam: beta1) too, which the optimizer must read at every step
    "CyclicLR triangular2": (
        "CyclicLR",
        dict(base_lr=0.001, max_lr=0.05, step_size_up=30, mode="triangular2"),
    ),
    "CosineAnnealingWarmRestarts": (
        "CosineAnnealingWarmRestarts",
        dict(T_0=20, T_mult=2, eta_min=0.0005),
    ),
}


def _models():
    gn.manual_seed(0)
    model = gn.nn.Sequential(
        gn.nn.Linear(5, 16), gn.nn.Tanh(), gn.nn.Linear(16, 8), gn.nn.ReLU(), gn.nn.Linear(8, 3)
    ).double()
    twin = torch.nn.Sequential(
        torch.nn.Linear(5, 16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 3),
    ).double()
    copy_weights_to_torch(model, twin)
    return model, twin


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 32, 5))
    y = rng.integers(0, 3, size=(200, 32))
    return x, y


def _train(model, twin, opt, topt, sched=None, tsched=None, steps=200, plateau=False):
    # With maximize=True both climb -loss, which stays bounded; climbing the loss itself
    # diverges, and a divergent run amplifies rounding until no comparison means anything.
    sign = -1.0 if opt.defaults.get("maximize") else 1.0
    x, y = _data()
    for step in range(steps):
        opt.zero_grad()
        loss = gn.nn.functional.cross_entropy(model(gn.tensor(x[step])), gn.tensor(y[step]))
        (loss * sign).backward()
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(
            twin(torch.from_numpy(x[step])), torch.from_numpy(y[step])
        )
        (tloss * sign).backward()
        topt.step()
        if plateau:
            sched.step(round(loss.item(), 1))  # coarse, so that plateaus happen
            tsched.step(round(tloss.item(), 1))
        elif sched is not None:
            sched.step()
            tsched.step()
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.data, theirs[name].detach().numpy(), rtol=1e-9, atol=1e-9)


@pytest.fixture
def torch_float64_scalars():
    """PyTorch keeps scalar state (NAdam's mu_product, step counts) in the default dtype:
    float32 unless told, which alone moves NAdam by 1e-8. glassnet keeps Python floats."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_matches_pytorch_over_200_steps(name, torch_float64_scalars) -> None:
    cls, kwargs = OPTIMIZERS[name]
    model, twin = _models()
    opt = getattr(gn.optim, cls)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, cls)(twin.parameters(), **kwargs)
    _train(model, twin, opt, topt)


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_scheduler_matches_pytorch_over_200_steps(name, optimizer) -> None:
    cls, kwargs = SCHEDULERS[name]
    model, twin = _models()
    opt_kwargs = dict(lr=0.05, momentum=0.9) if optimizer == "SGD" else dict(lr=0.01)
    opt = getattr(gn.optim, optimizer)(model.parameters(), **opt_kwargs)
    topt = getattr(torch.optim, optimizer)(twin.parameters(), **opt_kwargs)
    sched = getattr(gn.optim.lr_scheduler, cls)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, cls)(topt, **kwargs)
    _train(model, twin, opt, topt, sched, tsched)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)


def test_reduce_lr_on_plateau_matches_pytorch() -> None:
    model, twin = _models()
    opt = gn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(twin.parameters(), lr=0.05, momentum=0.9)
    kwargs = dict(factor=0.5, patience=3, cooldown=2, min_lr=0.001)
    sched = gn.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    _train(model, twin, opt, topt, sched, tsched, plateau=True)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
    assert sched.get_last_lr()[0] < 0.05  # the schedule really did reduce


def test_two_param_groups_match_pytorch() -> None:
    model, twin = _models()
    groups = lambda m: [  # noqa: E731
        {"params": list(m[0].parameters()), "lr": 0.1},
        {"params": list(m[2].parameters()) + list(m[4].parameters())},
    ]
    opt = gn.optim.SGD(groups(model), lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(groups(twin), lr=0.01, momentum=0.9)
    _train(model, twin, opt, topt)


def test_clip_grad_norm_matches_pytorch() -> None:
    model, twin = _models()
    x, y = _data()
    for m, lib in ((model, gn), (twin, torch)):
        out = m(lib.tensor(x[0])) if lib is gn else m(torch.from_numpy(x[0]))
        target = gn.tensor(y[0]) if lib is gn else torch.from_numpy(y[0])
        lib.nn.functional.cross_entropy(out, target).backward()
    for norm_type in (2.0, 1.0, float("inf")):
        ours = gn.nn.utils.clip_grad_norm_(model.parameters(), 0.05, norm_type=norm_type)
        theirs = torch.nn.utils.clip_grad_norm_(twin.parameters(), 0.05, norm_type=norm_type)
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-10)
    tp = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad.data, tp[name].grad.numpy(), rtol=1e-10)


# One configuration per optimizer class, for the tests that need not repeat every option.
EACH_CLASS = [
    "SGD momentum",
    "Adam amsgrad",
    "AdamW",
    "RMSprop centered momentum",
    "Adagrad lr_decay weight_decay",
    "NAdam decoupled_weight_decay",
    "RAdam weight_decay",
    "Adamax weight_decay",
]


@pytest.mark.parametrize("name", EACH_CLASS)
def test_a_group_added_during_training_matches_pytorch(name, torch_float64_scalars) -> None:
    # The last layer joins the optimizer after 20 steps, with its own lr; its state is made
    # on its first step. Until then it is not trained (its gradient is cleared each step).
    cls, kwargs = OPTIMIZERS[name]
    model, twin = _models()
    x, y = _data()
    opt = getattr(gn.optim, cls)(
        list(model[0].parameters()) + list(model[2].parameters()), **kwargs
    )
    topt = getattr(torch.optim, cls)(
        list(twin[0].parameters()) + list(twin[2].parameters()), **kwargs
    )
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step in range(60):
        if step == 20:
            opt.add_param_group({"params": model[4].parameters(), "lr": 0.003})
            topt.add_param_group({"params": twin[4].parameters(), "lr": 0.003})
        model.zero_grad()
        twin.zero_grad()
        loss = gn.nn.functional.cross_entropy(model(gn.tensor(x[step])), gn.tensor(y[step]))
        (loss * sign).backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(
            twin(torch.from_numpy(x[step])), torch.from_numpy(y[step])
        )
        (tloss * sign).backward()
        topt.step()
    theirs = dict(twin.named_parameters())
    for key, p in model.named_parameters():
        np.testing.assert_allclose(p.data, theirs[key].detach().numpy(), rtol=1e-9, atol=1e-9)
    assert not np.allclose(model[4].weight.data, _models()[0][4].weight.data)  # it did train


@pytest.mark.parametrize(
    "name",
    [
        "NAdam betas eps momentum_decay",
        "NAdam decoupled_weight_decay",
        "RAdam decoupled_weight_decay",
        "RAdam betas eps",
        "Adamax weight_decay",
        "Adagrad lr_decay weight_decay",
    ],
)
def test_state_dict_round_trip_resumes_as_pytorch_runs_on(name, torch_float64_scalars) -> None:
    # glassnet stops after 100 steps and a fresh optimizer loads its state dict; PyTorch runs
    # the 200 steps straight through.
    cls, kwargs = OPTIMIZERS[name]
    model, twin = _models()
    opt = getattr(gn.optim, cls)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, cls)(twin.parameters(), **kwargs)
    x, y = _data()
    for step in range(200):
        if step == 100:
            saved = opt.state_dict()
            opt = getattr(gn.optim, cls)(model.parameters(), lr=1.0)
            opt.load_state_dict(saved)
        for m, o, lib, inputs in ((model, opt, gn, gn.tensor), (twin, topt, torch, torch.tensor)):
            o.zero_grad()
            lib.nn.functional.cross_entropy(m(inputs(x[step])), inputs(y[step])).backward()
            o.step()
    theirs = dict(twin.named_parameters())
    for key, p in model.named_parameters():
        np.testing.assert_allclose(p.data, theirs[key].detach().numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "cls, kwargs, message",
    [
        ("NAdam", dict(momentum_decay=-1.0), r"NAdam: momentum_decay must be non-negative"),
        ("NAdam", dict(betas=(0.9, 1.0)), r"NAdam: betas must be in \[0, 1\)"),
        ("RAdam", dict(eps=-1e-8), r"RAdam: eps must be non-negative"),
        ("RAdam", dict(lr=-0.1), r"RAdam: lr must be non-negative"),
        ("Adamax", dict(weight_decay=-0.1), r"Adamax: weight_decay must be non-negative"),
        ("Adamax", dict(betas=(-0.1, 0.9)), r"Adamax: betas must be in \[0, 1\)"),
    ],
)
def test_new_optimizers_check_their_arguments_as_pytorch(cls, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        getattr(gn.optim, cls)(gn.nn.Linear(2, 2).parameters(), **kwargs)
    with pytest.raises(ValueError):
        getattr(torch.optim, cls)(torch.nn.Linear(2, 2).parameters(), **kwargs)


def test_new_optimizers_have_pytorchs_defaults() -> None:
    for name in ("NAdam", "RAdam", "Adamax"):
        ours = getattr(gn.optim, name)(gn.nn.Linear(2, 2).parameters()).defaults
        theirs = getattr(torch.optim, name)(torch.nn.Linear(2, 2).parameters()).defaults
        assert ours == {k: theirs[k] for k in ours}, name
