"""The legacy ``.h5`` format (Keras 2, and Keras 3's legacy writer): attributes
``model_config`` (JSON), ``keras_version`` and ``backend``; ``model_weights/<layer name>``
lists its arrays in ``get_weights()`` order in the ``weight_names`` attribute."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verify import layers
from verify.errors import ModelFileError
from verify.files import weights_only
from verify.files.model_file import (
    MAX_CONFIG_BYTES,
    WEIGHTS_ONLY,
    ModelFile,
    _array,
    _check_against_config,
    _h5py,
    _json,
    _leaves,
    _model_config,
    _text,
    _version,
    _weight_names,
)
from verify.keras_config import MODEL_CLASSES


def _read_h5(file: Path, *, lenient: bool = False) -> ModelFile:
    h5py = _h5py()
    try:
        with h5py.File(file, "r") as store:
            raw = store.attrs.get("model_config")
            if raw is not None and len(raw) > MAX_CONFIG_BYTES:
                raise ModelFileError(f"{file}: model_config is {len(raw)} bytes, over the "
                                     f"{MAX_CONFIG_BYTES}-byte limit: refused")
            if raw is None and "layer_names" in store.attrs:
                if lenient:
                    return weights_only.read(file, store)
                raise ModelFileError(f"{file}: {WEIGHTS_ONLY}")
            if raw is None:
                raise ModelFileError(f"{file}: an HDF5 file with no model: no 'model_config' "
                                     "attribute, so not a saved Keras model")
            if isinstance(raw, bytes):
                raw = raw.decode("utf-8", "replace")
            version = _text(store.attrs.get("keras_version"))
            if version is not None and version.split(".")[0] == "1":
                raise ModelFileError(
                    f"{file}: written by Keras {version}: Keras 1 named its layers, options "
                    "and weights differently (Convolution1D, W/U/b) and lstm-verify reads "
                    "Keras 2 and 3 files; load it with Keras 2 (which converts Keras 1 files) "
                    "and save it again")
            model_class, config, unread = _model_config(
                file, _json(file, "model_config", raw), lenient=lenient)
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
                     config=config, weights=weights, model_class=model_class, unread=unread)
    _check_against_config(made)
    return made


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

