"""In-place changes are caught: every in-place change bumps the tensor's version, and a
backward that needs values changed since its forward raises, as PyTorch does, instead of
returning a silently wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

MODIFIED = "modified by an in-?place operation"


def _leaf(values=(1.0, 2.0, 3.0)) -> gn.Tensor:
    return gn.tensor(list(values), requires_grad=True)


IN_PLACE = {
    "+=": lambda t: t.__iadd__(1.0),
    "-=": lambda t: t.__isub__(1.0),
    "*=": lambda t: t.__imul__(2.0),
    "/=": lambda t: t.__itruediv__(2.0),
    "add_": lambda t: t.add_(1.0, alpha=2.0),
    "sub_": lambda t: t.sub_(1.0),
    "mul_": lambda t: t.mul_(2.0),
    "div_": lambda t: t.div_(2.0),
    "clamp_": lambda t: t.clamp_(min=1.5),
    "fill_": lambda t: t.fill_(0.5),
    "zero_": lambda t: t.zero_(),
    "copy_": lambda t: t.copy_(gn.tensor([7.0, 8.0, 9.0])),
    "setitem": lambda t: t.__setitem__(0, 5.0),
}


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_every_in_place_change_bumps_the_version(name: str) -> None:
    t = _leaf()
    before = t._version
    with gn.no_grad():
        IN_PLACE[name](t)
    assert t._version == before + 1


@pytest.mark.parametrize("name", list(IN_PLACE))
def test_backward_after_an_in_place_change_of_a_saved_input_raises(name: str) -> None:
    x, w = _leaf(), _leaf((4.0, 5.0, 6.0))
    y = (x * w).sum()
    with gn.no_grad():
        IN_PLACE[name](w)
    with pytest.raises(RuntimeError, match=MODIFIED) as info:
        y.backward()
    assert "MulBackward" in str(info.value) and "(3,)" in str(info.value)
    assert x.grad is None  # nothing was half-written


def test_the_issue_example_raises_like_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for lib, make in ((gn, gn.tensor), (torch, torch.tensor)):
        x = make([1.0, 2.0], requires_grad=True)
        w = make([3.0, 4.0], requires_grad=True)
        y = (x * w).sum()
        with lib.no_grad():
            w += 1
        with pytest.raises(RuntimeError, match=MODIFIED):
            y.backward()


def test_a_change_to_a_saved_output_is_caught() -> None:
    x = _leaf()
    y = x.exp()  # Exp saves its output
    out = y.sum()
    with gn.no_grad():
        y.detach().mul_(2.0)  # detach shares the values, so it shares the version
    with pytest.raises(RuntimeError, match="ExpBackward"):
        out.backward()


def test_an_optimizer_step_between_forward_and_backward_is_caught_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for lib in (gn, torch):
        # the second layer's weight is saved for the gradient of its input, so a step
        # before backward changes a value backward needs (the first layer's is not saved)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        opt = lib.optim.SGD(model.parameters(), lr=0.1)
        loss = model(lib.ones(5, 3)).sum()
        loss.backward(retain_graph=True)
        opt.step()
        with pytest.raises(RuntimeError, match=MODIFIED):
            loss.backward()


def test_a_change_to_a_value_backward_does_not_need_is_fine() -> None:
    a, b = _leaf(), _leaf()
    y = (a + b).sum()  # Add saves nothing: its gradient does not depend on the values
    with gn.no_grad():
        b += 10.0
    y.backward()
    np.testing.assert_array_equal(a.grad.data, [1.0, 1.0, 1.0])


def test_in_place_on_a_tensor_that_requires_grad_needs_no_grad() -> None:
    x = _leaf()
    for name in ("add_", "mul_", "fill_", "clamp_"):
        with pytest.raises(RuntimeError, match=rf"in-place operation \({name}\)"):
            IN_PLACE[name](x)
    assert x._version == 0


def test_in_place_on_a_recorded_result_says_to_write_it_out_of_place() -> None:
    x = _leaf()
    h = x * 2
    with pytest.raises(RuntimeError, match=r"h = h \* 3 instead of h \*= 3"):
        h *= 3
    h = h * 3  # the advice, which keeps the gradient right
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0, 6.0])


def test_create_graph_is_refused_with_the_reason() -> None:
    x = _leaf()
    with pytest.raises(NotImplementedError, match="no higher-order gradients"):
        (x * x).sum().backward(create_graph=True)
    with pytest.raises(NotImplementedError, match="no higher-order gradients"):
        gn.autograd.grad((x * x).sum(), x, create_graph=True)


def test_a_float_result_into_an_int_tensor_is_refused_as_in_pytorch() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        t = torch.tensor([1, 2])
        t += 0.5
    x = gn.tensor([1, 2])
    with pytest.raises(TypeError, match=r"\+=: the result is floating-point .* int64 tensor"):
        x += 0.5
    assert x.tolist() == [1, 2] and x._version == 0
