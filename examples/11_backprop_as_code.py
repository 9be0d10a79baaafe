"""Your network's backprop as code: gn.compile writes the training step of a digits MLP
as straight-line NumPy, prints the backward half of it, then trains with it and checks
that it ends on the same weights as the ordinary eager loop."""

import numpy as np

import glassnet as gn

digits = gn.data.load_digits()
x = np.asarray(digits.x_train, dtype=np.float32).reshape(len(digits.x_train), -1)
y = digits.y_train


def model_and_optimizer():
    gn.manual_seed(0)
    model = gn.nn.Sequential(gn.nn.Linear(64, 32), gn.nn.ReLU(), gn.nn.Linear(32, 10))
    return model, gn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def batches(epochs):
    for _ in range(epochs):
        for i in range(0, len(x) - 31, 32):
            yield x[i : i + 32], y[i : i + 32]


# the compiled step: the first call traces it, the rest run the code it wrote
model, optimizer = model_and_optimizer()
step = gn.compile(model, gn.nn.CrossEntropyLoss(), optimizer)
for xb, yb in batches(3):
    loss = step(xb, yb)
source = step.source
print(source[source.index("# ---- backward") :])  # p - onehot(y), then each layer's rules

# the same training, eagerly
eager, eager_optimizer = model_and_optimizer()
for xb, yb in batches(3):
    eager_optimizer.zero_grad()
    gn.nn.functional.cross_entropy(eager(gn.tensor(xb)), gn.tensor(yb)).backward()
    eager_optimizer.step()

largest = max(
    float(np.abs(a.data - b.data).max() / np.abs(b.data).max())
    for a, b in zip(model.parameters(), eager.parameters())
)
accuracy = gn.evaluate(model, (x, y))["accuracy"]
print(f"after 3 epochs: loss {loss.item():.3f}, train accuracy {accuracy:.1%}")
print(f"largest difference from the eager loop's weights: {largest:.1e} (float32 rounding)")
assert largest < 1e-4 and accuracy > 0.9
