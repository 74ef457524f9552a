"""Strategies for the arrays that go with a drawn configuration: weights, inputs, masks and
initial states.

Values are float32, bounded by ``max_magnitude`` (default 1.0, which keeps float32 LSTMs well
conditioned), never subnormal (TensorFlow's CPU kernels flush those to zero). Most arrays come
from a NumPy generator seeded by Hypothesis: every element distinct, which exposes gate-order
mistakes that Hypothesis's default arrays (often one repeated value) hide. The other branch
is ``hypothesis.extra.numpy.arrays`` for edge values (zeros, bounds, repeats).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra import numpy as hnp

from verify import shapes
from verify.config import BidirectionalConfig, RNNConfig, SequentialConfig

#: The kinds of mask :func:`masks` draws (a mask is ``True`` where a step is kept).
MASK_KINDS: tuple[str, ...] = ("right_padded", "left_padded", "random", "all_masked")

ConfigWithInput = RNNConfig | BidirectionalConfig | SequentialConfig


def _check_magnitude(max_magnitude: Any) -> float:
    if isinstance(max_magnitude, bool) or not isinstance(max_magnitude, int | float):
        raise InvalidArgument(f"max_magnitude must be a number, got {max_magnitude!r}")
    if not (math.isfinite(max_magnitude) and max_magnitude > 0):
        raise InvalidArgument(f"max_magnitude must be finite and > 0, got {max_magnitude!r}")
    if float(np.float32(max_magnitude)) != max_magnitude:
        raise InvalidArgument(f"max_magnitude={max_magnitude!r} is not exactly representable "
                              f"in float32; use e.g. {float(np.float32(max_magnitude))!r}")
    return float(max_magnitude)


def _check_config(config: Any, allowed: tuple[type, ...] = (RNNConfig, BidirectionalConfig,
                                                           SequentialConfig)) -> None:
    if not isinstance(config, allowed):
        names = ", ".join(kind.__name__ for kind in allowed)
        raise InvalidArgument(f"config must be one of {names}, got {config!r}")


def _check_batch(batch_size: Any) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgument(f"batch_size must be an int >= 1, got {batch_size!r}")
    return batch_size


def _timesteps(config: ConfigWithInput) -> int:
    if config.timesteps is None:
        raise InvalidArgument(f"config.timesteps must be set to draw arrays for it: {config!r}")
    return config.timesteps


def float32_arrays(
    shape: tuple[int, ...], *, max_magnitude: float = 1.0
) -> st.SearchStrategy[np.ndarray]:
    """Float32 arrays of ``shape`` with values in ``[-max_magnitude, max_magnitude]``."""
    bound = _check_magnitude(max_magnitude)

    def seeded(seed: int) -> np.ndarray:
        values = np.random.default_rng(seed).uniform(-bound, bound, size=shape)
        return values.astype(np.float32)

    elements = st.floats(-bound, bound, width=32, allow_subnormal=False)
    return st.one_of(
        st.integers(0, 2**32 - 1).map(seeded),
        hnp.arrays(np.float32, shape, elements=elements),
    )


def weights(
    config: ConfigWithInput, *, max_magnitude: float = 1.0
) -> st.SearchStrategy[list[np.ndarray]]:
    """Arrays for ``set_weights``, in ``get_weights()`` order (shapes from :mod:`verify.shapes`)."""
    _check_config(config)
    _check_magnitude(max_magnitude)
    return st.tuples(*(
        float32_arrays(tuple(int(dim) for dim in shape if dim is not None),
                       max_magnitude=max_magnitude)
        for shape in shapes.weight_shapes(config)
    )).map(list)


def inputs(
    config: ConfigWithInput, *, batch_size: int, max_magnitude: float = 1.0
) -> st.SearchStrategy[np.ndarray]:
    """Inputs ``x`` of shape ``(batch_size, timesteps, input_dim)``."""
    _check_config(config)
    shape = (_check_batch(batch_size), _timesteps(config), config.input_dim)
    return float32_arrays(shape, max_magnitude=max_magnitude)


def masks(
    config: ConfigWithInput,
    *,
    batch_size: int,
    kinds: tuple[str, ...] = MASK_KINDS,
    allow_none: bool = True,
) -> st.SearchStrategy[np.ndarray | None]:
    """Boolean masks ``(batch_size, timesteps)``, ``True`` where a step counts; or ``None``.

    ``right_padded`` rows keep a prefix, ``left_padded`` rows a suffix (each row its own
    length, possibly all or nothing), ``random`` masks any steps, ``all_masked`` masks every
    step of at least one row. Shrinks to ``None`` (no mask), then to right padding.
    """
    _check_config(config, (RNNConfig, BidirectionalConfig))
    batch = _check_batch(batch_size)
    steps = _timesteps(config)
    if isinstance(kinds, str) or not kinds or any(kind not in MASK_KINDS for kind in kinds):
        raise InvalidArgument(f"kinds must be a non-empty tuple drawn from {MASK_KINDS}, "
                              f"got {kinds!r}")
    if not isinstance(allow_none, bool):
        raise InvalidArgument(f"allow_none must be a bool, got {allow_none!r}")

    @st.composite
    def draw_mask(draw: st.DrawFn) -> np.ndarray:
        kind = draw(st.sampled_from(kinds), label="mask kind")
        if kind == "random":
            # fill=nothing: every step drawn on its own (hnp.arrays' default fill would often
            # make the whole mask one value, which is what the other kinds already cover).
            return draw(hnp.arrays(np.bool_, (batch, steps), elements=st.booleans(),
                                   fill=st.nothing()), label="mask")
        lengths = draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch),
                       label="kept steps per row")
        if kind == "all_masked":
            row = draw(st.integers(0, batch - 1), label="all-masked row")
            lengths[row] = 0
        position = np.arange(steps)
        kept = np.asarray(lengths)[:, None]
        if kind == "left_padded":
            return position[None, :] >= steps - kept
        return position[None, :] < kept

    return (st.none() | draw_mask()) if allow_none else draw_mask()


def initial_states(
    config: RNNConfig | BidirectionalConfig,
    *,
    batch_size: int,
    max_magnitude: float = 1.0,
    allow_none: bool = True,
) -> st.SearchStrategy[list[np.ndarray] | None]:
    """The layer's states (LSTM ``[h0, c0]``, GRU/SimpleRNN ``[h0]``; both directions' for
    Bidirectional), each ``(batch_size, units)``; or ``None`` (zeros, Keras's default), which
    it shrinks to."""
    _check_config(config, (RNNConfig, BidirectionalConfig))
    shape = (_check_batch(batch_size), config.units)
    if not isinstance(allow_none, bool):
        raise InvalidArgument(f"allow_none must be a bool, got {allow_none!r}")
    count = config.state_count
    states = st.tuples(*[float32_arrays(shape, max_magnitude=max_magnitude)] * count).map(list)
    return (st.none() | states) if allow_none else states
