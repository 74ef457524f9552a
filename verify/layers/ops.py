"""Keras 3 operations recorded in a functional graph: Keras 3 records the operations that
compute a mask (Masking's, or a merge layer's ``compute_mask``) as nodes of class e.g.
``"NotEqual"`` from module ``keras.src.ops.numpy``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from verify.layers.base import Context, Handler, Tensor, WeightSource, _plain


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
    # Attention's compute_mask records the query's mask converted to a tensor.
    "ConvertToTensor": _op(lambda x, dtype=None, sparse=None, ragged=None:
                           np.asarray(x) if dtype is None else np.asarray(x).astype(dtype)),
}
