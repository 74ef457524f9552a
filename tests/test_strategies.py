"""The strategies themselves: what they draw builds and runs in Keras, bad arguments are
refused, and examples shrink to the simplest case."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import strategies
from verify import shapes
from verify.config import BidirectionalConfig, GRUConfig, LSTMConfig, SimpleRNNConfig


@given(data=st.data())
def test_drawn_layers_run_in_keras_with_drawn_masks_and_states(adapter: Any,
                                                               data: st.DataObject) -> None:
    config = data.draw(strategies.rnn_configs()
                       | strategies.bidirectional_configs(cells=strategies.CELL_KINDS),
                       label="config")
    batch = data.draw(st.integers(1, 3), label="batch")
    layer = adapter.built(config)
    layer.set_weights(data.draw(strategies.weights(config), label="weights"))
    x = data.draw(strategies.inputs(config, batch_size=batch), label="x")
    mask = data.draw(strategies.masks(config, batch_size=batch), label="mask")
    state = data.draw(strategies.initial_states(config, batch_size=batch), label="state")
    outputs = layer(x, mask=mask, initial_state=state)
    expected = shapes.output_shapes(config, batch=batch)
    assert [o.shape for o in outputs] == (expected if isinstance(expected, list) else [expected])
    assert all(np.isfinite(output).all() for output in outputs)


@given(strategies.lstm_configs(), st.data())
def test_arrays_match_the_configuration(config: LSTMConfig, data: st.DataObject) -> None:
    weights = data.draw(strategies.weights(config))
    assert [w.shape for w in weights] == shapes.weight_shapes(config)
    for array in [*weights, data.draw(strategies.inputs(config, batch_size=2))]:
        assert array.dtype == np.float32
        assert np.abs(array).max() <= 1.0
        tiny = (array != 0) & (np.abs(array) < np.finfo(np.float32).tiny)
        assert not tiny.any(), "subnormal values: TensorFlow's CPU kernels flush them to zero"


@pytest.mark.parametrize("kind", strategies.MASK_KINDS)
@given(data=st.data())
def test_mask_kinds_mean_what_they_say(kind: str, data: st.DataObject) -> None:
    config = LSTMConfig(units=1, input_dim=1, timesteps=data.draw(st.integers(1, 6)))
    mask = data.draw(strategies.masks(config, batch_size=3, kinds=(kind,), allow_none=False))
    assert mask.shape == (3, config.timesteps) and mask.dtype == np.bool_
    for row in mask:
        kept = int(row.sum())
        if kind == "right_padded":
            assert row[:kept].all()
        elif kind == "left_padded":
            assert row[config.timesteps - kept:].all()
    if kind == "all_masked":
        assert (~mask).all(axis=1).any()


def test_configurations_shrink_to_the_simplest_layer() -> None:
    assert find(strategies.lstm_configs(), lambda config: True) == LSTMConfig(
        units=1, input_dim=1, timesteps=1)
    assert find(strategies.gru_configs(), lambda config: True) == GRUConfig(
        units=1, input_dim=1, timesteps=1)
    # Every kind draws the same choices, so a mixed strategy shrinks to its first kind.
    assert find(strategies.rnn_configs(cells=("SimpleRNN", "GRU")), lambda config: True) == \
        SimpleRNNConfig(units=1, input_dim=1, timesteps=1)
    assert find(strategies.rnn_configs(), lambda config: isinstance(config, GRUConfig)) == \
        GRUConfig(units=1, input_dim=1, timesteps=1)
    assert find(strategies.bidirectional_configs(), lambda config: True) == BidirectionalConfig(
        LSTMConfig(units=1, input_dim=1, timesteps=1))


def test_masks_and_states_shrink_to_none() -> None:
    config = LSTMConfig(units=2, input_dim=1, timesteps=3)
    assert find(strategies.masks(config, batch_size=2), lambda mask: True) is None
    assert find(strategies.initial_states(config, batch_size=2), lambda state: True) is None


def test_mask_shrinks_to_right_padding() -> None:
    config = LSTMConfig(units=2, input_dim=1, timesteps=3)
    mask = find(strategies.masks(config, batch_size=2, allow_none=False), lambda m: True)
    assert not mask.any()  # right padding with nothing kept: the simplest mask


LSTM = LSTMConfig(units=2, input_dim=3, timesteps=4)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: strategies.lstm_configs(min_units=0), "min_units"),
        (lambda: strategies.lstm_configs(min_units=5, max_units=2), "min_units=5"),
        (lambda: strategies.lstm_configs(max_timesteps=1.5), "max_timesteps"),
        (lambda: strategies.lstm_configs(min_input_dim=True), "min_input_dim"),
        (lambda: strategies.lstm_configs(return_state="yes"), "return_state"),
        (lambda: strategies.lstm_configs(activations=()), "activations"),
        (lambda: strategies.lstm_configs(activations=("tanh", "nope")), "nope"),
        (lambda: strategies.lstm_configs(recurrent_activations="sigmoid"),
         "recurrent_activations"),
        (lambda: strategies.bidirectional_configs(merge_modes=("concat", "max")), "max"),
        (lambda: strategies.simple_rnn_configs(recurrent_activations=("sigmoid",)),
         "SimpleRNN has no recurrent_activations"),
        (lambda: strategies.lstm_configs(reset_after=True), "LSTM has no reset_after"),
        (lambda: strategies.gru_configs(reset_after="yes"), "reset_after"),
        (lambda: strategies.gru_configs(max_units=3, unit=2), "unknown options"),
        (lambda: strategies.rnn_configs(cells=("LSTM", "ConvLSTM")), "ConvLSTM"),
        (lambda: strategies.sequential_configs(cells=()), "cells"),
        (lambda: strategies.sequential_configs(max_recurrent_layers=0), "recurrent_layers"),
        (lambda: strategies.sequential_configs(bidirectional=1), "bidirectional"),
        (lambda: strategies.weights("lstm"), "config"),
        (lambda: strategies.weights(LSTM, max_magnitude=0), "max_magnitude"),
        (lambda: strategies.weights(LSTM, max_magnitude=float("inf")), "max_magnitude"),
        (lambda: strategies.weights(LSTM, max_magnitude=0.1), "float32"),
        (lambda: strategies.inputs(LSTM, batch_size=0), "batch_size"),
        (lambda: strategies.inputs(LSTMConfig(units=1, input_dim=1), batch_size=1),
         "timesteps"),
        (lambda: strategies.masks(LSTM, batch_size=2, kinds=("zigzag",)), "kinds"),
        (lambda: strategies.masks(LSTM, batch_size=2, allow_none=None), "allow_none"),
        (lambda: strategies.initial_states(LSTM, batch_size=-1), "batch_size"),
        (lambda: strategies.float32_arrays((2,), max_magnitude="1"), "max_magnitude"),
    ],
)
def test_bad_arguments_raise_invalid_argument(make: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        make()


@pytest.mark.parametrize("options", [{"families": ("nope",)}, {"sizes": "small"},
                                     {"sizes": ("huge",)}, {"families": ()}])
def test_model_specs_refuse_bad_options(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        strategies.model_specs(**options)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_model_inputs_fit_their_spec(data: st.DataObject) -> None:
    """Inputs have the spec's shapes; token ids are int32 inside the vocabulary; masked
    families get padding of the drawn kind; a global-average head never gets a row with
    nothing kept (Keras would average zero steps into NaN)."""
    spec = data.draw(strategies.model_specs(sizes=("small", "real")))
    batch = data.draw(st.integers(1, 3))
    drawn = data.draw(strategies.model_inputs(spec, batch_size=batch))
    arrays = drawn if isinstance(drawn, list) else [drawn]
    assert [a.shape[1:] for a in arrays] == spec.input_shapes()
    for array in arrays:
        assert array.shape[0] == batch
        if array.ndim == 2:
            assert array.dtype == np.int32 and array.min() >= 0 and array.max() < spec.vocab
            if spec.mask and spec.head == "global_average":
                assert (array != 0).any(axis=1).all()
        else:
            assert array.dtype == np.float32 and np.isfinite(array).all()
    if not (spec.mask or spec.tokens):  # padding is drawn only where something reads it
        assert spec.padding == "none"


def test_bucket_values_keep_the_ends_and_the_powers_of_four_between() -> None:
    from strategies.sizes import bucket_values

    assert bucket_values(1, 8) == (1, 4, 8)
    assert bucket_values(1, 3) == (1, 3)
    assert bucket_values(2, 2) == (2,)
    assert bucket_values(4, 300) == (4, 16, 64, 256, 300)


def test_bucketed_sizes_draw_only_bucket_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bucketed (the jax backend's default), every drawn size is a bucket value; not
    bucketed, ``size_in`` is plain ``st.integers`` (derandomized runs draw as before)."""
    from hypothesis.errors import NoSuchExample

    from strategies.sizes import bucketed, size_in

    monkeypatch.setenv("LSTM_VERIFY_SHAPE_BUCKETS", "1")
    assert bucketed()
    drawn = {find(size_in(1, 64), lambda value, wanted=wanted: value == wanted)
             for wanted in (1, 4, 16, 64)}
    assert drawn == {1, 4, 16, 64}
    with pytest.raises(NoSuchExample):
        find(size_in(1, 64), lambda value: value == 5)
    monkeypatch.setenv("LSTM_VERIFY_SHAPE_BUCKETS", "0")
    assert not bucketed()
    assert repr(size_in(1, 64)) == repr(st.integers(1, 64))
    monkeypatch.setenv("LSTM_VERIFY_SHAPE_BUCKETS", "yes")
    with pytest.raises(ValueError, match="LSTM_VERIFY_SHAPE_BUCKETS must be 0 or 1"):
        bucketed()
