"""verify.predict on whole Keras models: generated stacks, the exact models from the questions
that started the project, functional models with masks and several outputs, bad input."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
import verify
from verify.suite.properties import check_predict, run_id, runs


@pytest.mark.parametrize("run", runs("model_forward"), ids=run_id)
def test_generated_models_equal_keras(check_property: Any, run: tuple[str, str | None]) -> None:
    """Every family of real models (one stratum each, and one at real sizes) and the stacked
    layers: Keras equals verify.predict with masks propagated by verify.layers' rules."""
    check_property(*run)


def _seed_models(keras: Any) -> dict[str, Callable[[], Any]]:
    layers = keras.layers

    def encoder_decoder() -> Any:
        inputs = keras.Input((6, 3))
        masked = layers.Masking(0.0)(inputs)
        encoded, h, c = layers.LSTM(4, return_state=True)(masked)
        repeated = layers.RepeatVector(6)(encoded)
        decoded = layers.LSTM(4, return_sequences=True)(repeated, initial_state=[h, c])
        outputs = layers.TimeDistributed(layers.Dense(2, activation="softmax"))(decoded)
        return keras.Model(inputs, [outputs, h])

    return {
        # "LSTM(128) + Dense(1) regressor" on (10, 10).
        "lstm128_regressor": lambda: keras.Sequential(
            [keras.Input((10, 10)), layers.LSTM(128), layers.Dense(1)]),
        # "Bidirectional LSTM autoencoder with RepeatVector".
        "bidirectional_autoencoder": lambda: keras.Sequential([
            keras.Input((8, 4)), layers.Masking(0.0), layers.Bidirectional(layers.LSTM(6)),
            layers.RepeatVector(8),
            layers.Bidirectional(layers.LSTM(6, return_sequences=True), merge_mode="ave"),
            layers.Dropout(0.5), layers.TimeDistributed(layers.Dense(4))]),
        "lstm2_dense5": lambda: keras.Sequential(
            [keras.Input((18, 7)), layers.LSTM(2), layers.Dense(5)]),
        "lstm5_dense1": lambda: keras.Sequential(
            [keras.Input((4, 3)), layers.LSTM(5), layers.Dense(1)]),
        "flatten_reshape": lambda: keras.Sequential([
            keras.Input((4, 3)), layers.LSTM(5, return_sequences=True), layers.Flatten(),
            layers.Dense(6, activation="relu"), layers.Reshape((3, 2)), layers.LSTM(2),
            layers.Activation("tanh"), layers.Dense(1, activation="sigmoid")]),
        "encoder_decoder_masked_two_outputs": encoder_decoder,
    }


MODEL_NAMES = ["lstm128_regressor", "bidirectional_autoencoder", "lstm2_dense5", "lstm5_dense1",
               "flatten_reshape", "encoder_decoder_masked_two_outputs"]


@functools.cache
def _model(adapter: Any, name: str) -> Any:
    return _seed_models(adapter.keras)[name]()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_exact_models_equal_keras(adapter: Any, name: str) -> None:
    model = _model(adapter, name)
    shapes = [w.shape for w in model.get_weights()]
    input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])

    @settings(max_examples=10)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        weights = [data.draw(strategies.float32_arrays(shape), label=f"weights[{index}]")
                   for index, shape in enumerate(shapes)]
        batch = data.draw(st.integers(1, 3), label="batch")
        x = data.draw(strategies.float32_arrays((batch, *input_shape)), label="x")
        padded = data.draw(st.integers(0, input_shape[0]), label="padded steps")
        if padded:  # right-padding with zeros, which the Masking models mask
            x[0, -padded:] = 0.0
        model.set_weights(weights)
        check_predict(model, x, label=name)

    check()


def test_predict_runs_without_keras_from_config_and_weights(adapter: Any) -> None:
    model = _model(adapter, "lstm5_dense1")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 4, 3)).astype(np.float32)
    weights = {layer.name: layer.get_weights() for layer in model.layers}
    np.testing.assert_array_equal(verify.model.forward(model.get_config(), weights, x),
                                  verify.predict(model, x))


def test_unsupported_layer_is_named(adapter: Any) -> None:
    keras = adapter.keras
    model = keras.Sequential([keras.Input((4, 3)),
                              keras.layers.Conv1DTranspose(2, 2, name="my_conv")])
    with pytest.raises(NotImplementedError, match=r"'Conv1DTranspose'.*'my_conv'"):
        verify.predict(model, np.zeros((1, 4, 3)))


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"model": "model.keras"}, TypeError, "model must be a Keras model"),
        ({"x": np.zeros((1, 4))}, ValueError, "x"),
        ({"x": [np.zeros((1, 4, 3))] * 2}, ValueError, "one array"),
        ({"x": np.full((1, 4, 3), np.nan)}, ValueError, "x contains nan"),
        ({"x": np.zeros((1, 4, 3)), "semantics": "keras4"}, ValueError, "semantics"),
    ],
)
def test_predict_refuses_bad_input(adapter: Any, arguments: dict[str, Any],
                                   error: type[Exception], message: str) -> None:
    call = {"model": _model(adapter, "lstm5_dense1"), "x": np.zeros((1, 4, 3)), **arguments}
    with pytest.raises(error, match=message):
        verify.predict(call.pop("model"), call.pop("x"), **call)


def _layer_model(*layers: dict[str, Any]) -> dict[str, Any]:
    """A Keras 3 style Sequential config of ``layers`` (``{"class_name", "config"}``)."""
    return {"name": "m", "layers": [{"class_name": "InputLayer",
                                     "config": {"name": "in", "batch_shape": [None, 4]}},
                                    *layers]}


_EMBEDDING = {"class_name": "Embedding",
              "config": {"name": "emb", "input_dim": 5, "output_dim": 2, "mask_zero": True}}


@pytest.mark.parametrize(
    ("layers", "x", "error", "message"),
    [
        ([_EMBEDDING], np.array([[1, 2, 5, 0]]), ValueError,
         r"'emb' \(Embedding\) has 5 rows: token ids must be in \[0, 4\], got ids from 0 to 5"),
        ([_EMBEDDING], np.array([[1, 2, -1, 0]]), ValueError, "must be in"),
        ([_EMBEDDING], np.array([[1.5, 2, 3, 0]]), ValueError, "integer token ids"),
        ([_EMBEDDING, {"class_name": "Conv1D", "config": {
            "name": "conv", "filters": 1, "kernel_size": [1], "data_format": "channels_first"}}],
         np.array([[1, 2, 3, 0]]), NotImplementedError, "data_format='channels_first'"),
        ([_EMBEDDING, {"class_name": "Conv1D", "config": {
            "name": "conv", "filters": 1, "kernel_size": [9], "padding": "valid"}}],
         np.array([[1, 2, 3, 0]]), ValueError, "a window of 9 steps does not fit 4 steps"),
        ([_EMBEDDING, {"class_name": "ConvLSTM3D", "config": {"name": "att"}}],
         np.array([[1, 2, 3, 0]]), NotImplementedError, "'ConvLSTM3D' \\(layer 'att'"),
    ],
    ids=["id_too_large", "negative_id", "fractional_id", "channels_first", "window_too_long",
         "unsupported"],
)
def test_forward_refuses_what_keras_would_not_compute(layers: list[dict[str, Any]], x: Any,
                                                      error: type[Exception],
                                                      message: str) -> None:
    weights = {"emb": [np.ones((5, 2))], "conv": [np.ones((9, 2, 1)), np.zeros(1)]}
    with pytest.raises(error, match=message):
        verify.model.forward(_layer_model(*layers), weights, x)


def test_recorded_masks_must_be_a_flag() -> None:
    with pytest.raises(TypeError, match="recorded_masks must be True or False"):
        verify.model.forward(_layer_model(_EMBEDDING), {"emb": [np.ones((5, 2))]},
                             np.array([[1, 0, 0, 0]]), recorded_masks="no")  # type: ignore[arg-type]


def test_token_ids_pass_through_embedding_and_mask() -> None:
    """Token ids stay integers, Embedding rows are looked up, and mask_zero masks id 0 (an
    LSTM after it carries its state through the padded steps: outputs equal the unpadded)."""
    table = np.arange(10.0).reshape(5, 2) / 10
    lstm = {"class_name": "LSTM", "config": {"name": "lstm", "units": 3}}
    rng = np.random.default_rng(0)
    weights = {"emb": [table], "lstm": [rng.uniform(-1, 1, (2, 12)), rng.uniform(-1, 1, (3, 12)),
                                        rng.uniform(-1, 1, 12)]}
    padded = verify.model.forward(_layer_model(_EMBEDDING, lstm), weights,
                                  np.array([[3, 1, 0, 0]]))
    unpadded = verify.reference.lstm(table[[[3, 1]]], *weights["lstm"])
    np.testing.assert_allclose(padded, unpadded, rtol=0, atol=1e-12)


def _tutorial_models(keras: Any) -> dict[str, Callable[[], tuple[Any, Callable[[Any], Any]]]]:
    """The architectures of the Keras RNN guide, the keras-io recurrent examples and Deep
    Learning with Python (smaller sizes), each with a maker of its inputs."""
    layers = keras.layers

    def tokens(vocab: int, steps: int) -> Callable[[Any], Any]:
        def make(rng: Any) -> Any:
            ids = rng.integers(1, vocab, (3, steps)).astype("int32")
            ids[0, steps // 2:] = 0  # right padding
            ids[1, :2] = 0  # left padding
            return ids
        return make

    def floats(*shape: int) -> Callable[[Any], Any]:
        return lambda rng: rng.uniform(-1, 1, (3, *shape)).astype("float32")

    def seq2seq() -> Any:  # keras-io "character-level recurrent sequence-to-sequence model"
        encoder_inputs = keras.Input((None, 7))
        _, h, c = layers.LSTM(6, return_state=True)(encoder_inputs)
        decoder_inputs = keras.Input((None, 5))
        decoded = layers.LSTM(6, return_sequences=True)(decoder_inputs, initial_state=[h, c])
        outputs = layers.Dense(5, activation="softmax")(decoded)
        return keras.Model([encoder_inputs, decoder_inputs], outputs)

    return {
        # RNN guide: Embedding(1000, 64) -> LSTM(128) -> Dense(10).
        "guide_embedding_lstm": lambda: (keras.Sequential([
            keras.Input((None,), dtype="int32"), layers.Embedding(100, 8),
            layers.LSTM(6), layers.Dense(10)]), tokens(100, 9)),
        # RNN guide: GRU(256, return_sequences) -> SimpleRNN(128) over embeddings.
        "guide_gru_simple_rnn": lambda: (keras.Sequential([
            keras.Input((None,), dtype="int32"), layers.Embedding(100, 8),
            layers.GRU(6, return_sequences=True), layers.SimpleRNN(5), layers.Dense(10)]),
            tokens(100, 9)),
        # keras-io "Bidirectional LSTM on IMDB".
        "imdb_bidirectional_lstm": lambda: (keras.Sequential([
            keras.Input((None,), dtype="int32"), layers.Embedding(200, 8, mask_zero=True),
            layers.Bidirectional(layers.LSTM(6, return_sequences=True)),
            layers.Bidirectional(layers.LSTM(6)), layers.Dense(1, activation="sigmoid")]),
            tokens(200, 12)),
        "char_seq2seq": lambda: (seq2seq(),
                                 lambda rng: [floats(6, 7)(rng), floats(4, 5)(rng)]),
        # Deep Learning with Python, Jena temperature: Conv1D, MaxPooling1D, GRU.
        "dlwp_conv_gru": lambda: (keras.Sequential([
            keras.Input((24, 4)), layers.Conv1D(8, 5, activation="relu"),
            layers.MaxPooling1D(2), layers.Conv1D(8, 3, activation="relu"),
            layers.GRU(6, recurrent_dropout=0.5), layers.Dropout(0.5), layers.Dense(1)]),
            floats(24, 4)),
        # Deep Learning with Python: stacked GRU with dropout, and a bidirectional LSTM.
        "dlwp_stacked_gru": lambda: (keras.Sequential([
            keras.Input((10, 4)), layers.GRU(6, dropout=0.1, return_sequences=True),
            layers.GRU(5), layers.Dense(1)]), floats(10, 4)),
        "dlwp_text_bidirectional": lambda: (keras.Sequential([
            keras.Input((None,), dtype="int32"), layers.Embedding(100, 8, mask_zero=True),
            layers.Bidirectional(layers.LSTM(6)), layers.Dropout(0.5),
            layers.Dense(1, activation="sigmoid")]), tokens(100, 10)),
    }


TUTORIALS = ["guide_embedding_lstm", "guide_gru_simple_rnn", "imdb_bidirectional_lstm",
             "char_seq2seq", "dlwp_conv_gru", "dlwp_stacked_gru", "dlwp_text_bidirectional"]


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_architectures_equal_keras(adapter: Any, name: str) -> None:
    model, make_inputs = _tutorial_models(adapter.keras)[name]()
    rng = np.random.default_rng(len(name))
    for _ in range(2):
        model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                           for w in model.get_weights()])
        check_predict(model, make_inputs(rng), label=name)
