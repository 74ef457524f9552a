"""Merge, convolution and pooling layers over the time axis, in NumPy, with Keras's mask
rules (see :mod:`verify.layers`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from verify.layers.base import (
    Context,
    Tensor,
    WeightSource,
    _channels_last,
    _ints,
    _one,
    _unsupported,
    explicit_mask,
    weights,
)
from verify.semantics import Semantics


def merge_masks(kind: str, masks: Sequence[np.ndarray | None], values: Sequence[np.ndarray],
                semantics: Semantics) -> np.ndarray | None:
    """The mask a merge layer of class ``kind`` gives its output (see
    :attr:`verify.semantics.Semantics.mask_merge`)."""
    present = [np.asarray(mask, dtype=bool) for mask in masks if mask is not None]
    if not present or semantics.mask_merge == "dropped":
        return None
    if semantics.mask_merge == "and":
        return np.asarray(np.logical_and.reduce(present))
    if kind != "Concatenate":
        return np.asarray(np.logical_or.reduce(present)) if len(present) == len(masks) \
            else None
    full = [np.ones(value.shape[:2], bool) if mask is None else np.asarray(mask, bool)
            for mask, value in zip(masks, values, strict=True)]
    return np.asarray(np.logical_or.reduce(full))


_MERGES: dict[str, Callable[[list[np.ndarray]], np.ndarray]] = {
    "Add": lambda values: np.sum(values, axis=0),
    "Subtract": lambda values: values[0] - values[1],
    "Multiply": lambda values: np.prod(values, axis=0),
    "Average": lambda values: np.mean(values, axis=0),
    "Maximum": lambda values: np.max(values, axis=0),
    "Minimum": lambda values: np.min(values, axis=0),
}


def _masked_extremum(function: Callable[[np.ndarray, np.ndarray], np.ndarray],
                     values: list[np.ndarray], masks: list[np.ndarray | None]) -> np.ndarray:
    """Keras >= 3.4 ``Maximum``/``Minimum``: a masked element takes the other inputs' value
    (so the extremum is over the inputs that keep the step), folded left to right."""
    output, kept = values[0], masks[0]
    for value, mask in zip(values[1:], masks[1:], strict=True):
        if mask is not None:
            value = np.where(mask[..., None], value, output)
        if kept is not None:
            output = np.where(kept[..., None], output, value)
        kept = kept | mask if kept is not None and mask is not None else None
        output = function(output, value)
    return output


def _masked_product(values: list[np.ndarray], masks: list[np.ndarray | None]) -> np.ndarray:
    """Keras >= 3.4 ``Multiply``: masked elements count as 1; with every input masked, the
    steps no input keeps are 0."""
    output = np.prod([value if mask is None else np.where(mask[..., None], value, 1.0)
                      for value, mask in zip(values, masks, strict=True)], axis=0)
    present = [mask for mask in masks if mask is not None]
    if len(present) == len(masks):
        output = np.where(np.logical_or.reduce(present)[..., None], output, 0.0)
    return np.asarray(output)


def merge(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
          keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum`` and
    ``Concatenate``: Keras 3 records the input list as one argument, Keras 2 as several."""
    tensors = arguments[0] if len(arguments) == 1 and isinstance(arguments[0], list) \
        else arguments
    values = [np.asarray(value) for value, _ in tensors]
    masks = [None if mask is None else np.asarray(mask, bool) for _, mask in tensors]
    kind = str(layer["class_name"])
    if kind == "Concatenate":
        output = np.concatenate(values, axis=int(layer["config"].get("axis", -1)))
    elif len({value.shape for value in values}) != 1:
        raise _unsupported(layer, f"inputs of different shapes "
                           f"{[value.shape for value in values]} (broadcasting)")
    elif context.semantics.mask_merge != "or" or all(mask is None for mask in masks):
        output = _MERGES[kind](values)
    elif kind in ("Maximum", "Minimum"):
        output = _masked_extremum(np.maximum if kind == "Maximum" else np.minimum, values,
                                  masks)
    elif kind == "Multiply":
        output = _masked_product(values, masks)
    else:
        output = _MERGES[kind](values)
    return [(output, merge_masks(kind, masks, values, context.semantics))]


def _windows(length: int, size: int, stride: int, dilation: int, padding: str
             ) -> tuple[np.ndarray, int, int]:
    """Start-relative indices ``(out, size)`` into the padded input, and the left and right
    padding, as TensorFlow pads (``same``: the extra element on the right)."""
    span = dilation * (size - 1) + 1
    if padding == "causal":
        left, right = span - 1, 0
        out = (length + left - span) // stride + 1
    elif padding == "same":
        out = -(-length // stride)
        total = max((out - 1) * stride + span - length, 0)
        left, right = total // 2, total - total // 2
    elif padding == "valid":
        left = right = 0
        out = (length - span) // stride + 1
    else:
        raise ValueError(f"padding must be 'valid', 'same' or 'causal', got {padding!r}")
    if out < 1:
        raise ValueError(f"a window of {span} steps does not fit {length} steps with "
                         f"padding={padding!r}")
    index = np.arange(out)[:, None] * stride + np.arange(size)[None, :] * dilation
    return index, left, right


def conv1d(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
           keywords: dict[str, Any], context: Context) -> list[Tensor]:
    _channels_last(layer)
    config = layer["config"]
    x, _ = _one(arguments)
    kernel, *bias = weights(source, layer, context)
    size, = _ints(config["kernel_size"])
    stride, = _ints(config.get("strides", 1))
    dilation, = _ints(config.get("dilation_rate", 1))
    groups = int(config.get("groups", 1) or 1)
    index, left, right = _windows(x.shape[1], size, stride, dilation, config.get("padding",
                                                                                 "valid"))
    padded = np.pad(x, ((0, 0), (left, right), (0, 0)))
    windows = padded[:, index]  # (batch, out, size, channels)
    per_group = kernel.shape[1]
    filters = kernel.shape[2] // groups
    output = np.concatenate([
        np.einsum("btkc,kcf->btf", windows[..., g * per_group:(g + 1) * per_group],
                  kernel[..., g * filters:(g + 1) * filters])
        for g in range(groups)], axis=-1)
    if config.get("use_bias", True):
        output = output + bias[0]
    function = context.semantics.activation(config.get("activation", "linear") or "linear",
                                            allow_dense_only=True)
    return [(function(output), None)]


def pooling1d(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
              keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """``MaxPooling1D`` / ``AveragePooling1D``; ``same`` averages count real steps only."""
    _channels_last(layer)
    config = layer["config"]
    x, _ = _one(arguments)
    size, = _ints(config.get("pool_size", 2))
    stride, = _ints(config.get("strides") or size)
    index, left, right = _windows(x.shape[1], size, stride, 1, config.get("padding", "valid"))
    average = layer["class_name"] == "AveragePooling1D"
    if average and right > left and context.semantics.pool_padding == "replicated":
        x = np.concatenate([x, x[:, -1:]], axis=1)  # torch: the odd element repeats the last
        right -= 1
    real = np.pad(np.ones(x.shape[1], bool), (left, right))[index]  # (out, size)
    windows = np.pad(x, ((0, 0), (left, right), (0, 0)))[:, index]  # (batch, out, size, c)
    if not average:
        output = np.where(real[None, :, :, None], windows, -np.inf).max(axis=2)
    else:
        output = windows.sum(axis=2) / real.sum(axis=1)[None, :, None]
    return [(output, None)]


def global_pooling1d(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
                     keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """``GlobalAveragePooling1D`` averages the kept steps (a row with none kept gives NaN, as
    in Keras); ``GlobalMaxPooling1D`` ignores the mask. Neither passes a mask on."""
    _channels_last(layer)
    x, mask = _one(arguments)
    mask = explicit_mask(keywords, mask, context)
    keepdims = bool(layer["config"].get("keepdims", False))
    if layer["class_name"] == "GlobalMaxPooling1D":
        return [(x.max(axis=1, keepdims=keepdims), None)]
    if mask is None:
        return [(x.mean(axis=1, keepdims=keepdims), None)]
    kept = np.asarray(mask, dtype=x.dtype)[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        output = (x * kept).sum(axis=1, keepdims=keepdims) / kept.sum(axis=1,
                                                                      keepdims=keepdims)
    return [(output, None)]
