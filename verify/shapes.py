"""The documented shape formulas (each written once, in its cell's module), by layer.

For an ``LSTM(u)`` on ``d`` input features, ``get_weights()`` is
``[kernel (d, 4u), recurrent_kernel (u, 4u), bias (4u,)]`` (no bias with ``use_bias=False``),
so it has ``4u(d + u + 1)`` parameters (``4u(d + u)`` without bias). A ``GRU(u)`` has
``kernel (d, 3u)``, ``recurrent_kernel (u, 3u)`` and a bias ``(2, 3u)`` (``reset_after=True``,
the default) or ``(3u,)``: ``3u(d + u + 2)`` / ``3u(d + u + 1)`` parameters. A
``SimpleRNN(u)`` has ``(d, u), (u, u), (u,)``: ``u(d + u + 1)``. ``Bidirectional`` holds two
such layers, forward first: twice the arrays and twice the parameters. ``Dense(k)`` on ``u``
features holds ``kernel (u, k)`` and ``bias (k,)``: ``u*k + k`` parameters.

>>> lstm_weight_shapes(10, 128)
[(10, 512), (128, 512), (512,)]
>>> lstm_param_count(7, 2), dense_param_count(2, 5)
(80, 15)
>>> gru_weight_shapes(14, 32), gru_param_count(14, 32)
([(14, 96), (32, 96), (2, 96)], 4608)
>>> simple_rnn_param_count(3, 4)
32
"""

from __future__ import annotations

import math

from verify import _validate, cells, keras_config
from verify.config import (
    BidirectionalConfig,
    DenseConfig,
    LayerConfig,
    RNNConfig,
    SequentialConfig,
)

__all__ = [
    "Shape",
    "attention_weight_shapes",
    "conv_lstm_weight_shapes",
    "dense_param_count",
    "dense_weight_shapes",
    "gru_param_count",
    "gru_weight_shapes",
    "lstm_param_count",
    "lstm_weight_shapes",
    "multi_head_attention_weight_shapes",
    "output_shapes",
    "param_count",
    "rnn_weight_shapes",
    "simple_rnn_param_count",
    "simple_rnn_weight_shapes",
    "weight_shapes",
]

Shape = tuple[int | None, ...]
AnyConfig = LayerConfig | SequentialConfig


def lstm_weight_shapes(input_dim: int, units: int, *, use_bias: bool = True) -> list[Shape]:
    """Shapes of an LSTM's ``get_weights()``: ``[(d, 4u), (u, 4u), (4u,)]``."""
    return cells.LSTM.weight_shapes(input_dim, units, use_bias=use_bias)


def lstm_param_count(input_dim: int, units: int, *, use_bias: bool = True) -> int:
    """Trainable parameters of an LSTM: ``4u(d + u + 1)``, or ``4u(d + u)`` without bias."""
    return cells.LSTM.param_count(input_dim, units, use_bias=use_bias)


def gru_weight_shapes(input_dim: int, units: int, *, use_bias: bool = True,
                      reset_after: bool = True) -> list[Shape]:
    """Shapes of a GRU's ``get_weights()``: ``[(d, 3u), (u, 3u), (2, 3u)]``, or a ``(3u,)``
    bias with ``reset_after=False``."""
    return cells.GRU.weight_shapes(input_dim, units, use_bias=use_bias,
                                   reset_after=_validate.boolean("reset_after", reset_after))


def gru_param_count(input_dim: int, units: int, *, use_bias: bool = True,
                    reset_after: bool = True) -> int:
    """Trainable parameters of a GRU: ``3u(d + u + 2)`` (``reset_after=True``),
    ``3u(d + u + 1)`` (``False``), ``3u(d + u)`` without bias."""
    return cells.GRU.param_count(input_dim, units, use_bias=use_bias,
                                 reset_after=_validate.boolean("reset_after", reset_after))


def simple_rnn_weight_shapes(input_dim: int, units: int, *,
                             use_bias: bool = True) -> list[Shape]:
    """Shapes of a SimpleRNN's ``get_weights()``: ``[(d, u), (u, u), (u,)]``."""
    return cells.SIMPLE_RNN.weight_shapes(input_dim, units, use_bias=use_bias)


def simple_rnn_param_count(input_dim: int, units: int, *, use_bias: bool = True) -> int:
    """Trainable parameters of a SimpleRNN: ``u(d + u + 1)``, or ``u(d + u)`` without bias."""
    return cells.SIMPLE_RNN.param_count(input_dim, units, use_bias=use_bias)


def dense_weight_shapes(input_dim: int, units: int, *, use_bias: bool = True) -> list[Shape]:
    """Shapes of a Dense layer's ``get_weights()``: ``[(d, k), (k,)]``."""
    d = _validate.positive_int("input_dim", input_dim)
    saved = {"units": _validate.positive_int("units", units),
             "use_bias": _validate.boolean("use_bias", use_bias)}
    known = keras_config.expected_shapes("Dense", saved) or []  # the one Dense formula
    return [tuple(d if dim is None else dim for dim in shape) for shape in known]


def dense_param_count(input_dim: int, units: int, *, use_bias: bool = True) -> int:
    """Trainable parameters of a Dense layer: ``d*k + k``, or ``d*k`` without bias."""
    return sum(math.prod(int(dim or 0) for dim in shape)
               for shape in dense_weight_shapes(input_dim, units, use_bias=use_bias))


def rnn_weight_shapes(input_dim: int, *cells_: tuple[str, int]) -> list[Shape]:
    """Shapes of ``keras.layers.RNN``'s ``get_weights()`` over cells given as ``(layer kind,
    units)``: one cell is its layer's (``RNN(LSTMCell(u))`` = ``LSTM(u)``); a
    ``StackedRNNCells`` lists each cell's in order, each reading the previous one's units.

    >>> rnn_weight_shapes(3, ("LSTM", 4), ("GRU", 2))
    [(3, 16), (4, 16), (16,), (4, 6), (2, 6), (2, 6)]
    """
    found = keras_config.expected_shapes("RNN", {"cell": {
        "class_name": "StackedRNNCells", "config": {"cells": [
            {"class_name": f"{kind}Cell", "config": {
                "units": int(units), **({"reset_after": True} if kind == "GRU" else {})}}
            for kind, units in cells_]}}})
    return [tuple(input_dim if dim is None else dim for dim in shape) for shape in found or []]


def conv_lstm_weight_shapes(input_dim: int, filters: int, kernel_size: tuple[int, ...], *,
                            use_bias: bool = True) -> list[Shape]:
    """Shapes of ``ConvLSTM1D``'s / ``ConvLSTM2D``'s ``get_weights()`` with ``kernel_size``
    ``(k,)`` or ``(kh, kw)`` on ``d`` channels: ``[(*k, d, 4F), (*k, F, 4F), (4F,)]``, the
    gate blocks i, f, c, o along the last axis.

    >>> conv_lstm_weight_shapes(3, 8, (3, 3))
    [(3, 3, 3, 32), (3, 3, 8, 32), (32,)]
    """
    kind = "ConvLSTM1D" if len(kernel_size) == 1 else "ConvLSTM2D"
    found = keras_config.expected_shapes(kind, {"filters": int(filters),
                                                "kernel_size": list(kernel_size),
                                                "use_bias": use_bias}) or []
    return [tuple(input_dim if dim is None else dim for dim in shape) for shape in found]


def multi_head_attention_weight_shapes(query_dim: int, heads: int, key_dim: int, *,
                                       value_dim: int | None = None, source_dim: int | None
                                       = None, use_bias: bool = True) -> list[Shape]:
    """Shapes of ``MultiHeadAttention(num_heads=H, key_dim=k[, value_dim=v])``'s
    ``get_weights()`` on a query of ``dq`` features and a value/key of ``source_dim`` (default
    ``dq``): query, key, value kernels ``(d, H, k|v)`` each followed by its bias ``(H, k|v)``,
    then the output kernel ``(H, v, dq)`` and bias ``(dq,)``.

    >>> multi_head_attention_weight_shapes(6, 2, 3)
    [(6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 3), (2, 3), (2, 3, 6), (6,)]
    """
    value_dim = int(value_dim or key_dim)
    source = query_dim if source_dim is None else source_dim
    kernels = [(query_dim, heads, key_dim), (source, heads, key_dim),
               (source, heads, value_dim), (heads, value_dim, query_dim)]
    biases = [(heads, key_dim), (heads, key_dim), (heads, value_dim), (query_dim,)]
    found: list[Shape] = [shape for pair in zip(kernels, biases, strict=True) for shape in pair]
    return found if use_bias else found[::2]


def attention_weight_shapes(input_dim: int, kind: str = "Attention", *,
                            use_scale: bool | None = None, score_mode: str = "dot"
                            ) -> list[Shape]:
    """Shapes of ``Attention``'s / ``AdditiveAttention``'s ``get_weights()`` on ``d``
    features: ``Attention`` holds a scalar ``scale`` (``use_scale=True``) and a scalar
    ``concat_score_weight`` (``score_mode="concat"``); ``AdditiveAttention`` a ``(d,)``
    ``scale`` (``use_scale=True``, its default).

    >>> attention_weight_shapes(8, use_scale=True, score_mode="concat")
    [(), ()]
    >>> attention_weight_shapes(8, "AdditiveAttention")
    [(8,)]
    """
    _validate.one_of("kind", kind, ("Attention", "AdditiveAttention"))
    config: dict[str, object] = {"score_mode": score_mode}
    if use_scale is not None:
        config["use_scale"] = use_scale
    found = keras_config.expected_shapes(kind, config) or []
    return [tuple(input_dim if dim is None else dim for dim in shape) for shape in found]


def weight_shapes(config: AnyConfig) -> list[Shape]:
    """``get_weights()`` shapes of any configuration, in Keras's order."""
    if isinstance(config, RNNConfig):
        return config.cell.weight_shapes(config.input_dim, config.units,
                                         use_bias=config.use_bias, **config.cell_options)
    if isinstance(config, BidirectionalConfig):
        return 2 * weight_shapes(config.layer)
    if isinstance(config, DenseConfig):
        return dense_weight_shapes(config.input_dim, config.units, use_bias=config.use_bias)
    if isinstance(config, SequentialConfig):
        return [shape for layer in config.layers for shape in weight_shapes(layer)]
    raise TypeError(f"config must be a layer or Sequential config, "
                    f"got {_validate.describe(config)}")


def param_count(config: AnyConfig) -> int:
    """``count_params()`` of any configuration."""
    if isinstance(config, RNNConfig):
        return config.cell.param_count(config.input_dim, config.units,
                                       use_bias=config.use_bias, **config.cell_options)
    if isinstance(config, BidirectionalConfig):
        return 2 * param_count(config.layer)
    if isinstance(config, DenseConfig):
        return dense_param_count(config.input_dim, config.units, use_bias=config.use_bias)
    if isinstance(config, SequentialConfig):
        return sum(param_count(layer) for layer in config.layers)
    raise TypeError(f"config must be a layer or Sequential config, "
                    f"got {_validate.describe(config)}")


def output_shapes(config: AnyConfig, *, batch: int | None = None) -> Shape | list[Shape]:
    """What calling the layer (or model) returns, as Keras structures it.

    One output gives one shape; ``return_state`` gives ``[output, *states]`` (LSTM ``[output, h,
    c]``, GRU and SimpleRNN ``[output, h]``); Bidirectional gives ``[merged, *fwd_states,
    *bwd_states]``, and with ``merge_mode=None`` the merged output is replaced by the two
    directions: ``[fwd, bwd]`` or ``[fwd, bwd, *fwd_states, *bwd_states]``.
    ``batch=None`` stands for an unknown batch size, as in ``model.output_shape``.

    >>> from verify.config import GRUConfig, LSTMConfig
    >>> output_shapes(LSTMConfig(units=3, input_dim=2, timesteps=5, return_sequences=True,
    ...                          return_state=True))
    [(None, 5, 3), (None, 3), (None, 3)]
    >>> output_shapes(GRUConfig(units=3, input_dim=2, return_state=True))
    [(None, 3), (None, 3)]
    """
    batch = _validate.optional_positive_int("batch", batch)
    if isinstance(config, SequentialConfig):
        last = [layer for layer in config.layers if not isinstance(layer, DenseConfig)][-1]
        assert not isinstance(last, DenseConfig)  # SequentialConfig starts with a recurrent layer
        shape = _first_output(last, batch)
        return (*shape[:-1], config.output_features)
    if isinstance(config, DenseConfig):
        raise TypeError("a DenseConfig has no input rank of its own; use it inside a "
                        "SequentialConfig")
    if not isinstance(config, RNNConfig | BidirectionalConfig):
        raise TypeError(f"config must be a layer or Sequential config, "
                        f"got {_validate.describe(config)}")
    layer = config.recurrent
    states: list[Shape] = [(batch, layer.units)] * config.state_count
    if isinstance(config, BidirectionalConfig) and config.merge_mode is None:
        direction = _first_output(layer, batch)
        outputs = [direction, direction]
    else:
        outputs = [_first_output(config, batch)]
    if layer.return_state:
        return outputs + states
    return outputs[0] if len(outputs) == 1 else outputs


def _first_output(config: RNNConfig | BidirectionalConfig, batch: int | None) -> Shape:
    layer = config.recurrent
    if layer.return_sequences:
        return (batch, layer.timesteps, config.output_features)
    return (batch, config.output_features)
