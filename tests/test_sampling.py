"""The inputs `check` and `migrate` prove a saved model on: token ids for every input an
Embedding reads, whatever dtype the file records (Keras writes float32 for almost every
Embedding model), floats for the others (a decoder's state inputs), padding where it masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tests.test_files import run
from verify import files, proof


def _decoder(keras: Any) -> Any:
    """A Keras-io style decoder: float32 token input (Keras's default Input dtype) into an
    Embedding(mask_zero), and two float state inputs into the LSTM's initial_state."""
    layers = keras.layers
    tokens = keras.Input((None,), name="tokens")  # float32, as Keras records it
    h0, c0 = keras.Input((5,), name="h0"), keras.Input((5,), name="c0")
    embedded = layers.Embedding(30, 4, mask_zero=True)(tokens)
    sequence = layers.LSTM(5, return_sequences=True)(embedded, initial_state=[h0, c0])
    return keras.Model([tokens, h0, c0], layers.Dense(3, activation="softmax")(sequence))


def test_token_inputs_are_ids_below_the_embedding_whatever_the_recorded_dtype(
        adapter: Any, tmp_path: Path) -> None:
    model = _decoder(adapter.keras)
    path = tmp_path / "decoder.keras"
    model.save(path)
    read = files.read(path)
    assert [dtype for _, dtype in read.inputs()] == ["float32"] * 3
    tokens, h0, c0 = proof.sample_inputs(read, np.random.default_rng(0), timesteps=6)
    assert tokens.dtype == np.float32 and tokens.shape == (4, 6)
    assert np.array_equal(tokens, np.round(tokens)) and tokens.min() >= 0 and tokens.max() < 30
    assert (tokens == 0).any() and (tokens > 0).any()  # padded rows (mask_zero) and ids
    for state in (h0, c0):  # floats, not ids
        assert state.shape == (4, 5) and not np.array_equal(state, np.round(state))


def test_check_and_migrate_prove_a_float32_embedding_model(adapter: Any,
                                                          tmp_path: Path) -> None:
    """What crashed with 'internal error' on 12 real files: the sampled ids were random
    floats, then the tolerance's nudge moved the ids off the integers."""
    model = _decoder(adapter.keras)
    rng = np.random.default_rng(1)
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                       for w in model.get_weights()])
    path = tmp_path / "decoder.keras"
    model.save(path)
    code, out, err = run("check", str(path))
    assert code == 0 and "reproduces the model" in out, out + err
