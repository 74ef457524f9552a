"""Writes the model-file fixtures of tests/test_files.py with the Keras it runs under:

* under Keras 2 (``tox -e tf215 --notest``, then
  ``.tox/tf215/bin/python tests/data/make_fixtures.py``): ``keras2_<name>.h5``;
* under Keras 3 (``python tests/data/make_fixtures.py``): ``keras3_<name>.keras``;
* ``FIXTURES_DIR=... TF_USE_LEGACY_KERAS=1`` with tf-keras (``tox -e tfkeras --notest``)
  writes the Keras 2 set from tf-keras into another directory; ``tfkeras_text.h5`` and
  ``tfkeras_gru.h5`` (with their ``.npz``) are two of them, renamed.

Beside each model, ``<file>.npz`` holds inputs ``x`` (``x0``, ``x1``... for several inputs) and
the outputs Keras's own ``model.predict`` gave for them (``y0``, ``y1``...), so that the tests
can check the NumPy forward against real Keras without importing it. Weights come from a
fixed seed (``numpy.random.default_rng``), installed with ``set_weights``.

``keras2_cudnn.h5`` holds CuDNNLSTM and CuDNNGRU layers (GPU-only: its ``.npz`` outputs are
those of the LSTM/GRU twin into which Keras 2's own loader converts the weights).
``keras2_lambda.h5`` holds a Lambda whose stored code writes the file named by
``$LSTM_VERIFY_MARKER`` when Keras 2 rebuilds the model: the tests check that no command of
this project ever runs it. Keras 3 writes no such file (it refuses to deserialise Lambda code
unless ``safe_mode=False``), so the Keras 3 set has none.
"""

import os
import sys
from pathlib import Path

import numpy as np

if os.environ.get("TF_USE_LEGACY_KERAS") == "1":  # tf-keras: Keras 2 on a newer TensorFlow
    import tf_keras as keras
else:
    import keras

HERE = Path(os.environ.get("FIXTURES_DIR") or Path(__file__).resolve().parent)
KERAS2 = int(keras.__version__.split(".")[0]) < 3
layers = keras.layers


def _models():
    models = {}
    models["bilstm"] = keras.Sequential([  # masked, stacked, Bidirectional
        keras.Input((5, 3)), layers.Masking(0.0),
        layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
        layers.LSTM(3), layers.Dense(2)])
    models["gru"] = keras.Sequential([
        keras.Input((6, 4)), layers.GRU(5, return_sequences=True),
        layers.GRU(3, reset_after=False), layers.Dense(2, activation="softmax")])
    tokens = keras.Input((7,), dtype="int32")
    x = layers.Embedding(30, 6, mask_zero=True)(tokens)
    x = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode="sum")(x)
    x = layers.LSTM(5)(x)
    models["text"] = keras.Model(tokens, layers.Dense(3)(x))
    models["stacked_simple"] = keras.Sequential([
        keras.Input((4, 3)), layers.SimpleRNN(4, return_sequences=True),
        layers.TimeDistributed(layers.Dense(2))])
    if KERAS2:
        # Keras 2's old default recurrent activation: a different function in Keras 3.
        models["hard_sigmoid"] = keras.Sequential([
            keras.Input((5, 2)), layers.LSTM(3, recurrent_activation="hard_sigmoid"),
            layers.Dense(1)])
        models["gru_hard_sigmoid"] = keras.Sequential([
            keras.Input((5, 2)), layers.GRU(3, recurrent_activation="hard_sigmoid"),
            layers.Dense(1, activation="hard_sigmoid")])
        # TensorFlow 1's GPU-only layers (still constructible on CPU in TF 2.15; not run).
        import tensorflow as tf

        models["cudnn"] = keras.Sequential([
            keras.Input((5, 3)), tf.compat.v1.keras.layers.CuDNNLSTM(4, return_sequences=True),
            tf.compat.v1.keras.layers.CuDNNGRU(3), layers.Dense(2)])
    return models


def _lambda_model():
    marker = (lambda x: x + 0.0 * float(__import__("pathlib").Path(  # noqa: E731
        __import__("os").environ.get("LSTM_VERIFY_MARKER", __import__("os").devnull)
    ).write_text("the Lambda's code ran")))
    return keras.Sequential([keras.Input((4, 2)), layers.Lambda(marker), layers.LSTM(2)])


def _nested_model():
    """A functional model around a nested Sequential (masked, with BatchNormalization, whose
    moving statistics Keras 2 lists after the trainable weights of the nested model)."""
    inner = keras.Sequential([keras.Input((5, 3)), layers.Masking(0.0),
                              layers.LSTM(4, return_sequences=True),
                              layers.BatchNormalization()], name="encoder")
    inputs = keras.Input((5, 3))
    x = layers.Bidirectional(layers.GRU(3))(inner(inputs))
    return keras.Model(inputs, layers.Dense(2)(x))


def main(selected=()):
    """Write every fixture, or only those named in ``selected`` (the weights of each stay
    the same either way: the generator draws them all in order)."""
    rng = np.random.default_rng(0)
    models = _models()
    if KERAS2:
        models["lambda"] = _lambda_model()
    models["nested"] = _nested_model()
    for name, model in models.items():
        # Moving variances positive (a normalisation divides by their square root).
        model.set_weights([
            (rng.uniform(0.5, 1.5, w.shape) if "moving_variance" in variable.name
             else rng.uniform(-0.6, 0.6, w.shape)).astype("float32")
            for variable, w in zip(model.weights, model.get_weights(), strict=True)])
        inputs = []
        for tensor in model.inputs:
            shape = (4, *tensor.shape[1:])
            if "int" in str(tensor.dtype):
                x = rng.integers(1, 30, shape).astype("int32")
                x[0, 4:] = 0  # padding: the mask matters
                x[2, 2:] = 0
            else:
                x = rng.uniform(-1, 1, shape).astype("float32")
                x[1, 3:] = 0.0
            inputs.append(x)
        if selected and name not in selected:
            continue
        if name == "cudnn":
            # A GPU-only op: the outputs are those of its CPU twin (LSTM, and GRU with
            # reset_after=True) after Keras 2's own loader converted the weights into it.
            model.save(HERE / "keras2_cudnn.h5")
            twin = keras.Sequential([
                keras.Input((5, 3)), layers.LSTM(4, return_sequences=True),
                layers.GRU(3, reset_after=True), layers.Dense(2)])
            twin.load_weights(HERE / "keras2_cudnn.h5")
            outputs = [twin.predict(inputs[0], verbose=0)]
        else:
            outputs = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
            outputs = outputs if isinstance(outputs, list) else [outputs]
        stem = f"keras2_{name}.h5" if KERAS2 else f"keras3_{name}.keras"
        model.save(HERE / stem)
        np.savez(HERE / f"{stem}.npz", **{f"x{i}": x for i, x in enumerate(inputs)},
                 **{f"y{i}": np.asarray(y) for i, y in enumerate(outputs)})
        print("wrote", stem, [w.shape for w in model.get_weights()][:3])


if __name__ == "__main__":
    os.environ.setdefault("LSTM_VERIFY_MARKER", os.devnull)
    main(sys.argv[1:])
