"""The promise of the API: the same model, loss and training code, run once with
``lib = torch`` and once with ``lib = glassnet``, gives the same training curve."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from tests.torch_twin import copy_weights_to_torch

torch = pytest.importorskip("torch")

TRAINING_CODE = """
model = lib.nn.Sequential(
    lib.nn.Linear(4, 32), lib.nn.ReLU(), lib.nn.Dropout(0.0), lib.nn.Linear(32, 32),
    lib.nn.Tanh(), lib.nn.Linear(32, 3),
).double()
loss_fn = lib.nn.CrossEntropyLoss(label_smoothing=0.05)
optimizer = lib.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01)
scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=60)
"""

LOOP_CODE = """
losses = []
model.train()
for epoch in range(60):
    optimizer.zero_grad()
    loss = loss_fn(model(lib.tensor(X)), lib.tensor(y))
    loss.backward()
    lib.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    scheduler.step()
    losses.append(loss.item())
model.eval()
with lib.no_grad():
    accuracy = (model(lib.tensor(X)).argmax(dim=1) == lib.tensor(y)).double().mean().item()
"""


def test_same_code_same_training_curve() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5).astype(np.int64)
    runs = {}
    for lib in (gn, torch):
        scope = {"lib": lib, "X": X, "y": y}
        exec(TRAINING_CODE, scope)
        runs[lib.__name__] = scope
    copy_weights_to_torch(runs["glassnet"]["model"], runs["torch"]["model"])
    for scope in runs.values():
        exec(LOOP_CODE, scope)
    ours, theirs = runs["glassnet"], runs["torch"]
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-9)
    assert ours["losses"][-1] < 0.5 * ours["losses"][0]  # it did learn
    assert ours["accuracy"] == theirs["accuracy"]
