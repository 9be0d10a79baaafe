"""The workloads, one class per framework, all on the same model, data and initial weights.

A 784-512-256-10 ReLU MLP in float32 trained with cross-entropy and SGD (momentum 0.9) or
Adam, or run forward only. Each workload's ``run(n)`` performs n steps and returns the
seconds they took; the first calls warm up caches and allocators.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

SIZES = (784, 512, 256, 10)


def initial_weights(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch-style U(-1/sqrt(in), 1/sqrt(in)) weights and biases, float32."""
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in itertools.pairwise(SIZES):
        bound = 1 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32)
        b = rng.uniform(-bound, bound, n_out).astype(np.float32)
        out.append((w, b))
    return out


def batches(batch: int, count: int = 16, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, batch, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], (count, batch))
    return x, y


class Workload:
    """Base: ``step(i)`` does one step on batch i; ``run(n)`` times n steps."""

    def __init__(self, task: str, batch: int, count: int = 16) -> None:
        self.task, self.batch = task, batch
        self.x, self.y = batches(batch, count)

    def run(self, n: int) -> float:
        count = len(self.x)
        started = time.perf_counter()
        for i in range(n):
            self.step(i % count)
        return time.perf_counter() - started


class Glassnet(Workload):
    def __init__(self, task: str, batch: int, count: int = 16) -> None:
        super().__init__(task, batch, count)
        import glassnet as gn

        nn = gn.nn
        self.gn = gn
        self.model = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
        )
        for layer, (w, b) in zip(self.model[::2], initial_weights()):
            layer.weight.data[...] = w
            layer.bias.data[...] = b
        if task == "train-adam":
            self.optimizer = gn.optim.Adam(self.model.parameters(), lr=1e-3)
        else:
            self.optimizer = gn.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = nn.CrossEntropyLoss()
        self.xs = [gn.tensor(x) for x in self.x]
        self.ys = [gn.tensor(y) for y in self.y]
        if task == "infer":
            self.model.eval()

    def step(self, i: int) -> None:
        if self.task == "infer":
            with self.gn.no_grad():
                self.model(self.xs[i])
            return
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.xs[i]), self.ys[i])
        loss.backward()
        self.optimizer.step()


class Torch(Workload):
    def __init__(self, task: str, batch: int, count: int = 16) -> None:
        super().__init__(task, batch, count)
        import torch

        nn = torch.nn
        self.torch = torch
        self.model = nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
        )
        with torch.no_grad():
            for layer, (w, b) in zip(self.model[::2], initial_weights()):
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.copy_(torch.from_numpy(b))
        if task == "train-adam":
            self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        else:
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = nn.CrossEntropyLoss()
        self.xs = torch.from_numpy(self.x)
        self.ys = torch.from_numpy(self.y)
        if task == "infer":
            self.model.eval()

    def step(self, i: int) -> None:
        if self.task == "infer":
            with self.torch.no_grad():
                self.model(self.xs[i])
            return
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.xs[i]), self.ys[i])
        loss.backward()
        self.optimizer.step()


class NumpyFused(Workload):
    """What NumPy can do when a person writes the whole step by hand: in-place updates,
    no graph, no checks, the softmax and cross-entropy gradient fused."""

    def __init__(self, task: str, batch: int, count: int = 16) -> None:
        super().__init__(task, batch, count)
        if task == "train-adam":
            raise ValueError("the hand-fused NumPy loop is written for SGD only")
        self.w = [w.copy() for w, _ in initial_weights()]
        self.b = [b.copy() for _, b in initial_weights()]
        self.vw = [np.zeros_like(w) for w in self.w]
        self.vb = [np.zeros_like(b) for b in self.b]
        self.rows = np.arange(batch)
        self.lr, self.momentum = np.float32(0.01), np.float32(0.9)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        w, b = self.w, self.b
        h1 = x @ w[0].T
        h1 += b[0]
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w[1].T
        h2 += b[1]
        np.maximum(h2, 0, out=h2)
        z = h2 @ w[2].T
        z += b[2]
        return h1, h2, z

    def step(self, i: int) -> None:
        x, y = self.x[i], self.y[i]
        if self.task == "infer":
            self.forward(x)
            return
        h1, h2, z = self.forward(x)
        z -= z.max(axis=1, keepdims=True)  # softmax, then (p - onehot) / N
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        z[self.rows, y] -= 1
        z /= self.batch
        grads = [(z.T @ h2, z.sum(axis=0))]
        d = z @ self.w[2]
        d *= h2 > 0
        grads.append((d.T @ h1, d.sum(axis=0)))
        d = d @ self.w[1]
        d *= h1 > 0
        grads.append((d.T @ x, d.sum(axis=0)))
        for layer, (gw, gb) in zip((2, 1, 0), grads):
            for p, v, g in (
                (self.w[layer], self.vw[layer], gw),
                (self.b[layer], self.vb[layer], gb),
            ):
                v *= self.momentum
                v += g
                np.multiply(v, self.lr, out=g)  # g is spent: reuse its memory for lr * v
                p -= g


class Sklearn(Workload):
    """scikit-learn's MLPClassifier: ``run(n)`` is one epoch of ``fit`` (max_iter=1) over
    the n batches, with its own mini-batching of the same size."""

    def __init__(self, task: str, batch: int, count: int = 16) -> None:
        super().__init__(task, batch, count)
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        warnings.simplefilter("ignore", ConvergenceWarning)  # one epoch is the point
        self.model = MLPClassifier(
            hidden_layer_sizes=(512, 256),
            solver="sgd",
            learning_rate_init=0.01,
            momentum=0.9,
            nesterovs_momentum=False,
            alpha=0.0,
            batch_size=batch,
            shuffle=False,
            max_iter=1,
            warm_start=True,
            tol=0.0,
            n_iter_no_change=10**9,
        )
        self.x_all = self.x.reshape(-1, SIZES[0])
        self.y_all = self.y.reshape(-1)

    def run(self, n: int) -> float:
        samples = n * self.batch
        if samples > len(self.y_all):
            raise ValueError(f"the scikit-learn workload holds {len(self.y_all)} samples")
        started = time.perf_counter()
        self.model.fit(self.x_all[:samples], self.y_all[:samples])
        return time.perf_counter() - started


FRAMEWORKS = {"glassnet": Glassnet, "torch": Torch, "numpy": NumpyFused, "sklearn": Sklearn}
