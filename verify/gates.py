"""Split fused recurrent arrays into their gate blocks, and join them back.

Keras stores a cell's gates side by side along the last axis of the kernel, the recurrent
kernel and the bias. For an LSTM (the default here) the order is :data:`GATES`:
``[0:u]`` input ``i``, ``[u:2u]`` forget ``f``, ``[2u:3u]`` cell candidate ``c``,
``[3u:4u]`` output ``o``. Pass ``cell="GRU"`` for a GRU's ``z, r, h`` (update, reset,
candidate), ``cell="SimpleRNN"`` for its single block ``h``.

>>> import numpy as np
>>> parts = split(np.arange(8))
>>> {gate: part.tolist() for gate, part in parts.items()}
{'i': [0, 1], 'f': [2, 3], 'c': [4, 5], 'o': [6, 7]}
>>> join(parts).tolist()
[0, 1, 2, 3, 4, 5, 6, 7]
>>> {gate: part.tolist() for gate, part in split(np.arange(6), cell="GRU").items()}
{'z': [0, 1], 'r': [2, 3], 'h': [4, 5]}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from verify import cells

#: The gate order of Keras LSTM weights along their last axis (every version, every backend).
GATES: tuple[str, str, str, str] = ("i", "f", "c", "o")

#: What each LSTM gate letter stands for.
GATE_NAMES: dict[str, str] = {"i": "input", "f": "forget", "c": "cell candidate", "o": "output"}

CellName = str | cells.Cell


def block(gate: str, units: int, *, cell: CellName = "LSTM") -> slice:
    """The column range of ``gate`` in a fused array of ``len(gates) * units`` columns.

    >>> block("f", 128)
    slice(128, 256, None)
    >>> block("h", 32, cell="GRU")
    slice(64, 96, None)
    """
    return cells.get(cell).block(gate, units)


def split(array: Any, *, cell: CellName = "LSTM") -> dict[str, np.ndarray]:
    """Split ``array`` by gate along its last axis: ``{"i": ..., "f": ..., "c": ..., "o": ...}``
    for an LSTM.

    Works for the kernel, the recurrent kernel and the bias alike (each row of a GRU's
    ``(2, 3u)`` bias too). The parts are views of ``array`` (as with ``numpy.split``): writing
    into them writes into ``array``.
    """
    return cells.get(cell).split(array)


def join(parts: Mapping[str, Any], *, cell: CellName = "LSTM") -> np.ndarray:
    """Inverse of :func:`split`: concatenate the gate blocks in Keras's order."""
    return cells.get(cell).join(parts)
