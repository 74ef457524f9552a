"""explain and export of the recurrent weights real models hold outside a plain LSTM/GRU/
SimpleRNN layer — cells of ``RNN`` (one, or ``StackedRNNCells``), ``TimeDistributed(LSTM)``,
``ConvLSTM1D/2D`` — checked against the Keras model that saved them: each explained layer's
parameter count is Keras's ``count_params()``, each exported gate block is the slice of the
layer's own ``get_weights()`` the explanation names. (``verify.predict`` of these layers is
proven against Keras by the ``model_forward`` property.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.test_files import run


def _saved(adapter: Any, tmp_path: Path, name: str, inputs: tuple[int, ...], *layers: Any
           ) -> tuple[Path, Any]:
    keras = adapter.keras
    model = keras.Sequential([keras.Input(inputs), *layers])
    rng = np.random.default_rng(7)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return path, model


def _cases(adapter: Any) -> dict[str, tuple[tuple[int, ...], list[Any]]]:
    layers = adapter.keras.layers
    return {
        "stacked_cells": ((5, 3), [layers.RNN(layers.StackedRNNCells(
            [layers.LSTMCell(4), layers.GRUCell(2), layers.SimpleRNNCell(3)]))]),
        "rnn_cell": ((5, 3), [layers.RNN(layers.GRUCell(4, reset_after=False))]),
        "time_distributed": ((2, 5, 3), [layers.TimeDistributed(layers.LSTM(4))]),
        "conv_lstm_2d": ((3, 6, 6, 2), [layers.ConvLSTM2D(3, (3, 2), padding="same")]),
        "conv_lstm_1d": ((3, 7, 2), [layers.ConvLSTM1D(2, 3, use_bias=False)]),
    }


@pytest.mark.parametrize("case", ["stacked_cells", "rnn_cell", "time_distributed",
                                  "conv_lstm_2d", "conv_lstm_1d"])
def test_explained_blocks_are_the_slices_keras_holds(adapter: Any, tmp_path: Path,
                                                      case: str) -> None:
    inputs, layers = _cases(adapter)[case]
    path, model = _saved(adapter, tmp_path, case, inputs, *layers)
    code, out, err = run("explain", str(path), "--json", "-")
    assert code == 0, out + err
    explained = json.loads(out)["layers"]
    assert sum(layer["parameters"]["count"] for layer in explained) == model.count_params()
    assert all(layer["parameters"]["matches"] for layer in explained)
    held = [np.asarray(w) for w in model.layers[0].get_weights()]
    exported = tmp_path / "w.npz"
    code, out, err = run("export", str(path), str(exported))
    assert code == 0, out + err
    arrays = np.load(exported)
    offset = 0
    for layer in explained:  # a stack lists its cells in order, their arrays in that order
        for row in layer["arrays"]:
            array = held[offset]
            for block in row["gates"]:
                start, stop = block["columns"]
                part = array[..., start:stop] if block["row"] is None \
                    else array[block["row"], start:stop]
                assert np.array_equal(arrays[f"{layer['path']}/{block['symbol']}"], part), \
                    (case, layer["path"], block["slice"])
            offset += 1
    assert offset == len(held)


def test_conv_lstm_slices_and_refusals(adapter: Any, tmp_path: Path) -> None:
    inputs, layers = _cases(adapter)["conv_lstm_2d"]
    path, _ = _saved(adapter, tmp_path, "conv", inputs, *layers)
    code, out, _ = run("explain", str(path))
    assert code == 0 and "ConvLSTM2D" in out and "kernel_size=(3, 2)" in out
    assert "kernel[..., 0:3]" in out and "= (kh, kw, d, 4u)" in out
    code, _, err = run("export", str(path), str(tmp_path / "t.npz"), "--layout", "torch")
    assert code == 2 and "torch has no convolutional LSTM" in err, err


@pytest.mark.parametrize("value_dim", [None, 2])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_attention_models_read_from_files_predict_what_keras_gave(
        adapter: Any, tmp_path: Path, suffix: str, value_dim: int | None) -> None:
    """The reader's weight layout and shape checks for the attention layers (MultiHeadAttention's
    four projections sit in sub-groups of a .keras file), against the model that wrote the
    file. A value_dim other than key_dim raises on Keras 3's jax backend
    (mha-value-dim-raises-jax), the unmasked query over a masked value on Keras 3.0-3.3
    (attention-mixed-masks-raise-keras-3.0-3.3): asserted there."""
    import verify
    from verify import environment

    keras = adapter.keras
    layers = keras.layers
    encoder_in, decoder_in = keras.Input((6, 3)), keras.Input((4, 3))
    encoded = layers.LSTM(4, return_sequences=True)(layers.Masking(0.0)(encoder_in))
    decoded = layers.GRU(4, return_sequences=True)(decoder_in)
    if environment.attention_mixed_masks_raise():  # an unmasked query over a masked value
        with pytest.raises(ValueError, match="mix tensors and non-tensors"):
            layers.Attention(use_scale=True)([decoded, encoded])
        return
    context = [layers.Attention(use_scale=True)([decoded, encoded]),
               layers.AdditiveAttention()([decoded, encoded]),
               layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=value_dim)(
                   decoded, encoded, use_causal_mask=True)]
    model = keras.Model([encoder_in, decoder_in], layers.Concatenate()([decoded, *context])
                        if not _masked_concatenate_fails() else layers.Add()(context))
    rng = np.random.default_rng(3)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    # As many rows as decoder steps: Keras 3.0-3.11 line the value's mask up with the query
    # axis (attention-value-mask-misbroadcast-keras-3.0-3.11), which then computes.
    x = [rng.normal(size=(4, 6, 3)).astype(np.float32),
         rng.normal(size=(4, 4, 3)).astype(np.float32)]
    x[0][1, 4:] = 0.0  # padded encoder steps: the value mask
    if value_dim is not None and environment.mha_value_dim_raises():
        with pytest.raises(TypeError):
            model.predict(x, verbose=0)
        return
    path = tmp_path / f"attention{suffix}"
    model.save(path)
    np.testing.assert_allclose(verify.predict_file(path, x), model.predict(x, verbose=0),
                               atol=2e-5)


def _masked_concatenate_fails() -> bool:
    from verify import environment

    return environment.masked_concatenate_fails()


@pytest.mark.parametrize("steps", [2, 3])
def test_multi_head_attention_projection_bias_as_keras_adds_it(adapter: Any,
                                                                steps: int) -> None:
    """key_dim=value_dim=1 and 2 heads: with 2 encoder steps Keras 3.7+ on TensorFlow adds
    each projection's (heads, 1) bias along the steps axis (the named divergence
    ops-add-bias-channel-axis-1-tensorflow-keras-3.7), with 3 it broadcasts; verify.predict
    equals Keras in both, on every backend (found by model_forward with this family)."""
    import verify
    from strategies.families import ModelSpec
    from verify.suite import keras_families

    spec = ModelSpec(family="attention_decoder", cells=("SimpleRNN",), units=(1,),
                     steps=steps, features=1, bidirectional=(True,), merge_mode="mul",
                     head="time_distributed", decoder_steps=1, attention="multi_head",
                     causal=True, output_activation="sigmoid", dropout=True)
    model = keras_families.build(spec)
    model.set_weights(keras_families.seeded_weights(model, seed=0))
    rng = np.random.default_rng(1)
    x = [rng.uniform(-1, 1, (2, steps, 1)).astype(np.float32),
         rng.uniform(-1, 1, (2, 1, 1)).astype(np.float32)]
    keras_output = adapter.call_model(model, x)[0]
    np.testing.assert_allclose(verify.predict(model, x), keras_output, atol=1e-5)
