"""What `glassnet train` does, written in PyTorch: the same model, data, split, scaling,
optimizer, schedule, loss and epochs. Used by benchmarks.run to compare time and memory."""

from __future__ import annotations

import numpy as np
import torch

import glassnet as gn


def main() -> None:
    torch.manual_seed(0)
    splits = gn.data.load_digits()  # the same arrays (glassnet only loads them)
    scaler = gn.data.Standardize().fit(splits.x_train)
    x_train = torch.from_numpy(scaler.transform(splits.x_train))
    x_test = torch.from_numpy(scaler.transform(splits.x_test))
    y_train, y_test = torch.from_numpy(splits.y_train), torch.from_numpy(splits.y_test)
    nn = torch.nn
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, 256),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Linear(128, 10),
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=40)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x_train, y_train), batch_size=32, shuffle=True
    )
    for _ in range(40):
        model.train()
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        scheduler.step()
        model.eval()
        with torch.no_grad():
            loss_fn(model(x_test), y_test)  # the per-epoch test score glassnet train prints
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).double().mean().item()
    print(f"test accuracy {accuracy:.4f} ({int(np.round(accuracy * len(y_test)))}/{len(y_test)})")


if __name__ == "__main__":
    main()
