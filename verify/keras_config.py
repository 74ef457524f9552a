"""Keras config dicts, read: the one place that knows how every Keras version spells a layer.

A saved model's architecture is a tree of ``{"class_name", "config"[, "name", "module",
"registered_name"]}`` dicts. This module reads their parts the same way for every caller (the
file reader, the whole-model forward, ``check`` and ``migrate``): a layer's name
(:func:`name`), its dtype policy (:func:`dtype_name`: a string in Keras 2, a ``DTypePolicy``
dict in Keras 3), the keys of a recurrent layer's config and which of them do not change the
function (:func:`rnn_options`), a model's inputs (:func:`input_layers`: Keras 3
``batch_shape``, Keras 2 ``batch_input_shape``, a Sequential's first layer), the weight
shapes a config implies (:func:`expected_shapes`, delegating recurrent layers to their cell)
and the names of model containers and legacy layers. It imports no Keras.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from verify import cells
from verify.errors import ModelFileError

#: Model classes whose config nests layers (read recursively; paths ``outer/inner``).
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
#: Recurrent layers of old files that are read as data (``migrate`` converts them) but that
#: neither ``explain`` nor ``predict`` runs.
LEGACY_RECURRENT = frozenset({"CuDNNLSTM", "CuDNNGRU"})

#: Keys of a recurrent layer's ``get_config()`` that do not change the function computed at
#: inference (``training=False``) or the weight shapes, so they are read past without a word.
IGNORED_RNN_KEYS = frozenset(
    {
        "name", "trainable", "dtype", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
        "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "dropout", "recurrent_dropout", "seed", "implementation",
        "batch_input_shape", "build_config", "use_cudnn", "stateful", "time_major",
    }
)  # fmt: skip


#: ``keras.layers.RNN``'s cell classes and the layer each one is the cell of.
CELL_LAYERS = {"LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "SimpleRNN"}

#: The keys of an ``RNN`` layer's own config (the rest of a layer's config is its cell's).
RNN_LAYER_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
                  "zero_output_for_mask", "time_major")


def rnn_cells(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The cells of a ``keras.layers.RNN`` config, in order: its one cell, or the cells of its
    ``StackedRNNCells``. ``NotImplementedError`` names a cell class that is not LSTMCell,
    GRUCell or SimpleRNNCell (a custom cell's code is not in the file)."""
    cell = config.get("cell")
    if not isinstance(cell, Mapping):
        raise ValueError(f"an RNN config has no cell object: {str(cell)[:80]}")
    found = (cell.get("config", {}).get("cells", [])
             if cell.get("class_name") == "StackedRNNCells" else [cell])
    for item in found:
        kind = item.get("class_name") if isinstance(item, Mapping) else None
        if kind not in CELL_LAYERS:
            raise NotImplementedError(f"RNN cell class {kind!r} is not supported; supported: "
                                      f"{', '.join(CELL_LAYERS)} (alone or in "
                                      "StackedRNNCells)")
    if not found:
        raise ValueError("an RNN config's StackedRNNCells has no cells")
    return list(found)


def cell_layers(layer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A ``keras.layers.RNN`` layer as the equivalent LSTM/GRU/SimpleRNN layers, one per cell,
    applied in order: ``RNN(LSTMCell(u, ...), **options)`` computes ``LSTM(u, ..., **options)``;
    ``RNN(StackedRNNCells([a, b]))`` runs ``a`` then ``b`` at each step, which is ``a``'s
    layer with ``return_sequences=True`` (in ``a``'s processing order: only ``a`` reads the
    input backwards) followed by ``b``'s with the RNN's options; with ``return_state`` every
    cell returns its states (Keras returns them all, cell by cell). Each config is named
    ``<rnn>/<cell name>``."""
    config = layer["config"]
    found = rnn_cells(config)
    own = {key: config[key] for key in RNN_LAYER_KEYS if key in config}
    made = []
    for index, cell in enumerate(found):
        last = index == len(found) - 1
        options = {**own, "return_state": bool(own.get("return_state")),
                   "return_sequences": bool(own.get("return_sequences")) or not last,
                   "go_backwards": bool(own.get("go_backwards")) and index == 0}
        cell_config = dict(cell.get("config", {}))
        made.append({"class_name": CELL_LAYERS[str(cell["class_name"])],
                     "config": {**cell_config, **options,
                                "name": f"{name(layer)}/{cell_config.get('name', index)}"}})
    return made


def cell_weights(layer: Mapping[str, Any], arrays: Sequence[Any]
                 ) -> list[tuple[dict[str, Any], list[Any]]]:
    """Each equivalent layer of a ``keras.layers.RNN`` (:func:`cell_layers`) with its slice of
    the RNN's ``get_weights()`` (the cells' arrays, cell after cell)."""
    found, rest = [], list(arrays)
    for layer_ in cell_layers(layer):
        count = len(expected_shapes(str(layer_["class_name"]), layer_["config"]) or [])
        found.append((layer_, rest[:count]))
        rest = rest[count:]
    return found


def name(layer: Mapping[str, Any]) -> str:
    """A saved layer's name (Keras 3 puts it beside the config, Keras 2 inside it)."""
    return str(layer.get("name") or layer.get("config", {}).get("name", "?"))


def dtype_name(dtype: Any, default: str | None = None) -> str | None:
    """The dtype policy name in a Keras 2 (``"float32"``) or Keras 3 (``DTypePolicy`` dict)
    layer config; ``default`` when the config names none."""
    if dtype is None:
        return default
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, Mapping):
        inner = dtype.get("config", {})
        if isinstance(inner, Mapping) and isinstance(inner.get("name"), str):
            return str(inner["name"])
    return repr(dtype)


def rnn_options(cell: str, config: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """The values of ``fields`` that a recurrent layer's ``get_config()`` (Keras 2 or 3) sets.

    Options that change the computed function in a way this project does not model
    (``stateful``, ``time_major``, a non-float32 dtype) raise ``NotImplementedError``, and so do
    keys that are neither ``fields`` nor :data:`IGNORED_RNN_KEYS`."""
    if "units" not in config:
        raise ValueError(f"config has no 'units': not a {cell} get_config(); keys: "
                         f"{sorted(config)}")
    for option in ("stateful", "time_major"):
        if config.get(option):
            raise NotImplementedError(f"{cell} option {option}=True is not supported")
    dtype = dtype_name(config.get("dtype"))
    if dtype not in (None, "float32"):
        raise NotImplementedError(f"{cell} dtype policy {dtype!r} is not supported; "
                                  f"expected 'float32'")
    unknown = set(config) - set(fields) - IGNORED_RNN_KEYS
    if unknown:
        raise NotImplementedError(f"{cell} config keys {sorted(unknown)} are not understood")
    found = {field: config[field] for field in fields if field in config}
    return {**{key: value for key, value in written_defaults(cell, config).items()
               if key in fields}, **found}


def written_defaults(class_name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """Options a config leaves out because the Keras that wrote it had no such option, with
    the value that Keras computed: a GRU without ``reset_after`` (Keras before 2.1.3, e.g.
    2.0.8) computed ``reset_after=False`` — today's default, True, would be another
    function and another bias shape."""
    if class_name == "GRU" and "reset_after" not in config:
        return {"reset_after": False}
    return {}


def expected_shapes(class_name: str, config: Mapping[str, Any]
                    ) -> list[tuple[int | None, ...]] | None:
    """The ``get_weights()`` shapes a layer's config implies (``None`` for a dimension that
    depends on the input), or ``None`` when the class's weights are not known here."""
    if class_name in cells.CELLS:
        cell = cells.get(class_name)
        options = cell.options({**written_defaults(class_name, config),
                                **{key: config[key] for key in cell.option_defaults
                                   if key in config}})
        shapes = cell.weight_shapes(1, int(config["units"]),
                                    use_bias=bool(config.get("use_bias", True)), **options)
        return [(None, *shapes[0][1:]), *shapes[1:]]
    if class_name == "RNN":
        # The first cell reads the layer's input; each next one the previous one's output.
        stacked: list[tuple[int | None, ...]] = []
        previous: int | None = None
        for layer in cell_layers({"config": config}):
            each = expected_shapes(str(layer["class_name"]), layer["config"]) or []
            stacked += [(previous, *each[0][1:]), *each[1:]]
            previous = int(layer["config"]["units"])
        return stacked
    if class_name in ("Bidirectional", "TimeDistributed"):
        inner = config["layer"]
        one = expected_shapes(str(inner["class_name"]), inner["config"])
        if class_name == "TimeDistributed" or one is None:
            return one
        return one * 2
    if class_name == "Dense":
        units = int(config["units"])
        return [(None, units)] + ([(units,)] if config.get("use_bias", True) else [])
    if class_name in ("ConvLSTM1D", "ConvLSTM2D"):
        rank = 1 if class_name == "ConvLSTM1D" else 2
        taps = [int(k) for k in (config["kernel_size"] if isinstance(
            config["kernel_size"], list | tuple) else [config["kernel_size"]])]
        kernel: tuple[int, ...] = tuple(taps * rank if len(taps) == 1 else taps)
        filters = int(config["filters"])
        kernels: list[tuple[int | None, ...]] = [(*kernel, None, 4 * filters),
                                                 (*kernel, filters, 4 * filters)]
        return kernels + ([(4 * filters,)] if config.get("use_bias", True) else [])
    if class_name == "Attention":
        count = int(bool(config.get("use_scale", False)))
        return [()] * (count + int(config.get("score_mode", "dot") == "concat"))
    if class_name == "MultiHeadAttention":
        heads, key_dim = int(config["num_heads"]), int(config["key_dim"])
        value_dim = int(config.get("value_dim") or key_dim)
        dense: list[tuple[int | None, ...]] = [
            (None, heads, key_dim), (None, heads, key_dim), (None, heads, value_dim),
            (heads, value_dim, None)]
        biases: list[tuple[int | None, ...]] = [(heads, key_dim), (heads, key_dim),
                                                (heads, value_dim), (None,)]
        if not config.get("use_bias", True):
            return dense
        return [shape for pair in zip(dense, biases, strict=True) for shape in pair]
    if class_name == "AdditiveAttention":
        return [(None,)] if config.get("use_scale", True) else []
    if class_name == "Embedding":
        return [(int(config["input_dim"]), int(config["output_dim"]))]
    if class_name == "Conv1D":
        filters, size = int(config["filters"]), first(config["kernel_size"])
        return [(size, None, filters)] + ([(filters,)] if config.get("use_bias", True) else [])
    if class_name in ("LayerNormalization", "BatchNormalization"):
        count = int(bool(config.get("scale", True))) + int(bool(config.get("center", True)))
        count += 2 if class_name == "BatchNormalization" else 0
        return [(None,)] * count
    if class_name in LEGACY_RECURRENT:
        return None
    return []


def first(value: Any) -> int:
    """An integer option Keras may store as a one-element list (``kernel_size=[3]``)."""
    return int(value[0] if isinstance(value, list | tuple) else value)


def _referenced(node: Any) -> Iterator[str]:
    """The layer names a layer's ``inbound_nodes`` refer to: Keras 3's ``keras_history``
    entries, Keras 1-2's ``[name, node_index, tensor_index, ...]`` lists."""
    if isinstance(node, Mapping):
        history = node.get("keras_history")
        if isinstance(history, list | tuple) and history and isinstance(history[0], str):
            yield history[0]
        for value in node.values():
            yield from _referenced(value)
    elif isinstance(node, list | tuple):
        if len(node) >= 3 and isinstance(node[0], str) and isinstance(node[1], int):
            yield node[0]
        for value in node:
            yield from _referenced(value)


def input_readers(config: Mapping[str, Any]) -> list[list[Mapping[str, Any]]]:
    """For each model input (in :func:`input_layers` order), the layers that read it directly.
    A Sequential's input is read by its first layer (which holds the input shape itself when
    there is no InputLayer)."""
    layers = [layer for layer in config.get("layers", []) if isinstance(layer, Mapping)]
    names = [entry for entry, _ in input_layers(config)]
    if "input_layers" not in config:  # Sequential
        first = [layer for layer in layers if layer.get("class_name") != "InputLayer"][:1]
        return [first for _ in names]
    readers: dict[str, list[Mapping[str, Any]]] = {entry: [] for entry in names}
    for layer in layers:
        for referenced in set(_referenced(layer.get("inbound_nodes", []))):
            if referenced in readers:
                readers[referenced].append(layer)
    return [readers[entry] for entry in names]


def input_layers(config: Mapping[str, Any]
                 ) -> list[tuple[str, tuple[tuple[int | None, ...], str]]]:
    """Each model input's name, shape and dtype, in input order: from InputLayer entries
    (Keras 3 ``batch_shape``, Keras 2 ``batch_input_shape``) or, in a Sequential without one,
    the first layer's."""
    entries = [layer for layer in config["layers"] if layer.get("class_name") == "InputLayer"]
    if "input_layers" in config:
        refs = config["input_layers"]
        if refs and isinstance(refs[0], str):
            refs = [refs]
        by_name = {name(layer): layer for layer in entries}
        entries = [by_name[str(ref[0])] for ref in refs if str(ref[0]) in by_name]
    elif not entries and config["layers"]:
        entries = [config["layers"][0]]
    found = []
    for entry in entries:
        inner = entry.get("config", {})
        shape = inner.get("batch_shape") or inner.get("batch_input_shape")
        if shape is None and inner.get("shape") is not None:
            shape = [None, *inner["shape"]]
        if shape is None:
            raise ModelFileError(f"input layer {name(entry)!r} has no shape in the config")
        found.append((name(entry), (tuple(None if dim is None else int(dim) for dim in shape),
                                    str(dtype_name(inner.get("dtype"), "float32")))))
    return found


__all__ = ["IGNORED_RNN_KEYS", "LEGACY_RECURRENT", "MODEL_CLASSES", "dtype_name",
           "expected_shapes", "first", "input_layers", "name", "rnn_options"]
