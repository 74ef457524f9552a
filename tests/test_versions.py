"""Which Keras is running, and behaviour that differs between Keras 2 and Keras 3."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verify.config import BidirectionalConfig, LSTMConfig


def test_info_names_the_running_keras(adapter: Any) -> None:
    info = adapter.info()
    assert info.keras_version == adapter.keras.__version__
    assert info.keras_major == int(adapter.keras.__version__.split(".")[0])
    assert info.numpy_version == np.__version__
    if info.backend == "tensorflow":
        import tensorflow as tf

        assert info.tensorflow_version == tf.__version__
    assert info.keras_version in info.describe() and info.backend in info.describe()


def test_bidirectional_around_a_go_backwards_lstm(adapter: Any) -> None:
    """Keras 2 flips the wrapped layer's ``go_backwards`` for the backward copy
    (``not go_backwards``); Keras 3 sets it to ``True`` (keras/src/layers/rnn/bidirectional.py)
    and then refuses two layers reading the same way. Asserted both ways, so a change of either
    is noticed."""
    config = BidirectionalConfig(LSTMConfig(units=2, input_dim=3, go_backwards=True))
    if adapter.info().keras_major >= 3:
        with pytest.raises(ValueError, match="different `go_backwards`"):
            adapter.built(config)
    else:
        layer = adapter.built(config).layer
        assert layer.forward_layer.go_backwards is True
        assert layer.backward_layer.go_backwards is False


def test_detected_semantics_name_the_running_keras(adapter: Any) -> None:
    from verify import semantics

    info = adapter.info()
    detected = semantics.detect()
    # What the checks use (the adapter's report) and what the library defaults to (package
    # metadata, without importing Keras) must name the same variant.
    assert adapter.running_semantics() == detected
    minor = int(info.keras_version.split(".")[1])
    jax = info.backend in ("jax", "numpy")
    torch = info.backend == "torch"
    if info.keras_major < 3:
        assert detected == semantics.KERAS2
    elif minor < 4:  # Keras 3.0-3.3: merge layers drop masks (merge-mask-and-dropped-or)
        assert detected == (semantics.KERAS3_EARLY_JAX if jax else semantics.KERAS3_EARLY)
    elif minor < 8:  # MultiHeadAttention keeps its inputs' masks (mha-clears-input-masks-...)
        # ops-add-bias-channel-axis-1-tensorflow-keras-3.7: TensorFlow from 3.7
        tensorflow = semantics.KERAS3_MID_TF if minor == 7 else semantics.KERAS3_MID
        assert detected == (semantics.KERAS3_MID_TORCH if torch else
                            semantics.KERAS3_MID_JAX if jax else tensorflow)
    elif minor < 12:  # attention-value-mask-misbroadcast-keras-3.0-3.11
        assert detected == (semantics.KERAS3_LATE_TORCH if torch else
                            semantics.KERAS3_LATE_JAX if jax else semantics.KERAS3_LATE_TF)
    elif torch and minor < 16:
        assert detected == semantics.KERAS3_TORCH  # average-pooling-same-replicates-torch
    elif minor >= 16:  # sequence-mask-dropped-keras-3.16-dev
        assert detected == (semantics.KERAS3_16_JAX if jax else semantics.KERAS3_16 if torch
                            else semantics.KERAS3_16_TF)
    else:
        assert detected == (semantics.KERAS3_JAX if jax else semantics.KERAS3_TF)


def test_hard_sigmoid_is_the_detected_variant(adapter: Any) -> None:
    """Keras 2: clip(0.2x + 0.5, 0, 1); Keras 3: clip(x/6 + 0.5, 0, 1). At ±2.5 Keras 2 has
    already saturated (0, 1) while Keras 3 gives 1/12, 11/12; at ±3 both saturate."""
    from verify import activations, semantics

    x = np.array([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0], np.float32)
    keras_values = adapter.activation("hard_sigmoid", x)
    expected = {"keras2": [0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0],
                "keras3": [0.0, 1 / 12, 1 / 3, 0.5, 2 / 3, 11 / 12, 1.0]}
    variant = semantics.default().hard_sigmoid
    np.testing.assert_allclose(keras_values, expected[variant], atol=1e-6)
    other = "keras2" if variant == "keras3" else "keras3"
    assert not np.allclose(keras_values, expected[other], atol=1e-3)
    function = {"keras2": activations.hard_sigmoid_keras2,
                "keras3": activations.hard_sigmoid_keras3}[variant]
    np.testing.assert_allclose(function(x.astype(np.float64)), expected[variant], atol=1e-12)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu", "relu6", "linear", "softsign",
                                  "softplus", "elu", "selu", "gelu", "silu", "swish", "mish",
                                  "exponential", "hard_sigmoid"])
def test_every_activation_equals_keras(adapter: Any, name: str) -> None:
    from verify import environment, semantics

    x = np.linspace(-6, 6, 97).astype(np.float32)
    if name in environment.missing_activations():  # named divergence mish-unknown-before-keras-2.13
        with pytest.raises(ValueError, match=f"Unknown activation function: '{name}'"):
            adapter.activation(name, x)
        return
    keras_values = adapter.activation(name, x).astype(np.float64)
    mine = semantics.default().activation(name)(x.astype(np.float64))
    np.testing.assert_allclose(mine, keras_values, rtol=2e-6, atol=2e-6)
