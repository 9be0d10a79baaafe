"""The workloads, one class per framework, all on the same model, data and initial weights.

A model is a ``Model`` in ``MODELS``: its input shape, its number of classes and a builder
pair that makes it from ``glassnet.nn`` and from ``torch.nn``. The MLP (784-512-256-10, ReLU)
is trained with cross-entropy and SGD (momentum 0.9) or Adam, or run forward only; the conv
nets (the MNIST-1D CNN and a LeNet-style Conv2d net) are trained with SGD (momentum 0.9),
the GRU (on sequences of 40) with Adam.
All in float32. Each workload's ``run(n)`` performs n steps and returns the seconds they
took; the first calls warm up caches and allocators.

Adding a workload (as the GRU was) is one ``Model`` entry: a builder for each
framework (one function of ``nn`` serves both when the layers read the same), then a line
in ``benchmarks.run.CONFIGS``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


def initial_state(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, np.ndarray]:
    """PyTorch-style weights for any state_dict layout: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for each weight (fan_in = its size over its first dimension) and for the bias after it,
    drawn in state_dict order, so both frameworks start from the same numbers (for the MLP
    these are exactly ``initial_weights``)."""
    rng = np.random.default_rng(seed)
    state, bound = {}, 1.0
    for name, shape in shapes.items():
        if len(shape) > 1:
            bound = 1 / math.sqrt(math.prod(shape[1:]))
        state[name] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return state


def _mlp(nn: Any) -> Any:
    return nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
    )


def _cnn1d(nn: Any) -> Any:
    """The MNIST-1D paper's small CNN: three Conv1d of 25 channels (lengths 40 -> 19 -> 10
    -> 5), then a linear layer to the 10 classes."""
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(25 * 5, 10),
    )  # fmt: skip


def _lenet(nn: Any) -> Any:
    """LeNet-5 on 28x28 digits: 6 and 16 filters of 5x5, 2x2 max pooling, 120-84-10."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )  # fmt: skip


def _gru(nn: Any) -> Any:
    """A GRU(1 -> 64, batch_first) over sequences of 40 scalars (MNIST-1D's length) and a
    Linear(64, 10) head on its last hidden state."""

    class GRUClassifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = nn.GRU(1, 64, batch_first=True)
            self.head = nn.Linear(64, 10)

        def forward(self, x: Any) -> Any:
            _, h_n = self.gru(x)  # h_n: (layers, N, 64)
            return self.head(h_n[-1])

    return GRUClassifier()


@dataclass(frozen=True)
class Model:
    """A benchmark model: input shape per sample, classes, and how each framework builds it
    (``build_torch`` defaults to ``build``, called with ``torch.nn`` instead of ``glassnet.nn``)."""

    input_shape: tuple[int, ...]
    classes: int
    build: Callable[[Any], Any]
    build_torch: Callable[[Any], Any] | None = None

    def builder(self, framework: str) -> Callable[[Any], Any]:
        return self.build_torch if framework == "torch" and self.build_torch else self.build


MODELS = {
    "mlp": Model((784,), 10, _mlp),
    "cnn1d": Model((1, 40), 10, _cnn1d),
    "lenet": Model((1, 28, 28), 10, _lenet),
    "gru": Model((40, 1), 10, _gru),
}


def batches(
    batch: int, count: int = 16, seed: int = 1, model: str = "mlp"
) -> tuple[np.ndarray, np.ndarray]:
    spec = MODELS[model]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, batch, *spec.input_shape)).astype(np.float32)
    y = rng.integers(0, spec.classes, (count, batch))
    return x, y


class Workload:
    """Base: ``step(i)`` does one step on batch i; ``run(n)`` times n steps."""

    def __init__(self, task: str, batch: int, count: int = 16, model: str = "mlp") -> None:
        self.task, self.batch, self.model_name = task, batch, model
        self.x, self.y = batches(batch, count, model=model)

    def run(self, n: int) -> float:
        count = len(self.x)
        started = time.perf_counter()
        for i in range(n):
            self.step(i % count)
        return time.perf_counter() - started


class Glassnet(Workload):
    def __init__(self, task: str, batch: int, count: int = 16, model: str = "mlp") -> None:
        super().__init__(task, batch, count, model)
        import glassnet as gn

        nn = gn.nn
        self.gn = gn
        self.model = MODELS[model].builder("glassnet")(nn)
        shapes = {k: v.shape for k, v in self.model.state_dict().items()}
        self.model.load_state_dict(initial_state(shapes))
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


class GlassnetCompiled(Glassnet):
    """glassnet with ``gn.compile``: the same model, data, weights and optimizer; each
    training step is the generated straight-line code (the first call traces it)."""

    def __init__(self, task: str, batch: int, count: int = 16, model: str = "mlp") -> None:
        super().__init__(task, batch, count, model)
        if task == "infer":
            self.compiled = self.gn.compile(self.model)  # the forward pass alone
        else:
            self.compiled = self.gn.compile(self.model, self.loss_fn, self.optimizer)

    def step(self, i: int) -> None:
        if self.task == "infer":
            self.compiled(self.x[i])
            return
        self.compiled(self.xs[i], self.ys[i])


class GlassnetExported(Glassnet):
    """The file ``glassnet export --format numpy`` writes (NumPy only), imported and run:
    inference only."""

    def __init__(self, task: str, batch: int, count: int = 16, model: str = "mlp") -> None:
        if task != "infer":
            raise ValueError("the exported file is a forward pass: inference only")
        super().__init__(task, batch, count, model)
        import importlib.util
        import tempfile

        from glassnet.compile import export_numpy

        self.folder = tempfile.mkdtemp()
        path = export_numpy(self.model, MODELS[model].input_shape, self.folder)
        spec = importlib.util.spec_from_file_location("exported_model", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # the file this benchmark has just written
        self.forward = module.load(f"{self.folder}/weights.npz")

    def step(self, i: int) -> None:
        self.forward(self.x[i])


class Torch(Workload):
    def __init__(self, task: str, batch: int, count: int = 16, model: str = "mlp") -> None:
        super().__init__(task, batch, count, model)
        import torch

        nn = torch.nn
        self.torch = torch
        self.model = MODELS[model].builder("torch")(nn)
        shapes = {k: tuple(v.shape) for k, v in self.model.state_dict().items()}
        state = {k: torch.from_numpy(v) for k, v in initial_state(shapes).items()}
        self.model.load_state_dict(state)
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
    """The best step a person can write by hand in NumPy for this MLP, as the reference of
    what is possible: no graph, no checks, every array made once; the softmax and
    cross-entropy gradient fused; the weights kept transposed ((in, out) in memory, so
    the forward reads W^T as stored); each layer updated right after its gradients, with
    the weight gradient's product added straight into the momentum buffer by one BLAS
    ``gemm`` (beta = momentum) and the step by one ``axpy`` (BLAS's vector routines on
    NumPy's own OpenBLAS: ``glassnet/_blas.py``, a thin ctypes wrapper). Inference is the
    plain forward, allocating as NumPy code usually does."""

    def __init__(self, task: str, batch: int, count: int = 16, model: str = "mlp") -> None:
        if model != "mlp":
            raise ValueError("the hand-fused NumPy loop is written for the MLP only")
        super().__init__(task, batch, count)
        if task == "train-adam":
            raise ValueError("the hand-fused NumPy loop is written for SGD only")
        from glassnet import _blas  # also sets glibc's malloc as glassnet's import does

        self.blas = _blas
        self.w = [w.copy() for w, _ in initial_weights()]
        self.b = [b.copy() for _, b in initial_weights()]
        self.wt = [np.ascontiguousarray(w.T) for w in self.w]  # W^T, (in, out)
        self.vt = [np.zeros_like(w) for w in self.wt]  # momentum of W^T
        self.vb = [np.zeros_like(b) for b in self.b]
        self.h = [np.empty((batch, w.shape[1]), np.float32) for w in self.wt]
        self.d = [np.empty((batch, w.shape[0]), np.float32) for w in self.wt]
        self.gb = [np.empty_like(b) for b in self.b]
        self.positive = [np.empty(h.shape, bool) for h in self.h]
        self.rows = np.arange(batch)
        self.lr, self.momentum = 0.01, 0.9

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
        h, a = self.h, x
        for k in range(3):
            np.matmul(a, self.wt[k], out=h[k])
            np.add(h[k], self.b[k], out=h[k])
            if k < 2:
                np.maximum(h[k], 0, out=h[k])
            a = h[k]
        z = h[2]  # softmax, the loss (as every step reports it), then (p - onehot) / N
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        self.loss = -np.log(z[self.rows, y]).mean()
        z[self.rows, y] -= 1
        z *= np.float32(1 / self.batch)
        g = z
        for k in (2, 1, 0):
            inp = h[k - 1] if k else x
            if k:
                np.matmul(g, self.wt[k].T, out=self.d[k])  # grad_x = g W, before W moves
            np.sum(g, axis=0, out=self.gb[k])
            self.blas.gemm(1.0, inp.T, g, self.momentum, self.vt[k])  # v = m v + x^T g
            self.blas.axpy(-self.lr, self.vt[k], self.wt[k])
            self.blas.axpby(1.0, self.gb[k], self.momentum, self.vb[k])
            self.blas.axpy(-self.lr, self.vb[k], self.b[k])
            if k:
                np.greater(h[k - 1], 0, out=self.positive[k - 1])
                np.multiply(self.d[k], self.positive[k - 1], out=self.d[k])
                g = self.d[k]


class NumpyCNN1d(Workload):
    """The MNIST-1D CNN's SGD step written by hand in NumPy, as a reference of what is
    possible: activations kept as (channels, batch, length) so that every convolution is
    one matrix product over the whole batch's columns with no transpose between layers,
    bias and ReLU applied in place, the softmax and cross-entropy gradient fused, the
    momentum update in place. Same weights, data and update as the other frameworks."""

    def __init__(self, task: str, batch: int, count: int = 16, model: str = "cnn1d") -> None:
        if model != "cnn1d" or task != "train-sgd":
            raise ValueError("the hand-written NumPy CNN step is the MNIST-1D CNN with SGD")
        super().__init__(task, batch, count, model)
        from glassnet._allocator import keep_freed_memory

        # the malloc settings glassnet's import makes (without them this step takes ~650
        # page faults at batch 128 in its own process): the comparison is of the step
        keep_freed_memory()
        shapes = {"0.weight": (25, 1, 5), "0.bias": (25,), "2.weight": (25, 25, 3)}
        shapes |= {"2.bias": (25,), "4.weight": (25, 25, 3), "4.bias": (25,)}
        shapes |= {"7.weight": (10, 125), "7.bias": (10,)}
        state = initial_state(shapes)
        self.params = [state[k] for k in shapes]
        self.kernels = [w.shape[2] for w in self.params[0:6:2]]
        self.velocity = [np.zeros_like(p) for p in self.params]
        self.rows = np.arange(batch)
        self.lr, self.momentum = np.float32(0.01), np.float32(0.9)
        # the input as (1, N, 40): channels before the batch from the start
        self.x = np.ascontiguousarray(self.x.transpose(0, 2, 1, 3))

    @staticmethod
    def conv_relu(h: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple:
        """Conv1d(stride 2, padding 1) then ReLU on h (C, N, L): returns (C_out, N, P)."""
        c, n, length = h.shape
        k = w.shape[2]
        xp = np.zeros((c, n, length + 2), dtype=h.dtype)
        xp[:, :, 1:-1] = h
        p = (length + 2 - k) // 2 + 1
        sc, sn, sl = xp.strides
        win = np.lib.stride_tricks.as_strided(xp, (c, k, n, p), (sc, sl, sn, 2 * sl))
        cols = win.reshape(c * k, n * p)  # the copy: X[(c, k), (n, p)]
        z = w.reshape(len(w), -1) @ cols
        z += b[:, None]
        np.maximum(z, 0, out=z)
        return z.reshape(len(w), n, p), cols

    @staticmethod
    def conv_back(dz, cols, w, shape, need_x: bool) -> tuple:
        """dz (C_out, N, P), already through the ReLU: grad_w, grad_b and grad_x (C, N, L)."""
        c_out, n, p = dz.shape
        dz2 = dz.reshape(c_out, -1)
        gw, gb = (dz2 @ cols.T).reshape(w.shape), dz2.sum(axis=1)
        if not need_x:
            return gw, gb, None
        c, k = w.shape[1:]
        dcols = (w.reshape(c_out, -1).T @ dz2).reshape(c, k, n, p)
        dxp = np.zeros((c, n, shape[2] + 2), dtype=dz.dtype)
        for t in range(k):  # col2im: tap t of output p read input 2p + t
            dxp[:, :, t : t + 2 * (p - 1) + 1 : 2] += dcols[:, t]
        return gw, gb, dxp[:, :, 1:-1]

    def step(self, i: int) -> None:
        x, y = self.x[i], self.y[i]
        w1, b1, w2, b2, w3, b3, wl, bl = self.params
        h1, c1 = self.conv_relu(x, w1, b1)
        h2, c2 = self.conv_relu(h1, w2, b2)
        h3, c3 = self.conv_relu(h2, w3, b3)
        flat = h3.transpose(1, 0, 2).reshape(self.batch, -1)  # (N, 125) as Flatten's
        z = flat @ wl.T
        z += bl
        z -= z.max(axis=1, keepdims=True)  # softmax, then (p - onehot) / N
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        z[self.rows, y] -= 1
        z /= self.batch
        grads = [z.T @ flat, z.sum(axis=0)]
        d = (z @ wl).reshape(self.batch, 25, -1).transpose(1, 0, 2)
        d = d * (h3 > 0)
        for h_prev, h, w, cols, need_x in (
            (h2, h2, w3, c3, True),
            (h1, h1, w2, c2, True),
            (x, None, w1, c1, False),
        ):
            gw, gb, d = self.conv_back(d, cols, w, h_prev.shape, need_x)
            grads[:0] = [gw, gb]
            if h is not None:
                d *= h > 0
        for p, v, g in zip(self.params, self.velocity, grads):
            v *= self.momentum
            v += g
            np.multiply(v, self.lr, out=g)  # g is spent: reuse its memory for lr * v
            p -= g


def _numpy(task: str, batch: int, count: int = 16, model: str = "mlp") -> Workload:
    """The hand-written NumPy step for this model."""
    return (NumpyCNN1d if model == "cnn1d" else NumpyFused)(task, batch, count, model)


class Sklearn(Workload):
    """scikit-learn's MLPClassifier: ``run(n)`` is one epoch of ``fit`` (max_iter=1) over
    the n batches, with its own mini-batching of the same size."""

    def __init__(self, task: str, batch: int, count: int = 16, model: str = "mlp") -> None:
        if model != "mlp":
            raise ValueError("scikit-learn's MLPClassifier is an MLP only")
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


FRAMEWORKS = {
    "glassnet": Glassnet,
    "compiled": GlassnetCompiled,
    "exported": GlassnetExported,
    "torch": Torch,
    "numpy": _numpy,
    "sklearn": Sklearn,
}
