"""Strategies for layer configurations.

Each configuration is drawn in one ``@composite`` so it shrinks as one object, towards the
simplest case: 1 unit, 1 input feature, 1 step, bias on, default activations, forward, no
sequences, no states. Bounds are keyword-only and checked when the strategy is made.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from strategies.sizes import size_in
from verify import environment
from verify.config import (
    ACTIVATIONS,
    MERGE_MODES,
    RNN_CONFIGS,
    BidirectionalConfig,
    DenseConfig,
    GRUConfig,
    LSTMConfig,
    RNNConfig,
    SequentialConfig,
    SimpleRNNConfig,
)

#: Activations drawn by default for ``activation``: every name both Keras 2 and 3 accept except
#: ``exponential``, whose output compounds through the cell (``c`` grows by up to ``e^|z|`` a
#: step, then ``h = o * exp(c)``) and overflows float32 within a few steps; ask for it
#: explicitly. ``tanh`` (Keras's default) comes first so that it is what examples shrink to.
DEFAULT_ACTIVATIONS: tuple[str, ...] = ("tanh", *sorted(
    ACTIVATIONS - {"tanh", "exponential"} - environment.missing_activations()))
#: Drawn by default for ``recurrent_activation``: the gate-like functions, bounded by 1 in
#: magnitude, with ``sigmoid`` (Keras's default) first. With bounded gates the cell grows at
#: most geometrically, ``|c_t| <= (1 + u)|c_{t-1}| + d + 1``, which float32 holds for the
#: default sizes; with an unbounded gate *and* an unbounded activation it grows doubly
#: exponentially through ``h`` and overflows within a few steps. Pass
#: ``recurrent_activations=`` to draw the others.
DEFAULT_RECURRENT_ACTIVATIONS: tuple[str, ...] = ("sigmoid", "hard_sigmoid", "tanh", "softsign")


def check_bounds(name: str, low: Any, high: Any, *, at_least: int = 1) -> None:
    """Raise ``InvalidArgument`` unless ``at_least <= low <= high`` are ints."""
    for label, value in ((f"min_{name}", low), (f"max_{name}", high)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{label} must be an int, got {value!r} "
                                  f"({type(value).__name__})")
        if value < at_least:
            raise InvalidArgument(f"{label} must be >= {at_least}, got {value!r}")
    if low > high:
        raise InvalidArgument(f"min_{name}={low!r} must not exceed max_{name}={high!r}")


def _check_flag(name: str, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise InvalidArgument(f"{name} must be True, False or None (draw both), got {value!r}")


def _check_choices(name: str, values: Any, allowed: Sequence[Any]) -> tuple[Any, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise InvalidArgument(f"{name} must be a non-empty sequence, got {values!r}")
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise InvalidArgument(f"{name} contains {unknown!r}; allowed: {list(allowed)!r}")
    return tuple(values)


def _flag(value: bool | None) -> st.SearchStrategy[bool]:
    """A fixed flag, or both values drawn, shrinking to False."""
    return st.booleans() if value is None else st.just(value)


def _rnn_configs(
    kinds: tuple[str, ...],
    *,
    min_units: int = 1,
    max_units: int = 8,
    min_input_dim: int = 1,
    max_input_dim: int = 8,
    min_timesteps: int = 1,
    max_timesteps: int = 8,
    use_bias: bool | None = None,
    activations: Sequence[str] = DEFAULT_ACTIVATIONS,
    recurrent_activations: Sequence[str] = DEFAULT_RECURRENT_ACTIVATIONS,
    return_sequences: bool | None = None,
    return_state: bool | None = None,
    go_backwards: bool | None = None,
    zero_output_for_mask: bool | None = False,
    reset_after: bool | None = None,
    unroll: bool | None = False,
) -> st.SearchStrategy[Any]:
    """One composite for every cell kind in ``kinds``. Every kind draws the same sequence of
    choices (the kind, then every field, then those the kind lacks are dropped: a SimpleRNN has
    no ``recurrent_activation``, only a GRU a ``reset_after``), so that Hypothesis can shrink an
    example of one kind into the simplest example of the first kind."""
    check_bounds("units", min_units, max_units)
    check_bounds("input_dim", min_input_dim, max_input_dim)
    check_bounds("timesteps", min_timesteps, max_timesteps)
    for name, value in (("use_bias", use_bias), ("return_sequences", return_sequences),
                        ("return_state", return_state), ("go_backwards", go_backwards),
                        ("zero_output_for_mask", zero_output_for_mask),
                        ("reset_after", reset_after), ("unroll", unroll)):
        _check_flag(name, value)
    activations = _check_choices("activations", activations, sorted(ACTIVATIONS))
    recurrent_activations = _check_choices(
        "recurrent_activations", recurrent_activations, sorted(ACTIVATIONS)
    )
    @st.composite
    def draw_config(draw: st.DrawFn) -> Any:
        kind = draw(st.sampled_from(kinds), label="cell") if len(kinds) > 1 else kinds[0]
        config_class = RNN_CONFIGS[kind]
        values: dict[str, Any] = {
            "units": draw(size_in(min_units, max_units), label="units"),
            "input_dim": draw(size_in(min_input_dim, max_input_dim), label="input_dim"),
            "timesteps": draw(size_in(min_timesteps, max_timesteps), label="timesteps"),
            # Shrinks to True (Keras's default), the simpler layer to read.
            "use_bias": draw(st.sampled_from([True, False]) if use_bias is None
                             else st.just(use_bias), label="use_bias"),
            "activation": draw(st.sampled_from(activations), label="activation"),
        }
        values["recurrent_activation"] = draw(st.sampled_from(recurrent_activations),
                                              label="recurrent_activation")
        # Shrinks to True, Keras's default.
        values["reset_after"] = draw(st.sampled_from([True, False]) if reset_after is None
                                     else st.just(reset_after), label="reset_after")
        for name, value in (("return_sequences", return_sequences),
                            ("return_state", return_state), ("go_backwards", go_backwards),
                            ("zero_output_for_mask", zero_output_for_mask),
                            ("unroll", unroll)):
            values[name] = draw(_flag(value), label=name)
        fields = {item.name for item in dataclasses.fields(config_class)}
        return config_class(**{name: value for name, value in values.items() if name in fields})

    return draw_config()


def lstm_configs(**options: Any) -> st.SearchStrategy[LSTMConfig]:
    """Strategy for :class:`~verify.config.LSTMConfig`.

    Keyword-only options: ``min_units``/``max_units`` (1..8), ``min_input_dim``/
    ``max_input_dim`` (1..8), ``min_timesteps``/``max_timesteps`` (1..8), ``use_bias``,
    ``activations``, ``recurrent_activations``, ``return_sequences``, ``return_state``,
    ``go_backwards``, ``zero_output_for_mask`` and ``unroll`` (both default ``False``). A
    flag given as
    ``True``/``False`` is fixed; ``None`` draws both. The first name in ``activations`` /
    ``recurrent_activations`` is the one examples shrink to.
    """
    _check_options(options, forbidden=("reset_after",), cell="LSTM")
    return _rnn_configs(("LSTM",), **options)


def gru_configs(**options: Any) -> st.SearchStrategy[GRUConfig]:
    """Strategy for :class:`~verify.config.GRUConfig`: :func:`lstm_configs`'s options plus
    ``reset_after`` (``None``, the default, draws both, shrinking to ``True``)."""
    _check_options(options, forbidden=(), cell="GRU")
    return _rnn_configs(("GRU",), **options)


def simple_rnn_configs(**options: Any) -> st.SearchStrategy[SimpleRNNConfig]:
    """Strategy for :class:`~verify.config.SimpleRNNConfig`: :func:`lstm_configs`'s options
    except ``recurrent_activations`` (a SimpleRNN has no gates)."""
    _check_options(options, forbidden=("reset_after", "recurrent_activations"),
                   cell="SimpleRNN")
    return _rnn_configs(("SimpleRNN",), **options)


#: The cell kinds drawn by default where several are (:func:`rnn_configs`).
CELL_KINDS: tuple[str, ...] = tuple(RNN_CONFIGS)
_OPTIONS = frozenset(inspect.signature(_rnn_configs).parameters) - {"kinds"}


def _check_options(options: dict[str, Any], *, forbidden: Sequence[str], cell: str) -> None:
    unknown = set(options) - _OPTIONS
    if unknown:
        raise InvalidArgument(f"unknown options {sorted(unknown)}; expected some of "
                              f"{sorted(_OPTIONS)}")
    refused = sorted(set(options) & set(forbidden))
    if refused:
        raise InvalidArgument(f"a {cell} has no {', '.join(refused)}")


def rnn_configs(*, cells: Sequence[str] = CELL_KINDS,
                **options: Any) -> st.SearchStrategy[RNNConfig]:
    """Configurations of any of ``cells`` (default LSTM, GRU, SimpleRNN; the first is the
    shrink target). ``options`` are the per-cell strategies' options; ``recurrent_activations``
    and ``reset_after`` apply to the cells that have them."""
    kinds = _check_choices("cells", cells, tuple(RNN_CONFIGS))  # registered cells too
    _check_options(options, forbidden=(), cell="recurrent layer")
    return _rnn_configs(kinds, **options)


def bidirectional_configs(
    *,
    merge_modes: Sequence[str | None] = MERGE_MODES,
    cells: Sequence[str] = ("LSTM",),
    **layer_options: Any,
) -> st.SearchStrategy[BidirectionalConfig]:
    """Strategy for :class:`~verify.config.BidirectionalConfig`.

    ``merge_modes`` lists the modes to draw from (the first is the shrink target); ``cells``
    the wrapped layer kinds (default LSTM only, for backward compatibility); ``layer_options``
    are :func:`rnn_configs`'s options, for the wrapped layer. ``go_backwards`` of the wrapped
    layer defaults to ``False`` here: Keras 3 builds the backward copy with
    ``go_backwards=True`` whatever the wrapped layer says, so it refuses a wrapped
    ``go_backwards=True`` layer that Keras 2 accepts (``tests/test_versions.py``).
    """
    merge_modes = _check_choices("merge_modes", merge_modes, MERGE_MODES)
    layer_options.setdefault("go_backwards", False)
    layers = rnn_configs(cells=cells, **layer_options)
    return st.builds(BidirectionalConfig, layers, st.sampled_from(merge_modes))


def sequential_configs(
    *,
    max_recurrent_layers: int = 2,
    max_dense_layers: int = 2,
    min_recurrent_layers: int = 1,
    min_dense_layers: int = 0,
    first_cells: Sequence[str] | None = None,
    min_units: int = 1,
    max_units: int = 8,
    min_input_dim: int = 1,
    max_input_dim: int = 8,
    min_timesteps: int = 1,
    max_timesteps: int = 8,
    bidirectional: bool | None = None,
    cells: Sequence[str] = CELL_KINDS,
) -> st.SearchStrategy[SequentialConfig]:
    """Strategy for stacked models: ``min_recurrent_layers``..``max_recurrent_layers`` (1..2)
    recurrent layers (each of any kind in ``cells``, the first of any in ``first_cells`` if
    given; plain or Bidirectional), then ``min_dense_layers``..``max_dense_layers`` (0..2)
    Dense layers (a Dense head), chained so every shape fits."""
    check_bounds("recurrent_layers", min_recurrent_layers, max_recurrent_layers)
    check_bounds("dense_layers", min_dense_layers, max_dense_layers, at_least=0)
    check_bounds("units", min_units, max_units)
    check_bounds("input_dim", min_input_dim, max_input_dim)
    check_bounds("timesteps", min_timesteps, max_timesteps)
    _check_flag("bidirectional", bidirectional)
    kinds = _check_choices("cells", cells, tuple(RNN_CONFIGS))  # registered cells too
    first = kinds if first_cells is None else _check_choices("first_cells", first_cells,
                                                             tuple(RNN_CONFIGS))

    @st.composite
    def draw_model(draw: st.DrawFn) -> SequentialConfig:
        recurrent = draw(st.integers(min_recurrent_layers, max_recurrent_layers),
                         label="recurrent_layers")
        dense = draw(st.integers(min_dense_layers, max_dense_layers), label="dense_layers")
        timesteps = draw(size_in(min_timesteps, max_timesteps), label="timesteps")
        features = draw(size_in(min_input_dim, max_input_dim), label="input_dim")
        layers: list[Any] = []
        for index in range(recurrent):
            wrap = draw(_flag(bidirectional), label=f"layers[{index}] bidirectional")
            lstm = draw(rnn_configs(
                cells=first if index == 0 else kinds, min_units=min_units, max_units=max_units,
                min_input_dim=features, max_input_dim=features,
                min_timesteps=timesteps, max_timesteps=timesteps,
                return_sequences=True if index < recurrent - 1 else None,
                return_state=False,
                go_backwards=False if wrap else None,  # see bidirectional_configs
            ), label=f"layers[{index}]")
            layer = (BidirectionalConfig(lstm, draw(st.sampled_from(MERGE_MODES[:-1]),
                                                    label=f"layers[{index}] merge_mode"))
                     if wrap else lstm)
            layers.append(layer)
            features = layer.output_features
        for index in range(recurrent, recurrent + dense):
            head = DenseConfig(units=draw(size_in(min_units, max_units),
                                          label=f"layers[{index}] units"),
                               input_dim=features,
                               activation=draw(st.sampled_from(DEFAULT_ACTIVATIONS),
                                               label=f"layers[{index}] activation"))
            layers.append(head)
            features = head.units
        return SequentialConfig(tuple(layers))

    return draw_model()
