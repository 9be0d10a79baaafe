"""Softmax at the output and softmax in a hidden layer: the same backward, a different g.

Softmax's backward is always grad_z = s * (g - <g, s>), for whatever g = dL/ds arrives.
At the output, cross-entropy sends g = -y/p: then s * g = -y and <g, s> = -1, and the
product collapses to p - y. In a hidden layer g comes from the layers above, and p - y is
wrong. This script prints both cases side by side, checks them against finite
differences and gradcheck, then trains a network with a softmax layer inside.
"""

import numpy as np

import glassnet as gn

F = gn.nn.functional

# 1. The same scores and label, softmax at the output and in a hidden layer
z = np.array([2.0, 1.0, 0.1])
y = np.array([1.0, 0.0, 0.0])  # class 0, one-hot
s = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
V = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0], [2.0, 0.5, 1.0]])  # the layer above


def at_output(z):  # L = cross-entropy of softmax(z)
    return F.cross_entropy(z.reshape(1, 3), gn.tensor([0]))


def in_hidden_layer(z):  # L = cross-entropy of softmax(z) @ V
    return F.cross_entropy((gn.softmax(z, dim=0) @ gn.tensor(V)).reshape(1, 3), gn.tensor([0]))


def numeric(loss, e=1e-6):  # central differences, the referee
    steps = [
        (loss(gn.tensor(z + e * d)).item(), loss(gn.tensor(z - e * d)).item()) for d in np.eye(3)
    ]
    return np.array([(up - down) / (2 * e) for up, down in steps])


logits = s @ V
q = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
cases = {"softmax at the output": 0.0 - y / s, "softmax in a hidden layer": V @ (q - y)}
losses = {"softmax at the output": at_output, "softmax in a hidden layer": in_hidden_layer}
table = {}
for case, g in cases.items():
    table[case] = {
        "g = dL/ds": g,
        "<g, s>": g @ s,
        "s * (g - <g, s>)": s * (g - g @ s),
        "p - y": s - y,
        "finite differences": numeric(losses[case]),
    }
print(f"{'':20}" + "".join(f"{case:>30}" for case in table))
for row in table["softmax at the output"]:
    cells = [np.array2string(np.round(table[case][row], 3) + 0.0) for case in table]
    print(f"{row:20}" + "".join(f"{cell:>30}" for cell in cells))

out, hidden = table.values()
assert np.isclose(out["<g, s>"], -1.0) and np.allclose(out["s * (g - <g, s>)"], out["p - y"])
for case in (out, hidden):  # the full product is right in both places
    assert np.allclose(case["s * (g - <g, s>)"], case["finite differences"], atol=1e-6)
assert np.allclose(out["p - y"], out["finite differences"], atol=1e-6)
assert not np.allclose(hidden["p - y"], hidden["finite differences"], atol=1e-2)
print("p - y is right at the output and wrong in a hidden layer; s * (g - <g, s>) is right in both")


# 2. gradcheck: softmax with the p - y shortcut as its backward, inside a network
class SoftmaxWithShortcut(gn.Function):
    """softmax forward; backward = s - onehot(label), the output layer's shortcut."""

    @staticmethod
    def forward(ctx, z, label):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        s = e / e.sum(axis=1, keepdims=True)
        ctx.save_for_backward(s)
        ctx.label = label
        return s

    @staticmethod
    def backward(ctx, grad_s):
        (s,) = ctx.saved_tensors
        return s - np.eye(s.shape[1])[ctx.label], None  # ignores grad_s: the bug


rng = np.random.default_rng(0)
x = gn.tensor(rng.standard_normal((4, 2)))
A = gn.tensor(rng.standard_normal((2, 3)), requires_grad=True)
W = gn.tensor(rng.standard_normal((3, 3)), requires_grad=True)
labels = np.array([0, 2, 1, 0])
assert gn.gradcheck(
    lambda A, W: F.cross_entropy(gn.softmax(x @ A, dim=1) @ W, gn.tensor(labels)), (A, W)
)
try:
    gn.gradcheck(
        lambda A, W: F.cross_entropy(
            SoftmaxWithShortcut.apply(x @ A, labels) @ W, gn.tensor(labels)
        ),
        (A, W),
    )
except gn.GradcheckError as error:
    print(f"gradcheck refuses the shortcut: {error}")
else:
    raise AssertionError("gradcheck missed the p - y shortcut in a hidden layer")


# 3. A network with a softmax layer inside trains
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
