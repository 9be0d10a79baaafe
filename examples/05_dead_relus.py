"""The Monitor catches a learning rate that is too high: ReLU units die.

A dead unit outputs 0 for every input, so its gradient is 0 and it never recovers.
"""

import numpy as np

import glassnet as gn

splits = gn.data.make_spirals(200, 3, generator=np.random.default_rng(0))
results = {}
for lr in (0.05, 3.0):
    gn.manual_seed(0)
    model = gn.train.mlp(2, [64, 64], 3)
    monitor = gn.inspect.Monitor(model)
    optimizer = gn.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loader = gn.data.DataLoader(splits.train, batch_size=32, shuffle=True)
    gn.fit(
        model, gn.nn.CrossEntropyLoss(), optimizer, loader, 10, callbacks=[monitor], progress=False
    )
    print(f"--- learning rate {lr} ---")
    print(monitor.report())
    results[lr] = max(stats.get("dead", 0) for stats in monitor.latest().values())

assert results[3.0] > 0.5 > results[0.05]
print(f"\ndead ReLU units: {results[0.05]:.0%} at lr 0.05, {results[3.0]:.0%} at lr 3.0")
