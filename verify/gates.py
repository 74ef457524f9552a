"""Split fused LSTM arrays into their four gate blocks, and join them back.

Keras stores the four gates side by side along the last axis of ``kernel (d, 4u)``,
``recurrent_kernel (u, 4u)`` and ``bias (4u,)``, in the order :data:`GATES`:
``[0:u]`` input ``i``, ``[u:2u]`` forget ``f``, ``[2u:3u]`` cell candidate ``c``,
``[3u:4u]`` output ``o``.

>>> import numpy as np
>>> parts = split(np.arange(8))
>>> {gate: part.tolist() for gate, part in parts.items()}
{'i': [0, 1], 'f': [2, 3], 'c': [4, 5], 'o': [6, 7]}
>>> join(parts).tolist()
[0, 1, 2, 3, 4, 5, 6, 7]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from verify import _validate

#: The gate order of Keras LSTM weights along their last axis (every version, every backend).
GATES: tuple[str, str, str, str] = ("i", "f", "c", "o")

#: What each gate letter stands for.
GATE_NAMES: dict[str, str] = {"i": "input", "f": "forget", "c": "cell candidate", "o": "output"}


def block(gate: str, units: int) -> slice:
    """The column range of ``gate`` in a fused array of ``4 * units`` columns.

    >>> block("f", 128)
    slice(128, 256, None)
    """
    _validate.one_of("gate", gate, GATES)
    units = _validate.positive_int("units", units)
    start = GATES.index(gate) * units
    return slice(start, start + units)


def split(array: Any) -> dict[str, np.ndarray]:
    """Split ``array`` by gate along its last axis: ``{"i": ..., "f": ..., "c": ..., "o": ...}``.

    Works for the kernel, the recurrent kernel and the bias alike. The parts are views of
    ``array`` (as with ``numpy.split``): writing into them writes into ``array``.
    """
    array = _validate.numeric_array("array", array, min_ndim=1)
    columns = array.shape[-1]
    if columns == 0 or columns % len(GATES):
        raise ValueError(
            f"array's last axis must be a positive multiple of {len(GATES)} (one block per "
            f"gate {', '.join(GATES)}), got shape {array.shape}"
        )
    return dict(zip(GATES, np.split(array, len(GATES), axis=-1), strict=True))


def join(parts: Mapping[str, Any]) -> np.ndarray:
    """Inverse of :func:`split`: concatenate the four gate blocks in the order :data:`GATES`."""
    if not isinstance(parts, Mapping):
        raise TypeError(f"parts must be a mapping with keys {', '.join(GATES)}, "
                        f"got {_validate.describe(parts)}")
    if set(parts) != set(GATES):
        missing = [gate for gate in GATES if gate not in parts]
        extra = sorted(str(key) for key in parts if key not in GATES)
        raise ValueError(f"parts must have exactly the keys {', '.join(GATES)}; "
                         f"missing {missing}, unexpected {extra}")
    arrays = {gate: _validate.numeric_array(f"parts[{gate!r}]", parts[gate], min_ndim=1)
              for gate in GATES}
    shapes = {gate: array.shape for gate, array in arrays.items()}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"all gate blocks must have the same shape, got {shapes}")
    return np.concatenate([arrays[gate] for gate in GATES], axis=-1)
