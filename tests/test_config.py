"""Configurations: readable repr, round trips through Keras's get_config(), validation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies
from verify.config import (
    BidirectionalConfig,
    DenseConfig,
    GRUConfig,
    LSTMConfig,
    RNNConfig,
    SequentialConfig,
    SimpleRNNConfig,
)

any_configs = st.one_of(strategies.rnn_configs(),
                        strategies.bidirectional_configs(cells=strategies.CELL_KINDS),
                        strategies.sequential_configs())


@given(any_configs)
def test_repr_rebuilds_the_configuration(config: Any) -> None:
    namespace = {cls.__name__: cls for cls in (LSTMConfig, GRUConfig, SimpleRNNConfig,
                                               BidirectionalConfig, DenseConfig,
                                               SequentialConfig)}
    assert eval(repr(config), namespace) == config


def test_repr_shows_only_what_differs_from_keras_defaults() -> None:
    assert repr(LSTMConfig(units=4, input_dim=3)) == "LSTMConfig(units=4, input_dim=3)"
    assert repr(LSTMConfig(units=4, input_dim=3, go_backwards=True)) == (
        "LSTMConfig(units=4, input_dim=3, go_backwards=True)"
    )


@given(strategies.rnn_configs())
def test_rnn_config_round_trips_through_keras_get_config(adapter: Any,
                                                         config: RNNConfig) -> None:
    keras_config = adapter.built(config).layer.get_config()
    again = type(config).from_keras_config(keras_config, input_dim=config.input_dim,
                                           timesteps=config.timesteps)
    assert again == config


@given(strategies.bidirectional_configs(cells=strategies.CELL_KINDS))
def test_bidirectional_config_round_trips_through_keras_get_config(
    adapter: Any, config: BidirectionalConfig
) -> None:
    keras_config = adapter.built(config).layer.get_config()
    again = BidirectionalConfig.from_keras_config(keras_config, input_dim=config.input_dim,
                                                  timesteps=config.timesteps)
    assert again == config


def test_to_keras_config_builds_the_same_layer(adapter: Any) -> None:
    config = LSTMConfig(units=3, input_dim=2, activation="relu", return_state=True)
    layer = adapter.keras.layers.LSTM(**config.to_keras_config())
    layer.build((None, None, 2))
    assert LSTMConfig.from_keras_config(layer.get_config(), input_dim=2) == config


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"stateful": True}, NotImplementedError, "stateful"),
        ({"time_major": True}, NotImplementedError, "time_major"),
        ({"dtype": "mixed_float16"}, NotImplementedError, "mixed_float16"),
        ({"peepholes": True}, NotImplementedError, "peepholes"),
        ({"activation": {"class_name": "MyActivation"}}, TypeError, "activation"),
        ({"units": 0}, ValueError, "units"),
    ],
)
def test_from_keras_config_rejects_what_it_cannot_represent(
    change: dict[str, Any], error: type[Exception], message: str
) -> None:
    base = {"units": 3, "activation": "tanh", "recurrent_activation": "sigmoid"}
    with pytest.raises(error, match=message):
        LSTMConfig.from_keras_config({**base, **change}, input_dim=2)


def test_from_keras_config_rejects_other_layers() -> None:
    with pytest.raises(ValueError, match="units"):
        LSTMConfig.from_keras_config({"filters": 3}, input_dim=2)
    with pytest.raises(NotImplementedError, match="ConvLSTM1D"):
        BidirectionalConfig.from_keras_config(
            {"layer": {"class_name": "ConvLSTM1D", "config": {"filters": 3}}}, input_dim=2)


def test_custom_backward_layer_must_mirror_the_forward_one() -> None:
    forward = {"units": 3, "go_backwards": False}
    mirror = {"class_name": "LSTM", "config": {"units": 3, "go_backwards": True}}
    other = {"class_name": "LSTM", "config": {"units": 4, "go_backwards": True}}
    layer = {"class_name": "LSTM", "config": forward}
    assert BidirectionalConfig.from_keras_config(
        {"layer": layer, "backward_layer": mirror}, input_dim=2).units == 3
    with pytest.raises(NotImplementedError, match="backward_layer"):
        BidirectionalConfig.from_keras_config({"layer": layer, "backward_layer": other},
                                              input_dim=2)
