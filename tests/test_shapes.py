"""Weight shapes, parameter counts, weight names and output shapes: Keras vs the formulas."""

from __future__ import annotations

from typing import Any

import pytest

from verify import shapes
from verify.config import BidirectionalConfig, LSTMConfig
from verify.suite.properties import PROPERTIES, run_id, runs


@pytest.mark.parametrize(
    "run", runs("lstm_shapes", "gru_shapes", "simple_rnn_shapes", "bidirectional_shapes",
                "sequential_shapes"), ids=run_id)
def test_keras_shapes_equal_formulas(check_property: Any, run: tuple[str, str | None]) -> None:
    name, stratum = run
    check_property(name, stratum)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
def test_every_bidirectional_output_structure(
    adapter: Any, merge_mode: str | None, return_sequences: bool, return_state: bool
) -> None:
    """Each of the 20 structure combinations at least once, whatever Hypothesis draws."""
    import numpy as np

    config = BidirectionalConfig(
        LSTMConfig(units=3, input_dim=2, timesteps=4, return_sequences=return_sequences,
                   return_state=return_state),
        merge_mode=merge_mode,
    )
    weights = [np.full(shape, 0.1, np.float32) for shape in shapes.weight_shapes(config)]
    PROPERTIES["bidirectional_shapes"].run(
        {"config": config, "weights": weights, "x": np.ones((2, 4, 2), np.float32)}
    )


def test_merge_mode_none_returns_a_list_of_both_directions() -> None:
    config = BidirectionalConfig(LSTMConfig(units=3, input_dim=2, timesteps=4), merge_mode=None)
    assert shapes.output_shapes(config) == [(None, 3), (None, 3)]


def test_formulas_scale_as_documented() -> None:
    """Bias adds 4u parameters, Bidirectional doubles everything, Dense adds u*k + k."""
    for d, u in [(1, 1), (7, 2), (10, 128), (100, 20)]:
        with_bias = shapes.lstm_param_count(d, u)
        assert with_bias - shapes.lstm_param_count(d, u, use_bias=False) == 4 * u
        lstm = LSTMConfig(units=u, input_dim=d)
        assert shapes.param_count(BidirectionalConfig(lstm)) == 2 * with_bias
        assert shapes.weight_shapes(BidirectionalConfig(lstm)) == 2 * shapes.weight_shapes(lstm)


def test_gru_and_simple_rnn_formulas() -> None:
    """GRU: 3u(d + u + 2) with reset_after (a (2, 3u) bias), 3u(d + u + 1) without, 3u(d + u)
    without bias; SimpleRNN u(d + u + 1)."""
    for d, u in [(1, 1), (14, 32), (100, 20)]:
        assert shapes.gru_param_count(d, u) == 3 * u * (d + u + 2)
        assert shapes.gru_param_count(d, u, reset_after=False) == 3 * u * (d + u + 1)
        assert shapes.gru_param_count(d, u, use_bias=False) == 3 * u * (d + u)
        assert shapes.gru_weight_shapes(d, u)[2] == (2, 3 * u)
        assert shapes.gru_weight_shapes(d, u, reset_after=False)[2] == (3 * u,)
        assert shapes.simple_rnn_weight_shapes(d, u) == [(d, u), (u, u), (u,)]
        assert shapes.simple_rnn_param_count(d, u) == u * (d + u + 1)
