"""The activations Keras accepts by name, in NumPy, as Keras defines them.

``hard_sigmoid`` has two definitions (Keras 2: ``clip(0.2x + 0.5, 0, 1)``; Keras 3:
``clip(x/6 + 0.5, 0, 1)``); which one is used is a :class:`verify.semantics.Semantics` choice,
never guessed here. ``gelu`` is the exact (erf) form, Keras's default in both versions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Activation = Callable[[np.ndarray], np.ndarray]

#: Activation names accepted by Keras 2.12+ and Keras 3 alike (``keras.activations.get``).
ACTIVATIONS: frozenset[str] = frozenset(
    {
        "tanh", "sigmoid", "hard_sigmoid", "relu", "relu6", "linear", "softsign", "softplus",
        "elu", "selu", "gelu", "silu", "mish", "exponential",
    }
)  # fmt: skip

#: Other names of the same functions; configurations store the name in :data:`ACTIVATIONS`
#: (Keras 3's ``get_config()`` writes ``"silu"`` for a layer made with ``"swish"``).
ACTIVATION_ALIASES: dict[str, str] = {"swish": "silu"}

# Constants of selu (Klambauer et al. 2017), as Keras writes them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

_erf = np.vectorize(math.erf, otypes=[np.float64])


def sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)) is sigmoid without overflow in exp for large |x|; computed in
    # place in one new array (this is the reference's hottest elementwise function).
    y = np.multiply(x, 0.5)
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return np.asarray(y)


def softplus(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.logaddexp(0.0, x))


def hard_sigmoid_keras2(x: np.ndarray) -> np.ndarray:
    """Keras 2: ``clip(0.2 x + 0.5, 0, 1)``."""
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def hard_sigmoid_keras3(x: np.ndarray) -> np.ndarray:
    """Keras 3: ``relu6(x + 3) / 6`` = ``clip(x / 6 + 0.5, 0, 1)``."""
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


def _elu(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))))


def _gelu(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(x.dtype)))


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True))


_FUNCTIONS: dict[str, Activation] = {
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "linear": lambda x: x,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "softplus": softplus,
    "elu": _elu,
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    "gelu": _gelu,
    "silu": lambda x: x * sigmoid(x),
    "mish": lambda x: x * np.tanh(softplus(x)),
    "exponential": np.exp,
}

#: Names usable for a Dense layer's activation in :func:`verify.predict` beyond LSTM's.
DENSE_ONLY: dict[str, Activation] = {"softmax": _softmax}

assert set(_FUNCTIONS) | {"hard_sigmoid"} == ACTIVATIONS, "keep in step with ACTIVATIONS"


def canonical(name: str, value: object) -> str:
    """The name configurations store for activation ``value`` (argument ``name``): an alias
    replaced by :data:`ACTIVATIONS`' name; anything else raises naming the known ones."""
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be an activation name (str), got {value!r}; "
            f"known names: {', '.join(sorted(ACTIVATIONS))}"
        )
    known = ACTIVATION_ALIASES.get(value, value)
    if known not in ACTIVATIONS:
        raise ValueError(
            f"{name}={value!r} is not a known activation; "
            f"expected one of {', '.join(sorted(ACTIVATIONS | set(ACTIVATION_ALIASES)))}"
        )
    return known


def get(name: str, *, hard_sigmoid: Activation, allow_dense_only: bool = False) -> Activation:
    """The NumPy function for activation ``name``; ``hard_sigmoid`` is the variant to use for
    that name (see :mod:`verify.semantics`). Unknown names raise ``ValueError``."""
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {name!r}")
    canonical = ACTIVATION_ALIASES.get(name, name)
    if canonical == "hard_sigmoid":
        return hard_sigmoid
    if canonical in _FUNCTIONS:
        return _FUNCTIONS[canonical]
    if allow_dense_only and canonical in DENSE_ONLY:
        return DENSE_ONLY[canonical]
    known = sorted(ACTIVATIONS | set(ACTIVATION_ALIASES)
                   | (set(DENSE_ONLY) if allow_dense_only else set()))
    raise ValueError(f"unknown activation {name!r}; expected one of {', '.join(known)}")
