"""Parameter: a Tensor that a Module registers as something to train."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True`` that modules collect in ``parameters()``.

    ``Parameter(t)`` shares memory with the tensor (or array) ``t``, as in PyTorch.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        array = data.data if isinstance(data, Tensor) else np.asarray(data)
        super().__init__(np.empty((0,), dtype=array.dtype))
        self.data = array
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
