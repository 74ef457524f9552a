"""The concrete figures from the questions that started the project, in real Keras and in
the formulas. The expected numbers are the ones users reported seeing, not computed here."""

from __future__ import annotations

from typing import Any

from verify import shapes
from verify.config import (
    BidirectionalConfig,
    DenseConfig,
    GRUConfig,
    LSTMConfig,
    SequentialConfig,
    SimpleRNNConfig,
)


def test_lstm128_on_10x10_with_dense1(adapter: Any) -> None:
    model = SequentialConfig((LSTMConfig(units=128, input_dim=10, timesteps=10),
                              DenseConfig(units=1, input_dim=128)))
    expected = [(10, 512), (128, 512), (512,), (128, 1), (1,)]
    assert [w.shape for w in adapter.built(model).get_weights()] == expected
    assert shapes.weight_shapes(model) == expected
    assert shapes.lstm_weight_shapes(10, 128) == expected[:3]


def test_lstm2_on_18x7_has_80_params_dense5_15_total_95(adapter: Any) -> None:
    lstm = LSTMConfig(units=2, input_dim=7, timesteps=18)
    model = SequentialConfig((lstm, DenseConfig(units=5, input_dim=2)))
    assert adapter.built(lstm).count_params() == 80
    assert adapter.built(model).count_params() == 95
    assert shapes.lstm_param_count(7, 2) == 80
    assert shapes.dense_param_count(2, 5) == 15
    assert shapes.param_count(model) == 95


def test_bidirectional_lstm20_sum_on_45x100(adapter: Any) -> None:
    layer = BidirectionalConfig(LSTMConfig(units=20, input_dim=100, timesteps=45),
                                merge_mode="sum")
    built = adapter.built(layer)
    weights = [w.shape for w in built.get_weights()]
    assert len(weights) == 6
    assert weights[:2] == [(100, 80), (20, 80)]
    assert weights == shapes.weight_shapes(layer)
    model = adapter.built(SequentialConfig((layer,)))
    assert model.symbolic_output_shapes() == (None, 20) == shapes.output_shapes(layer)


def test_lstm5_on_4x3_with_dense1(adapter: Any) -> None:
    model = SequentialConfig((LSTMConfig(units=5, input_dim=3, timesteps=4),
                              DenseConfig(units=1, input_dim=5)))
    expected = [(3, 20), (5, 20), (20,), (5, 1), (1,)]
    assert [w.shape for w in adapter.built(model).get_weights()] == expected
    assert shapes.weight_shapes(model) == expected


def test_gru32_on_14_features_has_4608_params_and_a_2x96_bias(adapter: Any) -> None:
    """'GRU(32) on 14 features has 4,608 parameters — why?' and 'why is my GRU bias (2, 96)?'"""
    gru = GRUConfig(units=32, input_dim=14)
    built = adapter.built(gru)
    assert built.count_params() == 4608 == shapes.gru_param_count(14, 32)
    assert [w.shape for w in built.get_weights()] == [(14, 96), (32, 96), (2, 96)]
    old = adapter.built(GRUConfig(units=32, input_dim=14, reset_after=False))
    assert [w.shape for w in old.get_weights()][2] == (96,)
    assert old.count_params() == 4512 == shapes.gru_param_count(14, 32, reset_after=False)


def test_simple_rnn_and_bidirectional_gru(adapter: Any) -> None:
    assert adapter.built(SimpleRNNConfig(units=4, input_dim=3)).count_params() == 32
    bidi = adapter.built(BidirectionalConfig(GRUConfig(units=20, input_dim=100)))
    assert [w.shape for w in bidi.get_weights()] == [(100, 60), (20, 60), (2, 60)] * 2
