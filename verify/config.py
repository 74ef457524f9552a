"""Frozen, validated descriptions of the layers this project verifies.

A configuration holds what decides the *function* a layer computes and the *shapes* of its
weights: sizes, activations and flags. It does not hold weights, initialisers, regularisers or
names. Configurations are hashable (the Keras adapter caches built layers by them), their
``repr`` shows every field that differs from Keras's default, enough to rebuild the case, and
they convert to and from a Keras layer's ``get_config()`` on Keras 2 and Keras 3.

>>> LSTMConfig(units=20, input_dim=100, return_sequences=True)
LSTMConfig(units=20, input_dim=100, return_sequences=True)
>>> BidirectionalConfig(LSTMConfig(units=20, input_dim=100), merge_mode="sum").output_features
20
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from verify import _validate

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

#: ``Bidirectional`` merge modes; ``None`` returns the two directions as a list.
MERGE_MODES: tuple[str | None, ...] = ("concat", "sum", "mul", "ave", None)

# Keys of an LSTM ``get_config()`` that do not change the function computed at inference
# (``training=False``) or the weight shapes, so they are read past without a word.
_IGNORED_LSTM_KEYS = frozenset(
    {
        "name", "trainable", "dtype", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
        "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "dropout", "recurrent_dropout", "seed", "implementation",
        "batch_input_shape", "build_config", "use_cudnn", "stateful", "time_major",
    }
)  # fmt: skip


def _repr(obj: Any, always: tuple[str, ...]) -> str:
    """``Name(field=value, ...)`` showing ``always`` fields and every non-default one."""
    shown = []
    for item in dataclasses.fields(obj):
        value = getattr(obj, item.name)
        if item.name in always or value != item.default:
            shown.append(f"{item.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(shown)})"


def _activation(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be an activation name (str), got {_validate.describe(value)}; "
            f"known names: {', '.join(sorted(ACTIVATIONS))}"
        )
    canonical = ACTIVATION_ALIASES.get(value, value)
    if canonical not in ACTIVATIONS:
        raise ValueError(
            f"{name}={value!r} is not a known activation; "
            f"expected one of {', '.join(sorted(ACTIVATIONS | set(ACTIVATION_ALIASES)))}"
        )
    return canonical


def _dtype_name(dtype: Any) -> str | None:
    """The dtype policy name in a Keras 2 (``"float32"``) or Keras 3 (dict) layer config."""
    if dtype is None or isinstance(dtype, str):
        return dtype
    if isinstance(dtype, Mapping):
        inner = dtype.get("config", {})
        if isinstance(inner, Mapping) and isinstance(inner.get("name"), str):
            return str(inner["name"])
    return repr(dtype)


def _require_mapping(name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict from a Keras layer's get_config(), "
                        f"got {_validate.describe(value)}")
    return value


@dataclass(frozen=True, repr=False)
class LSTMConfig:
    """One ``keras.layers.LSTM`` on inputs of shape ``(batch, timesteps, input_dim)``.

    ``timesteps=None`` means any length. Defaults are Keras's own defaults.
    """

    units: int
    input_dim: int
    timesteps: int | None = None
    use_bias: bool = True
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    zero_output_for_mask: bool = False
    unroll: bool = False

    def __post_init__(self) -> None:
        _validate.positive_int("units", self.units)
        _validate.positive_int("input_dim", self.input_dim)
        _validate.optional_positive_int("timesteps", self.timesteps)
        for flag in ("use_bias", "return_sequences", "return_state", "go_backwards",
                     "zero_output_for_mask", "unroll"):
            _validate.boolean(flag, getattr(self, flag))
        for name in ("activation", "recurrent_activation"):
            object.__setattr__(self, name, _activation(name, getattr(self, name)))
        if self.unroll and self.timesteps is None:
            raise ValueError("unroll=True needs a known number of timesteps, got timesteps=None "
                             "(Keras cannot unroll a sequence of unknown length)")

    def __repr__(self) -> str:
        return _repr(self, always=("units", "input_dim"))

    @property
    def output_features(self) -> int:
        """Size of the last axis of the layer's (first) output."""
        return self.units

    def to_keras_config(self) -> dict[str, Any]:
        """Keyword arguments for ``keras.layers.LSTM`` that reproduce this configuration."""
        return {
            "units": self.units,
            "activation": self.activation,
            "recurrent_activation": self.recurrent_activation,
            "use_bias": self.use_bias,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "zero_output_for_mask": self.zero_output_for_mask,
            "unroll": self.unroll,
        }

    @classmethod
    def from_keras_config(
        cls, config: Mapping[str, Any], *, input_dim: int, timesteps: int | None = None
    ) -> LSTMConfig:
        """Read an ``LSTM`` layer's ``get_config()`` (Keras 2 or 3).

        A layer config does not record its input size, so ``input_dim`` (and optionally
        ``timesteps``) must be given. Options that change the computed function in a way this
        project does not model (``stateful``, ``time_major``, a non-float32 dtype) raise
        ``NotImplementedError``; keys that do not matter at inference (initialisers, dropout,
        regularisers, ``implementation``, ``unit_forget_bias``) are ignored.
        """
        config = _require_mapping("config", config)
        if "units" not in config:
            raise ValueError(f"config has no 'units': not an LSTM get_config(); keys: "
                             f"{sorted(config)}")
        for option in ("stateful", "time_major"):
            if config.get(option):
                raise NotImplementedError(f"LSTM option {option}=True is not supported")
        dtype = _dtype_name(config.get("dtype"))
        if dtype not in (None, "float32"):
            raise NotImplementedError(f"LSTM dtype policy {dtype!r} is not supported; "
                                      f"expected 'float32'")
        names = {item.name for item in dataclasses.fields(cls)} - {"input_dim", "timesteps"}
        unknown = set(config) - names - _IGNORED_LSTM_KEYS
        if unknown:
            raise NotImplementedError(f"LSTM config keys {sorted(unknown)} are not understood")
        values = {name: config[name] for name in names if name in config}
        return cls(input_dim=input_dim, timesteps=timesteps, **values)


@dataclass(frozen=True, repr=False)
class BidirectionalConfig:
    """``keras.layers.Bidirectional(LSTM(...), merge_mode=...)``.

    The backward layer is the forward one with ``go_backwards`` flipped, as Keras 2 makes it
    (Keras 3 refuses to wrap a ``go_backwards=True`` layer). ``return_sequences`` and
    ``return_state`` are the wrapped layer's. Keras forces ``zero_output_for_mask`` of both
    sub-layers to ``return_sequences``, and so does this class, so that the configuration
    describes what Keras computes.
    """

    layer: LSTMConfig
    merge_mode: str | None = "concat"

    def __post_init__(self) -> None:
        if not isinstance(self.layer, LSTMConfig):
            raise TypeError(f"layer must be an LSTMConfig, got {_validate.describe(self.layer)}")
        _validate.one_of("merge_mode", self.merge_mode, MERGE_MODES)
        forced = self.layer.return_sequences
        if self.layer.zero_output_for_mask != forced:
            object.__setattr__(
                self, "layer", dataclasses.replace(self.layer, zero_output_for_mask=forced)
            )

    def __repr__(self) -> str:
        return f"BidirectionalConfig({self.layer!r}, merge_mode={self.merge_mode!r})"

    @property
    def units(self) -> int:
        return self.layer.units

    @property
    def input_dim(self) -> int:
        return self.layer.input_dim

    @property
    def timesteps(self) -> int | None:
        return self.layer.timesteps

    @property
    def output_features(self) -> int:
        """Size of the last axis of the merged output (of each output with ``merge_mode=None``)."""
        return 2 * self.units if self.merge_mode == "concat" else self.units

    @property
    def backward_layer(self) -> LSTMConfig:
        """The configuration Keras gives the backward copy of the wrapped layer."""
        return dataclasses.replace(self.layer, go_backwards=not self.layer.go_backwards)

    def to_keras_config(self) -> dict[str, Any]:
        """``{"layer": {"class_name": "LSTM", "config": ...}, "merge_mode": ...}``."""
        return {
            "layer": {"class_name": "LSTM", "config": self.layer.to_keras_config()},
            "merge_mode": self.merge_mode,
        }

    @classmethod
    def from_keras_config(
        cls, config: Mapping[str, Any], *, input_dim: int, timesteps: int | None = None
    ) -> BidirectionalConfig:
        """Read a ``Bidirectional`` layer's ``get_config()`` (Keras 2 or 3).

        A custom ``backward_layer`` is accepted only when it is the mirror image Keras would
        have made itself; anything else raises ``NotImplementedError``.
        """
        config = _require_mapping("config", config)
        inner = _require_mapping("config['layer']", config.get("layer"))
        if inner.get("class_name") != "LSTM":
            raise NotImplementedError(
                f"Bidirectional wraps {inner.get('class_name')!r}; only 'LSTM' is supported"
            )
        layer = LSTMConfig.from_keras_config(
            _require_mapping("config['layer']['config']", inner.get("config")),
            input_dim=input_dim, timesteps=timesteps,
        )
        merge_mode = config.get("merge_mode", "concat")
        made = cls(layer, merge_mode)
        backward = config.get("backward_layer")
        if backward is not None:
            backward = _require_mapping("config['backward_layer']", backward)
            parsed = LSTMConfig.from_keras_config(
                _require_mapping("config['backward_layer']['config']", backward.get("config")),
                input_dim=input_dim, timesteps=timesteps,
            )
            if backward.get("class_name") != "LSTM" or parsed != made.backward_layer:
                raise NotImplementedError(
                    f"a custom backward_layer {parsed!r} is not supported; expected the "
                    f"mirror of the forward layer, {made.backward_layer!r}"
                )
        return made


@dataclass(frozen=True, repr=False)
class DenseConfig:
    """``keras.layers.Dense(units)`` applied to the last axis of a ``input_dim``-feature input."""

    units: int
    input_dim: int
    activation: str = "linear"
    use_bias: bool = True

    def __post_init__(self) -> None:
        _validate.positive_int("units", self.units)
        _validate.positive_int("input_dim", self.input_dim)
        object.__setattr__(self, "activation", _activation("activation", self.activation))
        _validate.boolean("use_bias", self.use_bias)

    def __repr__(self) -> str:
        return _repr(self, always=("units", "input_dim"))

    @property
    def output_features(self) -> int:
        return self.units

    def to_keras_config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias}


RecurrentConfig = LSTMConfig | BidirectionalConfig
LayerConfig = LSTMConfig | BidirectionalConfig | DenseConfig


@dataclass(frozen=True, repr=False)
class SequentialConfig:
    """A ``keras.Sequential`` stack: recurrent layers, then optionally Dense layers on top.

    The first layer fixes the input shape ``(timesteps, input_dim)``; every later layer's
    ``input_dim`` must equal the previous layer's ``output_features``. A recurrent layer
    followed by another recurrent layer must return sequences, and ``return_state`` is not
    allowed (a Sequential model has one output).
    """

    layers: tuple[LayerConfig, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not isinstance(self.layers, tuple) or not self.layers:
            raise ValueError(f"layers must be a non-empty tuple of layer configs, "
                             f"got {_validate.describe(self.layers)}")
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, LSTMConfig | BidirectionalConfig | DenseConfig):
                raise TypeError(f"layers[{index}] must be an LSTMConfig, BidirectionalConfig "
                                f"or DenseConfig, got {_validate.describe(layer)}")
        if isinstance(self.layers[0], DenseConfig):
            raise ValueError("layers[0] must be recurrent (LSTMConfig or BidirectionalConfig), "
                             "got a DenseConfig")
        seen_dense = False
        pairs = zip(self.layers, self.layers[1:], strict=False)
        for index, (before, after) in enumerate(pairs, start=1):
            if after.input_dim != before.output_features:
                raise ValueError(
                    f"layers[{index}].input_dim={after.input_dim} does not match the "
                    f"{before.output_features} features that layers[{index - 1}] outputs"
                )
            seen_dense = seen_dense or isinstance(before, DenseConfig)
            if not isinstance(after, DenseConfig):
                if seen_dense:
                    raise ValueError(f"layers[{index}] is recurrent after a Dense layer; "
                                     "only Dense layers may follow a Dense layer here")
                if not _recurrent(before).return_sequences:
                    raise ValueError(f"layers[{index - 1}] feeds a recurrent layer, so it must "
                                     "have return_sequences=True")
        for index, layer in enumerate(self.layers):
            if isinstance(layer, BidirectionalConfig) and layer.merge_mode is None:
                raise ValueError(f"layers[{index}] has merge_mode=None, which gives two outputs; "
                                 "a Sequential model carries one")
            if not isinstance(layer, DenseConfig) and _recurrent(layer).return_state:
                raise ValueError(f"layers[{index}] has return_state=True, which a Sequential "
                                 "model (one output) cannot carry")
            if (index > 0 and not isinstance(layer, DenseConfig)
                    and _recurrent(layer).timesteps != self.timesteps):
                raise ValueError(f"layers[{index}].timesteps={_recurrent(layer).timesteps} "
                                 f"differs from the model's timesteps={self.timesteps}")

    def __repr__(self) -> str:
        return f"SequentialConfig({self.layers!r})"

    @property
    def input_dim(self) -> int:
        return self.layers[0].input_dim

    @property
    def timesteps(self) -> int | None:
        return _recurrent(self.layers[0]).timesteps

    @property
    def output_features(self) -> int:
        return self.layers[-1].output_features


def _recurrent(layer: LayerConfig) -> LSTMConfig:
    """The LSTM inside ``layer`` (itself, or the one a Bidirectional wraps)."""
    if isinstance(layer, BidirectionalConfig):
        return layer.layer
    if isinstance(layer, LSTMConfig):
        return layer
    raise TypeError(f"expected a recurrent layer config, got {_validate.describe(layer)}")
