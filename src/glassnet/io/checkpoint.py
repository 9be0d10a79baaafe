"""Checkpoints: everything needed to resume training exactly, in one safetensors file.

Arrays (the model's state dict, the optimizer's buffers) are tensors in the file; the rest
(hyper-parameters, scheduler state, epoch, history, random-generator states) is JSON in its
metadata. Nothing is pickled. The file is written atomically, so a run killed while saving
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from glassnet.io.safetensors_io import load_with_metadata, save

FORMAT = "glassnet.checkpoint.v1"


def _split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict]:
    arrays, rest = {}, {"param_groups": state["param_groups"], "state": {}}
    for index, values in state["state"].items():
        scalars = {}
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                arrays[f"optimizer/{index}/{name}"] = value
            else:
                scalars[name] = value
        rest["state"][str(index)] = scalars
    return arrays, rest


def _join_optimizer_state(arrays: dict[str, np.ndarray], rest: dict) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in rest["state"].items()}
    for key, value in arrays.items():
        _, index, name = key.split("/", 2)
        state.setdefault(int(index), {})[name] = value
    groups = [
        {k: (tuple(v) if isinstance(v, list) and k != "params" else v) for k, v in g.items()}
        for g in rest["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    **extra: Any,
) -> None:
    """Save model, optimizer and scheduler state plus JSON-serialisable ``extra`` values
    (epoch, history, generator states, ...) to one file, atomically."""
    tensors = {f"model/{k}": v for k, v in model.state_dict().items()}
    meta: dict[str, Any] = {"format": FORMAT, "extra": extra}
    if optimizer is not None:
        arrays, rest = _split_optimizer_state(optimizer.state_dict())
        tensors.update(arrays)
        meta["optimizer"] = rest
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
    save(tensors, path, metadata={"glassnet": json.dumps(meta)})


def load_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Restore what ``save_checkpoint`` wrote into ``model`` (and ``optimizer``,
    ``scheduler``); return the ``extra`` values.

    The model's load checks every key, shape and dtype before changing anything.

    Raises:
        ValueError: the file is not a glassnet checkpoint or does not fit the model.
    """
    arrays, metadata = load_with_metadata(path)
    try:
        meta = json.loads(metadata["glassnet"])
        if meta.get("format") != FORMAT:
            raise KeyError("format")
    except (KeyError, json.JSONDecodeError, TypeError):
        raise ValueError(
            f"{path} is a safetensors file but not a glassnet checkpoint; for a plain state "
            "dict use gn.load(path) and model.load_state_dict(...)"
        ) from None
    model_state = {k[len("model/") :]: v for k, v in arrays.items() if k.startswith("model/")}
    model.load_state_dict(model_state)
    if optimizer is not None:
        if "optimizer" not in meta:
            raise ValueError(f"{path} holds no optimizer state")
        optimizer_arrays = {k: v for k, v in arrays.items() if k.startswith("optimizer/")}
        optimizer.load_state_dict(_join_optimizer_state(optimizer_arrays, meta["optimizer"]))
    if scheduler is not None:
        if "scheduler" not in meta:
            raise ValueError(f"{path} holds no scheduler state")
        scheduler.load_state_dict(meta["scheduler"])
    return meta.get("extra", {})
