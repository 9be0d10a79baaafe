"""Softmax inside a network (an attention-like mixing layer), not only at the output.

The gradient flows through softmax's Jacobian diag(s) - s s^T like through any layer;
gradcheck confirms it, and the network trains.
"""

import numpy as np

import glassnet as gn


class SoftmaxMixer(gn.nn.Module):
    """h = softmax(x W_a) @ V: each sample mixes a set of learned vectors."""

    def __init__(self, d_in, n_slots, d_out):
        super().__init__()
        self.score = gn.nn.Linear(d_in, n_slots)
        self.values = gn.nn.Parameter(
            np.random.default_rng(0).standard_normal((n_slots, d_out)).astype(np.float32)
        )

    def forward(self, x):
        weights = gn.softmax(self.score(x), dim=1)  # a hidden softmax
        return weights @ self.values


x = gn.tensor(np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)
scores = gn.tensor(np.random.default_rng(2).standard_normal((4, 5)), requires_grad=True)
values = gn.tensor(np.random.default_rng(3).standard_normal((5, 2)), requires_grad=True)
assert gn.gradcheck(lambda x, s, v: gn.softmax(x @ s, dim=1) @ v, (x, scores, values))
print("gradcheck through a hidden softmax: passed")

splits = gn.data.make_spirals(150, 3, generator=np.random.default_rng(0))
gn.manual_seed(0)
model = gn.nn.Sequential(
    gn.nn.Linear(2, 32), gn.nn.Tanh(), SoftmaxMixer(32, 16, 32), gn.nn.Tanh(), gn.nn.Linear(32, 3)
)
optimizer = gn.optim.Adam(model.parameters(), lr=0.01)
gn.fit(
    model,
    gn.nn.CrossEntropyLoss(),
    optimizer,
    gn.data.DataLoader(splits.train, 32, shuffle=True),
    80,
    progress=False,
)
accuracy = gn.evaluate(model, splits.test)["accuracy"]
print(f"spirals with a softmax layer inside: test accuracy {accuracy:.1%}")
assert accuracy > 0.9
