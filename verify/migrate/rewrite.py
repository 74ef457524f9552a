"""The Keras-free half of ``migrate``: :func:`plan` reads a Keras 2 file as data and rewrites
its config and weights for Keras 3 (see :mod:`verify.migrate`)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from verify import cells, files, keras_config, layers
from verify.model import _is_reference, _legacy_keywords, _node_offset, _node_refs

#: hard_sigmoid of Keras 2 at z equals hard_sigmoid of Keras 3 at this times z.
HARD_SIGMOID_SCALE = 1.2


class CannotMigrate(ValueError):
    """The old model cannot be rewritten into one that computes the same function."""


@dataclass
class Plan:
    """What :func:`run` builds and what it proves the result against."""

    source: files.ModelFile
    #: The Keras 3 model document (``{"class_name", "config"}``) and its weights by path.
    document: dict[str, Any]
    weights: dict[str, list[np.ndarray]]
    #: What the proof runs :func:`verify.model.forward` on: the original config and weights,
    #: except CuDNN layers, which forward cannot run: those are given as their exact twins.
    reference_config: Mapping[str, Any] = field(repr=False)
    reference_weights: Mapping[str, list[np.ndarray]] = field(repr=False)
    changes: list[str] = field(default_factory=list)


@dataclass
class Result:
    target: Path
    proven: bool
    samples: int
    worst: float
    changes: list[str]
    failure: str = ""

    def summary(self) -> str:
        lines = [f"  {change}" for change in self.changes] or ["  (no change was needed)"]
        if not self.proven:
            return "\n".join(["MIGRATION NOT PROVEN: nothing written", *lines, self.failure])
        return "\n".join([
            f"wrote {self.target}: Keras 3 loads it and it computes the original model's "
            f"function on {self.samples} random batches (worst error {self.worst:.3g} of the "
            "tolerance); changes:", *lines])


def plan(read: files.ModelFile, *, rescale_hard_sigmoid: bool = False) -> Plan:
    """The rewrite of ``read`` for Keras 3 (no Keras needed); :class:`CannotMigrate` names
    what cannot be preserved."""
    config = copy.deepcopy(dict(read.config))
    weights = {path: [np.array(a) for a in arrays] for path, arrays in read.weights.items()}
    changes: list[str] = []
    rewriter = _Rewriter(read, weights, changes, rescale_hard_sigmoid)
    rewriter.model(config, "")
    rewriter.model_name(config)
    reference_config = copy.deepcopy(dict(read.config))
    reference_weights = {path: list(arrays) for path, arrays in read.weights.items()}
    if rewriter.cudnn:  # forward cannot run CuDNN layers: their exact twins stand in
        _Rewriter(read, reference_weights, [], False).model(reference_config, "",
                                                            cudnn_only=True)
    model_class = "Sequential" if read.model_class == "Sequential" else "Functional"
    module = "keras" if model_class == "Sequential" else "keras.src.models.functional"
    document = {"module": module, "class_name": model_class, "config": config,
                "registered_name": None}
    return Plan(read, document, weights, reference_config, reference_weights, changes)


class _Rewriter:
    def __init__(self, read: files.ModelFile, weights: dict[str, list[np.ndarray]],
                 changes: list[str], rescale: bool) -> None:
        self.read, self.weights, self.changes, self.rescale = read, weights, changes, rescale
        self.cudnn = False

    def note(self, path: str, text: str) -> None:
        self.changes.append(f"{path}: {text}")

    def model(self, config: dict[str, Any], prefix: str, *, cudnn_only: bool = False) -> None:
        entries = config["layers"]
        has_input = any(layer.get("class_name") == "InputLayer" for layer in entries)
        if "input_layers" not in config and not has_input and entries:
            shape = entries[0].get("config", {}).get("batch_input_shape")
            if shape is not None and not cudnn_only:
                dtype = keras_config.dtype_name(entries[0]["config"].get("dtype"), "float32")
                entries.insert(0, {"class_name": "InputLayer", "config": {
                    "batch_shape": shape, "dtype": dtype,
                    "name": f"{layers.name(entries[0])}_input"}})
                self.note(prefix + layers.name(entries[0]), "batch_input_shape → an InputLayer "
                          f"with batch_shape {shape}")
        if not cudnn_only:
            self.renumber_nested_calls(config, prefix)
        for layer in entries:
            if layers.is_op(layer):
                continue
            path = prefix + layers.name(layer)
            if layer.get("class_name") in files.MODEL_CLASSES:
                self.model(layer["config"], f"{path}/", cudnn_only=cudnn_only)
                if layer["class_name"] == "Model":
                    layer["class_name"] = "Functional"
                continue
            if cudnn_only:
                self.cudnn_layer(layer, path)
            else:
                self.layer(layer, path)

    def model_name(self, config: dict[str, Any]) -> None:
        """TensorFlow names its graph nodes after the model, torch its parameters: a name with
        characters outside ``[A-Za-z0-9_-]`` (Keras 2 allowed ``>`` and ``.``) makes Keras 3's
        ``predict`` fail on TensorFlow (``>``) or the model fail to build on torch (``.``)."""
        name = str(config.get("name", ""))
        clean = re.sub(r"[^A-Za-z0-9_\-]", "_", name)
        if clean != name:
            config["name"] = clean
            self.note("(model)", f"name {name!r} → {clean!r} (TensorFlow's graph node names "
                      "and torch's parameter names refuse other characters)")

    def renumber_nested_calls(self, config: dict[str, Any], prefix: str) -> None:
        """Keras 2 numbers a nested model's calls after the node its own Input made (its first
        call is node 1); Keras 3 numbers them from 0: references to it move down by one."""
        shifted = {layers.name(layer) for layer in config["layers"]
                   if layer.get("class_name") in files.MODEL_CLASSES
                   and any(_node_offset(layer, node) for node in layer.get("inbound_nodes", []))}
        if not shifted:
            return

        def move(reference: list[Any]) -> None:
            if reference and str(reference[0]) in shifted and int(reference[1]) > 0:
                reference[1] = int(reference[1]) - 1

        for layer in config["layers"]:
            for node in layer.get("inbound_nodes", []):
                if isinstance(node, list):
                    for reference in node:
                        move(reference)
        for key in ("input_layers", "output_layers"):
            references = config.get(key, [])
            for reference in ([references] if references and isinstance(references[0], str)
                              else references):
                move(reference)
        for name in sorted(shifted):
            self.note(prefix + name, "calls of this nested model renumbered from 0 (Keras 2 "
                      "counted its own Input's node first)")

    def cudnn_layer(self, layer: dict[str, Any], path: str) -> None:
        kind = layer["class_name"]
        if kind not in files.LEGACY_RECURRENT:
            return
        self.cudnn = True
        units = int(layer["config"]["units"])
        kernel, recurrent, bias = self.weights[path]
        lstm = kind == "CuDNNLSTM"
        gates = cells.get("LSTM" if lstm else "GRU").blocks
        self.weights[path] = [
            np.hstack([block.T.reshape(block.shape, order="F")
                       for block in np.hsplit(kernel, gates)]),
            np.hstack([block.T for block in np.hsplit(recurrent, gates)]),
            (bias[:gates * units] + bias[gates * units:]) if lstm
            else bias.reshape(2, gates * units)]
        keep = {key: value for key, value in layer["config"].items() if key in _CUDNN_KEYS}
        layer["class_name"] = "LSTM" if kind == "CuDNNLSTM" else "GRU"
        layer["config"] = {**keep, "activation": "tanh", "recurrent_activation": "sigmoid",
                           "use_bias": True,
                           **({"reset_after": True} if kind == "CuDNNGRU" else {})}
        self.note(path, f"{kind} → {layer['class_name']}"
                  + (" (reset_after=True)" if kind == "CuDNNGRU" else "")
                  + ": kernel blocks from cuDNN layout, recurrent blocks transposed, "
                  + ("input and recurrent biases summed" if lstm
                     else "biases as the (2, 3u) input/recurrent rows")
                  + " (Keras 2's own conversion)")

    def layer(self, layer: dict[str, Any], path: str) -> None:
        kind = layer["class_name"]
        if kind in files.LEGACY_RECURRENT:
            self.cudnn_layer(layer, path)
        if layer.get("module") is None and kind in ("Attention", "AdditiveAttention"):
            # Without a module Keras 3 reads the layer through its legacy deserializer, which
            # turns Attention's score_mode "dot" into the function keras.ops.dot. (Other layers
            # keep the legacy path: Keras 3.3's own one refuses BatchNormalization(axis=[2]).)
            layer.update(module="keras.layers", registered_name=None)
            self.note(path, "module 'keras.layers' added (Keras 3's legacy reader turns "
                      "score_mode 'dot' into a function)")
        config = layer["config"]
        self.options(config, path)
        if kind == "InputLayer":
            if "batch_input_shape" in config:
                config["batch_shape"] = config.pop("batch_input_shape")
                self.note(path, "batch_input_shape → batch_shape")
        elif "batch_input_shape" in config:
            config.pop("batch_input_shape")
            self.note(path, "batch_input_shape dropped (the input layer carries the shape)")
        for key in ("layer", "backward_layer"):
            inner = config.get(key)
            if isinstance(inner, dict):
                where = f"{path}/{layers.name(inner) if key == 'layer' else 'backward'}"
                self.options(inner["config"], where)
                self.defaults(inner, where)
                if inner["config"].pop("batch_input_shape", None) is not None:
                    self.note(where, "batch_input_shape of the wrapped layer dropped (the "
                              "input layer carries the shape)")
                if inner.get("module") is None:  # Keras < 2.13 wrote no module for it
                    inner.update(module="keras.layers", registered_name=None)
                    self.note(where, f"wrapped {inner['class_name']}: module 'keras.layers' "
                              "added (Keras 3 looks nested layers up by module)")
        if kind == "MultiHeadAttention":  # Keras 2 records its build shapes in the config
            dropped = [key for key in ("query_shape", "key_shape", "value_shape")
                       if config.pop(key, None) is not None]
            if dropped:
                self.note(path, f"{', '.join(dropped)} dropped (Keras 2's build shapes; Keras "
                          "3 builds on the call)")
        self.defaults(layer, path)
        self.call_time_states(layer, path)
        self.keyword_tensors(layer, path)
        self.hard_sigmoid(layer, path)

    def masks(self) -> bool:
        """Whether any layer of the model makes a mask (``Embedding(mask_zero=True)``,
        ``Masking``)."""
        return any(layer["class_name"] == "Masking" or (layer["class_name"] == "Embedding"
                                                        and layer["config"].get("mask_zero"))
                   for _, layer in self.read.layers())

    def defaults(self, layer: dict[str, Any], path: str) -> None:
        """Options the writer's Keras did not have, written out with the value it computed
        (:func:`verify.keras_config.written_defaults`), so that Keras 3's defaults do not
        apply in their place."""
        added = keras_config.written_defaults(str(layer["class_name"]), layer["config"])
        if added:
            layer["config"].update(added)
            self.note(path, ", ".join(f"{key}={value!r}" for key, value in added.items())
                      + " written out (the Keras that wrote the file had no such option and "
                      "computed this; Keras 3's default differs)")

    def keyword_tensors(self, layer: dict[str, Any], path: str) -> None:
        """Keras 2 writes a tensor passed by keyword (``MultiHeadAttention(query,
        value=...)``) as a ``[layer, node, tensor]`` reference, which Keras 3 would hand the
        layer as a plain list: such a call is written in Keras 3's node format."""
        nodes = layer.get("inbound_nodes", [])
        for index, node in enumerate(nodes):
            if not isinstance(node, list) or not node or not isinstance(node[0], list):
                continue
            keywords = _legacy_keywords(node)
            if not any(_is_reference(value) for value in keywords.values()):
                continue
            nodes[index] = {"args": [_tensor(item) for item in node],
                            "kwargs": {key: _tensor(value) if _is_reference(value) else value
                                       for key, value in keywords.items()}}
            self.note(path, f"call {index}: tensors passed by keyword "
                      f"({', '.join(k for k, v in keywords.items() if _is_reference(v))}) "
                      "written in Keras 3's node format")

    def call_time_states(self, layer: dict[str, Any], path: str) -> None:
        """Keras 2.0-2.2 recorded ``layer(x, initial_state=[h, c])`` as a call on ``[x, h,
        c]`` (and later Keras 2 as references in the ``initial_state`` keyword); Keras 3
        calls a recurrent layer on one tensor, so such a node is written in Keras 3's node
        format with the states as the ``initial_state`` keyword."""
        if layer["class_name"] not in (*cells.CELLS, "Bidirectional"):
            return
        nodes = layer.get("inbound_nodes", [])
        for index, node in enumerate(nodes):
            if not isinstance(node, list) or not node or not isinstance(node[0], list):
                continue
            first = node[0]
            keywords = dict(first[3]) if len(first) > 3 and isinstance(first[3], dict) else {}
            states = [list(reference) for reference in _node_refs(node[1:])]
            given = keywords.pop("initial_state", None)
            if isinstance(given, list):
                states += [list(reference[:3]) for reference in given]
            if not states:
                continue
            if self.read.semantics.initial_state_mask == "kept" and self.masks():
                raise CannotMigrate(
                    f"{self.read.path}: layer {path!r} is called with initial_state in a model "
                    "that masks its inputs: Keras 2 applied the input's mask there, Keras 3 "
                    "drops it (divergence initial-state-drops-mask-keras3), so the migrated "
                    "model would compute another function on padded rows; keep this model on "
                    "Keras 2 (TF_USE_LEGACY_KERAS=1 with tf-keras), or pass the mask yourself "
                    "(layer(x, initial_state=..., mask=...)) in code and re-save it")
            nodes[index] = {"args": [_tensor(first)],
                            "kwargs": {**keywords,
                                       "initial_state": [_tensor(state) for state in states]}}
            self.note(path, f"call {index}: initial_state from {[s[0] for s in states]} "
                      "written as Keras 3's initial_state keyword (Keras 2 recorded the states "
                      "as extra call inputs)")

    def options(self, config: dict[str, Any], path: str) -> None:
        if "time_major" in config:
            if config.pop("time_major"):
                raise CannotMigrate(f"{self.read.path}: layer {path!r} has time_major=True (it "
                                    "reads (time, batch, features)); Keras 3 has no time-major "
                                    "recurrent layers: transpose the inputs and re-save with "
                                    "time_major=False first")
            self.note(path, "time_major=False dropped (Keras 3 has no such option)")
        if "implementation" in config:  # a speed hint; Keras 3.0-3.3 refuse it on GRU
            config.pop("implementation")
            self.note(path, "implementation dropped (a Keras 2 speed hint)")
        for key, value in list(config.items()):
            kind = next((kind for kind in _OBJECT_MODULES if key.endswith(kind)), None)
            if kind is None or value is None:
                continue
            if not isinstance(value, dict):
                continue
            if value.get("module") is None:
                config[key] = value = {"module": _OBJECT_MODULES[kind], "class_name":
                                       value.get("class_name"), "config":
                                       value.get("config", {}), "registered_name": None}
                self.note(path, f"{key} {value.get('class_name')!r}: module "
                                f"{_OBJECT_MODULES[kind]!r} added")

    def hard_sigmoid(self, layer: dict[str, Any], path: str) -> None:
        kind = layer["class_name"]
        config = layer["config"]
        wrapped = kind in ("Bidirectional", "TimeDistributed")
        inner = config["layer"] if wrapped else layer
        inner_kind, inner_config = inner["class_name"], inner["config"]
        keys = [key for key in ("activation", "recurrent_activation")
                if inner_config.get(key) == "hard_sigmoid"]
        if not keys:
            return
        columns = _rescalable_columns(inner_kind, inner_config, keys)
        reason = (f"{self.read.path}: layer {path!r} ({kind}) uses "
                  f"{' and '.join(f'{key}=hard_sigmoid' for key in keys)}: Keras 2's "
                  "hard_sigmoid is clip(0.2x + 0.5, 0, 1), Keras 3's is clip(x/6 + 0.5, 0, 1), "
                  "so the same file computes a different function under Keras 3")
        if columns is None:
            raise CannotMigrate(f"{reason}; no exact mapping exists here (it is applied to "
                                "something other than a linear function of this layer's "
                                "weights), so it is refused")
        if not self.rescale:
            raise CannotMigrate(f"{reason}; an exact mapping exists: hs2(z) = hs3(1.2 z) — "
                                "pass --rescale-hard-sigmoid to scale the weight columns it "
                                "reads by 1.2")
        arrays = self.weights[path]
        copies = 2 if kind == "Bidirectional" else 1
        per = len(arrays) // copies
        for copy_index in range(copies):
            for index in range(per):
                array = arrays[copy_index * per + index]
                array[..., columns] = (array[..., columns].astype(np.float64)
                                       * HARD_SIGMOID_SCALE).astype(array.dtype)
        self.note(path, f"{', '.join(keys)} hard_sigmoid kept; the {len(columns)} weight "
                  "columns it reads scaled by 1.2 (hs2(z) = hs3(1.2 z), exact)")


def _tensor(reference: list[Any]) -> dict[str, Any]:
    """A Keras 2 node reference ``[layer, node, tensor, ...]`` as Keras 3's serialized
    tensor (its shape and dtype are placeholders: Keras 3 takes the referenced tensor)."""
    return {"class_name": "__keras_tensor__",
            "config": {"shape": [None], "dtype": "float32",
                       "keras_history": [str(reference[0]), int(reference[1]),
                                         int(reference[2])]}}


#: Keys of a CuDNN layer's config that its LSTM/GRU twin keeps.
_CUDNN_KEYS = frozenset({
    "name", "trainable", "dtype", "units", "return_sequences", "return_state", "go_backwards",
    "stateful", "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "activity_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint"})

_OBJECT_MODULES = {"_initializer": "keras.initializers", "_regularizer": "keras.regularizers",
                   "_constraint": "keras.constraints"}


def _rescalable_columns(kind: str, config: Mapping[str, Any], keys: list[str]
                        ) -> list[int] | None:
    """The last-axis columns of every weight array that feed the hard_sigmoid(s) named by
    ``keys``, or ``None`` when the activation is not applied to a linear function of them."""
    if kind in ("Dense", "Conv1D") and keys == ["activation"]:
        return list(range(int(config["units" if kind == "Dense" else "filters"])))
    if kind not in cells.CELLS:
        return None
    cell = cells.get(kind)
    units = int(config.get("units", 0))
    columns: list[int] = []
    for key in keys:
        gates = cell.activation_blocks.get(key)
        if gates is None:
            return None
        for gate in gates:
            span = cell.block(gate, units)
            columns += range(span.start, span.stop)
    return sorted(columns)


