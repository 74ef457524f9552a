"""``verify.predict``: a NumPy forward of a whole Keras model, from its ``get_config()`` and its
layers' ``get_weights()`` only (no Keras call), giving what ``model.predict`` gives.

Supported layers: InputLayer; LSTM, GRU, SimpleRNN and Bidirectional of each (masks, initial
states taken from other layers, e.g. an encoder's states into a decoder); Embedding (integer
token ids, ``mask_zero``), Masking, Dense, Activation, Conv1D, MaxPooling1D, AveragePooling1D,
GlobalMaxPooling1D, GlobalAveragePooling1D, LayerNormalization, BatchNormalization (inference),
Add/Subtract/Multiply/Average/Maximum/Minimum/Concatenate, the dropout and noise layers
(identity at inference), Permute, RepeatVector, Flatten, Reshape, TimeDistributed of any of
these; Sequential and functional models (Keras 2 and Keras 3 config formats), nested models,
shared layers (one layer called on several inputs), several inputs and outputs, and the
``NotEqual``/``Any`` operations Keras 3 records for a Masking mask. Masks flow as Keras
propagates them (:mod:`verify.layers`). Any other layer raises ``NotImplementedError`` naming
its class and its name in the model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from verify import _validate, layers, loop, reference
from verify.cells.base import finite
from verify.config import RNN_CONFIGS, BidirectionalConfig, recurrent_config
from verify.keras_config import MODEL_CLASSES, cell_weights
from verify.layers import Context as _Context
from verify.layers import Tensor, WeightSource
from verify.layers import name as _name
from verify.semantics import Semantics, resolve

TensorRef = tuple[str, int, int]  # (layer name, node index, tensor index)


def predict(model: Any, x: Any, *, semantics: Semantics | str | None = None,
            dtype: DTypeLike = np.float64, recorded_masks: bool = True) -> Any:
    """What ``model.predict(x)`` returns, computed with NumPy in float64 (or ``dtype``).

    ``model`` is a Keras ``Sequential`` or functional ``Model`` (Keras 2 or 3): only its
    ``get_config()`` and its layers' ``get_weights()`` are used. ``x`` is one array, or a list
    with one array per model input. One output gives an array, several give a list.
    ``recorded_masks=False`` ignores the masks a Keras 3 functional config records for each
    layer's call and propagates masks by Keras's rules instead (:mod:`verify.layers`): the
    property suite checks those rules that way.
    """
    for method in ("get_config", "get_layer"):
        if not callable(getattr(model, method, None)):
            raise TypeError(f"model must be a Keras model (with get_config() and get_layer()), "
                            f"got {_validate.describe(model)}")
    def weights_of(path: str) -> Sequence[Any]:
        layer = model
        for name in path.split("/"):  # nested models: "encoder/lstm"
            layer = layer.get_layer(name)
        return list(layer.get_weights())

    return _run(model.get_config(), weights_of, x, _context(semantics, dtype, recorded_masks))


def forward(config: Mapping[str, Any], weights: Mapping[str, Sequence[Any]], x: Any, *,
            semantics: Semantics | str | None = None, dtype: DTypeLike = np.float64,
            recorded_masks: bool = True) -> Any:
    """:func:`predict` without Keras: ``config`` is a saved ``model.get_config()`` and
    ``weights`` maps each layer name (``outer/inner`` inside nested models) to that layer's
    ``get_weights()``."""
    if not isinstance(config, Mapping) or "layers" not in config:
        raise TypeError(f"config must be a Keras model's get_config() dict (with 'layers'), "
                        f"got {_validate.describe(config)}")
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must map layer names to lists of arrays, "
                        f"got {_validate.describe(weights)}")

    def weights_of(name: str) -> Sequence[Any]:
        if name not in weights:
            raise ValueError(f"weights has no entry for layer {name!r}; "
                             f"it has {sorted(weights)}")
        return weights[name]

    return _run(config, weights_of, x, _context(semantics, dtype, recorded_masks))


def _context(semantics: Semantics | str | None, dtype: DTypeLike,
             recorded_masks: bool) -> _Context:
    if not isinstance(recorded_masks, bool):
        raise TypeError(f"recorded_masks must be True or False, got {recorded_masks!r}")
    return _Context(resolve(semantics), loop.float_dtype(dtype),
                    recorded_masks=recorded_masks)


def _run(config: Mapping[str, Any], weights_of: WeightSource, x: Any, context: _Context) -> Any:
    """Run a model config: one output as an array, several as a list (as ``model.predict``)."""
    outputs = [value for value, _ in _run_tensors(config, weights_of, x, context)]
    return outputs[0] if len(outputs) == 1 else outputs


def _run_tensors(config: Mapping[str, Any], weights_of: WeightSource, x: Any,
                 context: _Context,
                 masks: Sequence[np.ndarray | None] | None = None) -> list[Tensor]:
    """Every output with its mask; ``masks`` are the input masks of a nested model."""
    if "input_layers" in config:
        return _Functional(weights_of, config, context).run(x, masks)
    return _sequential(weights_of, config, context, x, masks)


def _sequential(model: WeightSource, config: Mapping[str, Any], context: _Context,
                x: Any, masks: Sequence[np.ndarray | None] | None = None) -> list[Tensor]:
    inputs = _model_inputs(x, 1, context.dtype)
    tensor: Tensor = (inputs[0], masks[0] if masks else None)
    for layer in config["layers"]:
        outputs = _apply(layer, model, [tensor], {}, context)
        if len(outputs) != 1:
            raise ValueError(f"layer {_name(layer)!r} returns {len(outputs)} outputs, which a "
                             "Sequential model cannot pass on")
        tensor = outputs[0]
    return [tensor]


def _model_inputs(x: Any, count: int, dtype: np.dtype[Any]) -> list[np.ndarray]:
    arrays = list(x) if isinstance(x, list | tuple) else [x]
    if len(arrays) != count:
        raise ValueError(f"x must be {'one array' if count == 1 else f'a list of {count} arrays'}"
                         f" (one per model input), got {len(arrays)}")
    checked = []
    for index, array in enumerate(arrays):
        name = "x" if count == 1 else f"x[{index}]"
        value = _validate.numeric_array(name, array, min_ndim=1)
        # Integer inputs (token ids for an Embedding) stay integers; others become ``dtype``.
        if value.dtype.kind not in "iu":
            value = finite(name, value.astype(dtype))
        checked.append(value)
    return checked


class _Functional:
    """Evaluates a functional model's graph node by node, in dependency order."""

    def __init__(self, model: WeightSource, config: Mapping[str, Any],
                 context: _Context) -> None:
        self.model, self.config, self.context = model, config, context
        self.tensors: dict[TensorRef, Tensor] = {}

    @staticmethod
    def _refs(entries: Any) -> list[TensorRef]:
        # Keras 3 writes a single input/output as ["name", 0, 0]; Keras 2 always as a list.
        if entries and isinstance(entries[0], str):
            entries = [entries]
        return [(str(name), int(node), int(index)) for name, node, index, *_ in entries]

    def run(self, x: Any, masks: Sequence[np.ndarray | None] | None = None) -> list[Tensor]:
        input_refs = self._refs(self.config["input_layers"])
        inputs = _model_inputs(x, len(input_refs), self.context.dtype)
        for index, (ref, value) in enumerate(zip(input_refs, inputs, strict=True)):
            self.tensors[ref] = (value, masks[index] if masks else None)
        pending = [(layer, index + _node_offset(layer, node), node)
                   for layer in self.config["layers"]
                   for index, node in enumerate(layer.get("inbound_nodes", []))]
        while pending:
            ready = [item for item in pending if self._ready(item[2])]
            if not ready:
                names = sorted({_name(layer) for layer, _, _ in pending})
                raise ValueError(f"the model graph cannot be evaluated: layers {names} wait "
                                 "for tensors no layer produces")
            for layer, index, node in ready:
                pending.remove((layer, index, node))
                arguments, keywords = self._arguments(node)
                for position, output in enumerate(
                        _apply(layer, self.model, arguments, keywords, self.context)):
                    self.tensors[(_name(layer), index, position)] = output
                if (layer.get("class_name") == "MultiHeadAttention"
                        and self.context.semantics.mha_input_masks == "cleared"):
                    # Keras >= 3.8 sets its inputs' masks to None on the tensors themselves.
                    for ref in _node_refs(node):
                        self.tensors[ref] = (self.tensors[ref][0], None)
        return [self.tensors[ref] for ref in self._refs(self.config["output_layers"])]

    def _ready(self, node: Any) -> bool:
        return all(ref in self.tensors for ref in _node_refs(node))

    def _arguments(self, node: Any) -> tuple[list[Any], dict[str, Any]]:
        """Positional arguments (tensors or constants) and keyword arguments of one call."""
        if isinstance(node, Mapping):  # Keras 3: {"args": [...], "kwargs": {...}}
            arguments = [self._resolve(argument) for argument in node.get("args", [])]
            keywords = {key: self._resolve(value) for key, value in
                        node.get("kwargs", {}).items()}
            return arguments, keywords
        # Keras 2: [[name, node, index, kwargs], ...]; extra tensors of a recurrent layer
        # are its initial states. The call's plain keyword arguments (use_causal_mask...)
        # ride on the first reference.
        def tensor(item: list[Any]) -> Any:  # Keras 2 nests a cell's states: [[h, c], h2]
            if item and isinstance(item[0], list):
                return [tensor(part) for part in item]
            name, index, position, *_ = item
            return self.tensors[(str(name), int(index), int(position))]

        tensors = [tensor(item) for item in node]
        # Keras 2 writes tensors passed by keyword (MultiHeadAttention's value=) as references.
        return tensors, {key: tensor(value) if _is_reference(value) else value
                         for key, value in _legacy_keywords(node).items()
                         if _is_reference(value) or value is None
                         or isinstance(value, bool | int | float | str)}

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, Mapping) and value.get("class_name") == "__keras_tensor__":
            name, node, index = value["config"]["keras_history"]
            return self.tensors[(str(name), int(node), int(index))]
        if isinstance(value, list | tuple):  # Keras 3 keeps args as a tuple
            return [self._resolve(item) for item in value]
        return value


def _node_offset(layer: Mapping[str, Any], node: Any) -> int:
    """Keras 2 numbers a nested model's calls after the node its own ``Input`` made (so its
    first call in the outer model is node 1); Keras 3 numbers the listed calls from 0."""
    nested = layer.get("class_name") in ("Sequential", "Functional", "Model")
    if not nested or isinstance(node, Mapping):
        return 0
    inner = layer.get("config", {})
    layers = inner.get("layers", [])
    has_input = "input_layers" in inner or bool(
        layers and (layers[0].get("class_name") == "InputLayer"
                    or "batch_input_shape" in layers[0].get("config", {})))
    return 1 if has_input else 0


def _legacy_keywords(node: Any) -> Mapping[str, Any]:
    """The keyword arguments of a Keras 2 call: they ride on its first reference."""
    first = node[0] if node else []
    return first[3] if len(first) > 3 and isinstance(first[3], Mapping) else {}


def _is_reference(value: Any) -> bool:
    """A Keras 2 tensor reference ``[layer, node, tensor]`` (in a call's keywords)."""
    return (isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str)
            and all(isinstance(item, int) for item in value[1:3]))


def _node_refs(node: Any) -> list[TensorRef]:
    if isinstance(node, Mapping):
        found: list[TensorRef] = []

        def walk(value: Any) -> None:
            if isinstance(value, Mapping) and value.get("class_name") == "__keras_tensor__":
                name, index, position = value["config"]["keras_history"]
                found.append((str(name), int(index), int(position)))
            elif isinstance(value, Mapping):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    walk(item)

        walk(node.get("args", []))
        walk(node.get("kwargs", {}))
        return found
    found = []
    for item in node:
        if item and isinstance(item[0], list):  # Keras 2's nested states
            found += _node_refs(item)
        else:
            name, index, position, *_ = item
            found.append((str(name), int(index), int(position)))
    found += [(str(value[0]), int(value[1]), int(value[2]))
              for value in _legacy_keywords(node).values() if _is_reference(value)]
    return found


# --- layers (the non-recurrent ones are in verify.layers) ----------------------------------


def _apply(layer: Mapping[str, Any], model: WeightSource, arguments: list[Any],
           keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """Run one layer (or Keras 3 op) on its inputs; its outputs with their masks."""
    kind = layer.get("class_name")
    handler = layers.handler(layer)
    if handler is None:
        supported = sorted(layers.HANDLERS)
        raise NotImplementedError(
            f"verify.predict does not support layer class {kind!r} (layer {_name(layer)!r} in "
            f"the model); supported: {', '.join(supported)}"
        )
    return handler(layer, model, arguments, keywords, context)


def _recurrent_inputs(arguments: list[Any], keywords: dict[str, Any], context: _Context
                      ) -> tuple[np.ndarray, np.ndarray | None, list[np.ndarray] | None]:
    """A recurrent layer's input, the mask it applies and its initial states (flattened:
    Keras 3 nests a StackedRNNCells' states per cell)."""
    (x, mask), *extra = arguments
    states = keywords.get("initial_state") or extra or None
    if states is not None and context.semantics.initial_state_mask == "dropped":
        mask = None  # Keras 3 does not pass the input's mask on with initial_state
    mask = layers.explicit_mask(keywords, mask, context)

    def flat(value: Any) -> list[np.ndarray]:
        if isinstance(value, tuple):  # a (value, mask) tensor
            return [value[0]]
        return [item for part in value for item in flat(part)]

    return (x, None if mask is None else np.asarray(mask, dtype=bool),
            None if states is None else flat(states))


def _recurrent(layer: Mapping[str, Any], model: WeightSource, arguments: list[Any],
               keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """LSTM, GRU, SimpleRNN and Bidirectional of any of them: :func:`reference.outputs`."""
    x, mask_array, initial_state = _recurrent_inputs(arguments, keywords, context)
    config = recurrent_config(str(layer["class_name"]), layer["config"], input_dim=x.shape[-1])
    values = reference.outputs(config, layers.weights(model, layer, context), x, mask=mask_array,
                               initial_state=initial_state, semantics=context.semantics,
                               dtype=context.dtype)
    passes = config.recurrent.return_sequences and context.semantics.sequence_mask == "passed"
    output_mask = mask_array if passes else None
    sequences = 2 if isinstance(config, BidirectionalConfig) and config.merge_mode is None else 1
    return [(value, output_mask if index < sequences else None)
            for index, value in enumerate(values)]


def _rnn(layer: Mapping[str, Any], model: WeightSource, arguments: list[Any],
         keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """``keras.layers.RNN`` over an LSTMCell, GRUCell, SimpleRNNCell or StackedRNNCells of
    them: each cell as its equivalent layer (:func:`verify.keras_config.cell_layers`) on the
    previous one's sequence, all under the RNN's one mask; the outputs are the last cell's,
    then every cell's final states in order (how Keras flattens them)."""
    x, mask_array, initial_state = _recurrent_inputs(arguments, keywords, context)
    sequence, states = x, list[np.ndarray]()
    for equivalent, arrays in cell_weights(layer, layers.weights(model, layer, context)):
        config = recurrent_config(str(equivalent["class_name"]), equivalent["config"],
                                  input_dim=sequence.shape[-1])
        held = len(config.cell.states)
        mine = None if initial_state is None else initial_state[:held]
        initial_state = None if initial_state is None else initial_state[held:]
        values = reference.outputs(config, arrays, sequence, mask=mask_array,
                                   initial_state=mine, semantics=context.semantics,
                                   dtype=context.dtype)
        sequence, states = values[0], states + list(values[1:])
    passes = bool(layer["config"].get("return_sequences")) and \
        context.semantics.sequence_mask == "passed"
    return [(sequence, mask_array if passes else None), *((state, None) for state in states)]


def _time_distributed(layer: Mapping[str, Any], model: WeightSource, arguments: list[Any],
                      keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """The wrapped layer on every step (batch and time folded into one axis); the mask
    passes on."""
    inner = layer["config"]["layer"]
    (x, mask), = arguments
    mask = layers.explicit_mask(keywords, mask, context)
    outer = context.prefix + _name(layer)

    def inner_weights(_: str) -> Sequence[Any]:
        return model(outer)

    folded = x.reshape(x.shape[0] * x.shape[1], *x.shape[2:])
    outputs = _apply(inner, inner_weights, [(folded, None)], {},
                     dataclasses.replace(context, prefix=""))
    if len(outputs) != 1:
        raise NotImplementedError(f"verify.predict: TimeDistributed layer {_name(layer)!r} "
                                  f"wraps a layer with {len(outputs)} outputs")
    value = outputs[0][0]
    return [(value.reshape(x.shape[0], x.shape[1], *value.shape[1:]), mask)]


def _nested_model(layer: Mapping[str, Any], model: Any, arguments: list[Any],
                  keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """A model used as a layer: the input mask reaches its layers and its output masks reach
    the layers after it (Keras 3 warns that the model "will destroy the mask information",
    but the mask still flows: measured against Keras 3.15)."""
    inner = dataclasses.replace(context, prefix=f"{context.prefix}{_name(layer)}/")
    values = [argument[0] for argument in arguments]
    masks = [argument[1] for argument in arguments]
    return _run_tensors(layer["config"], model, values[0] if len(values) == 1 else values,
                        inner, masks)


#: The handler of every recurrent layer kind (:func:`verify.registry.register_cell` gives it
#: to a new cell).
RECURRENT = _recurrent

# The layers this module runs, registered in the one registry of layer kinds.
layers.HANDLERS.update({
    **dict.fromkeys(RNN_CONFIGS, _recurrent),
    "Bidirectional": _recurrent,
    "RNN": _rnn,
    "TimeDistributed": _time_distributed,
    **dict.fromkeys(MODEL_CLASSES, _nested_model),
})
