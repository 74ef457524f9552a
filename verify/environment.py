"""What is installed, read from package metadata and the environment, without importing Keras.

These answer questions about the *environment* (which Keras would be imported, on which
backend, which activations it knows), so that strategies, the report header and the named
divergences can decide without paying for a TensorFlow import.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from importlib import metadata
from pathlib import Path


def version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or ``None``."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def keras3_backend() -> str:
    """The backend Keras 3 will use: the running one if Keras is imported, else what Keras
    reads at import (``$KERAS_BACKEND``, then ``keras.json``, default tensorflow)."""
    module = sys.modules.get("keras")
    if module is not None and hasattr(module, "backend") and hasattr(module.backend, "backend"):
        return str(module.backend.backend())
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    try:
        return str(json.loads((home / "keras.json").read_text()).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def legacy_keras_requested() -> bool:
    """``TF_USE_LEGACY_KERAS`` is set: TensorFlow (and this project) use tf-keras (Keras 2)."""
    return os.environ.get("TF_USE_LEGACY_KERAS", "").strip().lower() in ("1", "true", "yes")


def major_minor(text: str) -> tuple[int, int]:
    """``"2.13.1"`` -> ``(2, 13)`` (release candidates too: ``"2.14.0rc1"`` -> ``(2, 14)``)."""
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def keras_version() -> str | None:
    """The version of the Keras that ``verify.keras_adapter`` would import (tf-keras under
    ``TF_USE_LEGACY_KERAS``), or ``None`` when none is installed."""
    # keras-nightly installs the `keras` module under another distribution name.
    return ((version("tf-keras") if legacy_keras_requested() else None) or version("keras")
            or version("keras-nightly"))


@functools.cache
def masked_concatenate_fails() -> bool:
    """Keras 3.4-3.11 cannot run a model whose ``Concatenate`` merges masked inputs (the named
    divergence ``concatenate-masked-inputs-fail-keras-3.4-3.11``); read from package
    metadata."""
    installed = keras_version()
    return installed is not None and (3, 4) <= major_minor(installed) < (3, 12)


@functools.cache
def unrolled_masked_last_output_raises() -> bool:
    """Keras 2 raises ``ValueError`` (a ``set_shape`` of the zeroed outputs) for an unrolled
    layer with ``zero_output_for_mask=True``, ``return_sequences=False``, a mask and more than
    one step (the named divergence ``unrolled-masked-last-output-raises-keras2``); read from
    package metadata."""
    installed = keras_version()
    return installed is not None and major_minor(installed) < (3, 0)


def unrolled_backwards_mask_raises() -> bool:
    """Keras 3 on torch raises ``AttributeError`` for an unrolled ``go_backwards`` layer (a
    Bidirectional's backward one included) called with a mask (the named divergence
    ``unrolled-backwards-mask-raises-torch``: its rnn() flips a tuple of masks)."""
    installed = keras_version()
    return (installed is not None and major_minor(installed) >= (3, 0)
            and keras3_backend() == "torch")


def stacked_single_cell_raises(cell: str, *, masked: bool, steps: int = 2) -> bool:
    """Keras 3 raises for ``RNN(StackedRNNCells([<cell>Cell]))`` (one cell): on tensorflow
    when masked, on torch when masked, an LSTMCell and over more than one step, on jax always
    (the named divergence ``stacked-single-cell-raises-keras3``); read from package
    metadata."""
    installed = keras_version()
    if installed is None or major_minor(installed) < (3, 0):
        return False
    backend = keras3_backend()
    if backend == "jax":
        return True
    if backend == "torch":
        return masked and cell == "LSTM" and steps > 1
    return masked


def layer_norm_axis_1_raises() -> bool:
    """Keras 3 on torch raises for a LayerNormalization(axis=1) over a non-square (steps,
    features) input (the named divergence ``layer-norm-axis-1-raises-torch``)."""
    installed = keras_version()
    return (installed is not None and major_minor(installed) >= (3, 0)
            and keras3_backend() == "torch")


def attention_value_mask_misbroadcast() -> bool:
    """Keras 3.0-3.11 subtract an Attention's (batch, Tv) value mask from its (batch, Tq, Tv)
    scores unexpanded (the named divergence
    ``attention-value-mask-misbroadcast-keras-3.0-3.11``)."""
    installed = keras_version()
    return installed is not None and (3, 0) <= major_minor(installed) < (3, 12)


def attention_masked_query_raises() -> bool:
    """Keras 3.4-3.6 cannot build an Attention whose query is masked (the named divergence
    ``attention-masked-query-raises-keras-3.4-3.6``)."""
    installed = keras_version()
    return installed is not None and (3, 4) <= major_minor(installed) < (3, 7)


def attention_mixed_masks_raise() -> bool:
    """Keras 3.0-3.3 cannot build an Attention whose value is masked and whose query is not
    (the named divergence ``attention-mixed-masks-raise-keras-3.0-3.3``)."""
    installed = keras_version()
    return installed is not None and (3, 0) <= major_minor(installed) < (3, 4)


def mha_value_dim_raises() -> bool:
    """Keras 3 on jax raises for a MultiHeadAttention whose value_dim differs from its
    key_dim (the named divergence ``mha-value-dim-raises-jax``)."""
    installed = keras_version()
    return (installed is not None and major_minor(installed) >= (3, 0)
            and keras3_backend() == "jax")


@functools.cache
def missing_activations() -> frozenset[str]:
    """Activation names of :data:`verify.config.ACTIVATIONS` that the installed Keras does not
    know (read from package metadata, without importing Keras): ``mish`` before Keras 2.13."""
    installed = keras_version()
    if installed is None:
        return frozenset()
    return frozenset({"mish"}) if major_minor(installed) < (2, 13) else frozenset()


__all__ = [
    "attention_masked_query_raises",
    "attention_mixed_masks_raise",
    "attention_value_mask_misbroadcast",
    "keras3_backend",
    "keras_version",
    "layer_norm_axis_1_raises",
    "legacy_keras_requested",
    "major_minor",
    "masked_concatenate_fails",
    "mha_value_dim_raises",
    "missing_activations",
    "stacked_single_cell_raises",
    "version",
]
