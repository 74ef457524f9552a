"""The non-recurrent layers of :func:`verify.predict`, in NumPy, with Keras's mask rules.

One registry, :data:`HANDLERS`, maps each layer class to its handler (the recurrent layers,
``TimeDistributed`` and nested models are registered by :mod:`verify.model`); a test that
needs another handler patches this dict. Each handler takes a layer's saved config
(``{"class_name", "config", "name"}``), the source of its weights, its inputs as
``(value, mask)`` pairs, the keyword arguments of its call and the :class:`Context`, and
returns its outputs as ``(value, mask)`` pairs. A mask is a boolean ``(batch, steps)`` array,
``True`` where a step counts, or ``None``.

Mask rules (measured on Keras 2.15 and 3.15, see KERAS_FACTS "Layers that real recurrent
models put around them"): ``Embedding(mask_zero=True)`` makes ``tokens != 0``; ``Masking(v)``
makes "some feature differs from ``v``"; ``Dense``, ``Activation``, ``LayerNormalization``,
``BatchNormalization``, the dropout/noise layers and ``TimeDistributed`` pass the mask on;
``GlobalAveragePooling1D`` averages the kept steps only and consumes the mask;
``Conv1D``, the pooling layers, ``GlobalMaxPooling1D`` (which ignores the mask),
``Permute``, ``Flatten``, ``Reshape`` and ``RepeatVector`` drop it. Merge layers combine
their inputs' masks as :attr:`verify.semantics.Semantics.mask_merge` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from verify.layers import attention, conv_lstm, core, sequence
from verify.layers.base import Context, Handler, Tensor, WeightSource, explicit_mask, name, weights
from verify.layers.core import dense_forward
from verify.layers.ops import OPS
from verify.layers.sequence import merge_masks

#: Layers that compute the identity at inference (``training=False``).
IDENTITY_AT_INFERENCE = frozenset({
    "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "ActivityRegularization"})

#: Layer class -> its handler: the one registry of what :func:`verify.predict` runs (the
#: recurrent layers, ``TimeDistributed`` and nested models are added by :mod:`verify.model`).
#: A seeded fault (tests/power) replaces an entry here.
HANDLERS: dict[str, Handler] = {
    "InputLayer": core.input_layer,
    "Dense": core.dense,
    "Activation": core.activation,
    "Masking": core.masking,
    "Embedding": core.embedding,
    **dict.fromkeys(("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                     "Concatenate"), sequence.merge),
    "Conv1D": sequence.conv1d,
    "Attention": attention.attention,
    "ConvLSTM1D": conv_lstm.conv_lstm,
    "ConvLSTM2D": conv_lstm.conv_lstm,
    "AdditiveAttention": attention.attention,
    "MultiHeadAttention": attention.multi_head_attention,
    "MaxPooling1D": sequence.pooling1d,
    "AveragePooling1D": sequence.pooling1d,
    "GlobalMaxPooling1D": sequence.global_pooling1d,
    "GlobalAveragePooling1D": sequence.global_pooling1d,
    "LayerNormalization": core.layer_normalization,
    "BatchNormalization": core.batch_normalization,
    "RepeatVector": core.repeat_vector,
    "Flatten": core.flatten,
    "Reshape": core.reshape,
    "Permute": core.permute,
    **dict.fromkeys(IDENTITY_AT_INFERENCE, core.identity),
}


def is_op(layer: Mapping[str, Any]) -> bool:
    """A Keras 3 operation node rather than a layer: module ``keras.src.ops...``, or an
    operation saved without a module (early Keras 3 and the legacy ``.h5`` writer) whose
    class is no layer's."""
    kind = str(layer.get("class_name"))
    module = layer.get("module")
    return str(module or "").startswith("keras.src.ops") or (
        not module and kind in OPS and kind not in HANDLERS)


def handler(layer: Mapping[str, Any]) -> Handler | None:
    """The handler of a saved layer (or Keras 3 operation), ``None`` if unsupported."""
    kind = str(layer.get("class_name"))
    if is_op(layer):
        return OPS.get(kind)
    return HANDLERS.get(kind)


__all__ = ["HANDLERS", "IDENTITY_AT_INFERENCE", "OPS", "Context", "Handler", "Tensor",
           "WeightSource", "dense_forward", "explicit_mask", "handler", "is_op", "merge_masks",
           "name", "weights"]
