"""What the page lets a user choose, checked: datasets, layers, activations, loss,
optimizer, learning rate, batch size, seed; and the presets for the seeds' questions.

Everything the page sends arrives as JSON and is checked here before anything is built,
so a bad value (a width of 0, a learning rate that is not a number) is refused with a
message the page shows, and the network already there keeps training.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

DATASETS = ("spirals", "moons", "xor", "circles", "blobs", "digits")
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "gelu", "softmax")
LOSSES = ("cross_entropy", "naive_softmax_log")
OPTIMIZERS = ("sgd", "momentum", "adam")
MAX_LAYERS, MAX_WIDTH, MAX_BATCH = 12, 256, 1024


class SettingError(ValueError):
    """A setting the page sent that cannot be built; ``field`` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass
class Layer:
    """One hidden layer: Linear(previous -> width), then the activation."""

    width: int = 16
    activation: str = "relu"


@dataclass
class Settings:
    """A network and how it is trained; the page's Build panel, field for field."""

    dataset: str = "spirals"
    layers: list[Layer] = field(default_factory=lambda: [Layer(16), Layer(16)])
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int = 32
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


PRESETS: dict[str, dict[str, Any]] = {
    "ReLU vs sigmoid in 10 layers": {
        "about": "Ten sigmoid layers: sigmoid's slope is at most 1/4, so the gradient shrinks "
        "at every layer on its way back and the first layers barely learn (see the warning "
        "and the gradient histograms): the loss stays near 0.69. Switch the ten "
        "activations to relu: the same network, the same Adam, learns the moons.",
        "settings": {
            "dataset": "moons",
            "layers": [{"width": 32, "activation": "sigmoid"}] * 10,
            "optimizer": "adam",
            "lr": 0.01,
        },
    },
    "naive vs stable softmax": {
        "about": "The loss written as log(softmax(z)) without subtracting the max: once a "
        "logit passes ~88, e^z overflows float32, the loss becomes nan and the run stops. "
        "Switch the loss to cross_entropy (log-sum-exp, fused): same network, no nan.",
        "settings": {
            "dataset": "moons",
            "layers": [{"width": 16, "activation": "relu"}],
            "loss": "naive_softmax_log",
            "optimizer": "sgd",
            "lr": 3.0,
        },
    },
    "softmax in a hidden layer": {
        "about": "Softmax as a hidden activation: its outputs sum to 1, so the units compete. "
        "Step through a backward pass to see its full Jacobian-vector product "
        "s * (g - g . s), not the p - y of the output layer.",
        "settings": {
            "dataset": "spirals",
            "layers": [
                {"width": 16, "activation": "relu"},
                {"width": 8, "activation": "softmax"},
                {"width": 16, "activation": "relu"},
            ],
            "optimizer": "adam",
            "lr": 0.01,
        },
    },
}


def _shown(value: Any) -> str:
    """A value as the message shows it: repr, cut short (a field may hold megabytes)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _integer(raw: dict, key: str, low: int, high: int, default: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,10}\s*", value):
        value = int(value)  # typed into a text box: ASCII digits only
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        name = key.replace("_", " ")
        raise SettingError(
            key, f"{name} must be a whole number from {low} to {high}; got {_shown(value)}"
        )
    return value


def _choice(raw: dict, key: str, allowed: tuple[str, ...], default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or value not in allowed:
        raise SettingError(key, f"{key} must be one of {', '.join(allowed)}; got {_shown(value)}")
    return value


def _learning_rate(raw: dict) -> float:
    value = raw.get("lr", 0.01)
    try:
        lr = float(value) if isinstance(value, (int, float, str)) else math.nan
    except (ValueError, OverflowError):
        lr = math.nan
    if isinstance(value, bool) or not math.isfinite(lr) or not 0 < lr <= 10:
        raise SettingError(
            "lr", f"learning rate must be a number above 0 and at most 10; got {_shown(value)}"
        )
    return lr


def parse(raw: Any) -> Settings:
    """The settings the page sent, checked.

    Raises:
        SettingError: naming the first field that is wrong, what it must be and what came.
    """
    if not isinstance(raw, dict):
        raise SettingError("settings", f"settings must be a JSON object; got {type(raw).__name__}")
    layers_raw = raw.get("layers", [{"width": 16}, {"width": 16}])
    if not isinstance(layers_raw, list) or len(layers_raw) > MAX_LAYERS:
        raise SettingError("layers", f"layers must be a list of at most {MAX_LAYERS} layers")
    layers = []
    for i, layer in enumerate(layers_raw):
        if not isinstance(layer, dict):
            raise SettingError("layers", f"layer {i + 1} must be an object with a width")
        try:
            width = _integer(layer, "width", 1, MAX_WIDTH, 16)
            activation = _choice(layer, "activation", ACTIVATIONS, "relu")
        except SettingError as error:
            raise SettingError(f"layers.{i}.{error.field}", f"layer {i + 1}: {error}") from None
        layers.append(Layer(width, activation))
    return Settings(
        dataset=_choice(raw, "dataset", DATASETS, "spirals"),
        layers=layers,
        loss=_choice(raw, "loss", LOSSES, "cross_entropy"),
        optimizer=_choice(raw, "optimizer", OPTIMIZERS, "adam"),
        lr=_learning_rate(raw),
        batch_size=_integer(raw, "batch_size", 1, MAX_BATCH, 32),
        seed=_integer(raw, "seed", 0, 2**31 - 1, 0),
    )
