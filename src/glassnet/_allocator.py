"""Keep freed memory in the process rather than handing it back to the OS after each step.

A training step allocates and frees the same few megabytes every time (im2col columns,
activations, their gradients). glibc's malloc serves arrays above its mmap threshold with
fresh pages from the OS and trims its heap whenever more than its trim threshold is free at
the top; it starts these at 128 KB and raises them on the fly (up to 32 MB and 64 MB) only
as large arrays come and go, so a step that frees its arrays in another order than it made
them keeps touching new pages: a page fault (a trip through the kernel) per 4 KB. Measured
on the benchmark's training steps (one thread, each framework in its own process): 420
faults and a fifth of the MNIST-1D CNN's step at batch 128, 1,900 faults and a third of
LeNet's at batch 32; PyTorch and a hand-written NumPy step had none. Starting both
thresholds where glibc's own adjustment ends removes them all.

This changes how the whole process allocates, so it stays out of the way: only glibc
(Linux) is touched, never when the user set any ``MALLOC_*`` variable (glibc reads those
itself), and ``GLASSNET_MALLOC_DEFAULTS=1`` leaves malloc as it was.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # glibc's ceiling for its dynamic threshold on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the trim threshold glibc pairs with it


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds to 32 and 64 MB; True if they were set."""
    if not sys.platform.startswith("linux") or os.environ.get("GLASSNET_MALLOC_DEFAULTS"):
        return False
    if any(name.startswith("MALLOC_") for name in os.environ):
        return False
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: their own malloc
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
