"""lstm-verify: Keras LSTM weights, shapes and outputs, checked against documented formulas.

The NumPy-only parts import nothing else: :mod:`verify.config` (layer configurations),
:mod:`verify.shapes` (weight, parameter and output shape formulas) and :mod:`verify.gates`
(split fused arrays by gate). :mod:`verify.keras_adapter` is the one module that imports
Keras; :mod:`verify.properties` holds the checks that the test suite and
``python -m verify report`` both run.
"""

from verify import config, gates, shapes
from verify.config import BidirectionalConfig, DenseConfig, LSTMConfig, SequentialConfig

__version__ = "0.1.0"

__all__ = [
    "BidirectionalConfig",
    "DenseConfig",
    "LSTMConfig",
    "SequentialConfig",
    "__version__",
    "config",
    "gates",
    "shapes",
]
