"""A model file read as data (:class:`ModelFile`), and what both formats check: the size
limits, the layer classes that may be read (never a ``Lambda`` or a custom class), each
layer's arrays against its config, and safe access to HDF5 datasets (no links, no external
or virtual storage, numbers only)."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from verify import _validate, layers, model
from verify.errors import ModelFileError, UnsupportedLayer
from verify.keras_config import (
    LEGACY_RECURRENT,
    MODEL_CLASSES,
    expected_shapes,
    input_layers,
    input_readers,
)
from verify.records import LayerRecord
from verify.semantics import Semantics, of_keras

#: Largest archive member (``config.json``, ``model.weights.h5``) or array read, in bytes
#: (``LSTM_VERIFY_MAX_MEMBER_BYTES``; default 2 GiB): past it a file is refused as hostile.
MAX_MEMBER_BYTES = _validate.positive_int(
    "LSTM_VERIFY_MAX_MEMBER_BYTES",
    int(os.environ.get("LSTM_VERIFY_MAX_MEMBER_BYTES", str(2 << 30))))


#: Largest ``config.json``/``metadata.json`` or ``model_config`` read, in bytes (64 MiB: a
#: real architecture is kilobytes).
MAX_CONFIG_BYTES = 64 << 20


#: Why a weights-only file (``save_weights``) cannot be run, and the way out.
WEIGHTS_ONLY = ("weights only (save_weights): the architecture is not stored, so the model "
                "cannot be run from this file; build the model in code, call "
                "model.load_weights(...) and model.save('model.keras') (explain reads its "
                "recurrent arrays by name and shape)")


def readable_classes() -> frozenset[str]:
    """Every layer class the reader accepts: what :func:`verify.predict` runs, plus
    :data:`LEGACY_RECURRENT`."""
    return frozenset({*layers.HANDLERS, *LEGACY_RECURRENT})


@dataclass(frozen=True)
class ModelFile:
    """A model file's architecture and weights, as plain data."""

    path: Path
    #: ``"keras"`` (a ``.keras`` zip) or ``"h5"`` (legacy HDF5).
    format: str
    #: The Keras that wrote the file (``None`` when the file does not say).
    keras_version: str | None
    backend: str | None
    #: The model's ``get_config()`` (what ``config.json``'s ``"config"`` holds).
    config: Mapping[str, Any] = field(repr=False)
    #: Each layer's ``get_weights()`` by path (``outer/inner`` inside nested models).
    weights: Mapping[str, list[np.ndarray]] = field(repr=False)
    model_class: str = "Sequential"
    #: Layers read as data but not computable here, by path → the reason (a custom class, a
    #: Lambda, a class lstm-verify does not run); only :func:`read` with ``lenient=True``
    #: returns a file that has any. :meth:`forward` refuses such a file.
    unread: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: ``False`` for a weights-only file (``save_weights``): :attr:`config` is then inferred
    #: from the arrays' names and shapes (see :mod:`verify.files.weights_only`).
    architecture: bool = True

    @property
    def semantics(self) -> Semantics:
        """The semantics of the Keras that wrote the file: what ``model.predict`` gave where
        it was saved. Keras 3 when the file names no version; the TensorFlow backend's rules
        when it names no backend (a ``.keras`` archive never does; the jax rules differ only
        at masked leading steps after a non-zero initial state, and torch's in
        ``AveragePooling1D(padding="same")``: pass ``semantics=`` for those)."""
        version = self.keras_version or "3.15"
        return of_keras(version, self.backend or "tensorflow")

    def layers(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Every layer (not nested models, not Keras 3 operations) with its path, in order."""
        return list(_leaves(self.config, ""))

    def records(self, *, readable_only: bool = False) -> list[LayerRecord]:
        """The layers as :class:`verify.records.LayerRecord` (what ``explain`` reads);
        ``readable_only``: without the layers in :attr:`unread`."""
        found = []
        for path, layer in self.layers():
            if readable_only and path in self.unread:
                continue
            inner = layer.get("config", {}).get("layer")
            found.append(LayerRecord(
                path=path, class_name=str(layer["class_name"]), config=layer["config"],
                weights=self.weights.get(path, []),
                wrapped=str(inner["class_name"]) if isinstance(inner, Mapping) else None))
        return found

    def forward(self, x: Any, *, semantics: Semantics | str | None = None,
                dtype: Any = np.float64, recorded_masks: bool = True) -> Any:
        """:func:`verify.model.forward` of this file's config and weights; ``semantics``
        defaults to :attr:`semantics` (the Keras that wrote the file), not the installed one."""
        self.require_computable()
        return model.forward(self.config, self.weights, x,
                             semantics=semantics or self.semantics, dtype=dtype,
                             recorded_masks=recorded_masks)

    def require_computable(self) -> None:
        """Raise :class:`UnsupportedLayer` (one line, with the way out) unless the whole
        model can be computed from the file: a stored architecture, every layer readable."""
        if not self.architecture:
            raise UnsupportedLayer(f"{self.path}: {WEIGHTS_ONLY}")
        for reason in self.unread.values():
            raise UnsupportedLayer(reason)

    def inputs(self) -> list[tuple[tuple[int | None, ...], str]]:
        """Each model input's shape (batch axis included) and dtype name, in input order."""
        return [spec for _, spec in input_layers(self.config)]

    def input_readers(self) -> list[list[Mapping[str, Any]]]:
        """Each model input's direct readers (layer configs), in input order."""
        return input_readers(self.config)


def _json(file: Path, what: str, data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ModelFileError(f"{file}: {what} is not valid JSON ({str(error)[:120]})") from error


def _model_config(file: Path, document: Any, *, lenient: bool = False
                  ) -> tuple[str, Mapping[str, Any], dict[str, str]]:
    """The model class, its ``get_config()`` from a saved ``{"class_name", "config"}``, and
    the layers that cannot be computed here (path → reason; :class:`UnsupportedLayer` for the
    first unless ``lenient``). Keras 2.0-2.2.2 wrote a Sequential's config as the plain list of
    its layers."""
    if (isinstance(document, Mapping) and document.get("class_name") == "Sequential"
            and isinstance(document.get("config"), list)):
        document = {**document, "config": {"name": "sequential", "layers": document["config"]}}
    if not isinstance(document, Mapping) or not isinstance(document.get("config"), Mapping):
        raise ModelFileError(f"{file}: the architecture is not a Keras model config (expected "
                             "an object with 'class_name' and 'config')")
    model_class = str(document.get("class_name"))
    config = document["config"]
    if model_class not in MODEL_CLASSES or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{file}: holds a {model_class!r}, not a Sequential or functional "
                             "model with a list of layers (subclassed models keep their "
                             "architecture in Python code, which is not in the file)")
    unread: dict[str, str] = {}
    for path, layer in _leaves(config, ""):
        try:
            _check_class(file, path, layer)
        except UnsupportedLayer as error:
            if not lenient:
                raise
            unread[path] = str(error)
    return model_class, config, unread


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def _version(value: Any) -> str | None:
    text = _text(value)
    if text is None or not re.match(r"^\d+\.\d+", text):
        return None
    return text


def _weight_names(group: Any) -> list[str]:
    """The ``weight_names`` attribute of an ``.h5`` layer group: its arrays, in order."""
    names = group.attrs.get("weight_names", [])
    return [_text(name) or "" for name in np.asarray(names).ravel()] if len(names) else []


def _leaves(config: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every layer of a model config with its path; nested models are walked into."""
    for layer in config.get("layers", []):
        if not isinstance(layer, Mapping) or not isinstance(layer.get("config", {}), Mapping):
            raise ModelFileError(f"a layer entry of the model config is not an object: "
                                 f"{str(layer)[:80]}")
        if layers.is_op(layer):
            continue
        path = prefix + layers.name(layer)
        if layer.get("class_name") in MODEL_CLASSES and isinstance(
                layer.get("config"), Mapping) and "layers" in layer["config"]:
            yield from _leaves(layer["config"], f"{path}/")
        else:
            yield path, layer


def _check_class(file: Path, path: str, layer: Mapping[str, Any]) -> None:
    kind = layer.get("class_name")
    registered = layer.get("registered_name")
    module = str(layer.get("module") or "keras")
    inner = layer.get("config", {}).get("layer")
    if isinstance(inner, Mapping) and kind in ("Bidirectional", "TimeDistributed"):
        _check_class(file, f"{path}/{layers.name(inner) if 'config' in inner else '?'}", inner)
    if kind == "Lambda":
        raise UnsupportedLayer(f"{file}: layer {path!r} is a Lambda: its Python code is stored "
                               "in the file and is never run here; replace it with a built-in "
                               "layer to read this model")
    custom = (isinstance(registered, str) and registered not in (kind, "")
              and ">" in registered) or not module.startswith("keras")
    if custom:
        raise UnsupportedLayer(f"{file}: layer {path!r} is a custom class {registered or kind!r}"
                               f" (module {module!r}): its code is not in the file and is "
                               "never imported here")
    if kind not in readable_classes():
        raise UnsupportedLayer(f"{file}: layer {path!r} is a {kind!r}, which lstm-verify does "
                               "not read (a custom class, whose code is not in the file, or a "
                               "Keras layer it does not compute; verify.files.readable_classes()"
                               " lists those it reads)")


def _check_against_config(made: ModelFile) -> None:
    """Each layer's arrays must match, in count and known dimensions, what its config says."""
    for path, layer in made.layers():
        if path in made.unread:
            continue
        kind = str(layer["class_name"])
        arrays = made.weights.get(path, [])
        try:
            expected = expected_shapes(kind, layer["config"])
        except (KeyError, TypeError, ValueError, NotImplementedError) as error:
            raise ModelFileError(f"{made.path}: layer {path!r} ({kind}): its config cannot be "
                                 f"read: {type(error).__name__}: {error}") from error
        if expected is None:
            continue
        actual = [tuple(array.shape) for array in arrays]
        fits = len(actual) == len(expected) and all(
            len(a) == len(e) and all(x is None or x == y for x, y in zip(e, a, strict=True))
            for a, e in zip(actual, expected, strict=True))
        if not fits:
            shown = [tuple("?" if x is None else x for x in shape) for shape in expected]
            raise ModelFileError(f"{made.path}: layer {path!r} ({kind}): the file holds arrays "
                                 f"of shapes {actual}, its config implies {shown}: the weights "
                                 "do not match the config")


def _holds_arrays(group: Any) -> bool:
    h5py = _h5py()
    if isinstance(group, h5py.Dataset):
        return True
    return any(_holds_arrays(group[name]) for name in group)


def _array(file: Path, path: str, group: Any, name: str) -> np.ndarray:
    """One dataset, refusing links and external or virtual storage, and huge arrays."""
    h5py = _h5py()
    link = group.get(name, getlink=True)
    if not isinstance(link, h5py.HardLink):
        raise ModelFileError(f"{file}: layer {path!r}: array {name!r} is a "
                             f"{type(link).__name__} (a link to other data): refused")
    dataset = group[name]
    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(f"{file}: layer {path!r}: {name!r} is not an array")
    if dataset.external or dataset.is_virtual:
        raise ModelFileError(f"{file}: layer {path!r}: array {name!r} keeps its data outside "
                             "the file (external or virtual dataset): refused")
    if dataset.dtype.kind not in "fiub":
        raise ModelFileError(f"{file}: layer {path!r}: array {name!r} has dtype "
                             f"{dataset.dtype}, expected numbers")
    size = math.prod(dataset.shape) * dataset.dtype.itemsize
    if size > MAX_MEMBER_BYTES:
        raise ModelFileError(f"{file}: layer {path!r}: array {name!r} declares {size} bytes, "
                             f"over the {MAX_MEMBER_BYTES}-byte limit "
                             "(LSTM_VERIFY_MAX_MEMBER_BYTES): refused")
    return np.asarray(dataset[()])


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - h5py is a dependency
        raise ModelFileError("reading model files needs h5py: pip install h5py") from error
    return h5py

