"""Makes tests/data/keras2_model.h5 with Keras 2.15 (run it with TensorFlow 2.15): a model
saved by Keras 2, for the CLI tests. Keras 3 cannot load it (its LSTM config has time_major).
"""
import keras
import numpy as np

rng = np.random.default_rng(0)
model = keras.Sequential([keras.Input((5, 3)), keras.layers.Masking(0.0),
                          keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True)),
                          keras.layers.LSTM(3), keras.layers.Dense(2)])
model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in model.get_weights()])
model.save(__file__.replace("make_keras2_model.py", "keras2_model.h5"))
