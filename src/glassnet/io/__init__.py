"""Files: safetensors for arrays, JSON for everything else, writes that are atomic."""

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
