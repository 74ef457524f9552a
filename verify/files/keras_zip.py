"""The ``.keras`` format (Keras 3; Keras 2.12-2.15 wrote it too): a zip with ``config.json``,
``metadata.json`` and ``model.weights.h5``, whose groups are named after each layer's class
in model order (the names the user gave are not used)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from verify import layers
from verify.config import RNN_CONFIGS
from verify.errors import ModelFileError
from verify.files import model_file
from verify.files.model_file import (
    ModelFile,
    _array,
    _check_against_config,
    _h5py,
    _holds_arrays,
    _json,
    _leaves,
    _model_config,
    _version,
)
from verify.keras_config import MODEL_CLASSES, expected_shapes


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file: Path) -> bytes:
    """A member's bytes, refusing (declared or actual) sizes over the limit:
    :data:`MAX_CONFIG_BYTES` for JSON, :data:`MAX_MEMBER_BYTES` otherwise."""
    limit = (model_file.MAX_CONFIG_BYTES if info.filename.endswith(".json")
             else model_file.MAX_MEMBER_BYTES)
    if info.file_size > limit:
        raise ModelFileError(f"{file}: archive member {info.filename!r} declares "
                             f"{info.file_size} bytes, over the {limit}-byte limit: refused")
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ModelFileError(f"{file}: archive member {info.filename!r} expands past "
                             f"{limit} bytes (declared {info.file_size}): refused")
    return data


def _read_keras(file: Path, *, lenient: bool = False) -> ModelFile:
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
    model_class, config, unread = _model_config(file, document, lenient=lenient)
    version = _version(metadata.get("keras_version") if isinstance(metadata, Mapping) else None)
    h5py = _h5py()
    weights: dict[str, list[np.ndarray]] = {}
    try:
        with h5py.File(io.BytesIO(weights_bytes), "r") as store:
            root = _layers_group(store)
            twice = str(version).startswith("2.13.")
            used = _keras_weights(file, config, root, "", weights, twice, unread)
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
                     config=config, weights=weights, model_class=model_class, unread=unread)
    _check_against_config(made)
    return made


_SNAKE_1 = re.compile("(.)([A-Z][a-z]+)")


_SNAKE_2 = re.compile("([a-z])([A-Z])")


def _snake(class_name: str) -> str:
    """Keras 3's ``naming.to_snake_case``: the group name of a layer in ``model.weights.h5``."""
    name = re.sub(r"\W+", "", class_name)
    return _SNAKE_2.sub(r"\1_\2", _SNAKE_1.sub(r"\1_\2", name)).lower()


def _keras_weights(file: Path, config: Mapping[str, Any], container: Any, prefix: str,
                   weights: dict[str, list[np.ndarray]], twice: bool = False,
                   unread: Mapping[str, str] | None = None) -> set[str]:
    """Fill ``weights`` from a ``layers`` group: the k-th layer of a class is the group
    ``<snake_case class>`` (k = 0) or ``<snake_case class>_k``, as Keras 3 saves them.
    ``twice``: Keras 2.13 lists each layer that has weights twice in the container it numbers
    (``layer_with_weights-i`` and ``layer-j``, the second skipped as already saved), so the
    k-th such layer of a class is ``<class>_{2k}``. ``unread``: layers not computed here
    (custom classes), whose arrays are kept as found, not checked. Returns the group names
    read."""
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
            _keras_weights(file, layer["config"], inner, f"{path}/", weights, twice, unread)
            continue
        if group is None:
            weights[path] = []
        elif unread and path in unread:
            weights[path] = _vars(file, path, group)
        else:
            weights[path] = _group_arrays(file, path, group, kind, layer["config"])
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
_WRAPPERS: dict[str, tuple[str, ...]] = {
    "Bidirectional": ("forward_layer", "backward_layer"),
    "TimeDistributed": ("layer",),
    # Keras 3 names the projections query_dense...; Keras 2's .keras writer _query_dense...
    "MultiHeadAttention": tuple(f"{underscore}{name}_dense" for name in
                                ("query", "key", "value", "output") for underscore in ("", "_")),
}


def _children(kind: str) -> tuple[str, ...]:
    """A recurrent layer's variables sit under ``cell``, a wrapper's under its layers."""
    return ("cell",) if kind in (*RNN_CONFIGS, "ConvLSTM1D", "ConvLSTM2D") \
        else _WRAPPERS.get(kind, ())


def _rnn_arrays(file: Path, path: str, group: Any, config: Mapping[str, Any]
                ) -> list[np.ndarray]:
    """An ``RNN`` layer's arrays: its cell's (``cell/vars``), or a ``StackedRNNCells``' cells'
    in config order (``cell/cells/<snake_case class>[_k]``, numbered per class as Keras 3
    names them)."""
    cell = group.get("cell")
    if cell is None:
        return []
    inner = config.get("cell", {})
    if not (isinstance(inner, Mapping) and inner.get("class_name") == "StackedRNNCells"):
        return _vars(file, path, cell)
    used: dict[str, int] = {}
    arrays: list[np.ndarray] = []
    holder = cell.get("cells")
    for item in inner.get("config", {}).get("cells", []):
        snake = _snake(str(item.get("class_name")))
        used[snake] = used.get(snake, -1) + 1
        sub = None if holder is None else holder.get(
            snake if used[snake] == 0 else f"{snake}_{used[snake]}")
        if sub is not None:
            arrays += _vars(file, path, sub)
    return arrays


def _group_arrays(file: Path, path: str, group: Any, kind: str,
                  config: Mapping[str, Any]) -> list[np.ndarray]:
    if kind == "RNN":
        return _vars(file, path, group) + _rnn_arrays(file, path, group, config)
    arrays = _vars(file, path, group)
    inner = config.get("layer")
    inner_kind = str(inner["class_name"]) if isinstance(inner, Mapping) else ""
    children = _children(kind)
    for child in children:
        sub = group.get(child)
        if sub is None:
            continue
        child_kind = inner_kind if kind in ("Bidirectional", "TimeDistributed") else ""
        if _children(child_kind) and isinstance(inner, Mapping):
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

