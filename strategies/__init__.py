"""Hypothesis strategies for Keras LSTM verification, importable by users' own tests.

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
    DEFAULT_ACTIVATIONS,
    DEFAULT_RECURRENT_ACTIVATIONS,
    bidirectional_configs,
    lstm_configs,
    sequential_configs,
)

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "DEFAULT_RECURRENT_ACTIVATIONS",
    "MASK_KINDS",
    "bidirectional_configs",
    "float32_arrays",
    "initial_states",
    "inputs",
    "lstm_configs",
    "masks",
    "sequential_configs",
    "weights",
]
