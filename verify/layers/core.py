"""Dense, activation, masking, embedding, normalization and reshaping layers, in NumPy, with
Keras's mask rules (see :mod:`verify.layers`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from verify.layers.base import (
    Context,
    Tensor,
    WeightSource,
    _ints,
    _one,
    _unsupported,
    name,
    weights,
)


def dense_forward(config: Mapping[str, Any], kernel_and_bias: list[np.ndarray], x: np.ndarray,
                  context: Context) -> np.ndarray:
    activation = context.semantics.activation(config.get("activation", "linear") or "linear",
                                              allow_dense_only=True)
    output = x @ kernel_and_bias[0]
    if config.get("use_bias", True):
        output = output + kernel_and_bias[1]
    return activation(output)


def dense(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
          keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, mask = _one(arguments)
    return [(dense_forward(layer["config"], weights(source, layer, context), x, context), mask)]


def activation(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
               keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, mask = _one(arguments)
    function = context.semantics.activation(layer["config"]["activation"], allow_dense_only=True)
    return [(function(x), mask)]


def identity(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
             keywords: dict[str, Any], context: Context) -> list[Tensor]:
    return [_one(arguments)]


def input_layer(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
                keywords: dict[str, Any], context: Context) -> list[Tensor]:
    return list(arguments[:1])  # in a Sequential model, the input passes through


def masking(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
            keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, _ = _one(arguments)
    kept = np.any(x != layer["config"].get("mask_value", 0.0), axis=-1)
    return [(x * kept[..., None], kept)]


def embedding(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
              keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """Rows of the table for integer token ids; ``mask_zero`` masks id 0."""
    tokens, _ = _one(arguments)
    # The rows looked up, then converted: a 20000-row table is not copied whole to float64.
    table = np.asarray(source(context.prefix + name(layer))[0])
    values = np.asarray(tokens)
    if values.dtype.kind == "f":
        if not np.all(values == np.round(values)):
            raise ValueError(f"layer {name(layer)!r} (Embedding) takes integer token ids; "
                             "got non-integer values")
    elif values.dtype.kind not in "iub":
        raise TypeError(f"layer {name(layer)!r} (Embedding) takes integer token ids, got "
                        f"dtype {values.dtype}")
    ids = values.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
        raise ValueError(f"layer {name(layer)!r} (Embedding) has {table.shape[0]} rows: token "
                         f"ids must be in [0, {table.shape[0] - 1}], got ids from {ids.min()} "
                         f"to {ids.max()}")
    mask = ids != 0 if layer["config"].get("mask_zero", False) else None
    return [(table[ids].astype(context.dtype), mask)]


def _axes(layer: Mapping[str, Any], ndim: int) -> list[int]:
    axes = [int(axis) % ndim for axis in _ints(layer["config"].get("axis", -1))]
    if 0 in axes:
        raise _unsupported(layer, "normalizing over the batch axis")
    return sorted(axes)


def _broadcast(parameter: np.ndarray, axes: list[int], ndim: int) -> np.ndarray:
    shape = [1] * ndim
    for position, axis in enumerate(axes):
        shape[axis] = parameter.shape[position] if parameter.ndim == len(axes) \
            else parameter.size
    return parameter.reshape(shape)


def _scale_shift(layer: Mapping[str, Any], params: list[np.ndarray], axes: list[int],
                 ndim: int) -> tuple[np.ndarray | float, np.ndarray | float, list[np.ndarray]]:
    config = layer["config"]
    gamma = _broadcast(params.pop(0), axes, ndim) if config.get("scale", True) else 1.0
    beta = _broadcast(params.pop(0), axes, ndim) if config.get("center", True) else 0.0
    return gamma, beta, params


def layer_normalization(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
                        keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, mask = _one(arguments)
    config = layer["config"]
    axes = _axes(layer, x.ndim)
    gamma, beta, _ = _scale_shift(layer, weights(source, layer, context), axes, x.ndim)
    epsilon = float(config.get("epsilon", 1e-3))
    axis = tuple(axes)
    if config.get("rms_scaling", False):
        normalized = x / np.sqrt(np.mean(x * x, axis=axis, keepdims=True) + epsilon)
    else:
        mean = x.mean(axis=axis, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=axis, keepdims=True)
        normalized = (x - mean) / np.sqrt(variance + epsilon)
    return [(normalized * gamma + beta, mask)]


def batch_normalization(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
                        keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """At inference: the moving mean and variance."""
    x, mask = _one(arguments)
    axes = _axes(layer, x.ndim)
    gamma, beta, (mean, variance) = _scale_shift(layer, weights(source, layer, context), axes,
                                                 x.ndim)
    epsilon = float(layer["config"].get("epsilon", 1e-3))
    normalized = (x - _broadcast(mean, axes, x.ndim)) / np.sqrt(
        _broadcast(variance, axes, x.ndim) + epsilon)
    return [(normalized * gamma + beta, mask)]


def repeat_vector(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
                  keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, _ = _one(arguments)
    return [(np.repeat(x[:, None, :], int(layer["config"]["n"]), axis=1), None)]


def flatten(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
            keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, _ = _one(arguments)
    return [(x.reshape(x.shape[0], -1), None)]


def reshape(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
            keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, _ = _one(arguments)
    return [(x.reshape(x.shape[0], *layer["config"]["target_shape"]), None)]


def permute(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
            keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, _ = _one(arguments)
    dims = _ints(layer["config"]["dims"])
    return [(np.transpose(x, (0, *dims)), None)]
