"""``keras.layers.Attention`` (Luong, dot or concat scores), ``AdditiveAttention`` (Bahdanau)
and ``MultiHeadAttention`` over a recurrent encoder's sequences, with their masks, as Keras 2
and 3 compute them at inference.


* inputs ``[query (b, Tq, d), value (b, Tv, d)]`` or ``[query, value, key]`` (key = value
  when absent);
* scores ``(b, Tq, Tv)``: ``Attention`` ``score_mode="dot"``: ``q kᵀ`` (times the scalar
  ``scale`` weight when ``use_scale``); ``"concat"``: ``c Σ_d tanh(s (q_i + k_j))`` (``c`` the
  scalar ``concat_score_weight``, ``s`` the scalar ``scale`` or 1); ``AdditiveAttention``:
  ``Σ_d w_d tanh(q_i + k_j)`` (``w`` the ``(d,)`` ``scale`` weight, or ones without
  ``use_scale``);
* a score whose value step is masked, or (``use_causal_mask``, Keras 2's ``causal``) lies
  above the diagonal, has 1e9 subtracted (65504 in float16) before the softmax over ``Tv``;
* output ``softmax(scores) @ value``, zeroed where the query is masked; the output keeps the
  query's mask. ``return_attention_scores=True`` adds the softmax weights as a second
  output. Dropout acts only in training.

``MultiHeadAttention(num_heads=H, key_dim=k, value_dim=v)`` on ``query (b, T, dq)``,
``value (b, S, dv)`` [, ``key (b, S, dk)``] holds ``get_weights()`` = query kernel
``(dq, H, k)`` and bias ``(H, k)``, key ``(dk, H, k)`` / ``(H, k)``, value ``(dv, H, v)`` /
``(H, v)``, output kernel ``(H, v, dq)`` and bias ``(dq,)`` (no biases with
``use_bias=False``): each head's scores ``(q_h / sqrt(k)) k_hᵀ``, softmax over the kept key
steps (the query's, value's and key's masks, ``use_causal_mask`` and ``attention_mask``
combined), the heads' outputs projected back to ``dq`` features; the output keeps the
query's mask. A row with no kept key step (a masked query step) is refused: Keras lines
differ there (zeros or a uniform softmax), and no test here pins which.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from verify.activations import _softmax
from verify.layers.base import (
    Context,
    Tensor,
    WeightSource,
    _unsupported,
    explicit_mask,
    name,
    weights,
)

#: What Keras subtracts from a masked score (float32 and wider; 65504 in float16).
MASKED_SCORE = 1.0e9


def scores(kind: str, config: Mapping[str, Any], arrays: list[np.ndarray], query: np.ndarray,
           key: np.ndarray) -> np.ndarray:
    """The ``(b, Tq, Tv)`` scores of ``Attention`` or ``AdditiveAttention`` (module
    docstring), before masking."""
    use_scale = bool(config.get("use_scale", kind == "AdditiveAttention"))
    if kind == "AdditiveAttention":
        weight = arrays[0] if use_scale else np.ones(query.shape[-1], query.dtype)
        summed = np.tanh(query[:, :, None, :] + key[:, None, :, :])
        return np.asarray(np.sum(weight * summed, axis=-1))
    mode = config.get("score_mode", "dot")
    scale = arrays[0] if use_scale else None
    if mode == "dot":
        found = np.asarray(query @ np.swapaxes(key, -2, -1))
        return found if scale is None else np.asarray(found * scale)
    if mode == "concat":
        weight = arrays[-1]
        summed = query[:, :, None, :] + key[:, None, :, :]
        return np.asarray(weight * np.sum(np.tanh(summed if scale is None else scale * summed),
                                          axis=-1))
    raise ValueError(f"Attention score_mode {mode!r} is not 'dot' or 'concat'")


def attention(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
              keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """``Attention`` and ``AdditiveAttention`` (module docstring)."""
    tensors = arguments[0] if len(arguments) == 1 and isinstance(arguments[0], list) \
        else arguments
    if len(tensors) not in (2, 3):
        raise _unsupported(layer, f"{len(tensors)} inputs (expected [query, value] or "
                           "[query, value, key])")
    query, value = (np.asarray(tensor[0], context.dtype) for tensor in tensors[:2])
    key = np.asarray(tensors[2][0], context.dtype) if len(tensors) == 3 else value
    propagated: Any = [tensor[1] for tensor in tensors]
    masks = explicit_mask(keywords, propagated if any(m is not None for m in propagated)
                          else None, context)
    query_mask, value_mask = (None, None) if masks is None else (masks[0], masks[1])
    config = layer["config"]
    found = scores(str(layer["class_name"]), config, weights(source, layer, context), query, key)
    keep = np.ones(found.shape, bool)
    causal = bool(keywords.get("use_causal_mask") or config.get("causal"))
    if value_mask is not None and not causal \
            and context.semantics.attention_value_mask == "misbroadcast":
        # Keras 3.0-3.11 subtract the (batch, Tv) mask from (batch, Tq, Tv) scores as is.
        try:
            keep = keep & np.asarray(value_mask, bool)[None, :, :]
        except ValueError as error:
            raise ValueError(
                f"layer {name(layer)!r} ({layer['class_name']}): this Keras (3.0-3.11) lines "
                f"the value's (batch={found.shape[0]}, Tv) mask up with the query axis (Tq="
                f"{found.shape[1]}) and cannot compute it (attention-value-mask-misbroadcast-"
                "keras-3.0-3.11)") from error
    elif value_mask is not None:
        keep = keep & np.asarray(value_mask, bool)[:, None, :]
    if causal:
        queries, values = found.shape[-2:]
        keep = keep & np.tril(np.ones((queries, values), bool))[None]
    found = np.where(keep, found, found - np.asarray(MASKED_SCORE, found.dtype))
    distribution = _softmax(found)
    output = distribution @ value
    out_mask = None
    if query_mask is not None:
        out_mask = np.asarray(query_mask, bool)
        output = np.where(out_mask[:, :, None], output, 0)
    results: list[Tensor] = [(output.astype(context.dtype), out_mask)]
    if keywords.get("return_attention_scores"):
        results.append((distribution.astype(context.dtype), None))
    return results


def add_bias(x: np.ndarray, bias: np.ndarray, rule: str) -> np.ndarray:
    """``x + bias`` as Keras's ``ops.add`` computes it under ``rule``
    (:attr:`verify.semantics.Semantics.bias_add`): NumPy broadcasting, or Keras 3.7+ on
    TensorFlow, where a bias that squeezes to one axis of ``n`` goes to ``tf.nn.bias_add``
    along ``x``'s last axis when that is ``n``, else along axis 1 when that is ``n``."""
    bias = np.asarray(bias)
    squeezed = [size for size in bias.shape if size > 1]
    if rule == "channel_axis_1" and len(squeezed) == 1 and x.ndim > 1 \
            and x.shape[-1] != squeezed[0] and x.shape[1] == squeezed[0]:
        return np.asarray(x + bias.reshape((1, -1) + (1,) * (x.ndim - 2)))
    return np.asarray(x + bias)


def multi_head_attention(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
                         keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """``MultiHeadAttention`` with the default attention axes (module docstring)."""
    config = layer["config"]
    for option, default in (("use_gate", False), ("output_shape", None),
                            ("sliding_window", None)):
        if config.get(option, default) not in (default, [], ()):
            raise _unsupported(layer, f"{option}={config[option]!r}")
    if config.get("attention_axes") not in (None, [1], (1,)):
        raise _unsupported(layer, f"attention_axes={config['attention_axes']!r} (only the "
                           "steps axis)")
    tensors = list(arguments)
    if "value" in keywords:
        tensors.append(keywords["value"])
    if "key" in keywords and keywords["key"] is not None:
        tensors.append(keywords["key"])
    if len(tensors) not in (2, 3) or not all(isinstance(item, tuple) for item in tensors):
        raise _unsupported(layer, f"a call on {len(tensors)} tensors (expected query, value "
                           "[, key])")
    (query, query_mask), (value, value_mask) = tensors[:2]
    key, key_mask = tensors[2] if len(tensors) == 3 else (value, None)
    arrays = weights(source, layer, context)
    use_bias = bool(config.get("use_bias", True))
    step = 2 if use_bias else 1
    projections = [arrays[index * step:(index + 1) * step] for index in range(4)]

    def dense(x: np.ndarray, pair: list[np.ndarray], spec: str) -> np.ndarray:
        out = np.einsum(spec, np.asarray(x, context.dtype), pair[0])
        return add_bias(out, pair[1], context.semantics.bias_add) if use_bias else out

    q = dense(query, projections[0], "btd,dhk->bthk")
    k = dense(key, projections[1], "bsd,dhk->bshk")
    v = dense(value, projections[2], "bsd,dhv->bshv")
    q = q / np.sqrt(float(q.shape[-1]))
    scores = np.einsum("bshk,bthk->bhts", k, q)
    keep = np.ones((q.shape[0], q.shape[1], k.shape[1]), bool)
    for mask, axis in ((query_mask, -1), (value_mask, -2), (key_mask, -2)):
        if mask is not None:
            keep = keep & np.expand_dims(np.asarray(mask, bool), axis)
    if keywords.get("use_causal_mask"):
        keep = keep & np.tril(np.ones(keep.shape[1:], bool))[None]
    given = keywords.get("attention_mask")
    if given is not None:
        keep = keep & np.asarray(given[0] if isinstance(given, tuple) else given, bool)
    if not keep.any(axis=-1).all():
        raise ValueError(f"layer {config.get('name')!r} (MultiHeadAttention): a query step "
                         "keeps no key step (masked query steps, or an all-masked row): Keras "
                         "lines differ there, so verify.predict does not compute it")
    scores = np.where(keep[:, None], scores, -np.inf)
    distribution = _softmax(scores)
    heads = np.einsum("bhts,bshv->bthv", distribution, v)
    output = np.einsum("bthv,hvo->bto", heads, projections[3][0])
    if use_bias:
        output = output + projections[3][1]
    results: list[Tensor] = [(output.astype(context.dtype), query_mask)]
    if keywords.get("return_attention_scores"):
        results.append((distribution.astype(context.dtype), None))
    return results
