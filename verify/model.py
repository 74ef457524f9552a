"""``verify.predict``: a NumPy forward of a whole Keras model, from its ``get_config()`` and its
layers' ``get_weights()`` only (no Keras call), giving what ``model.predict`` gives.

Supported layers: InputLayer, LSTM, GRU, SimpleRNN, Bidirectional of each, Dense, RepeatVector,
Masking (with Keras's mask propagation), Dropout/SpatialDropout1D/GaussianNoise/
GaussianDropout (identity at inference), Activation, TimeDistributed(Dense), Flatten and
Reshape; Sequential and functional
models (Keras 2 and Keras 3 config formats), several inputs and outputs (e.g.
``return_state``), and the ``NotEqual``/``Any`` operations Keras 3 records for a Masking mask.
Any other layer raises ``NotImplementedError`` naming its class and its name in the model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from verify import _validate, reference
from verify.cells.base import finite
from verify.config import RNN_CONFIGS, BidirectionalConfig, recurrent_config
from verify.semantics import Semantics, resolve

Tensor = tuple[np.ndarray, np.ndarray | None]  # a value and its Keras mask (or None)
TensorRef = tuple[str, int, int]  # (layer name, node index, tensor index)

_IDENTITY_AT_INFERENCE = frozenset(
    {"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout"}
)


def predict(model: Any, x: Any, *, semantics: Semantics | str | None = None,
            dtype: DTypeLike = np.float64) -> Any:
    """What ``model.predict(x)`` returns, computed with NumPy in float64 (or ``dtype``).

    ``model`` is a Keras ``Sequential`` or functional ``Model`` (Keras 2 or 3): only its
    ``get_config()`` and its layers' ``get_weights()`` are used. ``x`` is one array, or a list
    with one array per model input. One output gives an array, several give a list.
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

    return _run(model.get_config(), weights_of, x,
                _Context(resolve(semantics), reference._float_dtype(dtype)))


def forward(config: Mapping[str, Any], weights: Mapping[str, Sequence[Any]], x: Any, *,
            semantics: Semantics | str | None = None, dtype: DTypeLike = np.float64) -> Any:
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

    return _run(config, weights_of, x, _Context(resolve(semantics), reference._float_dtype(dtype)))


WeightSource = Callable[[str], Sequence[Any]]


@dataclass(frozen=True)
class _Context:
    """What every layer of one forward pass shares: the semantics and the float type."""

    semantics: Semantics
    dtype: np.dtype[Any]
    prefix: str = ""  # "outer/" inside a nested model


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
        value = _validate.numeric_array(name, array, min_ndim=1).astype(dtype)
        checked.append(finite(name, value))
    return checked


def _name(layer: Mapping[str, Any]) -> str:
    return str(layer.get("name") or layer.get("config", {}).get("name", "?"))


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
        # are its initial states.
        tensors = [self.tensors[(str(n), int(i), int(t))] for n, i, t, *_ in node]
        return tensors, {}

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
    return [(str(name), int(index), int(position)) for name, index, position, *_ in node]


# --- layers -------------------------------------------------------------------------------


def _weights(weights_of: WeightSource, layer: Mapping[str, Any],
             context: _Context) -> list[np.ndarray]:
    return [np.asarray(w, dtype=context.dtype) for w in weights_of(context.prefix + _name(layer))]


def _apply(layer: Mapping[str, Any], model: Any, arguments: list[Any],
           keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """Run one layer (or Keras 3 op) on its inputs; its outputs with their masks."""
    kind = layer.get("class_name")
    handler = _HANDLERS.get(str(kind))
    if handler is None:
        raise NotImplementedError(
            f"verify.predict does not support layer class {kind!r} (layer {_name(layer)!r} in "
            f"the model); supported: {', '.join(sorted(_HANDLERS))}"
        )
    return handler(layer, model, arguments, keywords, context)


def _explicit_mask(keywords: Mapping[str, Any], propagated: np.ndarray | None) -> Any:
    """Keras 3 records the mask a layer was called with; Keras 2 propagates it implicitly."""
    if "mask" in keywords and keywords["mask"] is not None:
        value = keywords["mask"]
        return value[0] if isinstance(value, tuple) else value
    return propagated


def _recurrent(layer: Mapping[str, Any], model: Any, arguments: list[Any],
               keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """LSTM, GRU, SimpleRNN and Bidirectional of any of them: :func:`reference.outputs`."""
    (x, mask), *extra = arguments
    mask = _explicit_mask(keywords, mask)
    states = keywords.get("initial_state") or extra or None
    initial_state = None if states is None else [state[0] for state in states]
    config = recurrent_config(str(layer["class_name"]), layer["config"], input_dim=x.shape[-1])
    mask_array = None if mask is None else np.asarray(mask, dtype=bool)
    values = reference.outputs(config, _weights(model, layer, context), x, mask=mask_array,
                               initial_state=initial_state, semantics=context.semantics,
                               dtype=context.dtype)
    output_mask = mask_array if config.recurrent.return_sequences else None
    sequences = 2 if isinstance(config, BidirectionalConfig) and config.merge_mode is None else 1
    return [(value, output_mask if index < sequences else None)
            for index, value in enumerate(values)]


def _dense_forward(config: Mapping[str, Any], weights: list[np.ndarray], x: np.ndarray,
                   context: _Context) -> np.ndarray:
    activation = context.semantics.activation(config.get("activation", "linear") or "linear",
                                      allow_dense_only=True)
    output = x @ weights[0]
    if config.get("use_bias", True):
        output = output + weights[1]
    return activation(output)


def _dense(layer: Mapping[str, Any], model: Any, arguments: list[Any],
           keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    (x, mask), = arguments
    return [(_dense_forward(layer["config"], _weights(model, layer, context), x, context), mask)]


def _time_distributed(layer: Mapping[str, Any], model: Any, arguments: list[Any],
                      keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    inner = layer["config"]["layer"]
    if inner.get("class_name") != "Dense":
        raise NotImplementedError(f"verify.predict supports TimeDistributed(Dense) only; layer "
                                  f"{_name(layer)!r} wraps {inner.get('class_name')!r}")
    (x, mask), = arguments
    mask = _explicit_mask(keywords, mask)
    return [(_dense_forward(inner["config"], _weights(model, layer, context), x, context), mask)]


def _masking(layer: Mapping[str, Any], model: Any, arguments: list[Any],
             keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    (x, _), = arguments
    kept = np.any(x != layer["config"].get("mask_value", 0.0), axis=-1)
    return [(x * kept[..., None], kept)]


def _activation(layer: Mapping[str, Any], model: Any, arguments: list[Any],
                keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    (x, mask), = arguments
    function = context.semantics.activation(layer["config"]["activation"], allow_dense_only=True)
    return [(function(x), mask)]


def _identity(layer: Mapping[str, Any], model: Any, arguments: list[Any],
              keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    return [arguments[0]]


def _input(layer: Mapping[str, Any], model: Any, arguments: list[Any],
           keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    return list(arguments[:1])  # in a Sequential model, the input passes through


def _repeat_vector(layer: Mapping[str, Any], model: Any, arguments: list[Any],
                   keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    (x, _), = arguments
    return [(np.repeat(x[:, None, :], int(layer["config"]["n"]), axis=1), None)]


def _flatten(layer: Mapping[str, Any], model: Any, arguments: list[Any],
             keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    (x, _), = arguments
    return [(x.reshape(x.shape[0], -1), None)]


def _reshape(layer: Mapping[str, Any], model: Any, arguments: list[Any],
             keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    (x, _), = arguments
    return [(x.reshape(x.shape[0], *layer["config"]["target_shape"]), None)]


def _not_equal(layer: Mapping[str, Any], model: Any, arguments: list[Any],
               keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    left, right = (value[0] if isinstance(value, tuple) else value for value in arguments)
    return [(np.not_equal(left, right), None)]


def _any(layer: Mapping[str, Any], model: Any, arguments: list[Any],
         keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    (x, _), = arguments
    config = layer["config"]
    return [(np.any(x, axis=config.get("axis"), keepdims=config.get("keepdims", False)), None)]


def _nested_model(layer: Mapping[str, Any], model: Any, arguments: list[Any],
                  keywords: dict[str, Any], context: _Context) -> list[Tensor]:
    """A model used as a layer: the input mask reaches its layers and its output masks reach
    the layers after it (Keras 3 warns that the model "will destroy the mask information",
    but the mask still flows: measured against Keras 3.15)."""
    inner = _Context(context.semantics, context.dtype, f"{context.prefix}{_name(layer)}/")
    values = [argument[0] for argument in arguments]
    masks = [argument[1] for argument in arguments]
    return _run_tensors(layer["config"], model, values[0] if len(values) == 1 else values,
                        inner, masks)


_Handler = Callable[[Mapping[str, Any], Any, list[Any], dict[str, Any], _Context],
                    list[Tensor]]
_HANDLERS: dict[str, _Handler] = {
    "InputLayer": _input,
    **dict.fromkeys(RNN_CONFIGS, _recurrent),
    "Bidirectional": _recurrent,
    "Dense": _dense,
    "TimeDistributed": _time_distributed,
    "Masking": _masking,
    "Activation": _activation,
    "RepeatVector": _repeat_vector,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Sequential": _nested_model,
    "Functional": _nested_model,
    "Model": _nested_model,
    "NotEqual": _not_equal,
    "Any": _any,
    **dict.fromkeys(_IDENTITY_AT_INFERENCE, _identity),
}
