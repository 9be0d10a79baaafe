"""``gn.inspect.Monitor``: what the layers of a network are doing while it trains.

Per activation layer: the mean and standard deviation of its outputs, a histogram of them,
the fraction of dead ReLU units (zero for every sample of a batch: they pass no gradient
for it, and a unit that stays dead on every batch never recovers unless the layers below
change) and of saturated sigmoid / tanh units (flat ends: their gradient vanishes). After
a convolution a unit is a filter (an output channel): it is dead when its ReLU output is
zero at every position of every sample, so the fraction is of the conv's channels.
In a GRU or LSTM (layer or cell): the fraction of each gate's pre-activations on a flat end
(saturated gates pass no gradient; only the update / input gate is warned about, since a
forget gate held open is how an LSTM remembers). In a MultiheadAttention: per head, the
mean entropy of its rows of attention weights and the fraction of nearly one-hot rows
(``glassnet.inspect.monitor_sequence``).
Per parameter: the gradient norm and the update-to-weight ratio of each step (about 1e-3
is a common rule of thumb for plain SGD; much larger suggests the learning rate is too
high, much smaller too low).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from glassnet._pyplot import pyplot
from glassnet.inspect import monitor_sequence as seq
from glassnet.nn import activation as act
from glassnet.nn.conv import Conv1d, Conv2d
from glassnet.nn.layers import Linear
from glassnet.nn.module import Module

_ACTIVATIONS = (
    act.ReLU, act.LeakyReLU, act.GELU, act.SiLU, act.ELU, act.Sigmoid, act.Tanh, act.Softmax
)  # fmt: skip
_CONVS = (Conv1d, Conv2d)
_WATCHED = (*_ACTIVATIONS, Linear, *_CONVS)
DEAD_WARNING = 0.5
SATURATION_WARNING = 0.5
HISTOGRAM_BINS = 30


def layer_label(path: str, module: Module) -> str:
    """How reports name a layer: its path in the model and its type, as ``print(model)``
    shows them (``0 Linear(64, 256)``, ``encoder.1 ReLU()``)."""
    if isinstance(module, Linear):
        summary = f"Linear({module.in_features}, {module.out_features})"
    elif isinstance(module, _CONVS):
        kernel = module.kernel_size[0] if len(set(module.kernel_size)) == 1 else module.kernel_size
        summary = f"{type(module).__name__}({module.in_channels}, {module.out_channels}, {kernel})"
    elif hasattr(module, "hidden_size"):  # RNN, GRU, LSTM and their cells
        summary = f"{type(module).__name__}({module.input_size}, {module.hidden_size})"
    elif hasattr(module, "num_heads"):
        summary = f"{type(module).__name__}({module.embed_dim}, {module.num_heads})"
    else:
        text = repr(module)
        summary = text if "\n" not in text and len(text) <= 32 else type(module).__name__
    return f"{path} {summary}" if path else summary


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> tuple[np.ndarray, np.ndarray]:
    """np.histogram's (counts, edges) of finite values, in float64: float32 values spread
    less than float32 can split into bins (large, nearly equal outputs) would make NumPy
    refuse; values that are one value as far as bins can tell get a unit-wide range."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.histogram(values, bins, (0.0, 1.0))
    lo, hi = float(values.min()), float(values.max())
    if not hi - lo > 1e-9 * max(abs(lo), abs(hi), 1.0):
        lo, hi = lo - 0.5, hi + 0.5
    return np.histogram(values, bins, (lo, hi))


class Monitor:
    """Hooks on a model's layers; a ``fit`` callback, or call ``step()`` after each
    ``optimizer.step()`` in your own loop.

    ``activations``, ``gradients`` and ``updates`` are keyed by module path and parameter
    name (``"1"``, ``"0.weight"``, as ``named_modules`` and ``named_parameters`` give
    them); ``report`` and ``warnings`` name a layer by its path and type
    (``1 ReLU()``, ``0 Linear(64, 256)``), as ``print(model)`` shows it.
    With ``histograms=True``, ``histograms[path]`` is the latest training batch's (counts,
    bin edges) of that layer's outputs, of any shape (``np.histogram``, ``HISTOGRAM_BINS``
    bins); off by default, since on a conv's output it costs about as much as the layer.

    A ReLU's units are the features of the last dimension after a Linear layer, and the
    channels (dim 1) after a convolution: whichever of the two ran last in the forward
    pass decides (with neither, a 4-D output is taken as (N, C, H, W)). ``units[path]``
    says which (``"units"`` or ``"filters"``).

    Args:
        model: the network to watch (its activation modules, Linear and Conv layers).
        histograms: also keep a histogram of each watched layer's outputs.
    """

    def __init__(self, model: Module, histograms: bool = False) -> None:
        self.model = model
        self.keep_histograms = histograms
        self.activations: dict[str, list[dict[str, float]]] = {}
        self.gradients: dict[str, list[float]] = {}
        self.updates: dict[str, list[float]] = {}
        self._previous: dict[str, np.ndarray] | None = None
        self.labels: dict[str, str] = {}
        self.histograms: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.units: dict[str, str] = {}
        self._channels_first: bool | None = None  # did a conv (True) or Linear run last?
        self._warned_gate: dict[str, str] = {}  # GRU/LSTM layer -> "z" / "i"
        self._watches: list[seq.OpWatch] = []
        self._handles = []
        for name, module in model.named_modules():
            if isinstance(module, _WATCHED):
                self.activations[name] = []
                self.labels[name] = layer_label(name, module)
                self._handles.append(module.register_forward_hook(self._hook(name)))
            elif type(module) in seq.WATCHES:
                self.activations[name] = []
                self.labels[name] = layer_label(name, module)
                if type(module) in seq.GATED:
                    self._warned_gate[name] = seq.GATED[type(module)][3]
                watch = seq.OpWatch(seq.WATCHES[type(module)])
                self._watches.append(watch)
                self._handles.append(module.register_forward_pre_hook(self._start(watch)))
                self._handles.append(module.register_forward_hook(self._inside(name, watch)))

    def _units(self, y: np.ndarray) -> tuple[str, tuple[int, ...]]:
        """What a ReLU's unit is, and the axes it is one value along: a filter (every axis
        but the channels, dim 1) after a conv, a feature (every axis but the last) else."""
        channels_first = self._channels_first
        if channels_first is None:
            channels_first = y.ndim == 4
        if channels_first and y.ndim >= 3:
            return "filters", (0, *range(2, y.ndim))
        return "units", tuple(range(y.ndim - 1))

    def _hook(self, name: str):
        def record(module: Module, inputs: Any, output: Any) -> None:
            if isinstance(module, (Linear, *_CONVS)):
                self._channels_first = isinstance(module, _CONVS)
            if not module.training:
                return  # evaluation passes would mix other data into the training picture
            y = output.data
            stats = {"mean": float(y.mean()), "std": float(y.std())}
            if self.keep_histograms:
                finite = np.isfinite(y)  # np.histogram refuses NaN and inf; the mean shows them
                values = y if finite.all() else y[finite]
                self.histograms[name] = histogram(values)
            if isinstance(module, act.ReLU):
                self.units[name], axes = self._units(y)
                stats["dead"] = float((y == 0).all(axis=axes).mean())
            elif isinstance(module, act.Sigmoid):
                stats["saturated"] = float(((y < 0.01) | (y > 0.99)).mean())
            elif isinstance(module, act.Tanh):
                stats["saturated"] = float((np.abs(y) > 0.99).mean())
            self.activations[name].append(stats)

        return record

    @staticmethod
    def _start(watch: seq.OpWatch):
        def start(module: Module, inputs: Any) -> None:
            if module.training:  # as for the other layers, evaluation passes are left out
                watch.start()

        return start

    def _inside(self, name: str, watch: seq.OpWatch):
        """After a recurrent or attention layer: its gates' or heads' statistics from the
        ops it ran."""

        def record(module: Module, inputs: Any, output: Any) -> None:
            if not module.training:
                return
            calls = watch.stop()
            y = (output[0] if isinstance(output, tuple) else output).data
            stats = {"mean": float(y.mean()), "std": float(y.std())}
            if type(module) in seq.GATED:
                gates = seq.gate_saturation(module, calls)
                stats["saturated"] = gates[seq.GATED[type(module)][3]]
                stats |= {f"saturated {g}": v for g, v in gates.items()}
            else:
                p = seq.attention_weights(calls)
                if p is not None:
                    stats |= seq.head_statistics(p)
            self.activations[name].append(stats)

        return record

    def step(self) -> None:
        """Record gradient norms and the update each parameter just received."""
        current = {}
        for name, p in self.model.named_parameters():
            if p.grad is not None:
                self.gradients.setdefault(name, []).append(float(np.linalg.norm(p.grad.data)))
            current[name] = p.data.copy()
            if self._previous is not None and name in self._previous:
                before = self._previous[name]
                scale = float(np.linalg.norm(before)) or 1.0
                change = float(np.linalg.norm(p.data - before))
                self.updates.setdefault(name, []).append(change / scale)
        self._previous = current

    # fit-callback protocol
    def on_train_begin(self, state: Any) -> None:
        self._previous = {n: p.data.copy() for n, p in self.model.named_parameters()}

    def on_batch_end(self, state: Any) -> None:
        self.step()

    def on_epoch_end(self, state: Any) -> None:
        pass

    def on_train_end(self, state: Any) -> None:
        pass

    def remove(self) -> None:
        """Take the hooks off the model."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for watch in self._watches:
            watch.stop()

    def latest(self, window: int = 10) -> dict[str, dict[str, float]]:
        """Per layer, the statistics averaged over the last ``window`` training batches."""
        out = {}
        for name, records in self.activations.items():
            recent = records[-window:]
            if recent:
                out[name] = {k: float(np.mean([r[k] for r in recent])) for k in recent[0]}
        return out

    def warnings(self, window: int = 10) -> list[str]:
        """Problems in words, with what to do about them."""
        found = []
        for name, stats in self.latest(window).items():
            if stats.get("dead", 0) > DEAD_WARNING:
                what = (
                    "conv filters dead (zero at every position of every sample)"
                    if self.units.get(name) == "filters"
                    else "ReLU units dead"
                )
                found.append(
                    f"layer {self.labels[name]}: {stats['dead']:.0%} of {what}; lower the "
                    "learning rate or use LeakyReLU"
                )
            gate = self._warned_gate.get(name)
            if gate is not None and stats["saturated"] > SATURATION_WARNING:
                found.append(
                    f"layer {self.labels[name]}: {stats['saturated']:.0%} of its "
                    f"{seq.GATE_WORDS[gate]} saturated (|pre-activation| > "
                    f"{seq.SIGMOID_SATURATION}), so they pass almost no gradient; standardise "
                    "the inputs, lower the learning rate or clip the gradients"
                )
            elif stats.get("saturated", 0) > SATURATION_WARNING:
                found.append(
                    f"layer {self.labels[name]}: {stats['saturated']:.0%} of units saturated, so "
                    "their gradients vanish; standardise the inputs, lower the learning rate or "
                    "use ReLU"
                )
        for name, ratios in self.updates.items():
            recent = float(np.mean(ratios[-window:]))
            if recent > 1e-1:
                found.append(
                    f"parameter {name}: each step changes it by {recent:.1e} of its size (about "
                    "1e-3 is healthy); lower the learning rate"
                )
        return found

    def report(self, window: int = 10) -> str:
        """A table of the latest statistics per layer and parameter, then the warnings."""
        latest = self.latest(window)
        width = max([12] + [len(self.labels[name]) for name in latest])
        lines = [f"{'layer':<{width}} {'mean':>9} {'std':>9} {'dead':>6} {'saturated':>9}"]
        for name, s in latest.items():
            dead = f"{s['dead']:.0%}" if "dead" in s else ""
            sat = f"{s['saturated']:.0%}" if "saturated" in s else ""
            label = self.labels[name]
            lines.append(f"{label:<{width}} {s['mean']:9.4f} {s['std']:9.4f} {dead:>6} {sat:>9}")
        lines.append("")
        width = max([12] + [len(name) for name in self.gradients])
        lines.append(f"{'parameter':<{width}} {'|grad|':>10} {'update/weight':>14}")
        for name, norms in self.gradients.items():
            ratio = self.updates.get(name)
            ratio_text = f"{np.mean(ratio[-window:]):.2e}" if ratio else ""
            lines.append(f"{name:<{width}} {np.mean(norms[-window:]):10.4g} {ratio_text:>14}")
        details = [
            f"{self.labels[name]}: "
            + ", ".join(
                f"{k} {v:.2f}" if k.startswith("entropy") else f"{k} {v:.0%}"
                for k, v in s.items()
                if k[:3] in ("sat", "ent", "one") and k != "saturated"
            )
            for name, s in latest.items()
            if any(k.startswith(("saturated ", "entropy")) for k in s)
        ]
        if details:
            lines += ["", "gates and attention heads", *details]
        problems = self.warnings(window)
        lines.append("")
        lines.extend(problems or ["no warnings"])
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Draw dead / saturated fractions and update ratios over steps (needs matplotlib)."""
        plt = pyplot("Monitor.plot")
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        for name, records in self.activations.items():
            for key in ("dead", "saturated"):
                if records and key in records[0]:
                    left.plot([r[key] for r in records], label=f"{self.labels[name]} {key}")
        left.set_xlabel("training batch")
        left.set_ylabel("fraction of units")
        left.legend(fontsize=7)
        for name, ratios in self.updates.items():
            right.semilogy(ratios, label=name)
        right.set_xlabel("step")
        right.set_ylabel("|update| / |weight|")
        right.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return Path(path)
