"""The non-recurrent layers of :func:`verify.predict`, in NumPy, with Keras's mask rules.

Each handler takes a layer's saved config (``{"class_name", "config", "name"}``), the source
of its weights, its inputs as ``(value, mask)`` pairs, the keyword arguments of its call and
the :class:`Context`, and returns its outputs as ``(value, mask)`` pairs. A mask is a boolean
``(batch, steps)`` array, ``True`` where a step counts, or ``None``.

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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.semantics import Semantics

Tensor = tuple[np.ndarray, np.ndarray | None]  # a value and its Keras mask (or None)
WeightSource = Callable[[str], Sequence[Any]]


@dataclass(frozen=True)
class Context:
    """What every layer of one forward pass shares: the semantics and the float type."""

    semantics: Semantics
    dtype: np.dtype[Any]
    prefix: str = ""  # "outer/" inside a nested model
    #: Keras 3 records in a functional config the mask each layer was called with (as an
    #: argument computed by recorded operations). ``True``: use it, as the model does.
    #: ``False``: ignore it and propagate masks by this module's rules, which is how the
    #: property suite checks those rules against what Keras computes.
    recorded_masks: bool = True


Handler = Callable[[Mapping[str, Any], WeightSource, list[Any], dict[str, Any], Context],
                   list[Tensor]]


def name(layer: Mapping[str, Any]) -> str:
    return str(layer.get("name") or layer.get("config", {}).get("name", "?"))


def weights(source: WeightSource, layer: Mapping[str, Any], context: Context
            ) -> list[np.ndarray]:
    return [np.asarray(w, dtype=context.dtype) for w in source(context.prefix + name(layer))]


def _one(arguments: list[Any]) -> Tensor:
    (tensor,) = arguments
    return tensor  # type: ignore[no-any-return]


def _unsupported(layer: Mapping[str, Any], what: str) -> NotImplementedError:
    return NotImplementedError(f"verify.predict does not support {what} (layer {name(layer)!r}, "
                               f"class {layer.get('class_name')!r})")


def _channels_last(layer: Mapping[str, Any]) -> None:
    if layer["config"].get("data_format", "channels_last") not in (None, "channels_last"):
        raise _unsupported(layer, f"data_format={layer['config']['data_format']!r} "
                           "(only 'channels_last')")


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(item) for item in value) if isinstance(value, list | tuple) \
        else (int(value),)


# --- dense and element-wise --------------------------------------------------------------


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


# --- masks ----------------------------------------------------------------------------------


def masking(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
            keywords: dict[str, Any], context: Context) -> list[Tensor]:
    x, _ = _one(arguments)
    kept = np.any(x != layer["config"].get("mask_value", 0.0), axis=-1)
    return [(x * kept[..., None], kept)]


def embedding(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
              keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """Rows of the table for integer token ids; ``mask_zero`` masks id 0."""
    tokens, _ = _one(arguments)
    table = weights(source, layer, context)[0]
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
    return [(table[ids], mask)]


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


# --- convolution and pooling -----------------------------------------------------------------


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


# --- normalization --------------------------------------------------------------------------


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


# --- reshaping -----------------------------------------------------------------------------


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


# --- Keras 3 operations recorded in a functional graph ----------------------------------------
# Keras 3 records the operations that compute a mask (Masking's, or a merge layer's
# compute_mask) as nodes of class e.g. "NotEqual" from module "keras.src.ops.numpy".


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):  # a (value, mask) tensor
        return value[0]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _op(function: Callable[..., Any]) -> Handler:
    def handler(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
                keywords: dict[str, Any], context: Context) -> list[Tensor]:
        options = {key: value for key, value in layer["config"].items()
                   if key not in ("name", "dtype", "trainable")}
        return [(function(*_plain(arguments), **options), None)]

    return handler


OPS: dict[str, Handler] = {
    "NotEqual": _op(np.not_equal),
    "Equal": _op(np.equal),
    "Any": _op(lambda x, axis=None, keepdims=False: np.any(x, axis=axis, keepdims=keepdims)),
    "All": _op(lambda x, axis=None, keepdims=False: np.all(x, axis=axis, keepdims=keepdims)),
    "ExpandDims": _op(lambda x, axis: np.expand_dims(x, axis)),
    "LogicalOr": _op(np.logical_or),
    "LogicalAnd": _op(np.logical_and),
    "ZerosLike": _op(lambda x, dtype=None: np.zeros(np.shape(x), dtype or "float64")),
    "OnesLike": _op(lambda x, dtype=None: np.ones(np.shape(x), dtype or "float64")),
    "Concatenate": _op(lambda xs, axis=0: np.concatenate(xs, axis=axis)),
    "Cast": _op(lambda x, dtype: np.asarray(x).astype(dtype)),
}


def is_op(layer: Mapping[str, Any]) -> bool:
    """A Keras 3 operation node rather than a layer: module ``keras.src.ops...``, or an
    operation saved without a module (early Keras 3 and the legacy ``.h5`` writer) whose
    class is no layer's."""
    kind = str(layer.get("class_name"))
    module = layer.get("module")
    return str(module or "").startswith("keras.src.ops") or (
        not module and kind in OPS and kind not in HANDLERS)


def explicit_mask(keywords: Mapping[str, Any], propagated: np.ndarray | None,
                  context: Context) -> Any:
    """Keras 3 records the mask a layer was called with; Keras 2 propagates it implicitly
    (see :attr:`Context.recorded_masks`)."""
    if context.recorded_masks and keywords.get("mask") is not None:
        return _plain(keywords["mask"])
    return propagated


IDENTITY_AT_INFERENCE = frozenset({
    "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "ActivityRegularization"})

#: Layer class -> the name of its handler in this module, looked up at each call (so that a
#: patched handler, e.g. a seeded fault in tests/power, is the one that runs).
HANDLERS: dict[str, str] = {
    "InputLayer": "input_layer",
    "Dense": "dense",
    "Activation": "activation",
    "Masking": "masking",
    "Embedding": "embedding",
    **dict.fromkeys(("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                     "Concatenate"), "merge"),
    "Conv1D": "conv1d",
    "MaxPooling1D": "pooling1d",
    "AveragePooling1D": "pooling1d",
    "GlobalMaxPooling1D": "global_pooling1d",
    "GlobalAveragePooling1D": "global_pooling1d",
    "LayerNormalization": "layer_normalization",
    "BatchNormalization": "batch_normalization",
    "RepeatVector": "repeat_vector",
    "Flatten": "flatten",
    "Reshape": "reshape",
    "Permute": "permute",
    **dict.fromkeys(IDENTITY_AT_INFERENCE, "identity"),
}


def handler(layer: Mapping[str, Any]) -> Handler | None:
    """The handler of a saved layer (or Keras 3 operation), ``None`` if unsupported."""
    kind = str(layer.get("class_name"))
    if is_op(layer):
        return OPS.get(kind)
    name = HANDLERS.get(kind)
    return None if name is None else globals()[name]
