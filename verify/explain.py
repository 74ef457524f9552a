"""Decode a model's recurrent weights: which array is which, its formula, its gate blocks.

Works on plain records (a layer's path, class, ``get_config()`` and ``get_weights()``), so it
needs no Keras; :mod:`verify.keras_adapter` reads them from a loaded model, and
``python -m verify explain`` / ``export`` print or save what this module builds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from verify import convert, gates, shapes

#: Recurrent layers this project does not model yet (named in the error).
UNSUPPORTED_RECURRENT = frozenset({
    "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "RNN", "CuDNNLSTM", "CuDNNGRU",
    "StackedRNNCells",
})


class UnsupportedModel(ValueError):
    """The model has no LSTM to explain, or a recurrent layer this project does not model."""


@dataclass(frozen=True)
class LayerRecord:
    """One layer of a model: where it sits, what it is, its config and weights.
    ``wrapped`` is the class a Bidirectional/TimeDistributed wrapper holds."""

    path: str
    class_name: str
    config: Mapping[str, Any]
    weights: Sequence[np.ndarray]
    wrapped: str | None = None


@dataclass
class Explained:
    """One recurrent layer decoded."""

    path: str
    kind: str
    units: int
    input_dim: int
    use_bias: bool
    activation: str
    recurrent_activation: str
    merge_mode: str | None
    go_backwards: bool
    directions: dict[str, list[np.ndarray]] = field(repr=False)
    param_count: int = 0
    param_formula: str = ""
    expected_params: int = 0

    def arrays(self) -> list[dict[str, Any]]:
        """Each array: its name, shape, the formula behind the shape, and its gate blocks."""
        u = self.units
        rows = []
        for direction, (name_prefix, arrays) in zip(self.directions, self._prefixed(),
                                                    strict=True):
            names = ["kernel", "recurrent_kernel", "bias"][:len(arrays)]
            formulas = ["(d, 4u)", "(u, 4u)", "(4u,)"]
            letters = {"kernel": "W", "recurrent_kernel": "U", "bias": "b"}
            for name, array, formula in zip(names, arrays, formulas, strict=False):
                blocks = []
                for gate in gates.GATES:
                    columns = gates.block(gate, u)
                    span = f"{columns.start}:{columns.stop}"
                    blocks.append({
                        "gate": gate, "meaning": gates.GATE_NAMES[gate],
                        "columns": [columns.start, columns.stop],
                        "slice": f"{name}[{span}]" if name == "bias" else f"{name}[:, {span}]",
                        "symbol": f"{letters[name]}_{gate}",
                    })
                rows.append({"name": f"{name_prefix}{name}", "direction": direction,
                             "shape": list(array.shape), "formula": formula, "gates": blocks})
        return rows

    def _prefixed(self) -> list[tuple[str, list[np.ndarray]]]:
        if len(self.directions) == 1:
            return [("", arrays) for arrays in self.directions.values()]
        return [(f"{direction} ", arrays) for direction, arrays in self.directions.items()]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "units": self.units,
            "input_dim": self.input_dim, "use_bias": self.use_bias,
            "activation": self.activation, "recurrent_activation": self.recurrent_activation,
            "merge_mode": self.merge_mode, "go_backwards": self.go_backwards,
            "arrays": self.arrays(),
            "parameters": {"count": self.param_count, "formula": self.param_formula,
                           "expected": self.expected_params,
                           "matches": self.param_count == self.expected_params},
        }


def explain(records: Sequence[LayerRecord]) -> list[Explained]:
    """Every LSTM / Bidirectional(LSTM) in ``records``, decoded.

    Raises :class:`UnsupportedModel` for a GRU, SimpleRNN, ConvLSTM… (named, "not supported
    yet") and when there is no LSTM at all.
    """
    explained = []
    for record in records:
        inner = record.wrapped or record.class_name
        if inner in UNSUPPORTED_RECURRENT:
            shown = record.class_name + (f"({record.wrapped})" if record.wrapped else "")
            raise UnsupportedModel(f"layer {record.path!r} is a {shown}: not supported yet "
                                   "(only LSTM and Bidirectional(LSTM) are)")
        if inner == "LSTM" and record.class_name in ("LSTM", "Bidirectional"):
            explained.append(_explain_one(record))
        elif inner == "LSTM":
            raise UnsupportedModel(f"layer {record.path!r} wraps an LSTM in "
                                   f"{record.class_name}: not supported yet")
    if not explained:
        raise UnsupportedModel("the model has no LSTM or Bidirectional(LSTM) layer to explain")
    return explained


def _explain_one(record: LayerRecord) -> Explained:
    config = record.config
    bidirectional = record.class_name == "Bidirectional"
    lstm_config = config["layer"]["config"] if bidirectional else config
    weights = [np.asarray(w) for w in record.weights]
    per_direction = len(weights) // 2 if bidirectional else len(weights)
    directions = ({"forward": weights[:per_direction], "backward": weights[per_direction:]}
                  if bidirectional else {"forward": weights})
    units, input_dim = int(lstm_config["units"]), int(weights[0].shape[0])
    use_bias = bool(lstm_config.get("use_bias", True))
    expected_shapes = shapes.lstm_weight_shapes(input_dim, units, use_bias=use_bias)
    actual_shapes = [tuple(w.shape) for w in weights]
    if actual_shapes != expected_shapes * (2 if bidirectional else 1):
        raise UnsupportedModel(f"layer {record.path!r}: weight shapes {actual_shapes} do not "
                               f"follow the LSTM formula {expected_shapes}")
    single = shapes.lstm_param_count(input_dim, units, use_bias=use_bias)
    bias_term = " + 1" if use_bias else ""
    twice = "2 * " if bidirectional else ""
    formula = (f"{twice}4u(d + u{bias_term}) = "
               f"{twice}4*{units}*({input_dim} + {units}{bias_term})")
    return Explained(
        path=record.path, kind="Bidirectional(LSTM)" if bidirectional else "LSTM",
        units=units, input_dim=input_dim, use_bias=use_bias,
        activation=str(lstm_config.get("activation", "tanh")),
        recurrent_activation=str(lstm_config.get("recurrent_activation", "sigmoid")),
        merge_mode=config.get("merge_mode", "concat") if bidirectional else None,
        go_backwards=bool(lstm_config.get("go_backwards", False)),
        directions=directions, param_count=sum(int(w.size) for w in weights),
        param_formula=f"{formula} = {single * (2 if bidirectional else 1)}",
        expected_params=single * (2 if bidirectional else 1),
    )


def format_text(layers: Sequence[Explained]) -> str:
    """The human-readable explanation printed by ``python -m verify explain``."""
    lines = []
    for layer in layers:
        extra = f", merge_mode={layer.merge_mode!r}" if layer.kind.startswith("Bi") else ""
        extra += ", go_backwards=True" if layer.go_backwards else ""
        lines.append(f"{layer.path}: {layer.kind}, units u={layer.units}, input features "
                     f"d={layer.input_dim}, activation={layer.activation!r}, "
                     f"recurrent_activation={layer.recurrent_activation!r}{extra}")
        for row in layer.arrays():
            shape = "(" + ", ".join(map(str, row["shape"])) + ("," if len(row["shape"]) == 1
                                                                else "") + ")"
            lines.append(f"  {row['name']:<27} {shape:<12} = {row['formula']}")
            for block in row["gates"]:
                lines.append(f"      {block['slice']:<30} → {block['symbol']} "
                             f"({block['meaning']} gate)")
        check = "✓" if layer.param_count == layer.expected_params else "✗ MISMATCH"
        lines.append(f"  parameters: {layer.param_count} = {layer.param_formula} {check}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def export_arrays(layers: Sequence[Explained], layout: str) -> dict[str, np.ndarray]:
    """Named arrays for an ``.npz``: per layer (by path) and gate, in ``layout`` ``keras``
    (``path/W_i`` …; ``path/forward/W_i`` for Bidirectional), ``torch`` (``path/weight_ih_l0``,
    ``_reverse`` for the backward direction) or ``onnx`` (``path/W``, ``path/R``, ``path/B``)."""
    if layout not in ("keras", "torch", "onnx"):
        raise ValueError(f"layout must be one of 'keras', 'torch', 'onnx'; got {layout!r}")
    arrays: dict[str, np.ndarray] = {}
    for layer in layers:
        directions = list(layer.directions.items())
        if layout == "keras":
            for direction, weights in directions:
                prefix = layer.path if len(directions) == 1 else f"{layer.path}/{direction}"
                arrays |= {f"{prefix}/{name}": value
                           for name, value in convert.to_named(*weights).items()}
        elif layout == "torch":
            for index, (_, weights) in enumerate(directions):
                arrays |= {f"{layer.path}/{name}": value for name, value in
                           convert.to_torch(*weights, reverse=index == 1).items()}
        else:
            arrays |= {f"{layer.path}/{name}": value for name, value in
                       convert.to_onnx([weights for _, weights in directions]).items()}
    return arrays
