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
