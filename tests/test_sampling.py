"""The inputs `check` and `migrate` prove a saved model on: token ids for every input an
Embedding reads, whatever dtype the file records (Keras writes float32 for almost every
Embedding model), floats for the others (a decoder's state inputs), padding where it masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import verify
from tests.test_files import DATA, fixture_io, run
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


# --- files older Keras wrote -------------------------------------------------------------

def _rewritten(tmp_path: Path, source: str, change: Any, *, version: str = "2.0.8") -> Path:
    """A copy of a Keras 2.15 fixture whose model_config and keras_version say what an older
    Keras wrote (its arrays, and the outputs Keras 2.15 gave, unchanged)."""
    import json
    import shutil

    import h5py

    path = tmp_path / source
    shutil.copy(DATA / source, path)
    with h5py.File(path, "r+") as store:
        document = json.loads(store.attrs["model_config"])
        store.attrs["model_config"] = json.dumps(change(document))
        store.attrs["keras_version"] = version
    return path


def test_keras_2_0_list_configs_and_grus_without_reset_after_are_read(tmp_path: Path) -> None:
    """Keras 2.0-2.2.2 wrote a Sequential's config as the plain list of its layers, and Keras
    before 2.1.3 had no reset_after (it computed reset_after=False). The fixture's second GRU
    is reset_after=False: without the key it must still be read so, and predict must give
    what Keras gave."""
    def older(document: dict[str, Any]) -> dict[str, Any]:
        layers = document["config"]["layers"]
        for layer in layers:
            if layer["config"].get("reset_after") is False:
                del layer["config"]["reset_after"]
        return {"class_name": "Sequential", "config": layers}

    path = _rewritten(tmp_path, "keras2_gru.h5", older)
    x, expected = fixture_io(DATA / "keras2_gru.h5")
    read = files.read(path)
    assert read.keras_version == "2.0.8"
    np.testing.assert_allclose(verify.predict_file(path, x), expected[0], atol=1e-5)


def test_a_keras_1_file_is_refused_by_name(tmp_path: Path) -> None:
    path = _rewritten(tmp_path, "keras2_gru.h5", lambda document: document, version="1.1.1")
    code, _, err = run("explain", str(path))
    assert code == 2 and "written by Keras 1.1.1" in err and "Keras 2" in err, err
    assert len(err.strip().splitlines()) == 1


def test_a_keras_2_file_under_keras_3_says_the_way_out(adapter: Any) -> None:
    """`check` of a Keras 2 file that Keras 3 cannot load: one line with Keras's reason, the
    writer's version and the two ways out (Keras 2 / tf-keras, or migrate)."""
    code, _, err = run("check", str(DATA / "keras2_gru.h5"))
    if adapter.info().keras_major < 3:
        assert code == 0, err
        return
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "written by Keras 2.15" in err and "TF_USE_LEGACY_KERAS=1" in err
    assert "python -m verify migrate" in err
