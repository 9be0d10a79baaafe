"""One page's network: its data, model and optimizer, the training steps, and the frame
the page draws (losses, the decision boundary, per-layer histograms, warnings).

Nothing here knows about the web: the server (``app.py``) holds one Session per open
page and a thread that calls ``train`` while the page says Play. Every number the page
shows is computed here, by glassnet itself.
"""

from __future__ import annotations

import base64
import math
import threading
import time
from typing import Any

import numpy as np

import glassnet as gn
from glassnet import nn
from glassnet.inspect.monitor import Monitor
from glassnet.inspect.monitor import histogram as monitor_histogram
from glassnet.playground.settings import Settings

GRID = 48  # the boundary heat map is GRID x GRID cells
HISTORY_POINTS = 400  # the loss curves keep at most this many points (thinned by 2 when full)
EVAL_EVERY = 20  # steps between two points of the loss curves
VANISHING, EXPLODING = 1e-3, 1e3  # first layer's gradient norm over the last layer's
MONITOR_KEEP = 200  # per-step Monitor records kept (its warnings read the last 10)


# dataset -> (the gn.data function, its arguments): what the page trains on, and what
# the exported train.py writes out, from this one table
DATA: dict[str, tuple[str, dict[str, Any]]] = {
    "spirals": ("make_spirals", {"n_per_class": 200, "n_classes": 2, "noise": 0.2}),
    "moons": ("make_moons", {"n_samples": 400, "noise": 0.15}),
    "xor": ("make_xor", {"n_samples": 400, "noise": 0.1}),
    "circles": ("make_circles", {"n_samples": 400, "noise": 0.08}),
    "blobs": ("make_blobs", {"n_samples": 300, "n_classes": 3, "spread": 1.5}),
    "digits": ("load_digits", {}),
}


def load_data(settings: Settings) -> gn.data.Splits:
    """The dataset, made from the settings' seed (the same points for the same seed)."""
    function, arguments = DATA[settings.dataset]
    if function == "load_digits":
        return gn.data.load_digits(seed=settings.seed)
    return getattr(gn.data, function)(**arguments, generator=np.random.default_rng(settings.seed))


def activation(name: str) -> nn.Module:
    """The activation module a layer's name stands for (softmax over the features)."""
    return {
        "relu": nn.ReLU,
        "leaky_relu": nn.LeakyReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "gelu": nn.GELU,
        "softmax": lambda: nn.Softmax(dim=1),
    }[name]()


def build_model(settings: Settings, features: int, classes: int) -> nn.Sequential:
    """Linear -> activation per hidden layer, then Linear to the classes (the logits)."""
    generator = np.random.default_rng(settings.seed)
    modules: list[nn.Module] = []
    width = features
    for layer in settings.layers:
        modules += [
            nn.Linear(width, layer.width, generator=generator),
            activation(layer.activation),
        ]
        width = layer.width
    modules.append(nn.Linear(width, classes, generator=generator))
    return nn.Sequential(*modules)


def naive_softmax_log(logits: gn.Tensor, labels: gn.Tensor) -> gn.Tensor:
    """-log(softmax(z)[y]) written the way it is first written: e^z / sum e^z, with no
    max subtracted. Kept only to show what goes wrong: e^z overflows float32 once a
    logit passes ~88, and inf / inf is nan. glassnet's own cross_entropy never does this."""
    e = logits.exp()
    p = e / e.sum(dim=1, keepdim=True)
    picked = p[np.arange(len(labels.data)), labels.data]
    return -picked.log().mean()


def loss_function(name: str):
    return nn.functional.cross_entropy if name == "cross_entropy" else naive_softmax_log


def make_optimizer(settings: Settings, parameters) -> gn.optim.Optimizer:
    if settings.optimizer == "adam":
        return gn.optim.Adam(parameters, lr=settings.lr)
    momentum = 0.9 if settings.optimizer == "momentum" else 0.0
    return gn.optim.SGD(parameters, lr=settings.lr, momentum=momentum)


def _encode(values: np.ndarray) -> str:
    """uint8 values as base64 text: a 48 x 48 map is 3 KB in a frame, not 10 KB of JSON."""
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.uint8).tobytes()).decode()


def histogram(values: np.ndarray, bins: int = 24) -> dict[str, Any]:
    """Counts over [lo, hi] of the finite values (NaN and inf are counted apart)."""
    values = np.asarray(values, dtype=np.float64).ravel()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"counts": [0] * bins, "lo": 0.0, "hi": 0.0, "nonfinite": int(values.size)}
    counts, _ = monitor_histogram(finite, bins)
    return {
        "counts": counts.tolist(),
        "lo": float(finite.min()),
        "hi": float(finite.max()),
        "nonfinite": int(values.size - finite.size),
    }


def _counted(hist: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    """A Monitor histogram (counts, edges) as ``histogram`` gives it."""
    counts, edges = hist
    return {
        "counts": counts.tolist(),
        "lo": float(edges[0]),
        "hi": float(edges[-1]),
        "nonfinite": 0,
    }


class Session:
    """A network being trained for one page. Every method takes ``lock``: the server's
    training thread and its request handlers share the session."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.lock = threading.RLock()
        self.builds = 0
        self.build(settings or Settings())

    # ------------------------------------------------------------------ building
    def build(self, settings: Settings) -> None:
        """A fresh network and optimizer for ``settings`` (its data made from the seed)."""
        with self.lock:
            splits = load_data(settings)
            scaler = gn.data.Standardize().fit(splits.x_train.reshape(len(splits.x_train), -1))
            self.settings, self.splits, self.scaler = settings, splits, scaler
            self.x_train = scaler.transform(splits.x_train.reshape(len(splits.x_train), -1))
            self.x_test = scaler.transform(splits.x_test.reshape(len(splits.x_test), -1))
            self.model = build_model(settings, splits.num_features, splits.num_classes)
            self.loss_fn = loss_function(settings.loss)
            self.optimizer = make_optimizer(settings, self.model.parameters())
            self.monitor = Monitor(self.model, histograms=True)
            self.monitor.on_train_begin(None)
            self._rng = np.random.default_rng(settings.seed)
            self._order: np.ndarray = np.empty(0, dtype=np.int64)
            self._position = 0
            self.step_count = self.epoch = 0
            self.history: dict[str, list[float]] = {"step": [], "train": [], "test": []}
            self.accuracy = {"train": math.nan, "test": math.nan}
            self.stopped: str | None = None
            self.last_loss = math.nan
            self.builds += 1
            self.evaluate()

    # ------------------------------------------------------------------ training
    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next batch of a shuffled pass over the training set (a new order per epoch)."""
        size = min(self.settings.batch_size, len(self.x_train))
        if self._position + size > len(self._order):
            self._order = self._rng.permutation(len(self.x_train))
            self._position = 0
            self.epoch += 1
        index = self._order[self._position : self._position + size]
        self._position += size
        return self.x_train[index], self.splits.y_train[index]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> gn.Tensor | None:
        """One step as every PyTorch user writes it; returns the model's output, or None
        when the run stopped (the loss was not finite: ``stopped`` says why)."""
        self.model.train()
        self.optimizer.zero_grad()
        # overflow is what the naive-softmax preset is about: said below, not warned
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            output = self.model(gn.tensor(x))
            if not np.isfinite(output.data).all():  # before the loss, which refuses nan
                bad = output.data[~np.isfinite(output.data)].flat[0]
                self.stopped = self._why_stopped(float(bad), output.data, "model's output")
                return None
            loss = self.loss_fn(output, gn.tensor(y))
            value = float(loss.item())
            if not math.isfinite(value):
                self.stopped = self._why_stopped(value, output.data)
                return None
            loss.backward()
            self.optimizer.step()
            self.monitor.step()  # norms of huge gradients may overflow: the run says so
        self.step_count += 1
        self.last_loss = value
        if self.step_count % MONITOR_KEEP == 0:
            self._trim_monitor()
        if self.step_count % EVAL_EVERY == 0:
            self.evaluate()
        return output

    def train(self, seconds: float = 0.04, most: int = 100_000) -> int:
        """Train for about ``seconds`` (at most ``most`` steps); returns the steps taken."""
        taken = 0
        end = time.perf_counter() + seconds
        with self.lock:
            while taken < most and self.stopped is None:
                x, y = self.next_batch()
                if self.train_step(x, y) is None:
                    break
                taken += 1
                if time.perf_counter() > end:
                    break
        return taken

    def step_once(self) -> None:
        """One step, then the losses measured (the Step button: every step shows)."""
        with self.lock:
            if self.train(seconds=1.0, most=1) and self.step_count % EVAL_EVERY != 0:
                self.evaluate()

    def _trim_monitor(self) -> None:
        """The Monitor keeps a record per step for a whole run; the page needs the latest
        few, and a page left playing for an hour must not keep millions."""
        m = self.monitor
        for records in (m.activations, m.gradients, m.updates):
            for key in records:
                del records[key][:-MONITOR_KEEP]

    def _why_stopped(self, value: float, logits: np.ndarray, what: str = "loss") -> str:
        lr = self.settings.lr
        top = float(np.nanmax(np.abs(logits))) if np.isfinite(logits).any() else math.inf
        if self.settings.loss == "naive_softmax_log" and np.isfinite(logits).all():
            return (
                f"training stopped at step {self.step_count + 1}: the loss became {value}. "
                f"The naive softmax computes e^z without subtracting the max, and a logit "
                f"reached {top:.4g}: e^{top:.0f} overflows float32 (above ~88) to inf, and "
                "inf / inf is nan (log 0 is -inf). Choose the loss cross_entropy "
                "(log-sum-exp: every exponent <= 0) and press Build."
            )
        return (
            f"training diverged: the {what} became {value} at step {self.step_count + 1} "
            f"(learning rate {lr:g}); lower the learning rate (try {lr / 10:g}) and press Build"
        )

    def evaluate(self) -> None:
        """A point of the loss curves: the loss and accuracy over the whole train and test
        sets, in eval mode and without building a graph (at most one point per step)."""
        if self.history["step"] and self.history["step"][-1] == self.step_count and self.step_count:
            return
        self.model.eval()
        with gn.no_grad(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for split, x, y in (
                ("train", self.x_train, self.splits.y_train),
                ("test", self.x_test, self.splits.y_test),
            ):
                out = self.model(gn.tensor(x))
                self._record(split, float(self.loss_fn(out, gn.tensor(y)).item()))
                self.accuracy[split] = float((out.data.argmax(1) == y).mean())
        self.history["step"].append(self.step_count)
        self.model.train()
        if len(self.history["step"]) > HISTORY_POINTS:  # keep every other point: same shape
            for key in self.history:
                self.history[key] = self.history[key][::2]

    def _record(self, split: str, value: float) -> None:
        self.history[split].append(value if math.isfinite(value) else None)

    # ------------------------------------------------------------------ what the page draws
    def points(self) -> dict[str, Any] | None:
        """The 2-D data in its own coordinates, for drawing (None for digits: 64 features)."""
        if self.splits.num_features != 2:
            return None
        return {
            "train": np.round(self.splits.x_train, 4).tolist(),
            "train_labels": self.splits.y_train.tolist(),
            "test": np.round(self.splits.x_test, 4).tolist(),
            "test_labels": self.splits.y_test.tolist(),
            "classes": list(self.splits.classes),
        }

    def boundary(self) -> dict[str, Any] | None:
        """The decision regions over the input plane: per cell of a GRID x GRID map, the
        predicted class and its probability (0-255)."""
        if self.splits.num_features != 2:
            return None
        both = np.concatenate([self.splits.x_train, self.splits.x_test])
        lo, hi = both.min(0), both.max(0)
        pad = 0.1 * (hi - lo)
        lo, hi = lo - pad, hi + pad
        xs = np.linspace(lo[0], hi[0], GRID)
        ys = np.linspace(hi[1], lo[1], GRID)  # rows from the top of the picture down
        grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2).astype(np.float32)
        self.model.eval()
        with gn.no_grad(), np.errstate(all="ignore"):
            p = nn.functional.softmax(self.model(gn.tensor(self.scaler.transform(grid))), 1).data
        self.model.train()
        confidence = np.nan_to_num(p.max(1), nan=0.0)
        return {
            "size": GRID,
            "extent": [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])],
            "classes": int(p.shape[1]),
            "label": _encode(p.argmax(1)),
            "confidence": _encode(np.round(confidence * 255)),
        }

    def layers(self) -> list[dict[str, Any]]:
        """Per hidden and output layer: histograms of its weights, their gradients and its
        activations, the fraction of dead ReLUs, the gradient's norm."""
        modules = list(self.model)
        latest = self.monitor.latest(10)
        out = []
        for i in range(0, len(modules), 2):
            linear = modules[i]
            act = modules[i + 1] if i + 1 < len(modules) else None
            grad = linear.weight.grad
            stats = latest.get(str(i + 1), {}) if act is not None else {}
            hist = self.monitor.histograms.get(str(i + 1)) if act is not None else None
            out.append(
                {
                    "name": f"{'output' if act is None else f'layer {i // 2 + 1}'}: "
                    f"{i} Linear({linear.in_features} -> {linear.out_features})"
                    + (f", {i + 1} {type(act).__name__}" if act is not None else ""),
                    "parameters": [f"{i}.weight", f"{i}.bias"],
                    "weights": histogram(linear.weight.data),
                    "gradients": None if grad is None else histogram(grad.data),
                    "gradient_norm": None if grad is None else float(np.linalg.norm(grad.data)),
                    "activations": None if hist is None else _counted(hist),
                    "dead": stats.get("dead"),
                    "saturated": stats.get("saturated"),
                }
            )
        return out

    def warnings(self, layers: list[dict[str, Any]]) -> list[str]:
        """The Monitor's warnings, and the gradient's size from the output layer back to
        the first: vanishing or exploding on the way."""
        found = list(self.monitor.warnings())
        norms = [layer["gradient_norm"] for layer in layers]
        if len(norms) > 1 and all(n is not None for n in norms):
            first, last = norms[0], norms[-1]
            if last > 0 and first / last < VANISHING:
                fixes = ["ReLU" if self._saturating() else "", "fewer layers",
                         "" if self.settings.optimizer == "adam" else "Adam"]  # fmt: skip
                found.append(
                    f"gradients vanish: the first layer's weight gradient is {first / last:.1e} "
                    "of the output layer's, so the first layers barely learn; try "
                    + " or ".join(f for f in fixes if f)
                )
            elif last > 0 and first / last > EXPLODING:
                found.append(
                    f"gradients explode: the first layer's weight gradient is {first / last:.1e}"
                    " times the output layer's; lower the learning rate"
                )
        return found

    def _saturating(self) -> bool:
        """Does some hidden layer squash (sigmoid, tanh, softmax), so ReLU would help?"""
        return any(
            layer.activation in ("sigmoid", "tanh", "softmax") for layer in self.settings.layers
        )

    def frame(self, playing: bool = False) -> dict[str, Any]:
        """Everything the page draws, as JSON-ready values (nan and inf left for the server
        to write as null)."""
        with self.lock, np.errstate(over="ignore", invalid="ignore"):
            layers = self.layers()
            return {
                "build": self.builds,
                "step": self.step_count,
                "epoch": self.epoch,
                "playing": playing,
                "loss": self.last_loss if math.isfinite(self.last_loss) else None,
                "history": {k: list(v) for k, v in self.history.items()},
                "accuracy": dict(self.accuracy),
                "boundary": self.boundary(),
                "layers": layers,
                "warnings": self.warnings(layers),
                "stopped": self.stopped,
                "settings": self.settings.to_json(),
            }
