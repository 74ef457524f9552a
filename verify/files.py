"""Read a saved Keras model as data: no TensorFlow, no Keras, nothing from the file executed.

Two formats:

* ``.keras`` (Keras 3): a zip with ``config.json`` (the architecture), ``metadata.json``
  (``keras_version``) and ``model.weights.h5``, where each layer's arrays sit under a group
  named after its *class* in model order (``layers/lstm``, ``layers/lstm_1``; the names the
  user gave are not used), e.g. ``layers/bidirectional/forward_layer/cell/vars/0``.
* ``.h5`` (Keras 2, and Keras 3's legacy writer): attributes ``model_config`` (JSON),
  ``keras_version`` and ``backend``; ``model_weights/<layer name>`` lists its arrays in
  ``get_weights()`` order in the ``weight_names`` attribute.

The architecture is parsed as JSON and the arrays are read with ``h5py``: a ``Lambda`` layer's
stored code and custom classes are reported by name (:class:`UnsupportedLayer`), never
deserialised or imported. Hostile archives are refused (:class:`ModelFileError`): members with
absolute or ``..`` paths, members larger than :data:`MAX_MEMBER_BYTES` (declared or actual),
HDF5 external links, external or virtual datasets, arrays that disagree with the config.

>>> import verify.files  # imports NumPy only; h5py when a file is read
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from verify import _validate, layers
from verify.config import RNN_CONFIGS, recurrent_config
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

#: Model classes whose config nests layers (read recursively; paths ``outer/inner``).
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
#: Recurrent layers of old files that are read as data (``migrate`` converts them) but that
#: neither ``explain`` nor ``predict`` runs.
LEGACY_RECURRENT = frozenset({"CuDNNLSTM", "CuDNNGRU"})


class ModelFileError(ValueError):
    """A file that is missing, unreadable, not a Keras model, hostile or inconsistent."""


class UnsupportedLayer(NotImplementedError):
    """A layer the file names but this project does not read (``Lambda``, custom classes)."""


@functools.cache
def readable_classes() -> frozenset[str]:
    """Every layer class the reader accepts: what :func:`verify.predict` runs, plus
    :data:`LEGACY_RECURRENT`."""
    from verify import model

    return frozenset({*model._HANDLERS, *layers.HANDLERS, *LEGACY_RECURRENT})


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

    def records(self) -> list[LayerRecord]:
        """The layers as :class:`verify.records.LayerRecord` (what ``explain`` reads)."""
        found = []
        for path, layer in self.layers():
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
        from verify import model

        return model.forward(self.config, self.weights, x,
                             semantics=semantics or self.semantics, dtype=dtype,
                             recorded_masks=recorded_masks)

    def inputs(self) -> list[tuple[tuple[int | None, ...], str]]:
        """Each model input's shape (batch axis included) and dtype name, in input order."""
        return [spec for _, spec in input_layers(self.config)]


def read(path: str | os.PathLike[str]) -> ModelFile:
    """Read ``path`` (``.keras`` or ``.h5``) as data; see the module docstring.

    Raises :class:`ModelFileError` (one line) for a missing, unreadable, non-model, hostile or
    inconsistent file and :class:`UnsupportedLayer` for a ``Lambda``, custom or unknown layer.
    """
    file = Path(os.fspath(path))
    if not file.exists():
        raise ModelFileError(f"{file}: no such file or directory")
    if file.is_dir():
        raise ModelFileError(f"{file} is a directory (a TensorFlow SavedModel?): lstm-verify "
                             "reads .keras and .h5 files; re-save it with "
                             "model.save('model.keras')")
    try:
        with file.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise ModelFileError(f"cannot read {file}: {error.strerror or error}") from error
    if not head:
        raise ModelFileError(f"{file} is empty: expected a .keras (zip) or .h5 (HDF5) model "
                             "file")
    if head.startswith(b"PK"):
        return _read_keras(file)
    if head == b"\x89HDF\r\n\x1a\n":
        return _read_h5(file)
    raise ModelFileError(f"{file} is neither a .keras archive (zip) nor an HDF5 (.h5) file "
                         f"(it starts with {head!r})")


# --- .keras ------------------------------------------------------------------------------


def _read_keras(file: Path) -> ModelFile:
    try:
        with zipfile.ZipFile(file) as archive:
            members = {info.filename: info for info in archive.infolist()}
            for name in members:
                posix = PurePosixPath(name.replace("\\", "/"))
                if posix.is_absolute() or ".." in posix.parts or re.match(r"^[A-Za-z]:", name):
                    raise ModelFileError(f"{file}: archive member {name!r} points outside the "
                                         "archive (absolute or '..' path): refused")
            if "model.weights.h5" not in members and "model.weights.json" in members:
                raise ModelFileError(f"{file}: its weights are sharded (model.weights.json and "
                                     "shards), which lstm-verify does not read: re-save it "
                                     "without max_shard_size")
            for required in ("config.json", "model.weights.h5"):
                if required not in members:
                    raise ModelFileError(f"{file}: not a Keras 3 model archive: no "
                                         f"{required} in it (members: {sorted(members)[:5]})")
            document = _json(file, "config.json", _member(archive, members["config.json"], file))
            metadata: Mapping[str, Any] = {}
            if "metadata.json" in members:
                metadata = _json(file, "metadata.json",
                                 _member(archive, members["metadata.json"], file))
            weights_bytes = _member(archive, members["model.weights.h5"], file)
    except zipfile.BadZipFile as error:
        raise ModelFileError(f"{file}: not a readable zip archive ({error}): a truncated or "
                             "corrupt .keras file?") from error
    except (OSError, EOFError, RuntimeError, zipfile.LargeZipFile, NotImplementedError) as error:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression
        raise ModelFileError(f"{file}: cannot read the archive: "
                             f"{type(error).__name__}: {error}") from error
    model_class, config = _model_config(file, document)
    version = _version(metadata.get("keras_version") if isinstance(metadata, Mapping) else None)
    h5py = _h5py()
    weights: dict[str, list[np.ndarray]] = {}
    try:
        with h5py.File(io.BytesIO(weights_bytes), "r") as store:
            root = _layers_group(store)
            twice = str(version).startswith("2.13.")
            used = _keras_weights(file, config, root, "", weights, twice)
            extra = [] if root is None else sorted(
                name for name in root if name not in used and _holds_arrays(root[name]))
            if extra:
                raise ModelFileError(f"{file}: model.weights.h5 holds arrays for layers "
                                     f"{extra} that the config does not have: the weights do "
                                     "not match the config")
    except (OSError, KeyError) as error:
        raise ModelFileError(f"{file}: model.weights.h5 is not a readable HDF5 file: "
                             f"{error}") from error
    made = ModelFile(path=file, format="keras", keras_version=version, backend=None,
                     config=config, weights=weights, model_class=model_class)
    _check_against_config(made)
    return made


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file: Path) -> bytes:
    """A member's bytes, refusing (declared or actual) sizes over the limit:
    :data:`MAX_CONFIG_BYTES` for JSON, :data:`MAX_MEMBER_BYTES` otherwise."""
    limit = MAX_CONFIG_BYTES if info.filename.endswith(".json") else MAX_MEMBER_BYTES
    if info.file_size > limit:
        raise ModelFileError(f"{file}: archive member {info.filename!r} declares "
                             f"{info.file_size} bytes, over the {limit}-byte limit: refused")
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{file}: archive member {info.filename!r} expands past "
                             f"{limit} bytes (declared {info.file_size}): refused")
    return data


def _json(file: Path, what: str, data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise ModelFileError(f"{file}: {what} is not valid JSON ({str(error)[:120]})") from error


def _model_config(file: Path, document: Any) -> tuple[str, Mapping[str, Any]]:
    """The model class and its ``get_config()`` from a saved ``{"class_name", "config"}``."""
    if not isinstance(document, Mapping) or not isinstance(document.get("config"), Mapping):
        raise ModelFileError(f"{file}: the architecture is not a Keras model config (expected "
                             "an object with 'class_name' and 'config')")
    model_class = str(document.get("class_name"))
    config = document["config"]
    if model_class not in MODEL_CLASSES or not isinstance(config.get("layers"), list):
        raise ModelFileError(f"{file}: holds a {model_class!r}, not a Sequential or functional "
                             "model with a list of layers (subclassed models keep their "
                             "architecture in Python code, which is not in the file)")
    for path, layer in _leaves(config, ""):
        _check_class(file, path, layer)
    return model_class, config


_SNAKE_1 = re.compile("(.)([A-Z][a-z]+)")
_SNAKE_2 = re.compile("([a-z])([A-Z])")


def _snake(class_name: str) -> str:
    """Keras 3's ``naming.to_snake_case``: the group name of a layer in ``model.weights.h5``."""
    name = re.sub(r"\W+", "", class_name)
    return _SNAKE_2.sub(r"\1_\2", _SNAKE_1.sub(r"\1_\2", name)).lower()


def _keras_weights(file: Path, config: Mapping[str, Any], container: Any, prefix: str,
                   weights: dict[str, list[np.ndarray]], twice: bool = False) -> set[str]:
    """Fill ``weights`` from a ``layers`` group: the k-th layer of a class is the group
    ``<snake_case class>`` (k = 0) or ``<snake_case class>_k``, as Keras 3 saves them.
    ``twice``: Keras 2.13 lists each layer that has weights twice in the container it numbers
    (``layer_with_weights-i`` and ``layer-j``, the second skipped as already saved), so the
    k-th such layer of a class is ``<class>_{2k}``. Returns the group names read."""
    used: dict[str, int] = {}
    read: set[str] = set()
    for layer in config["layers"]:
        if layers.is_op(layer):
            continue
        kind = str(layer["class_name"])
        snake = _snake(kind)
        used[snake] = used.get(snake, -1) + 1
        group_name = snake if used[snake] == 0 else f"{snake}_{used[snake]}"
        if twice and _has_weights(layer):
            used[snake] += 1
        path = prefix + layers.name(layer)
        group = None if container is None else container.get(group_name)
        read.add(group_name)
        if kind in MODEL_CLASSES:
            inner = None if group is None else _layers_group(group)
            _keras_weights(file, layer["config"], inner, f"{path}/", weights, twice)
            continue
        weights[path] = [] if group is None else _group_arrays(file, path, group, kind,
                                                               layer["config"])
    return read


def _has_weights(layer: Mapping[str, Any]) -> bool:
    if layer.get("class_name") in MODEL_CLASSES:
        return any(_has_weights(inner) for _, inner in _leaves(layer["config"], ""))
    try:
        return expected_shapes(str(layer["class_name"]), layer["config"]) != []
    except (KeyError, TypeError, ValueError, NotImplementedError):
        return True


def _layers_group(group: Any) -> Any:
    """A model's layer groups: ``layers`` (Keras 3, Keras 2.12 and 2.14-2.15) or
    ``_layer_checkpoint_dependencies`` (Keras 2.13's ``.keras`` writer)."""
    found = group.get("layers")
    return found if found is not None else group.get("_layer_checkpoint_dependencies")


#: Sub-objects whose variables follow the layer's own, in ``get_weights()`` order.
_CHILDREN: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(RNN_CONFIGS, ("cell",)),
    "Bidirectional": ("forward_layer", "backward_layer"),
    "TimeDistributed": ("layer",),
}


def _group_arrays(file: Path, path: str, group: Any, kind: str,
                  config: Mapping[str, Any]) -> list[np.ndarray]:
    arrays = _vars(file, path, group)
    inner = config.get("layer")
    inner_kind = str(inner["class_name"]) if isinstance(inner, Mapping) else ""
    children = _CHILDREN.get(kind, ())
    for child in children:
        sub = group.get(child)
        if sub is None:
            continue
        child_kind = inner_kind if kind in ("Bidirectional", "TimeDistributed") else ""
        if child_kind in _CHILDREN and isinstance(inner, Mapping):
            arrays += _group_arrays(file, path, sub, child_kind, inner["config"])
        else:
            arrays += _vars(file, path, sub)
    for name in group:
        if name not in ("vars", *children) and _holds_arrays(group[name]):
            raise ModelFileError(f"{file}: layer {path!r} ({kind}) holds arrays under "
                                 f"{name!r}, which a {kind} does not have: the file does not "
                                 "match its config")
    return arrays


def _vars(file: Path, path: str, group: Any) -> list[np.ndarray]:
    """A ``vars`` group's arrays ``0, 1, ...`` in order."""
    own = group.get("vars")
    if own is None:
        return []
    names = sorted(own, key=lambda key: int(key) if key.isdigit() else -1)
    if [int(name) if name.isdigit() else None for name in names] != list(range(len(names))):
        raise ModelFileError(f"{file}: layer {path!r}: its variables are named {names}, "
                             "expected 0, 1, ...")
    return [_array(file, path, own, name) for name in names]


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


# --- .h5 ---------------------------------------------------------------------------------


def _read_h5(file: Path) -> ModelFile:
    h5py = _h5py()
    try:
        with h5py.File(file, "r") as store:
            raw = store.attrs.get("model_config")
            if raw is not None and len(raw) > MAX_CONFIG_BYTES:
                raise ModelFileError(f"{file}: model_config is {len(raw)} bytes, over the "
                                     f"{MAX_CONFIG_BYTES}-byte limit: refused")
            if raw is None:
                kind = "weights only (save_weights)" if "layer_names" in store.attrs \
                    else "no model"
                raise ModelFileError(f"{file}: an HDF5 file with {kind}: no 'model_config' "
                                     "attribute, so not a saved Keras model")
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            model_class, config = _model_config(file, _json(file, "model_config", raw))
            version = _text(store.attrs.get("keras_version"))
            backend = _text(store.attrs.get("backend"))
            group = store.get("model_weights", store)
            weights: dict[str, list[np.ndarray]] = {}
            _h5_weights(file, config, group, weights)
            names = {layers.name(layer) for layer in config["layers"]}
            extra = sorted(_text(name) or "" for name in
                           np.asarray(group.attrs.get("layer_names", [])).ravel()
                           if (_text(name) or "") not in names
                           and _weight_names(group[_text(name) or ""]))
            if extra:
                raise ModelFileError(f"{file}: model_weights holds arrays for layers {extra} "
                                     "that the config does not have: the weights do not "
                                     "match the config")
    except OSError as error:
        raise ModelFileError(f"{file}: not a readable HDF5 file ({str(error)[:160]}): a "
                             "truncated or corrupt .h5?") from error
    made = ModelFile(path=file, format="h5", keras_version=_version(version), backend=backend,
                     config=config, weights=weights, model_class=model_class)
    _check_against_config(made)
    return made


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
    names = group.attrs.get("weight_names", [])
    return [_text(name) or "" for name in np.asarray(names).ravel()] if len(names) else []


def _h5_weights(file: Path, config: Mapping[str, Any], root: Any,
                weights: dict[str, list[np.ndarray]]) -> None:
    """Fill ``weights`` from ``model_weights``: one group per top-level layer, named as the
    layer; a nested model's group lists every inner layer's arrays, each named after the
    inner layer that owns it."""
    for layer in config["layers"]:
        if layers.is_op(layer):
            continue
        name = layers.name(layer)
        group = root.get(name)
        names = [] if group is None else _weight_names(group)
        arrays = [_array(file, name, group, weight) for weight in names]
        if layer["class_name"] in MODEL_CLASSES:
            _distribute(file, name, layer["config"], names, arrays, weights)
        else:
            weights[name] = arrays


def _distribute(file: Path, outer: str, config: Mapping[str, Any], names: Sequence[str],
                arrays: Sequence[np.ndarray], weights: dict[str, list[np.ndarray]]) -> None:
    """Give each inner layer of a nested model the arrays whose names contain its name."""
    leaves = [(path, layers.name(layer)) for path, layer in _leaves(config, f"{outer}/")]
    for path, _ in leaves:
        weights[path] = []
    for weight, array in zip(names, arrays, strict=True):
        parts = weight.split("/")
        owner = next((path for path, name in leaves if name in parts[:-1]), None)
        if owner is None:
            raise ModelFileError(f"{file}: nested model {outer!r}: array {weight!r} names none "
                                 f"of its layers {[name for _, name in leaves]}")
        weights[owner].append(array)


# --- the config, checked against the arrays ----------------------------------------------


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
                               f"not read; it reads {', '.join(sorted(readable_classes()))}")


def expected_shapes(class_name: str, config: Mapping[str, Any]
                    ) -> list[tuple[int | None, ...]] | None:
    """The ``get_weights()`` shapes a layer's config implies (``None`` for a dimension that
    depends on the input), or ``None`` when this module does not know the class's weights."""
    if class_name in RNN_CONFIGS:
        layer = recurrent_config(class_name, config, input_dim=1).recurrent
        shapes = layer.cell.weight_shapes(1, layer.units, use_bias=layer.use_bias,
                                          **layer.cell_options)
        return [(None, *shapes[0][1:]), *shapes[1:]]
    if class_name == "Bidirectional":
        inner = config["layer"]
        one = expected_shapes(str(inner["class_name"]), inner["config"])
        return None if one is None else one * 2
    if class_name == "TimeDistributed":
        inner = config["layer"]
        return expected_shapes(str(inner["class_name"]), inner["config"])
    if class_name == "Dense":
        units = int(config["units"])
        return [(None, units)] + ([(units,)] if config.get("use_bias", True) else [])
    if class_name == "Embedding":
        return [(int(config["input_dim"]), int(config["output_dim"]))]
    if class_name == "Conv1D":
        filters, size = int(config["filters"]), _first(config["kernel_size"])
        return [(size, None, filters)] + ([(filters,)] if config.get("use_bias", True) else [])
    if class_name in ("LayerNormalization", "BatchNormalization"):
        count = int(bool(config.get("scale", True))) + int(bool(config.get("center", True)))
        count += 2 if class_name == "BatchNormalization" else 0
        return [(None,)] * count
    if class_name in LEGACY_RECURRENT:
        return None
    return []


def _first(value: Any) -> int:
    return int(value[0] if isinstance(value, list | tuple) else value)


def _check_against_config(made: ModelFile) -> None:
    """Each layer's arrays must match, in count and known dimensions, what its config says."""
    for path, layer in made.layers():
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
        by_name = {layers.name(layer): layer for layer in entries}
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
            raise ModelFileError(f"input layer {layers.name(entry)!r} has no shape in the "
                                 "config")
        dtype = inner.get("dtype", "float32")
        if isinstance(dtype, Mapping):  # Keras 3 DTypePolicy
            dtype = dtype.get("config", {}).get("name", "float32")
        found.append((layers.name(entry),
                      (tuple(None if dim is None else int(dim) for dim in shape), str(dtype))))
    return found


def sample_inputs(read: ModelFile, rng: np.random.Generator, *, timesteps: int = 10,
                  batch: int = 4) -> list[np.ndarray]:
    """Random inputs for the model in ``read``, one array per input: unknown axes get
    ``timesteps``; integer inputs get token ids below the smallest Embedding's vocabulary;
    where the model masks (``mask_zero`` or a Masking layer) every other row is right-padded
    (token 0, or the mask value) so that masks are exercised."""
    records = read.layers()
    masking = [float(layer["config"].get("mask_value", 0.0)) for _, layer in records
               if layer["class_name"] == "Masking"]
    vocab = min([int(layer["config"]["input_dim"]) for _, layer in records
                 if layer["class_name"] == "Embedding"] or [2])
    arrays = []
    for shape, dtype in read.inputs():
        full = (batch, *(timesteps if dim is None else dim for dim in shape[1:]))
        tokens = np.dtype(dtype).kind in "iu" if dtype != "string" else False
        x = (rng.integers(1, max(vocab, 2), full).astype(np.int32) if tokens
             else rng.uniform(-1, 1, full).astype(np.float32))
        if (tokens or masking) and x.ndim >= 2:
            for row in range(0, batch, 2):
                x[row, rng.integers(1, x.shape[1] + 1):] = 0 if tokens else masking[0]
        arrays.append(x)
    return arrays


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - h5py is a dependency
        raise ModelFileError("reading model files needs h5py: pip install h5py") from error
    return h5py


__all__ = ["LEGACY_RECURRENT", "MAX_CONFIG_BYTES", "MAX_MEMBER_BYTES", "MODEL_CLASSES", "ModelFile",
           "ModelFileError", "UnsupportedLayer", "expected_shapes", "input_layers", "read",
           "readable_classes", "sample_inputs"]
