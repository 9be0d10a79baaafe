"""Train on three interleaved spirals and draw the decision regions to a PNG.

python examples/03_spirals_decision_boundary.py [out.png]
"""

import sys

import numpy as np

import glassnet as gn

out = sys.argv[1] if len(sys.argv) > 1 else "spirals.png"
splits = gn.data.make_spirals(200, 3, noise=0.2, generator=np.random.default_rng(0))
gn.manual_seed(0)
model = gn.train.mlp(2, [64, 64], 3)
optimizer = gn.optim.Adam(model.parameters(), lr=0.01)
loader = gn.data.DataLoader(splits.train, batch_size=32, shuffle=True)
gn.fit(model, gn.nn.CrossEntropyLoss(), optimizer, loader, 60, progress=False)
accuracy = gn.evaluate(model, splits.test)["accuracy"]
print(f"test accuracy {accuracy:.1%}")

# the class the model predicts at every point of a grid
xx, yy = np.meshgrid(np.linspace(-1.2, 1.2, 300), np.linspace(-1.2, 1.2, 300))
grid = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
regions = gn.predict(model, grid).numpy().argmax(axis=1).reshape(xx.shape)

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed (pip install 'glassnet[plot]'); no picture drawn")
else:
    colors = ["tab:blue", "tab:orange", "tab:green"]  # class k: region and points alike
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=colors, alpha=0.3)
    x, y = splits.x_train, splits.y_train
    ax.scatter(x[:, 0], x[:, 1], c=[colors[k] for k in y], s=8)
    ax.set_title(f"decision regions, test accuracy {accuracy:.1%}")
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")
assert accuracy > 0.95
