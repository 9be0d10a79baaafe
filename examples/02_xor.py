"""XOR: a linear model cannot learn it, one hidden layer can."""

import numpy as np

import glassnet as gn

splits = gn.data.make_xor(400, noise=0.05, generator=np.random.default_rng(0))


def train(model, epochs=100):
    optimizer = gn.optim.Adam(model.parameters(), lr=0.05)
    loader = gn.data.DataLoader(splits.train, batch_size=64, shuffle=True)
    gn.fit(model, gn.nn.CrossEntropyLoss(), optimizer, loader, epochs, progress=False)
    return gn.evaluate(model, splits.test)["accuracy"]


gn.manual_seed(0)
linear = gn.nn.Linear(2, 2)
hidden = gn.nn.Sequential(gn.nn.Linear(2, 8), gn.nn.Tanh(), gn.nn.Linear(8, 2))
linear_accuracy, hidden_accuracy = train(linear), train(hidden)
print(f"linear model:      test accuracy {linear_accuracy:.1%}  (a line cannot split XOR)")
print(f"one hidden layer:  test accuracy {hidden_accuracy:.1%}")
assert linear_accuracy < 0.75 and hidden_accuracy > 0.95
