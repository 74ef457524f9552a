"""lstm-verify: Keras LSTM, GRU and SimpleRNN weights, shapes and outputs, checked against the
documented formulas and a NumPy reference.

The library (NumPy and h5py; nothing here imports Keras, Hypothesis or the verification
machinery): :mod:`verify.cells` (one module per cell kind), :mod:`verify.config` (layer
configurations), :mod:`verify.shapes` and :mod:`verify.gates` (formulas, gate blocks),
:mod:`verify.reference` (the NumPy recurrent layers), :mod:`verify.semantics` (named
differences between Keras versions), :func:`verify.predict` / :mod:`verify.model` (a whole
model's forward), :mod:`verify.files` and :func:`verify.predict_file` (model files read as
data), :mod:`verify.convert`, :mod:`verify.explain`, :mod:`verify.migrate`, and
:mod:`verify.proof` (a forward proven against Keras), :func:`verify.scan` (every model file
under a folder). :mod:`verify.keras_backend` is the one
module that imports Keras (:mod:`verify.keras_adapter` builds and caches layers on it).

The verification machinery sits above, in :mod:`verify.suite` (properties, divergences, the
report, the matrix, the benchmark) and the :mod:`strategies` package.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType
from typing import Any

from verify import activations, config, gates, reference, semantics, shapes
from verify.config import BidirectionalConfig, DenseConfig, LSTMConfig, SequentialConfig
from verify.files import predict_file
from verify.model import predict
from verify.registry import register_cell
from verify.scanning import scan

__version__ = "0.1.0"

#: Modules that moved out of the library into the verification machinery (0.1.0 layout ->
#: now): the old names still import, with a DeprecationWarning.
MOVED: dict[str, str] = {
    "verify.properties": "verify.suite.properties",
    "verify.coverage": "verify.suite.coverage",
    "verify.profiles": "verify.suite.profiles",
    "verify.divergences": "verify.suite.divergences",
    "verify.matrix": "verify.suite.matrix",
    "verify.benchmark": "verify.suite.benchmark",
    "verify.keras_families": "verify.suite.keras_families",
    "verify.families": "strategies.families",
}


def _moved(old: str) -> ModuleType:
    new = MOVED[old]
    warnings.warn(f"{old} moved to {new}; import it from there", DeprecationWarning,
                  stacklevel=3)
    return importlib.import_module(new)


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import verify.properties`` (and the other :data:`MOVED` names) gives the module at its
    new home, with a DeprecationWarning."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> ModuleType:
        module = _moved(spec.name)
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The module is the one at its new home, already executed."""


if not any(isinstance(finder, _MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModules())


def __getattr__(name: str) -> Any:
    if f"verify.{name}" in MOVED:
        module = sys.modules.get(f"verify.{name}") or _moved(f"verify.{name}")
        sys.modules[f"verify.{name}"] = module
        return module
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


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
    "register_cell",
    "scan",
    "semantics",
    "shapes",
]
