"""Type promotion: the dtype of a binary op's result, by PyTorch's rules (not NumPy's).

NumPy lets any operand widen the result (float32 array + float64 0-d array -> float64);
PyTorch lets a number or a 0-d tensor decide only when it brings a higher *kind* of
number. ``result_type`` is that rule; every binary op (+ - * / ** maximum minimum where
clamp and the comparisons) converts its operands to it before computing.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from glassnet.autograd.tensor import Tensor

DEFAULT_FLOAT = np.dtype(np.float32)  # what a Python float (and int / int) becomes

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < float
_NUMBER, _ZERO_DIM, _DIMENSIONED = 0, 1, 2  # the three ranks of an operand


def _rank_and_dtype(operand: Any) -> tuple[int, np.dtype]:
    if isinstance(operand, (bool, np.bool_)):
        return _NUMBER, np.dtype(np.bool_)
    if isinstance(operand, (int, np.integer)):
        return _NUMBER, np.dtype(np.int64)
    if isinstance(operand, (float, np.floating)):
        return _NUMBER, DEFAULT_FLOAT
    array = operand.data if isinstance(operand, Tensor) else np.asarray(operand)
    if array.dtype.kind not in _CATEGORY:
        raise TypeError(
            f"expected a tensor or a number as operand, got {type(operand).__name__} "
            f"(NumPy dtype {array.dtype}); pass numbers, tensors or numeric arrays"
        )
    return (_DIMENSIONED if array.ndim else _ZERO_DIM), array.dtype


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch gives an elementwise op on ``operands``.

    The rule: the result has the highest category among the operands (bool < integer <
    float), with the dtype of the highest-ranked operands of that category, where a
    tensor with dimensions outranks a 0-d tensor, which outranks a number. A Python or
    NumPy number counts as bool, int64 or float32 (the default float). Operands of the
    same rank and category promote to the wider dtype (int32 with int64 -> int64).

    So float32 + 0-d float64 -> float32 (a 0-d tensor of the same category does not
    widen), int32 + 1 -> int32, int64 * 2.5 -> float32, int32 + 0-d float64 -> float64
    (the 0-d tensor brings the higher category, and its own dtype), bool + 1 -> int64.

    Args:
        operands: tensors, arrays (ranked as tensors) and numbers; None is skipped.

    Returns:
        The NumPy dtype of the result.
    """
    present = [operand for operand in operands if operand is not None]
    ranked = [(_CATEGORY[dt.kind], rank, dt) for rank, dt in map(_rank_and_dtype, present)]
    category = max(c for c, _, _ in ranked)
    top = max(r for c, r, _ in ranked if c == category)
    return functools.reduce(
        np.promote_types, [d for c, r, d in ranked if (c, r) == (category, top)]
    )
