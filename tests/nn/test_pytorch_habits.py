"""Module behaviours PyTorch users rely on, side by side with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.nn.Linear(2, 3, bias=False),
        lambda lib: lib.nn.LayerNorm(3, elementwise_affine=False),
        lambda lib: lib.nn.BatchNorm1d(3, affine=False),
    ],
    ids=["Linear", "LayerNorm", "BatchNorm1d"],
)
def test_an_absent_weight_or_bias_is_registered_as_none(make) -> None:
    ours, theirs = make(gn), make(torch)
    assert sorted(ours._parameters) == sorted(theirs._parameters)
    assert [n for n, p in ours._parameters.items() if p is None] == [
        n for n, p in theirs._parameters.items() if p is None
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_train_calls_each_childs_own_train_as_in_pytorch() -> None:
    def build(lib):
        class FrozenNorm(lib.nn.Module):
            """Stays in eval mode whatever its parent asks (a common fine-tuning trick)."""

            def __init__(self) -> None:
                super().__init__()
                self.norm = lib.nn.BatchNorm1d(3)

            def train(self, mode: bool = True):
                super().train(False)
                return self

        return lib.nn.Sequential(lib.nn.Linear(3, 3), FrozenNorm(), lib.nn.Dropout(0.5))

    ours, theirs = build(gn), build(torch)
    ours.eval().train()
    theirs.eval().train()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    assert [m.training for m in ours.modules()] == [True, True, False, False, True]


def test_save_takes_a_module_and_refuses_a_lone_tensor(tmp_path) -> None:
    model = gn.nn.Sequential(gn.nn.Linear(3, 2))
    gn.save(model, tmp_path / "m.safetensors")
    loaded = gn.load(tmp_path / "m.safetensors")
    assert list(loaded) == ["0.weight", "0.bias"]
    np.testing.assert_array_equal(loaded["0.weight"].data, model[0].weight.data)
    with pytest.raises(TypeError, match=r'pass \{"name": tensor\} for one tensor'):
        gn.save(gn.ones(3), tmp_path / "t.safetensors")
    assert not (tmp_path / "t.safetensors").exists()
