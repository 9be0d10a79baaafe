"""gn.train.models.gru: a GRU sequence classifier that trains (well above chance on MNIST-1D
in a few seconds), with the shapes, keys and errors users see."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn


def test_gru_builder_learns_mnist1d() -> None:
    s = gn.data.load_mnist1d()
    rng = np.random.default_rng(0)
    model = gn.train.models.gru(
        1, 16, 10, bidirectional=True, head="all", seq_len=40, generator=rng
    )
    loader = gn.data.DataLoader(
        gn.data.TensorDataset(gn.tensor(s.x_train), gn.tensor(s.y_train)),
        batch_size=100,
        shuffle=True,
        generator=rng,
    )
    opt = gn.optim.Adam(model.parameters(), lr=1e-2)
    gn.train.fit(model, gn.nn.CrossEntropyLoss(), opt, loader, epochs=2, progress=False)
    accuracy = gn.train.evaluate(model, (gn.tensor(s.x_test), gn.tensor(s.y_test)))["accuracy"]
    assert accuracy > 0.3  # chance is 0.1; seeds 0-2 give 0.42-0.45


@pytest.mark.parametrize("head, bidirectional, width", [("last", False, 8), ("last", True, 16)])
def test_gru_builder_shapes(head: str, bidirectional: bool, width: int) -> None:
    model = gn.train.models.gru(3, 8, 5, bidirectional=bidirectional, head=head, num_layers=2)
    assert model.head.in_features == width
    assert model(gn.zeros((4, 7, 3))).shape == (4, 5)
    assert "gru.weight_hh_l1" in model.state_dict() and "head.weight" in model.state_dict()


def test_gru_builder_all_needs_seq_len() -> None:
    with pytest.raises(ValueError, match="seq_len"):
        gn.train.models.gru(1, 8, 10, head="all")
