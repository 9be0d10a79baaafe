"""Forward pre-hooks and full backward hooks, against PyTorch's on the same Sequential."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.torch_twin import copy_weights_to_torch

torch = pytest.importorskip("torch")


def _pair():
    gn.manual_seed(0)
    ours = gn.nn.Sequential(gn.nn.Linear(3, 4), gn.nn.Tanh(), gn.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    copy_weights_to_torch(ours, theirs)
    return ours, theirs


def _x(requires_grad: bool):
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    return gn.tensor(x, requires_grad=requires_grad), torch.tensor(x, requires_grad=requires_grad)


def _np(values) -> list:
    return [
        None if v is None else np.asarray(v.detach().numpy() if hasattr(v, "detach") else v.data)
        for v in values
    ]


def _close(ours, theirs) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(_np(ours), _np(theirs)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_forward_pre_hook_sees_and_replaces_the_arguments_as_in_pytorch() -> None:
    ours, theirs = _pair()
    seen = {"ours": [], "theirs": []}

    def make(tag, lib):
        def hook(module, args):
            seen[tag].append((type(module).__name__, len(args), tuple(args[0].shape)))
            return args[0] * 2  # one value, not a tuple: it becomes the only argument

        return hook

    handles = [
        ours[2].register_forward_pre_hook(make("ours", gn)),
        theirs[2].register_forward_pre_hook(make("theirs", torch)),
    ]
    (x, tx) = _x(False)
    np.testing.assert_allclose(ours(x).numpy(), theirs(tx).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert seen["ours"] == seen["theirs"] == [("Linear", 1, (5, 4))]
    for h in handles:
        h.remove()
    np.testing.assert_allclose(ours(x).numpy(), theirs(tx).detach().numpy(), rtol=1e-5, atol=1e-6)
    assert len(seen["ours"]) == len(seen["theirs"]) == 1


def _record_backward(model, log):
    handles = []
    for name, module in model.named_modules():

        def hook(module, grad_input, grad_output, name=name):
            log.append((name, grad_input, grad_output))

        handles.append(module.register_full_backward_hook(hook))
    return handles


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # PyTorch's note on False
@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_fire_in_pytorchs_order_with_its_gradients(input_requires_grad):
    ours, theirs = _pair()
    log_ours, log_theirs = [], []
    handles = _record_backward(ours, log_ours) + _record_backward(theirs, log_theirs)
    x, tx = _x(input_requires_grad)
    v = np.random.default_rng(2).standard_normal((5, 2)).astype(np.float32)
    ours(x).backward(gn.tensor(v))
    theirs(tx).backward(torch.from_numpy(v))
    assert [entry[0] for entry in log_ours] == [entry[0] for entry in log_theirs]
    for (_, gi, go), (_, tgi, tgo) in zip(log_ours, log_theirs):
        _close(gi, tgi)
        _close(go, tgo)
    for h in handles:
        h.remove()
    log_ours.clear()
    ours(x).sum().backward()
    assert log_ours == []


def test_a_backward_hook_that_returns_grad_input_changes_what_flows_below() -> None:
    ours, theirs = _pair()
    for model in (ours, theirs):
        model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,))
    x, tx = _x(True)
    v = np.random.default_rng(3).standard_normal((5, 2)).astype(np.float32)
    ours(x).backward(gn.tensor(v))
    theirs(tx).backward(torch.from_numpy(v))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)
    # scaled by 3 below the Tanh only: 0.weight's gradient is three times the plain one
    plain, _ = _pair()
    plain(gn.tensor(x.numpy(), requires_grad=True)).backward(gn.tensor(v))
    np.testing.assert_allclose(
        ours[0].weight.grad.numpy(), 3 * plain[0].weight.grad.numpy(), rtol=1e-5
    )
    np.testing.assert_allclose(ours[2].weight.grad.numpy(), plain[2].weight.grad.numpy(), rtol=1e-5)


def test_backward_hook_errors_say_what_was_expected() -> None:
    ours, _ = _pair()
    ours[1].register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    x, _ = _x(True)
    with pytest.raises(RuntimeError, match=r"Tanh returned 2 gradient\(s\), expected 1"):
        ours(x).sum().backward()
    first, _ = _pair()
    first[0].register_full_backward_hook(lambda m, gi, go: (go[0],))
    with pytest.raises(RuntimeError, match="no input of this call requires grad"):
        first(_x(False)[0]).sum().backward()


def test_no_backward_hook_work_without_recording() -> None:
    ours, _ = _pair()
    calls = []
    ours[0].register_full_backward_hook(lambda m, gi, go: calls.append(1))
    with gn.no_grad():
        out = ours(_x(True)[0])
    assert out.grad_fn is None and calls == []


def test_backward_hook_of_a_module_with_several_inputs_gets_one_entry_per_argument() -> None:
    def make(base):
        class Product(base):
            def forward(self, a, b, scale):
                return a * b * scale, a + b

        return Product()

    logs = {"ours": [], "theirs": []}
    results = {}
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3, 4)).astype(np.float32)
    for tag, lib, module in (
        ("ours", gn, make(gn.nn.Module)),
        ("theirs", torch, make(torch.nn.Module)),
    ):

        def hook(m, gi, go, tag=tag):
            logs[tag].append((gi, go))
            return (gi[0] * 2, None, None)

        module.register_full_backward_hook(hook)
        ta, tb = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=False)
        product, total = module(ta, tb, 0.5)
        (product.sum() + (total * total).sum()).backward()
        results[tag] = ta.grad
    ((gi, go),), ((tgi, tgo),) = logs["ours"], logs["theirs"]
    _close(gi, tgi)
    _close(go, tgo)
    assert not gi[1].numpy().any() and gi[2] is None and len(go) == 2
    _close([results["ours"]], [results["theirs"]])
