"""A weights-only ``.h5`` (``model.save_weights`` in Keras 2, or ``*.weights.h5`` written by
Keras 2's legacy writer): one group per layer whose ``weight_names`` name its arrays
(``rnn_1/kernel:0``), and no architecture. :func:`read` infers each recurrent layer from
its arrays, so that ``explain`` and ``export`` can decode them:

* ``kernel (d, k u)``, ``recurrent_kernel (u, k u)`` [, ``bias``]: ``k = 4`` is an LSTM,
  ``k = 3`` a GRU (``reset_after`` when the bias is ``(2, 3u)``), ``k = 1`` a SimpleRNN;
* six such arrays under ``forward_*`` / ``backward_*`` names: a ``Bidirectional`` of one.

What the arrays do not say (activations, ``return_sequences``, masks, the layers' order of
calls) is not guessed: the result is marked ``architecture=False`` and
:meth:`ModelFile.forward <verify.files.ModelFile.forward>` refuses it with the way out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from verify.errors import ModelFileError
from verify.files.model_file import ModelFile, _array, _text, _version, _weight_names

_KINDS = {4: "LSTM", 3: "GRU", 1: "SimpleRNN"}


def read(file: Path, store: Any) -> ModelFile:
    """The weights-only file open as ``store``: every layer group's arrays, the recurrent
    ones as inferred LSTM/GRU/SimpleRNN (or Bidirectional) configs; the rest listed in
    :attr:`ModelFile.unread` with what is unknown about them."""
    entries: list[dict[str, Any]] = []
    weights: dict[str, list[np.ndarray]] = {}
    unread: dict[str, str] = {}
    for raw in np.asarray(store.attrs.get("layer_names", [])).ravel():
        name = _text(raw) or ""
        group = store.get(name)
        if group is None:
            continue
        names = _weight_names(group)
        arrays = [_array(file, name, group, weight) for weight in names]
        if not arrays:
            continue
        layer = _infer(name, names, arrays)
        if layer is None:
            layer = {"class_name": "Unknown", "config": {"name": name}}
            unread[name] = (f"{file}: layer {name!r}: a weights-only file does not say what "
                            f"layer holds arrays {[a.shape for a in arrays]}")
        entries.append(layer)
        weights[name] = arrays
    if not entries:
        raise ModelFileError(f"{file}: a weights-only HDF5 file without arrays")
    return ModelFile(path=file, format="h5 weights", keras_version=_version(
        store.attrs.get("keras_version")), backend=_text(store.attrs.get("backend")),
        config={"name": "weights", "layers": entries}, weights=weights,
        model_class="Sequential", unread=unread, architecture=False)


def _infer(name: str, names: list[str], arrays: list[np.ndarray]) -> dict[str, Any] | None:
    """The recurrent layer config these arrays belong to, or ``None``."""
    if len(arrays) in (4, 6) and all(any(side in part for part in weight.split("/"))
                                     for weight, side in zip(
                                         names, ["forward"] * (len(arrays) // 2)
                                         + ["backward"] * (len(arrays) // 2), strict=True)):
        half = len(arrays) // 2
        inner = _infer(name, names[:half], arrays[:half])
        if inner is None or _infer(name, names[half:], arrays[half:]) != inner:
            return None
        return {"class_name": "Bidirectional",
                "config": {"name": name, "layer": inner, "merge_mode": "concat"}}
    leaves = [weight.split("/")[-1].split(":")[0] for weight in names]
    if leaves[:2] != ["kernel", "recurrent_kernel"] or len(arrays) not in (2, 3):
        return None
    kernel, recurrent = arrays[0], arrays[1]
    if kernel.ndim != 2 or recurrent.ndim != 2 or recurrent.shape[0] == 0:
        return None
    units = int(recurrent.shape[0])
    blocks, rest = divmod(int(recurrent.shape[1]), units)
    kind = _KINDS.get(blocks)
    if rest or kind is None or kernel.shape[1] != recurrent.shape[1]:
        return None
    config: dict[str, Any] = {"name": name, "units": units, "use_bias": len(arrays) == 3}
    if kind == "GRU":
        config["reset_after"] = len(arrays) == 3 and arrays[2].ndim == 2
    if len(arrays) == 3 and arrays[2].shape not in ((blocks * units,), (2, blocks * units)):
        return None
    return {"class_name": kind, "config": config}
