""" "Take it away": the page's network as files. ``model.safetensors`` (its weights, the
state_dict keys of ``nn.Sequential``), ``config.json`` (what was built and how the inputs
were scaled) and ``train.py``: the Python that rebuilds the same network with glassnet,
trains it as the page did, or loads the page's weights (``--load``)."""

from __future__ import annotations

import inspect
import tempfile
from pathlib import Path
from typing import Any

import glassnet as gn
from glassnet.playground.session import DATA, Session, naive_softmax_log

FORMAT = "glassnet-playground/1"

_MODULES = {
    "relu": "nn.ReLU()",
    "leaky_relu": "nn.LeakyReLU()",
    "tanh": "nn.Tanh()",
    "sigmoid": "nn.Sigmoid()",
    "gelu": "nn.GELU()",
    "softmax": "nn.Softmax(dim=1)",
}
_OPTIMIZERS = {
    "sgd": "gn.optim.SGD(model.parameters(), lr={lr!r})",
    "momentum": "gn.optim.SGD(model.parameters(), lr={lr!r}, momentum=0.9)",
    "adam": "gn.optim.Adam(model.parameters(), lr={lr!r})",
}


def weights(session: Session) -> bytes:
    """The model's state_dict as safetensors bytes (written through gn.save)."""
    with session.lock, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.safetensors"
        gn.save(session.model.state_dict(), path)
        return path.read_bytes()


def config(session: Session) -> dict[str, Any]:
    """What the page built, with the training split's feature scaling."""
    with session.lock:
        return {
            "format": FORMAT,
            "glassnet_version": gn.__version__,
            "settings": session.settings.to_json(),
            "in_features": session.splits.num_features,
            "classes": list(session.splits.classes),
            "standardize": {
                "mean": session.scaler.mean.tolist(),
                "std": session.scaler.std.tolist(),
            },
            "steps": session.step_count,
            "epochs": session.epoch,
            "state_dict": {k: list(v.shape) for k, v in session.model.state_dict().items()},
        }


def _data_line(dataset: str, seed: int) -> str:
    function, arguments = DATA[dataset]
    if function == "load_digits":
        return f"splits = gn.data.load_digits(seed={seed})"
    args = "".join(f"    {k}={v!r},\n" for k, v in arguments.items())
    return f"splits = gn.data.{function}(\n{args}    generator=np.random.default_rng({seed}),\n)"


def train_script(session: Session) -> str:
    """train.py: the same data, network, loss and optimizer, written with glassnet."""
    with session.lock:
        s = session.settings
        features, classes = session.splits.num_features, session.splits.num_classes
        epochs = max(session.epoch, 1)
    widths = [features] + [layer.width for layer in s.layers]
    modules = [
        f"    nn.Linear({a}, {b}, generator=generator), {_MODULES[layer.activation]},"
        for a, b, layer in zip(widths, widths[1:], s.layers)
    ]
    modules.append(f"    nn.Linear({widths[-1]}, {classes}, generator=generator),")
    shape = " -> ".join(
        [str(features)] + [f"{layer.width} {layer.activation}" for layer in s.layers]
    )
    if s.loss == "cross_entropy":
        loss_lines = ["loss_fn = nn.CrossEntropyLoss()  # fused and stable: log-sum-exp"]
    else:
        source = inspect.getsource(naive_softmax_log).rstrip()
        loss_lines = ["", "", source, "", "", "loss_fn = naive_softmax_log"]
    lines = [
        '"""The network built in the glassnet playground, rebuilt and trained with glassnet.',
        "",
        "    python train.py          # train it from scratch, as the page did",
        "    python train.py --load   # or take the page's weights from model.safetensors",
        '"""',
        "",
        "import sys",
        "",
        "import numpy as np",
        "",
        "import glassnet as gn",
        "from glassnet import nn",
        "",
        f"# the data: {s.dataset}, standardized with the training split's mean and std",
        _data_line(s.dataset, s.seed),
        "x_train = splits.x_train.reshape(len(splits.x_train), -1)",
        "x_test = splits.x_test.reshape(len(splits.x_test), -1)",
        "scaler = gn.data.Standardize().fit(x_train)",
        "x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)",
        "",
        f"# the network: {shape} -> {classes} classes (the same initial weights as the page's)",
        f"generator = np.random.default_rng({s.seed})",
        "model = nn.Sequential(",
        *modules,
        ")",
        *loss_lines,
        f"optimizer = {_OPTIMIZERS[s.optimizer].format(lr=s.lr)}",
        "",
        'if "--load" in sys.argv:',
        '    model.load_state_dict(gn.load("model.safetensors"))',
        "else:",
        "    gn.manual_seed(0)  # the order of the batches",
        "    data = gn.data.TensorDataset(x_train, splits.y_train)",
        f"    loader = gn.data.DataLoader(data, batch_size={s.batch_size}, shuffle=True)",
        f"    for epoch in range({epochs}):",
        "        for x, y in loader:",
        "            optimizer.zero_grad()",
        "            loss = loss_fn(model(x), y)",
        "            if not np.isfinite(loss.item()):",
        '                sys.exit(f"training diverged in epoch {epoch}: the loss became "',
        '                         f"{loss.item()}; lower the learning rate")',
        "            loss.backward()",
        "            optimizer.step()",
        "",
        "model.eval()",
        "with gn.no_grad():",
        "    predicted = model(gn.tensor(x_test)).numpy().argmax(1)",
        'print(f"test accuracy {(predicted == splits.y_test).mean():.1%}")',
        "",
    ]
    return "\n".join(lines)
