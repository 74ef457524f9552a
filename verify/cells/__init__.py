"""The recurrent cell kinds, one module each: :mod:`~verify.cells.lstm`,
:mod:`~verify.cells.gru`, :mod:`~verify.cells.simple_rnn`.

Each module is the single home of what is specific to its cell: gate names and order, weight
shapes and the parameter formula, the step equations of the reference, its PyTorch and ONNX
layouts, and its gate-semantics experiments. Adding a cell kind means adding a module and
registering it in :data:`CELLS`.

>>> get("GRU").weight_shapes(14, 32)
[(14, 96), (32, 96), (2, 96)]
>>> get("GRU").param_count(14, 32)
4608
"""

from __future__ import annotations

from verify import _validate
from verify.cells.base import Cell, CellWeights, Saturation, Stepper
from verify.cells.gru import GRU
from verify.cells.lstm import LSTM
from verify.cells.simple_rnn import SIMPLE_RNN

#: Every cell kind, by its Keras layer class name.
CELLS: dict[str, Cell] = {cell.name: cell for cell in (LSTM, GRU, SIMPLE_RNN)}


def get(name: str | Cell) -> Cell:
    """The cell called ``name`` (``"LSTM"``, ``"GRU"``, ``"SimpleRNN"``), or ``name`` itself."""
    if isinstance(name, Cell):
        return name
    return CELLS[_validate.one_of("cell", name, tuple(CELLS))]


__all__ = ["CELLS", "GRU", "LSTM", "SIMPLE_RNN", "Cell", "CellWeights", "Saturation",
           "Stepper", "get"]
