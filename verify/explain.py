"""Decode a model's recurrent weights: which array is which, its formula, its gate blocks.

Works on plain records (:class:`verify.records.LayerRecord`: a layer's path, class,
``get_config()`` and ``get_weights()``), so it needs no Keras; :mod:`verify.keras_adapter`
reads them from a loaded model, and ``python -m verify explain`` / ``export`` print or save what
this module builds. Every cell kind of :mod:`verify.cells` (LSTM, GRU, SimpleRNN), plain or in
``Bidirectional``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verify import cells
from verify.config import (
    RNN_CONFIGS,
    BidirectionalConfig,
    LSTMConfig,
    RNNConfig,
    recurrent_config,
)
from verify.convert import export_arrays, export_notes  # the export of explained layers
from verify.keras_config import cell_weights
from verify.records import LayerRecord

#: Recurrent layers this project does not model (named in the error).
UNSUPPORTED_RECURRENT = frozenset({"ConvLSTM3D", "CuDNNLSTM", "CuDNNGRU"})

__all__ = ["UNSUPPORTED_RECURRENT", "Explained", "LayerRecord", "UnsupportedModel",
           "explain", "export_arrays", "export_notes", "format_text"]


class UnsupportedModel(ValueError):
    """The model has no recurrent layer to explain, or one this project does not model."""


@dataclass
class Explained:
    """One recurrent layer decoded."""

    path: str
    config: RNNConfig | BidirectionalConfig
    directions: dict[str, list[np.ndarray]] = field(repr=False)
    param_count: int = 0
    param_formula: str = ""
    expected_params: int = 0
    #: The layer that holds the cell's arrays when it is not the LSTM/GRU/SimpleRNN layer
    #: itself: ``"TimeDistributed"``, ``"RNN"`` (a cell of ``keras.layers.RNN``), or
    #: ``"ConvLSTM1D"``/``"ConvLSTM2D"`` (convolution kernels: see ``kernel_size``).
    holder: str | None = None
    #: A ConvLSTM's kernel size: its kernels are ``(*kernel_size, d, 4u)`` and
    #: ``(*kernel_size, u, 4u)``, the gate blocks along the last axis (``u`` = filters).
    kernel_size: tuple[int, ...] = ()

    @property
    def cell(self) -> cells.Cell:
        return self.config.cell

    @property
    def layer(self) -> RNNConfig:
        return self.config.recurrent

    @property
    def kind(self) -> str:
        if self.holder == "RNN":
            return f"RNN({self.cell.name}Cell)"
        if self.kernel_size:
            return str(self.holder)
        if self.holder is not None:
            return f"{self.holder}({self.cell.name})"
        return (f"Bidirectional({self.cell.name})" if isinstance(self.config, BidirectionalConfig)
                else self.cell.name)

    @property
    def units(self) -> int:
        return self.layer.units

    @property
    def input_dim(self) -> int:
        return self.layer.input_dim

    @property
    def merge_mode(self) -> str | None:
        return self.config.merge_mode if isinstance(self.config, BidirectionalConfig) else None

    def arrays(self) -> list[dict[str, Any]]:
        """Each array: its name, shape, the formula behind the shape, and its gate blocks
        (``row`` is the bias row of a GRU's ``(2, 3u)`` bias, else ``None``)."""
        cell, u = self.cell, self.units
        formulas = cell.shape_formulas(use_bias=self.layer.use_bias, **self.layer.cell_options)
        if self.kernel_size:  # (kh, kw, d, 4u): the gate blocks are still the last axis
            taps = "k" if len(self.kernel_size) == 1 else "kh, kw"
            formulas = [f"({taps}, d, 4u)", f"({taps}, u, 4u)",
                        *(["(4u,)"] if self.layer.use_bias else [])]
        bias_rows = cell.bias_rows(self.layer.cell_options)
        letters = {"kernel": "W", "recurrent_kernel": "U", "bias": "b"}
        rows = []
        for direction, (name_prefix, arrays) in zip(self.directions, self._prefixed(),
                                                    strict=True):
            names = ["kernel", "recurrent_kernel", "bias"][:len(arrays)]
            for name, array, formula in zip(names, arrays, formulas, strict=True):
                blocks = []
                bias_row_list: Sequence[int | None] = (
                    range(len(bias_rows)) if name == "bias" and bias_rows else [None])
                for row in bias_row_list:
                    for gate in cell.gates:
                        columns = cell.block(gate, u)
                        span = f"{columns.start}:{columns.stop}"
                        if name != "bias":
                            axes = "..." if self.kernel_size else ":"
                            where, symbol = f"{name}[{axes}, {span}]", f"{letters[name]}_{gate}"
                        elif row is None:
                            where, symbol = f"{name}[{span}]", f"b_{gate}"
                        else:
                            where = f"{name}[{row}, {span}]"
                            symbol = f"{'b' if row == 0 else 'rb'}_{gate}"
                        meaning = cell.gate_names[gate]
                        if row is not None:
                            meaning += f", {bias_rows[row]} bias"
                        blocks.append({"gate": gate, "meaning": meaning,
                                       "columns": [columns.start, columns.stop], "row": row,
                                       "slice": where, "symbol": symbol})
                rows.append({"name": f"{name_prefix}{name}", "direction": direction,
                             "shape": list(array.shape), "formula": formula, "gates": blocks})
        return rows

    def _prefixed(self) -> list[tuple[str, list[np.ndarray]]]:
        if len(self.directions) == 1:
            return [("", arrays) for arrays in self.directions.values()]
        return [(f"{direction} ", arrays) for direction, arrays in self.directions.items()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "cell": self.cell.name, "units": self.units,
            "input_dim": self.input_dim, "use_bias": self.layer.use_bias,
            "activation": self.layer.activation, **self.layer.cell_options,
            "merge_mode": self.merge_mode, "go_backwards": self.layer.go_backwards,
            **({"kernel_size": list(self.kernel_size)} if self.kernel_size else {}),
            "gates": {gate: self.cell.gate_names[gate] for gate in self.cell.gates},
            "arrays": self.arrays(),
            "parameters": {"count": self.param_count, "formula": self.param_formula,
                           "expected": self.expected_params,
                           "matches": self.param_count == self.expected_params},
        }


def explain(records: Sequence[LayerRecord]) -> list[Explained]:
    """Every LSTM, GRU and SimpleRNN (plain or in a Bidirectional) in ``records``, decoded.

    Raises :class:`UnsupportedModel` for a ConvLSTM, CuDNNLSTM, a generic ``RNN`` … (named)
    and when there is no recurrent layer at all.
    """
    explained = []
    for record in records:
        inner = record.wrapped or record.class_name
        shown = record.class_name + (f"({record.wrapped})" if record.wrapped else "")
        if inner in UNSUPPORTED_RECURRENT:
            raise UnsupportedModel(f"layer {record.path!r} is a {shown}: not supported (LSTM, "
                                   "GRU and SimpleRNN are, plain, in Bidirectional or "
                                   "TimeDistributed, or as cells of RNN)")
        if record.class_name in ("ConvLSTM1D", "ConvLSTM2D"):
            explained.append(_explain_conv(record))
        elif record.class_name == "RNN":
            explained += [dataclasses.replace(_explain_one(cell), holder="RNN")
                          for cell in _rnn_cells(record)]
        elif inner in RNN_CONFIGS and record.class_name in (*RNN_CONFIGS, "Bidirectional"):
            explained.append(_explain_one(record))
        elif inner in RNN_CONFIGS and record.class_name == "TimeDistributed":
            wrapped = LayerRecord(path=record.path, class_name=inner,
                                  config=record.config["layer"]["config"],
                                  weights=record.weights)
            explained.append(dataclasses.replace(_explain_one(wrapped), holder="TimeDistributed"))
        elif inner in RNN_CONFIGS:
            raise UnsupportedModel(f"layer {record.path!r} wraps a {inner} in "
                                   f"{record.class_name}: not supported")
    if not explained:
        raise UnsupportedModel("the model has no LSTM, GRU or SimpleRNN layer (plain or in "
                               "Bidirectional) to explain")
    return explained


def _rnn_cells(record: LayerRecord) -> list[LayerRecord]:
    """A ``keras.layers.RNN``'s cells as the equivalent layers' records (path
    ``<rnn>/<cell name>``), each with its slice of the layer's arrays."""
    try:
        cells = cell_weights({"class_name": "RNN", "config": record.config,
                              "name": record.path.split("/")[-1]}, record.weights)
    except (NotImplementedError, ValueError) as error:
        raise UnsupportedModel(f"layer {record.path!r}: {error}") from error
    return [LayerRecord(path=f"{record.path}/{str(layer['config']['name']).split('/')[-1]}",
                        class_name=str(layer["class_name"]), config=layer["config"],
                        weights=arrays) for layer, arrays in cells]


def _explain_conv(record: LayerRecord) -> Explained:
    """A ConvLSTM1D/2D: an LSTM's gates (i, f, c, o along the last axis) over convolution
    kernels ``(*k, d, 4u)`` and ``(*k, u, 4u)``."""
    weights = [np.asarray(w) for w in record.weights]
    config = record.config
    if not weights or weights[0].ndim < 3:
        raise UnsupportedModel(f"layer {record.path!r}: expected a kernel (*kernel_size, d, 4u) "
                               f"first, got shapes {[w.shape for w in weights]}")
    kernel_size = tuple(int(k) for k in weights[0].shape[:-2])
    d, u = int(weights[0].shape[-2]), int(config["filters"])
    use_bias = bool(config.get("use_bias", True))
    expected = [(*kernel_size, d, 4 * u), (*kernel_size, u, 4 * u)] + ([(4 * u,)] if use_bias
                                                                      else [])
    if [tuple(w.shape) for w in weights] != expected:
        raise UnsupportedModel(f"layer {record.path!r}: weight shapes "
                               f"{[tuple(w.shape) for w in weights]} do not follow the "
                               f"{record.class_name} formula {expected}")
    lstm = LSTMConfig(units=u, input_dim=d, use_bias=use_bias,
                      activation=str(config.get("activation", "tanh")),
                      recurrent_activation=str(config.get("recurrent_activation", "sigmoid")),
                      go_backwards=bool(config.get("go_backwards", False)))
    taps = int(np.prod(kernel_size))
    bias = " + 1" if use_bias else ""
    count = 4 * u * (taps * d + taps * u + int(use_bias))
    return Explained(
        path=record.path, config=lstm, directions={"forward": weights},
        param_count=sum(int(w.size) for w in weights),
        param_formula=f"4u(k d + k u{bias}), k = {'*'.join(map(str, kernel_size))} taps = "
                      f"4*{u}*({taps}*{d} + {taps}*{u}{bias}) = {count}",
        expected_params=count, holder=record.class_name, kernel_size=kernel_size)


def _explain_one(record: LayerRecord) -> Explained:
    weights = [np.asarray(w) for w in record.weights]
    if not weights or weights[0].ndim != 2:
        raise UnsupportedModel(f"layer {record.path!r}: expected a kernel (input_dim, ...) "
                               f"first, got shapes {[w.shape for w in weights]}")
    input_dim = int(weights[0].shape[0])
    try:
        config = recurrent_config(record.class_name, record.config, input_dim=input_dim)
    except (NotImplementedError, ValueError, TypeError) as error:
        raise UnsupportedModel(f"layer {record.path!r}: {error}") from error
    layer, cell = config.recurrent, config.cell
    twice = isinstance(config, BidirectionalConfig)
    expected_shapes = cell.weight_shapes(input_dim, layer.units, use_bias=layer.use_bias,
                                         **layer.cell_options)
    actual_shapes = [tuple(w.shape) for w in weights]
    if actual_shapes != expected_shapes * (2 if twice else 1):
        raise UnsupportedModel(f"layer {record.path!r}: weight shapes {actual_shapes} do not "
                               f"follow the {cell.name} formula {expected_shapes}")
    split = config.direction_weights(weights)
    directions = (dict(zip(("forward", "backward"), split, strict=True)) if twice
                  else {"forward": split[0]})
    # The count from the formula's own terms (k blocks, bias rows), independent of the shapes.
    k, u, d = cell.blocks, layer.units, input_dim
    bias_terms = (len(cell.bias_rows(layer.cell_options)) or 1) if layer.use_bias else 0
    single = k * u * (d + u + bias_terms)
    factor = f"{k}*{u}*" if k > 1 else f"{u}*"
    numeric = f"{factor}({d} + {u}{f' + {bias_terms}' if bias_terms else ''})"
    prefix = "2 * " if twice else ""
    symbolic = cell.param_formula(use_bias=layer.use_bias, **layer.cell_options)
    expected = single * (2 if twice else 1)
    return Explained(
        path=record.path, config=config, directions=directions,
        param_count=sum(int(w.size) for w in weights),
        param_formula=f"{prefix}{symbolic} = {prefix}{numeric} = {expected}",
        expected_params=expected,
    )


def format_text(layers: Sequence[Explained]) -> str:
    """The human-readable explanation printed by ``python -m verify explain``."""
    lines = []
    for layer in layers:
        options = "".join(f", {name}={value!r}" for name, value in
                          layer.layer.cell_options.items())
        bidirectional = isinstance(layer.config, BidirectionalConfig)
        extra = f", merge_mode={layer.merge_mode!r}" if bidirectional else ""
        extra += ", go_backwards=True" if layer.layer.go_backwards else ""
        extra += ", use_bias=False" if not layer.layer.use_bias else ""
        extra += f", kernel_size={layer.kernel_size}" if layer.kernel_size else ""
        lines.append(f"{layer.path}: {layer.kind}, units u={layer.units}, input features "
                     f"d={layer.input_dim}, activation={layer.layer.activation!r}"
                     f"{options}{extra}")
        for row in layer.arrays():
            shape = "(" + ", ".join(map(str, row["shape"])) + ("," if len(row["shape"]) == 1
                                                                else "") + ")"
            lines.append(f"  {row['name']:<27} {shape:<12} = {row['formula']}")
            for block in row["gates"]:
                lines.append(f"      {block['slice']:<30} → {block['symbol']} "
                             f"({block['meaning']})")
        check = "✓" if layer.param_count == layer.expected_params else "✗ MISMATCH"
        lines.append(f"  parameters: {layer.param_count} = {layer.param_formula} {check}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
