"""The documented shape formulas, written once.

For an ``LSTM(u)`` on ``d`` input features, ``get_weights()`` is
``[kernel (d, 4u), recurrent_kernel (u, 4u), bias (4u,)]`` (no bias with ``use_bias=False``),
so it has ``4u(d + u + 1)`` parameters (``4u(d + u)`` without bias). ``Bidirectional`` holds two
such layers, forward first: twice the arrays and twice the parameters. ``Dense(k)`` on ``u``
features holds ``kernel (u, k)`` and ``bias (k,)``: ``u*k + k`` parameters.

>>> lstm_weight_shapes(10, 128)
[(10, 512), (128, 512), (512,)]
>>> lstm_param_count(7, 2), dense_param_count(2, 5)
(80, 15)
"""

from __future__ import annotations

from verify import _validate
from verify.config import (
    BidirectionalConfig,
    DenseConfig,
    LayerConfig,
    LSTMConfig,
    SequentialConfig,
)

__all__ = [
    "Shape",
    "dense_param_count",
    "dense_weight_shapes",
    "lstm_param_count",
    "lstm_weight_shapes",
    "output_shapes",
    "param_count",
    "weight_shapes",
]

Shape = tuple[int | None, ...]
AnyConfig = LayerConfig | SequentialConfig


def lstm_weight_shapes(input_dim: int, units: int, *, use_bias: bool = True) -> list[Shape]:
    """Shapes of an LSTM's ``get_weights()``: ``[(d, 4u), (u, 4u), (4u,)]``."""
    d = _validate.positive_int("input_dim", input_dim)
    u = _validate.positive_int("units", units)
    shapes: list[Shape] = [(d, 4 * u), (u, 4 * u)]
    if _validate.boolean("use_bias", use_bias):
        shapes.append((4 * u,))
    return shapes


def lstm_param_count(input_dim: int, units: int, *, use_bias: bool = True) -> int:
    """Trainable parameters of an LSTM: ``4u(d + u + 1)``, or ``4u(d + u)`` without bias."""
    d = _validate.positive_int("input_dim", input_dim)
    u = _validate.positive_int("units", units)
    return 4 * u * (d + u + int(_validate.boolean("use_bias", use_bias)))


def dense_weight_shapes(input_dim: int, units: int, *, use_bias: bool = True) -> list[Shape]:
    """Shapes of a Dense layer's ``get_weights()``: ``[(d, k), (k,)]``."""
    d = _validate.positive_int("input_dim", input_dim)
    k = _validate.positive_int("units", units)
    return [(d, k), (k,)] if _validate.boolean("use_bias", use_bias) else [(d, k)]


def dense_param_count(input_dim: int, units: int, *, use_bias: bool = True) -> int:
    """Trainable parameters of a Dense layer: ``d*k + k``, or ``d*k`` without bias."""
    d = _validate.positive_int("input_dim", input_dim)
    k = _validate.positive_int("units", units)
    return d * k + k * int(_validate.boolean("use_bias", use_bias))


def weight_shapes(config: AnyConfig) -> list[Shape]:
    """``get_weights()`` shapes of any configuration, in Keras's order."""
    if isinstance(config, LSTMConfig):
        return lstm_weight_shapes(config.input_dim, config.units, use_bias=config.use_bias)
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
    if isinstance(config, LSTMConfig):
        return lstm_param_count(config.input_dim, config.units, use_bias=config.use_bias)
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

    One output gives one shape; ``return_state`` gives ``[output, h, c]``; Bidirectional gives
    ``[merged, fwd_h, fwd_c, bwd_h, bwd_c]``, and with ``merge_mode=None`` the merged output is
    replaced by the two directions: ``[fwd, bwd]`` or ``[fwd, bwd, fwd_h, fwd_c, bwd_h, bwd_c]``.
    ``batch=None`` stands for an unknown batch size, as in ``model.output_shape``.

    >>> output_shapes(LSTMConfig(units=3, input_dim=2, timesteps=5, return_sequences=True,
    ...                          return_state=True))
    [(None, 5, 3), (None, 3), (None, 3)]
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
    if not isinstance(config, LSTMConfig | BidirectionalConfig):
        raise TypeError(f"config must be a layer or Sequential config, "
                        f"got {_validate.describe(config)}")
    lstm = config.layer if isinstance(config, BidirectionalConfig) else config
    state: Shape = (batch, lstm.units)
    states = [state, state] * (2 if isinstance(config, BidirectionalConfig) else 1)
    if isinstance(config, BidirectionalConfig) and config.merge_mode is None:
        direction = _first_output(lstm, batch)
        outputs = [direction, direction]
    else:
        outputs = [_first_output(config, batch)]
    if lstm.return_state:
        return outputs + states
    return outputs[0] if len(outputs) == 1 else outputs


def _first_output(config: LSTMConfig | BidirectionalConfig, batch: int | None) -> Shape:
    lstm = config.layer if isinstance(config, BidirectionalConfig) else config
    if lstm.return_sequences:
        return (batch, lstm.timesteps, config.output_features)
    return (batch, config.output_features)
