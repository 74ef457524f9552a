"""Extreme but valid inputs: the smallest layer, long sequences, saturating inputs, all-masked
rows, zero weights, and float16/float64 inputs. Each must match Keras (no named divergence
applies to any of them on the installed Keras; they are the same function at the edges)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verify import reference
from verify.config import BidirectionalConfig, LSTMConfig
from verify.suite.properties import compare_to_reference


def _arrays(config: LSTMConfig, *, batch: int, seed: int, weight_scale: float = 0.5,
            input_scale: float = 1.0) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    u, d = config.units, config.input_dim
    shapes = [(d, 4 * u), (u, 4 * u)] + ([(4 * u,)] if config.use_bias else [])
    weights = [rng.uniform(-weight_scale, weight_scale, shape).astype(np.float32)
               for shape in shapes]
    assert config.timesteps is not None
    x = rng.uniform(-input_scale, input_scale, (batch, config.timesteps, d)).astype(np.float32)
    return weights, x


def _check(adapter: Any, config: LSTMConfig, weights: list[np.ndarray], x: np.ndarray,
           **call: Any) -> list[np.ndarray]:
    actual = adapter.built(config).run(weights, x, **call)
    compare_to_reference(actual, config, weights, x, what="Keras vs verify.reference", **call)
    return actual


@pytest.mark.parametrize("return_sequences", [False, True])
def test_the_smallest_layer(adapter: Any, return_sequences: bool) -> None:
    """units=1, input_dim=1, timesteps=1, batch=1."""
    config = LSTMConfig(units=1, input_dim=1, timesteps=1, return_sequences=return_sequences,
                        return_state=True)
    weights, x = _arrays(config, batch=1, seed=1)
    output, h, c = _check(adapter, config, weights, x)
    assert output.shape == ((1, 1, 1) if return_sequences else (1, 1))
    assert h.shape == c.shape == (1, 1)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_a_sequence_of_600_steps(adapter: Any, go_backwards: bool) -> None:
    config = LSTMConfig(units=8, input_dim=4, timesteps=600, return_sequences=True,
                        return_state=True, go_backwards=go_backwards)
    weights, x = _arrays(config, batch=2, seed=2)
    _check(adapter, config, weights, x)


@pytest.mark.parametrize("recurrent_activation", ["sigmoid", "hard_sigmoid", "tanh", "softsign"])
def test_inputs_of_magnitude_1e3_saturate_every_gate(adapter: Any,
                                                     recurrent_activation: str) -> None:
    config = LSTMConfig(units=4, input_dim=3, timesteps=6, return_sequences=True,
                        return_state=True, recurrent_activation=recurrent_activation)
    weights, x = _arrays(config, batch=3, seed=3, input_scale=1000.0)
    x[0, 0, 0] = np.float32(1000.0)
    x[1, 0, 0] = np.float32(-1000.0)
    _check(adapter, config, weights, x)


def test_every_row_fully_masked_keeps_the_initial_state(adapter: Any) -> None:
    config = LSTMConfig(units=3, input_dim=2, timesteps=4, return_sequences=True,
                        return_state=True)
    weights, x = _arrays(config, batch=2, seed=4)
    rng = np.random.default_rng(5)
    h0, c0 = (rng.uniform(-1, 1, (2, 3)).astype(np.float32) for _ in range(2))
    mask = np.zeros((2, 4), dtype=bool)
    _, h, c = _check(adapter, config, weights, x, mask=mask, initial_state=[h0, c0])
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(c, c0)


def test_zero_weights_give_exact_zeros(adapter: Any) -> None:
    """All-zero weights: every gate is ra(0), the candidate act(0) = 0, so c = h = 0 exactly."""
    config = LSTMConfig(units=5, input_dim=3, timesteps=7, return_sequences=True,
                        return_state=True)
    weights, x = _arrays(config, batch=2, seed=6)
    weights = [np.zeros_like(w) for w in weights]
    for array in _check(adapter, config, weights, x):
        np.testing.assert_array_equal(array, 0.0)
    for array in reference.lstm(x, *weights, return_sequences=True, return_state=True):
        np.testing.assert_array_equal(array, 0.0)


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_float16_and_float64_inputs_are_cast_to_float32(adapter: Any, dtype: type,
                                                        bidirectional: bool) -> None:
    """A float32 layer takes float16/float64 inputs and computes on them cast to float32:
    the same outputs, bit for bit, as the float32 input, which equal the reference's."""
    lstm = LSTMConfig(units=3, input_dim=2, timesteps=5, return_sequences=True)
    config: LSTMConfig | BidirectionalConfig = (
        BidirectionalConfig(lstm, merge_mode="concat") if bidirectional else lstm)
    weights, x = _arrays(lstm, batch=2, seed=7)
    weights = weights * 2 if bidirectional else weights
    x_other = np.random.default_rng(8).uniform(-1, 1, x.shape).astype(dtype)
    layer = adapter.built(config)
    layer.set_weights(weights)
    direct = adapter.call_model(layer.layer, x_other, dtype=None)  # Keras sees float16/64
    cast = layer(x_other.astype(np.float32))
    assert direct[0].dtype == np.float32
    np.testing.assert_array_equal(direct[0], cast[0])
    compare_to_reference(direct, config, weights, x_other.astype(np.float32),
                         what=f"Keras on {np.dtype(dtype).name} input vs verify.reference")
