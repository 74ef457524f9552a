"""Hypothesis strategies for Keras recurrent-layer verification (LSTM, GRU, SimpleRNN),
importable by users' own tests.

>>> from hypothesis import given
>>> from strategies import lstm_configs, weights
>>> @given(lstm_configs(max_units=4))
... def test_my_port(config): ...
"""

from strategies.arrays import (
    MASK_KINDS,
    float32_arrays,
    initial_states,
    inputs,
    masks,
    weights,
)
from strategies.layers import (
    CELL_KINDS,
    DEFAULT_ACTIVATIONS,
    DEFAULT_RECURRENT_ACTIVATIONS,
    bidirectional_configs,
    gru_configs,
    lstm_configs,
    rnn_configs,
    sequential_configs,
    simple_rnn_configs,
)
from strategies.models import model_inputs, model_specs

__all__ = [
    "CELL_KINDS",
    "DEFAULT_ACTIVATIONS",
    "DEFAULT_RECURRENT_ACTIVATIONS",
    "MASK_KINDS",
    "bidirectional_configs",
    "float32_arrays",
    "gru_configs",
    "initial_states",
    "inputs",
    "lstm_configs",
    "masks",
    "model_inputs",
    "model_specs",
    "rnn_configs",
    "sequential_configs",
    "simple_rnn_configs",
    "weights",
]
