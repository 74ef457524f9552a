"""Adding a cell kind: one module (a :class:`verify.cells.Cell` subclass) and one call.

:func:`register_cell` puts the cell where every part of the library looks it up: the cell
registry (:data:`verify.cells.CELLS`: shapes, formulas, the reference, gates, conversions),
the configuration classes (:data:`verify.config.RNN_CONFIGS`: strategies, saved configs,
``explain``) and the registry of layer kinds (:data:`verify.layers.HANDLERS`:
:func:`verify.predict`, the file reader). The verification machinery builds its properties
from the cell (:func:`verify.suite.properties.cell_properties`).

>>> from verify import cells
>>> sorted(cells.CELLS)
['GRU', 'LSTM', 'SimpleRNN']
"""

from __future__ import annotations

import dataclasses
from typing import Any

from verify import cells, config, layers, model


def register_cell(cell: cells.Cell, config_class: type[config.RNNConfig] | None = None
                  ) -> type[config.RNNConfig]:
    """Register ``cell`` (named as its Keras layer class) and return its configuration class:
    ``config_class`` if given, else one made from :class:`verify.config.RNNConfig` with a
    field per entry of the cell's ``option_defaults``. Registering the same cell again returns
    the class it has; another cell under a taken name raises ``ValueError``."""
    if not isinstance(cell, cells.Cell):
        raise TypeError(f"cell must be a verify.cells.Cell, got {type(cell).__name__}")
    if not cell.name.isidentifier() or not cell.key.isidentifier() or not cell.gates:
        raise ValueError(f"{cell!r}: a cell needs a name and a key that are identifiers and "
                         f"at least one gate (name={cell.name!r}, key={cell.key!r}, "
                         f"gates={cell.gates!r})")
    if cell.name in cells.CELLS:
        if cells.CELLS[cell.name] is not cell:
            raise ValueError(f"a cell named {cell.name!r} is registered already")
        return config.RNN_CONFIGS[cell.name]
    if config_class is None:
        config_class = _config_class(cell)
    elif not (issubclass(config_class, config.RNNConfig) and cell.name == config_class.CELL):
        raise TypeError(f"config_class must be an RNNConfig subclass with CELL = {cell.name!r}")
    cells.CELLS[cell.name] = cell
    config.RNN_CONFIGS[cell.name] = config_class
    layers.HANDLERS[cell.name] = model.RECURRENT
    return config_class


def _config_class(cell: cells.Cell) -> type[config.RNNConfig]:
    fields: list[Any] = [(name, type(default), dataclasses.field(default=default))
                         for name, default in cell.option_defaults.items()]
    # CELL (unannotated in the namespace) stays a class attribute, as in LSTMConfig.
    return dataclasses.make_dataclass(
        f"{cell.name}Config", fields, bases=(config.RNNConfig,), frozen=True, repr=False,
        namespace={"CELL": cell.name, "__doc__": f"One {cell.name} layer ({cell.label})."})


__all__ = ["register_cell"]
