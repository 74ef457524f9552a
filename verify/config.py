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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from verify import _validate, activations, cells, keras_config
from verify.activations import ACTIVATION_ALIASES as ACTIVATION_ALIASES  # the public names
from verify.activations import ACTIVATIONS as ACTIVATIONS

#: ``Bidirectional`` merge modes; ``None`` returns the two directions as a list.
MERGE_MODES: tuple[str | None, ...] = ("concat", "sum", "mul", "ave", None)

@dataclass(frozen=True, repr=False)
class RNNConfig:
    """What every Keras recurrent layer (``LSTM``, ``GRU``, ``SimpleRNN``) has, on inputs of
    shape ``(batch, timesteps, input_dim)``; subclasses add their cell's options and name their
    cell (:mod:`verify.cells`), to which shapes and equations are delegated.

    ``timesteps=None`` means any length. Defaults are Keras's own defaults.
    """

    CELL: ClassVar[str] = ""

    units: int
    input_dim: int
    timesteps: int | None = None
    use_bias: bool = True
    activation: str = "tanh"
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    zero_output_for_mask: bool = False
    unroll: bool = False

    def __post_init__(self) -> None:
        if type(self) is RNNConfig:
            raise TypeError("RNNConfig is abstract: use LSTMConfig, GRUConfig or SimpleRNNConfig")
        _validate.positive_int("units", self.units)
        _validate.positive_int("input_dim", self.input_dim)
        _validate.optional_positive_int("timesteps", self.timesteps)
        for item in dataclasses.fields(self):
            if isinstance(item.default, bool):
                _validate.boolean(item.name, getattr(self, item.name))
        for name in ("activation", "recurrent_activation"):
            if hasattr(self, name):
                object.__setattr__(self, name, activations.canonical(name, getattr(self, name)))
        if self.unroll and self.timesteps is None:
            raise ValueError("unroll=True needs a known number of timesteps, got timesteps=None "
                             "(Keras cannot unroll a sequence of unknown length)")

    def __repr__(self) -> str:
        return _validate.dataclass_repr(self, always=("units", "input_dim"))

    @property
    def cell(self) -> cells.Cell:
        """The cell kind (:mod:`verify.cells`): gates, shapes, step equations, layouts."""
        return cells.get(self.CELL)

    @property
    def recurrent(self) -> RNNConfig:
        """The recurrent layer itself (a Bidirectional's is the layer it wraps)."""
        return self

    @property
    def cell_options(self) -> dict[str, Any]:
        """The cell's own options (``recurrent_activation``, ``reset_after``), by name."""
        return {name: getattr(self, name) for name in self.cell.option_defaults}

    @property
    def output_features(self) -> int:
        """Size of the last axis of the layer's (first) output."""
        return self.units

    @property
    def state_count(self) -> int:
        """States per direction: 2 for an LSTM (``[h, c]``), 1 otherwise (``[h]``)."""
        return len(self.cell.states)

    def direction_weights(self, weights: Sequence[Any]) -> list[list[Any]]:
        """``get_weights()`` split by direction: one list here, forward and backward for a
        Bidirectional layer."""
        return [list(weights)]

    def to_keras_config(self) -> dict[str, Any]:
        """Keyword arguments for the Keras layer class that reproduce this configuration."""
        return {item.name: getattr(self, item.name) for item in dataclasses.fields(self)
                if item.name not in ("input_dim", "timesteps")}

    @classmethod
    def from_keras_config(
        cls, config: Mapping[str, Any], *, input_dim: int, timesteps: int | None = None
    ) -> Any:
        """Read a recurrent layer's ``get_config()`` (Keras 2 or 3).

        A layer config does not record its input size, so ``input_dim`` (and optionally
        ``timesteps``) must be given. Options that change the computed function in a way this
        project does not model (``stateful``, ``time_major``, a non-float32 dtype) raise
        ``NotImplementedError``; keys that do not matter at inference (initialisers, dropout,
        regularisers, ``implementation``, ``unit_forget_bias``) are ignored.
        """
        if cls is RNNConfig:
            raise TypeError("call from_keras_config on LSTMConfig, GRUConfig or "
                            "SimpleRNNConfig (or use config_class(class_name))")
        config = _validate.keras_mapping("config", config)
        names = [item.name for item in dataclasses.fields(cls)
                 if item.name not in ("input_dim", "timesteps")]
        values = keras_config.rnn_options(cls.CELL, config, names)
        return cls(input_dim=input_dim, timesteps=timesteps, **values)


@dataclass(frozen=True, repr=False)
class LSTMConfig(RNNConfig):
    """One ``keras.layers.LSTM`` (gates i, f, c, o; states ``[h, c]``)."""

    CELL: ClassVar[str] = "LSTM"

    recurrent_activation: str = "sigmoid"


@dataclass(frozen=True, repr=False)
class GRUConfig(RNNConfig):
    """One ``keras.layers.GRU`` (gates z, r, h; state ``[h]``). ``reset_after=True`` (Keras's
    default) applies the reset gate after the recurrent matmul and has a ``(2, 3u)`` bias."""

    CELL: ClassVar[str] = "GRU"

    recurrent_activation: str = "sigmoid"
    reset_after: bool = True


@dataclass(frozen=True, repr=False)
class SimpleRNNConfig(RNNConfig):
    """One ``keras.layers.SimpleRNN`` (``h_t = act(x W + h U + b)``; state ``[h]``)."""

    CELL: ClassVar[str] = "SimpleRNN"


#: The configuration class of each recurrent Keras layer class.
RNN_CONFIGS: dict[str, type[RNNConfig]] = {
    config.CELL: config for config in (LSTMConfig, GRUConfig, SimpleRNNConfig)}


def recurrent_config(class_name: str, config: Mapping[str, Any], *, input_dim: int
                     ) -> RNNConfig | BidirectionalConfig:
    """The configuration of a saved recurrent layer (``LSTM``/``GRU``/``SimpleRNN`` or
    ``Bidirectional`` of one) from its class name and ``get_config()``."""
    if class_name == "Bidirectional":
        return BidirectionalConfig.from_keras_config(config, input_dim=input_dim)
    made: RNNConfig = config_class(class_name).from_keras_config(config, input_dim=input_dim)
    return made


def config_class(class_name: str) -> type[RNNConfig]:
    """The configuration class for a Keras recurrent layer class name (``"GRU"``...)."""
    if class_name not in RNN_CONFIGS:
        raise NotImplementedError(f"recurrent layer class {class_name!r} is not supported; "
                                  f"supported: {', '.join(RNN_CONFIGS)}")
    return RNN_CONFIGS[class_name]


@dataclass(frozen=True, repr=False)
class BidirectionalConfig:
    """``keras.layers.Bidirectional(LSTM(...) | GRU(...) | SimpleRNN(...), merge_mode=...)``.

    The backward layer is the forward one with ``go_backwards`` flipped, as Keras 2 makes it
    (Keras 3 refuses to wrap a ``go_backwards=True`` layer). ``return_sequences`` and
    ``return_state`` are the wrapped layer's. Keras forces ``zero_output_for_mask`` of both
    sub-layers to ``return_sequences``, and so does this class, so that the configuration
    describes what Keras computes.
    """

    layer: RNNConfig
    merge_mode: str | None = "concat"

    def __post_init__(self) -> None:
        if not isinstance(self.layer, RNNConfig):
            raise TypeError(f"layer must be an LSTMConfig, GRUConfig or SimpleRNNConfig, "
                            f"got {_validate.describe(self.layer)}")
        _validate.one_of("merge_mode", self.merge_mode, MERGE_MODES)
        forced = self.layer.return_sequences
        if self.layer.zero_output_for_mask != forced:
            object.__setattr__(
                self, "layer", dataclasses.replace(self.layer, zero_output_for_mask=forced)
            )

    def __repr__(self) -> str:
        return f"BidirectionalConfig({self.layer!r}, merge_mode={self.merge_mode!r})"

    @property
    def cell(self) -> cells.Cell:
        return self.layer.cell

    @property
    def recurrent(self) -> RNNConfig:
        """The wrapped layer (forward direction)."""
        return self.layer

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
    def state_count(self) -> int:
        """States of both directions: ``[fwd..., bwd...]``."""
        return 2 * self.layer.state_count

    @property
    def output_features(self) -> int:
        """Size of the last axis of the merged output (of each output with ``merge_mode=None``)."""
        return 2 * self.units if self.merge_mode == "concat" else self.units

    @property
    def backward_layer(self) -> RNNConfig:
        """The configuration Keras gives the backward copy of the wrapped layer."""
        return dataclasses.replace(self.layer, go_backwards=not self.layer.go_backwards)

    def direction_weights(self, weights: Sequence[Any]) -> list[list[Any]]:
        """``get_weights()`` split into the forward and the backward layer's arrays."""
        half = len(self.layer.cell.weight_shapes(1, 1, use_bias=self.layer.use_bias,
                                                  **self.layer.cell_options))
        if len(weights) != 2 * half:
            raise ValueError(f"a {self!r} has {2 * half} weight arrays ({half} per direction), "
                             f"got {len(weights)}")
        return [list(weights[:half]), list(weights[half:])]

    def to_keras_config(self) -> dict[str, Any]:
        """``{"layer": {"class_name": "LSTM", "config": ...}, "merge_mode": ...}``."""
        return {
            "layer": {"class_name": self.layer.CELL, "config": self.layer.to_keras_config()},
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
        config = _validate.keras_mapping("config", config)
        inner = _validate.keras_mapping("config['layer']", config.get("layer"))
        kind = inner.get("class_name")
        if kind not in RNN_CONFIGS:
            raise NotImplementedError(f"Bidirectional wraps {kind!r}; supported: "
                                      f"{', '.join(RNN_CONFIGS)}")
        layer = RNN_CONFIGS[str(kind)].from_keras_config(
            _validate.keras_mapping("config['layer']['config']", inner.get("config")),
            input_dim=input_dim, timesteps=timesteps,
        )
        merge_mode = config.get("merge_mode", "concat")
        made = cls(layer, merge_mode)
        backward = config.get("backward_layer")
        if backward is not None:
            backward = _validate.keras_mapping("config['backward_layer']", backward)
            parsed = RNN_CONFIGS[str(kind)].from_keras_config(
                _validate.keras_mapping("config['backward_layer']['config']",
                                        backward.get("config")),
                input_dim=input_dim, timesteps=timesteps,
            )
            if backward.get("class_name") != kind or parsed != made.backward_layer:
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
        object.__setattr__(self, "activation",
                           activations.canonical("activation", self.activation))
        _validate.boolean("use_bias", self.use_bias)

    def __repr__(self) -> str:
        return _validate.dataclass_repr(self, always=("units", "input_dim"))

    @property
    def output_features(self) -> int:
        return self.units

    def to_keras_config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias}


RecurrentConfig = RNNConfig | BidirectionalConfig
LayerConfig = RNNConfig | BidirectionalConfig | DenseConfig


@dataclass(frozen=True, repr=False)
class SequentialConfig:
    """A ``keras.Sequential`` stack: recurrent layers (any cell kind, mixed), then optionally
    Dense layers on top.

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
            if not isinstance(layer, RNNConfig | BidirectionalConfig | DenseConfig):
                raise TypeError(f"layers[{index}] must be an LSTMConfig, GRUConfig, "
                                f"SimpleRNNConfig, BidirectionalConfig or DenseConfig, "
                                f"got {_validate.describe(layer)}")
        if isinstance(self.layers[0], DenseConfig):
            raise ValueError("layers[0] must be recurrent (an RNN or Bidirectional config), "
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


def _recurrent(layer: LayerConfig) -> RNNConfig:
    """The recurrent layer inside ``layer`` (itself, or the one a Bidirectional wraps)."""
    if isinstance(layer, RNNConfig | BidirectionalConfig):
        return layer.recurrent
    raise TypeError(f"expected a recurrent layer config, got {_validate.describe(layer)}")
