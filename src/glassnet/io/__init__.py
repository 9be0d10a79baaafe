"""Files: safetensors for arrays, JSON for everything else, writes that are atomic.

Models to other tools live here too, imported on first use: ``glassnet.io.onnx`` (ONNX
export, also ``gn.onnx``) and ``glassnet.io.interop`` (PyTorch and scikit-learn, also
``gn.interop``).
"""

from glassnet.io.atomic import atomic_write_bytes, atomic_write_text
from glassnet.io.checkpoint import load_checkpoint, save_checkpoint
from glassnet.io.safetensors_io import load, load_with_metadata, save

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "load",
    "load_checkpoint",
    "load_with_metadata",
    "save",
    "save_checkpoint",
]
