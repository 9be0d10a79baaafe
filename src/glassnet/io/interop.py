"""Models in and out: PyTorch both ways, scikit-learn in. No pickle anywhere: weights move
as NumPy arrays (or safetensors files), by the state-dict names both libraries share.

PyTorch and scikit-learn are imported only inside these functions; glassnet never needs
them to run.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from glassnet import nn
from glassnet.autograd.tensor import Tensor


def _torch():
    # Loaded only here, when a user asks to convert to or from PyTorch: glassnet itself
    # never needs it (and `import glassnet` never loads it; a test checks that).
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        raise ImportError(
            "this conversion needs PyTorch; install it (glassnet's tests pin torch==2.13.0)"
        ) from None
    return torch


def _pairs(torch: Any) -> list[tuple[type, Any]]:
    """(glassnet class, torch class) for every layer that converts both ways."""
    t = torch.nn
    return [
        (nn.Sequential, t.Sequential),
        (nn.Linear, t.Linear),
        (nn.ReLU, t.ReLU),
        (nn.LeakyReLU, t.LeakyReLU),
        (nn.ELU, t.ELU),
        (nn.GELU, t.GELU),
        (nn.SiLU, t.SiLU),
        (nn.Sigmoid, t.Sigmoid),
        (nn.Tanh, t.Tanh),
        (nn.Softplus, t.Softplus),
        (nn.Softmax, t.Softmax),
        (nn.LogSoftmax, t.LogSoftmax),
        (nn.Dropout, t.Dropout),
        (nn.Flatten, t.Flatten),
        (nn.Identity, t.Identity),
        (nn.LayerNorm, t.LayerNorm),
        (nn.BatchNorm1d, t.BatchNorm1d),
        (nn.Embedding, t.Embedding),
        (nn.Conv1d, t.Conv1d),
        (nn.Conv2d, t.Conv2d),
        (nn.MaxPool1d, t.MaxPool1d),
        (nn.MaxPool2d, t.MaxPool2d),
        (nn.AvgPool1d, t.AvgPool1d),
        (nn.AvgPool2d, t.AvgPool2d),
        (nn.AdaptiveAvgPool1d, t.AdaptiveAvgPool1d),
        (nn.AdaptiveAvgPool2d, t.AdaptiveAvgPool2d),
        (nn.BatchNorm2d, t.BatchNorm2d),
        (nn.GroupNorm, t.GroupNorm),
        (nn.RMSNorm, t.RMSNorm),
        (nn.Dropout2d, t.Dropout2d),
        (nn.Unflatten, t.Unflatten),
        (nn.RNN, t.RNN),
        (nn.GRU, t.GRU),
        (nn.LSTM, t.LSTM),
        (nn.RNNCell, t.RNNCell),
        (nn.GRUCell, t.GRUCell),
        (nn.LSTMCell, t.LSTMCell),
        (nn.MultiheadAttention, t.MultiheadAttention),
        (nn.TransformerEncoderLayer, t.TransformerEncoderLayer),
        (nn.TransformerDecoderLayer, t.TransformerDecoderLayer),
        (nn.TransformerEncoder, t.TransformerEncoder),
        (nn.TransformerDecoder, t.TransformerDecoder),
    ]


# Constructor arguments per layer, (positional, keyword), read from the attributes of the
# same names, which both libraries keep; "bias" means "has a bias" (the attribute holds the
# parameter or None, or the flag itself in the recurrent layers). A layer whose arguments
# are not all attributes has a function instead, ``(layer, convert) -> (args, kwargs)``,
# with ``convert`` turning a sublayer into the other library's. A layer missing here is
# built with no arguments.
_BATCH_NORM = (("num_features",), ("eps", "momentum", "affine", "bias", "track_running_stats"))
_CONV = (
    ("in_channels", "out_channels", "kernel_size"),
    ("stride", "padding", "dilation", "groups", "bias", "padding_mode"),
)
_MAX_POOL = (("kernel_size",), ("stride", "padding", "dilation", "return_indices", "ceil_mode"))
_AVG_POOL = (("kernel_size",), ("stride", "padding", "ceil_mode", "count_include_pad"))
_RECURRENT = (("input_size", "hidden_size"), ("num_layers", "bias", "batch_first", "dropout",
    "bidirectional"))  # fmt: skip
_CELL = (("input_size", "hidden_size"), ("bias",))


def _attention_args(layer: Any, convert: Any) -> tuple[tuple, dict]:
    """MultiheadAttention keeps no ``bias`` or ``add_bias_kv`` flag: its parameters say."""
    keywords = {k: getattr(layer, k) for k in ("dropout", "add_zero_attn", "kdim", "vdim")}
    keywords |= {
        "bias": layer.in_proj_bias is not None,
        "add_bias_kv": layer.bias_k is not None,
        "batch_first": layer.batch_first,
    }
    return (layer.embed_dim, layer.num_heads), keywords


def _activation_name(layer: Any, convert: Any) -> Any:
    """A transformer layer's activation as its constructor takes it. Both libraries keep
    the function, not the name: a layer (nn.ReLU(), nn.GELU("tanh"), ...) is converted, the
    functions relu and gelu become "relu" and "gelu", and other callables cannot cross."""
    activation = layer.activation
    if hasattr(activation, "state_dict"):
        return convert(activation)
    name = getattr(activation, "__name__", "")
    if name in ("relu", "gelu"):
        return name
    raise TypeError(
        f"cannot convert {type(layer).__name__} with activation {activation!r}: only 'relu', "
        "'gelu' or a layer of the supported list cross between glassnet and PyTorch; rebuild "
        "the layer on the other side with the same function"
    )


def _transformer_layer_args(layer: Any, convert: Any) -> tuple[tuple, dict]:
    """d_model and nhead live in self_attn, dim_feedforward in linear1, eps in norm1."""
    attention = layer.self_attn
    return (attention.embed_dim, attention.num_heads), {
        "dim_feedforward": layer.linear1.out_features,
        "dropout": layer.dropout.p,
        "activation": _activation_name(layer, convert),
        "layer_norm_eps": layer.norm1.eps,
        "batch_first": attention.batch_first,
        "norm_first": layer.norm_first,
        "bias": layer.linear1.bias is not None,
    }


def _transformer_stack_args(layer: Any, convert: Any) -> tuple[tuple, dict]:
    """A stack is built from one layer, copied num_layers times (the weights follow)."""
    keywords = {"norm": None if layer.norm is None else convert(layer.norm)}
    if type(layer).__name__ == "TransformerEncoder":
        # PyTorch's nested-tensor fast path zeroes padded positions that glassnet keeps
        keywords["enable_nested_tensor"] = False
    return (convert(layer.layers[0]), len(layer.layers)), keywords


_ARGUMENTS: dict[str, Any] = {
    "Linear": (("in_features", "out_features"), ("bias",)),
    "LeakyReLU": (("negative_slope",), ()),
    "ELU": (("alpha",), ()),
    "GELU": ((), ("approximate",)),
    "Softplus": ((), ("beta", "threshold")),
    "Softmax": ((), ("dim",)),
    "LogSoftmax": ((), ("dim",)),
    "Dropout": (("p",), ()),
    "Dropout2d": (("p",), ()),
    "Flatten": (("start_dim", "end_dim"), ()),
    "Unflatten": (("dim", "unflattened_size"), ()),
    "LayerNorm": (("normalized_shape",), ("eps", "elementwise_affine", "bias")),
    "BatchNorm1d": _BATCH_NORM,
    "BatchNorm2d": _BATCH_NORM,
    "GroupNorm": (("num_groups", "num_channels"), ("eps", "affine", "bias")),
    "RMSNorm": (("normalized_shape",), ("eps", "elementwise_affine")),
    "Embedding": (("num_embeddings", "embedding_dim"), ("padding_idx",)),
    "Conv1d": _CONV,
    "Conv2d": _CONV,
    "MaxPool1d": _MAX_POOL,
    "MaxPool2d": _MAX_POOL,
    "AvgPool1d": _AVG_POOL,
    "AvgPool2d": (_AVG_POOL[0], (*_AVG_POOL[1], "divisor_override")),
    "AdaptiveAvgPool1d": (("output_size",), ()),
    "AdaptiveAvgPool2d": (("output_size",), ()),
    "RNN": (_RECURRENT[0], (*_RECURRENT[1], "nonlinearity")),
    "GRU": _RECURRENT,
    "LSTM": (_RECURRENT[0], (*_RECURRENT[1], "proj_size")),
    "RNNCell": (_CELL[0], (*_CELL[1], "nonlinearity")),
    "GRUCell": _CELL,
    "LSTMCell": _CELL,
    "MultiheadAttention": _attention_args,
    "TransformerEncoderLayer": _transformer_layer_args,
    "TransformerDecoderLayer": _transformer_layer_args,
    "TransformerEncoder": _transformer_stack_args,
    "TransformerDecoder": _transformer_stack_args,
}


def _layer_args(layer: Any, convert: Any) -> tuple[tuple, dict]:
    """Constructor arguments shared by a layer in both libraries (same attribute names)."""

    def read(attribute: str) -> Any:
        if attribute == "bias":
            value = getattr(layer, "bias", None)
            return value if isinstance(value, bool) else value is not None
        value = getattr(layer, attribute)
        return tuple(value) if isinstance(value, list) else value

    entry = _ARGUMENTS.get(type(layer).__name__, ((), ()))
    if callable(entry):
        return entry(layer, convert)
    positional, keywords = entry
    return tuple(map(read, positional)), {k: read(k) for k in keywords}


def _convert(module: Any, table: dict[type, type], source: str) -> Any:
    target = table.get(type(module))
    if target is None:
        supported = ", ".join(sorted({c.__name__ for c in table}))
        raise TypeError(
            f"cannot convert {type(module).__name__} from {source}; supported layers: "
            f"{supported} (and Sequential containers of them)"
        )
    if type(module).__name__ == "Sequential":
        children = [
            (name, _convert(child, table, source)) for name, child in module.named_children()
        ]
        from collections import OrderedDict

        return target(OrderedDict(children))
    args, kwargs = _layer_args(module, lambda child: _convert(child, table, source))
    return target(*args, **kwargs)


def _copy_state(source_state: dict[str, np.ndarray], target: Any, as_tensor: Any) -> None:
    target.load_state_dict({k: as_tensor(np.array(v)) for k, v in source_state.items()})


def to_torch(model: nn.Module) -> Any:
    """The equivalent ``torch.nn`` module with the same weights, dtype and mode."""
    torch = _torch()
    table = dict(_pairs(torch))
    twin = _convert(model, table, "glassnet")
    dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
    twin = twin.to(getattr(torch, np.dtype(dtype).name))
    _copy_state({k: v.numpy() for k, v in model.state_dict().items()}, twin, torch.from_numpy)
    return twin.train(model.training)


def from_torch(module: Any) -> nn.Module:
    """The equivalent glassnet module with the same weights, dtype and mode."""
    torch = _torch()
    table = {t: g for g, t in _pairs(torch)}
    twin = _convert(module, table, "PyTorch")
    state = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    floats = [v.dtype for v in state.values() if v.dtype.kind == "f"]
    if floats:
        twin.to(floats[0])
    _copy_state(state, twin, Tensor)
    return twin.train(module.training)


_SKLEARN_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid}


def from_sklearn(estimator: Any) -> nn.Sequential:
    """A fitted scikit-learn ``MLPClassifier`` or ``MLPRegressor`` as a glassnet
    ``Sequential`` (float64, as scikit-learn computes), to fine-tune or inspect.

    A classifier's model outputs the probabilities of ``predict_proba``, in the order of
    ``estimator.classes_`` (kept as the model's ``classes`` attribute); a binary
    classifier's single logistic unit becomes two outputs [1 - p, p] through a softmax. A
    regressor's model outputs the predictions.
    """
    name = type(estimator).__name__
    if name not in ("MLPClassifier", "MLPRegressor") or not hasattr(estimator, "coefs_"):
        raise TypeError(
            f"from_sklearn expects a fitted MLPClassifier or MLPRegressor, got {name}"
            + ("" if hasattr(estimator, "coefs_") else " that has not been fitted")
        )
    hidden = estimator.activation
    if hidden != "identity" and hidden not in _SKLEARN_ACTIVATIONS:
        raise TypeError(f"from_sklearn: unsupported activation {hidden!r}")
    layers: list = []
    weights: list[tuple[np.ndarray, np.ndarray]] = list(
        zip(estimator.coefs_, estimator.intercepts_)
    )
    output = getattr(estimator, "out_activation_", "identity")
    if output == "logistic":  # binary: z -> [0, z], then softmax gives [1 - p, p]
        w, b = weights[-1]
        weights[-1] = (np.concatenate([np.zeros_like(w), w], axis=1), np.concatenate([[0.0], b]))
    elif output not in ("softmax", "identity"):
        raise TypeError(f"from_sklearn: unsupported output activation {output!r} (multi-label?)")
    for i, (w, b) in enumerate(weights):
        linear = nn.Linear(w.shape[0], w.shape[1], dtype=np.float64)
        linear.weight.data[...] = (
            w.T
        )  # scikit-learn stores (in, out); PyTorch's layout is (out, in)
        linear.bias.data[...] = b
        layers.append(linear)
        if i < len(weights) - 1 and hidden != "identity":
            layers.append(_SKLEARN_ACTIVATIONS[hidden]())
    if output in ("softmax", "logistic"):
        layers.append(nn.Softmax(dim=1))
    model = nn.Sequential(*layers)
    if hasattr(estimator, "classes_"):
        model.classes = np.asarray(estimator.classes_)
    return model.eval()
