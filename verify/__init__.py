"""lstm-verify: Keras LSTM weights, shapes and outputs, checked against documented formulas.

The NumPy-only parts import nothing else: :mod:`verify.config` (layer configurations),
:mod:`verify.shapes` (weight, parameter and output shape formulas) and :mod:`verify.gates`
(split fused arrays by gate), :mod:`verify.reference` (the NumPy LSTM), :mod:`verify.semantics`
(named version differences) and :func:`verify.predict` (a whole model's forward).
:func:`verify.predict_file` (the same for a saved file, read as data by :mod:`verify.files`).
:mod:`verify.keras_adapter` is the one module that imports
Keras; :mod:`verify.suite.properties` holds the checks that the test suite and
``python -m verify report`` both run.
"""

from verify import activations, config, gates, reference, semantics, shapes
from verify.config import BidirectionalConfig, DenseConfig, LSTMConfig, SequentialConfig
from verify.files import predict_file
from verify.model import predict

__version__ = "0.1.0"

__all__ = [
    "BidirectionalConfig",
    "DenseConfig",
    "LSTMConfig",
    "SequentialConfig",
    "__version__",
    "activations",
    "config",
    "gates",
    "predict",
    "predict_file",
    "reference",
    "semantics",
    "shapes",
]
