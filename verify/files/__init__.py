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

import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from verify.errors import ModelFileError, UnsupportedLayer
from verify.files.keras_zip import _read_keras
from verify.files.legacy_h5 import _read_h5
from verify.files.model_file import (
    MAX_CONFIG_BYTES,
    MAX_MEMBER_BYTES,
    ModelFile,
    readable_classes,
)
from verify.keras_config import LEGACY_RECURRENT, MODEL_CLASSES, expected_shapes, input_layers
from verify.semantics import Semantics


def read(path: str | os.PathLike[str], *, lenient: bool = False) -> ModelFile:
    """Read ``path`` (``.keras`` or ``.h5``) as data; see the module docstring.

    Raises :class:`ModelFileError` (one line) for a missing, unreadable, non-model, hostile or
    inconsistent file and :class:`UnsupportedLayer` for a ``Lambda``, custom or unknown layer.
    ``lenient=True`` (what ``explain`` reads with): such layers are listed in
    :attr:`ModelFile.unread` instead, and a weights-only file is read with its recurrent
    layers inferred from their arrays (:mod:`verify.files.weights_only`); either way the file
    is still refused where it must be run (:meth:`ModelFile.forward`).
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
    reader = _read_keras if head.startswith(b"PK") else \
        _read_h5 if head == b"\x89HDF\r\n\x1a\n" else None
    if reader is not None:
        try:
            return reader(file, lenient=lenient)
        except ModelFileError:
            if not lenient:
                raise
            # An unread layer's arrays can make the file look inconsistent: the strict read
            # names that layer first (and is otherwise the same error).
            return reader(file)
    raise ModelFileError(f"{file} is neither a .keras archive (zip) nor an HDF5 (.h5) file "
                         f"(it starts with {head!r})")


def predict_file(path: str | os.PathLike[str], x: Any, *,
                 semantics: Semantics | str | None = None, dtype: DTypeLike = np.float64,
                 recorded_masks: bool = True) -> Any:
    """:func:`verify.predict` for a saved model file (``.keras``, or ``.h5`` from Keras 2 or 3),
    read as data by :func:`read`: no TensorFlow, nothing in the file executed. ``semantics``
    defaults to the Keras that wrote the file (what ``model.predict`` gave there), not the
    installed one."""
    return read(path).forward(x, semantics=semantics, dtype=dtype,
                              recorded_masks=recorded_masks)


__all__ = ["LEGACY_RECURRENT", "MAX_CONFIG_BYTES", "MAX_MEMBER_BYTES", "MODEL_CLASSES", "ModelFile",
           "ModelFileError", "UnsupportedLayer", "expected_shapes", "input_layers",
           "predict_file", "read", "readable_classes"]
