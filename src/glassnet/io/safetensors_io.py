"""Save and load named arrays as safetensors: a JSON header and raw bytes, nothing that
executes. The same files load in PyTorch (``safetensors.torch.load_file``) and the
Hugging Face tools.

glassnet never unpickles: a file that is not valid safetensors is refused with an error
naming it, before any of its content is used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor
from glassnet.io.atomic import atomic_write_bytes

_ORDER_KEY = "glassnet.keys"  # metadata entry that keeps the caller's key order
MAX_HEADER_BYTES = 100_000_000  # the safetensors specification's own limit


def _to_array(name: str, value: Any) -> np.ndarray:
    array = value.data if isinstance(value, Tensor) else value
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"save: value {name!r} is a {type(value).__name__}; only Tensors and NumPy arrays "
            "can be saved (put other settings in metadata=)"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"save: value {name!r} has dtype {array.dtype}, which safetensors cannot store"
        )
    # not np.ascontiguousarray: it turns a 0-d array (num_batches_tracked) into shape (1,)
    return array if array.flags.c_contiguous else array.copy(order="C")


def to_bytes(tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None) -> bytes:
    """Serialize named arrays (and string metadata) to safetensors bytes."""
    from safetensors.numpy import save as _save

    arrays = {str(k): _to_array(str(k), v) for k, v in tensors.items()}
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta[_ORDER_KEY] = json.dumps(list(arrays))
    return _save(arrays, metadata=meta)


def save(
    tensors: Mapping[str, Any],
    path: str | os.PathLike,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write a state dict (names to Tensors or arrays) to a safetensors file, atomically.

    Args:
        tensors: e.g. ``model.state_dict()``; a module itself is accepted and its
            ``state_dict()`` is saved (load it back with ``model.load_state_dict``).
        path: the file to write; an existing file is replaced only once the new one is
            complete on disk.
        metadata: optional string-to-string pairs stored in the header.

    Raises:
        TypeError: for a single tensor or array (a safetensors file names each tensor:
            pass ``{"name": tensor}``) or anything else that is not a mapping.
    """
    if callable(getattr(tensors, "state_dict", None)):  # a Module (io knows no nn: duck type)
        tensors = tensors.state_dict()
    if not isinstance(tensors, Mapping):
        kind = type(tensors).__name__
        raise TypeError(
            f"save: expects a state dict (names to tensors) or a module, got a {kind}; a "
            'safetensors file names every tensor, so pass {"name": tensor} for one tensor'
        )
    atomic_write_bytes(path, to_bytes(tensors, metadata))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object with a key twice is ambiguous (which tensor is meant?): refuse it."""
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        repeated = next(k for k in keys if keys.count(k) > 1)
        raise json.JSONDecodeError(f"the key {repeated!r} appears twice", "", 0)
    return dict(pairs)


def read_header(raw: bytes, source: str = "data") -> dict[str, Any]:
    """Parse and check the JSON header of safetensors bytes (without touching the data)."""
    if len(raw) < 8:
        raise ValueError(
            f"{source} is not a safetensors file: it has {len(raw)} bytes, fewer than the "
            "8-byte header length"
        )
    size = int.from_bytes(raw[:8], "little")
    if size > MAX_HEADER_BYTES or 8 + size > len(raw):
        raise ValueError(
            f"{source} is not a valid safetensors file: its header claims {size} bytes but the "
            f"file has {len(raw) - 8} after the length field (truncated, or not safetensors: "
            "glassnet reads only safetensors, never pickles)"
        )
    try:
        header = json.loads(raw[8 : 8 + size].decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise ValueError(
            f"{source} is not a valid safetensors file: its header is not UTF-8 JSON ({error})"
        ) from None
    if not isinstance(header, dict):
        raise ValueError(f"{source} is not a valid safetensors file: its header is not an object")
    return header


def from_bytes(raw: bytes, source: str = "data") -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse safetensors bytes into (arrays in saved order, metadata)."""
    from safetensors.numpy import load as _load

    header = read_header(raw, source)
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{source}: the safetensors metadata is not a string-to-string object")
    try:
        arrays = _load(bytes(raw))
    except Exception as error:  # the library's own checks: offsets, dtypes, overlaps ...
        raise ValueError(f"{source} is not a valid safetensors file: {error}") from None
    order = metadata.pop(_ORDER_KEY, None)
    if order is not None:
        try:
            keys = json.loads(order)
            if sorted(keys) == sorted(arrays):
                arrays = {k: arrays[k] for k in keys}
        except (json.JSONDecodeError, TypeError):
            pass  # a foreign or damaged order entry: keep the file's own order
    return arrays, metadata


def load(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a safetensors file into a dict of Tensors (in the order they were saved).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not valid safetensors (a pickle, a truncated file, ...).
    """
    arrays, _ = load_with_metadata(path)
    return {k: Tensor._make(v) for k, v in arrays.items()}


def load_with_metadata(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a safetensors file into (arrays, metadata)."""
    raw = Path(path).read_bytes()
    arrays, metadata = from_bytes(raw, str(path))
    # The library returns read-only views of the file's bytes; give the caller owned arrays.
    return {k: np.array(v) for k, v in arrays.items()}, metadata
