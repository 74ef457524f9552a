"""The NumPy reference LSTM: exactly what Keras computes, written like the step equations.

One step, with ``ra`` the recurrent activation and ``act`` the activation::

    z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias ; z_i, z_f, z_c, z_o = split(z)
    i = ra(z_i); f = ra(z_f); o = ra(z_o)
    c_t = f * c_{t-1} + i * act(z_c)
    h_t = o * act(c_t)

Float64 by default (``dtype=`` to compute in another float type), framework-free, vectorised
over the batch, with the input projection of all steps done in one matmul. Where Keras
versions differ, the variant is the explicit ``semantics`` argument
(:mod:`verify.semantics`; default: the installed Keras's, else Keras 3's).

Input policy: arrays must be finite. NaN or infinity anywhere in ``x``, the weights or the
initial state raises ``ValueError`` (Keras would propagate them through every later step of
the row, masked or not, so there is nothing meaningful to reproduce).

>>> import numpy as np
>>> x = np.ones((1, 1, 1)); kernel = np.zeros((1, 4)); recurrent_kernel = np.zeros((1, 4))
>>> h = lstm(x, kernel, recurrent_kernel, np.array([0.0, 0.0, 1.0, 0.0]))  # z = bias
>>> i = f = o = 0.5; g = np.tanh(1.0); c = f * 0.0 + i * g     # one step from zero state
>>> bool(np.isclose(h[0, 0], o * np.tanh(c)))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from verify import _validate, gates
from verify.config import MERGE_MODES
from verify.semantics import Semantics, resolve

Outputs = np.ndarray | list[np.ndarray]


def _finite(name: str, array: np.ndarray) -> np.ndarray:
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} contains {float(array[where])!r} at index {where}; the "
                         "reference accepts finite values only (NaN and infinity are refused)")
    return array


def _float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be a NumPy float dtype, got {dtype!r}") from error
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(f"dtype must be a NumPy float dtype (float16/32/64), got {resolved}")
    return resolved


class _Weights:
    """Validated ``kernel (d, 4u)``, ``recurrent_kernel (u, 4u)``, ``bias (4u,)`` or ``None``."""

    def __init__(self, kernel: Any, recurrent_kernel: Any, bias: Any, *, input_dim: int,
                 dtype: np.dtype[Any], prefix: str = "") -> None:
        recurrent = _validate.numeric_array(f"{prefix}recurrent_kernel", recurrent_kernel)
        if recurrent.ndim != 2 or recurrent.shape[0] < 1 or recurrent.shape[1] != \
                4 * recurrent.shape[0]:
            raise ValueError(f"{prefix}recurrent_kernel must have shape (units, 4 * units), "
                             f"got {recurrent.shape}")
        units = recurrent.shape[0]
        kernel = _validate.numeric_array(f"{prefix}kernel", kernel)
        if kernel.shape != (input_dim, 4 * units):
            raise ValueError(f"{prefix}kernel must have shape (input_dim, 4 * units) = "
                             f"{(input_dim, 4 * units)} for x's {input_dim} features and "
                             f"{prefix}recurrent_kernel's {units} units, got {kernel.shape}")
        self.units = units
        self.kernel = _finite(f"{prefix}kernel", kernel.astype(dtype))
        self.recurrent_kernel = _finite(f"{prefix}recurrent_kernel", recurrent.astype(dtype))
        self.bias = None
        if bias is not None:
            bias = _validate.numeric_array(f"{prefix}bias", bias)
            if bias.shape != (4 * units,):
                raise ValueError(f"{prefix}bias must have shape (4 * units,) = {(4 * units,)}, "
                                 f"got {bias.shape}")
            self.bias = _finite(f"{prefix}bias", bias.astype(dtype))


def _inputs(x: Any, dtype: np.dtype[Any]) -> np.ndarray:
    x = _validate.numeric_array("x", x)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"x must have shape (batch, timesteps, features) with every size "
                         f">= 1, got {x.shape}")
    return _finite("x", x.astype(dtype))


def _mask(mask: Any, batch: int, steps: int) -> np.ndarray | None:
    if mask is None:
        return None
    array = np.asarray(mask)
    if array.dtype != np.bool_ or array.shape != (batch, steps):
        raise ValueError(f"mask must be a bool array of shape (batch, timesteps) = "
                         f"{(batch, steps)}, got {_validate.describe(mask)}")
    return array


def _states(initial_state: Any, count: int, batch: int, units: int,
            dtype: np.dtype[Any]) -> list[np.ndarray]:
    if initial_state is None:
        return [np.zeros((batch, units), dtype)] * count
    if isinstance(initial_state, np.ndarray) or not isinstance(initial_state, Sequence) \
            or len(initial_state) != count:
        raise ValueError(f"initial_state must be a list of {count} arrays of shape "
                         f"(batch, units) = {(batch, units)}, "
                         f"got {_validate.describe(initial_state)}")
    states = []
    for index, state in enumerate(initial_state):
        array = _validate.numeric_array(f"initial_state[{index}]", state)
        if array.shape != (batch, units):
            raise ValueError(f"initial_state[{index}] must have shape (batch, units) = "
                             f"{(batch, units)}, got {array.shape}")
        states.append(_finite(f"initial_state[{index}]", array.astype(dtype)))
    return states


def _run(x: np.ndarray, weights: _Weights, *, semantics: Semantics, activation: str,
         recurrent_activation: str, go_backwards: bool, mask: np.ndarray | None,
         h0: np.ndarray, c0: np.ndarray,
         zero_output_for_mask: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every step's output (in processing order), and the final ``h`` and ``c``."""
    act = semantics.activation(activation)
    gate_activation = semantics.activation(recurrent_activation)
    units = weights.units
    # Columns reordered to i, f, o, c so that one activation call covers the three gates.
    columns = np.concatenate([np.arange(4 * units)[gates.block(gate, units)]
                              for gate in ("i", "f", "o", "c")])
    order = slice(None, None, -1) if go_backwards else slice(None)
    # Every step's x_t @ kernel in one matmul, time-major so that each step reads one block.
    projected = np.swapaxes(x[:, order], 0, 1) @ weights.kernel[:, columns]
    if weights.bias is not None:
        projected += weights.bias[columns]
    recurrent = np.ascontiguousarray(weights.recurrent_kernel[:, columns])
    kept = None if mask is None else mask[:, order, None]
    h, c = h0, c0
    output = h0 if semantics.masked_output == "carried_state" else np.zeros_like(h0)
    outputs = np.empty((*x.shape[:2], units), dtype=x.dtype)
    z = np.empty((x.shape[0], 4 * units), dtype=x.dtype)
    for t in range(x.shape[1]):
        np.matmul(h, recurrent, out=z)
        z += projected[t]
        gated = gate_activation(z[:, :3 * units])
        i, f, o = gated[:, :units], gated[:, units:2 * units], gated[:, 2 * units:]
        c_t = f * c
        c_t += i * act(z[:, 3 * units:])
        h_t = o * act(c_t)
        if kept is None:
            h, c, output = h_t, c_t, h_t
        else:
            keep = kept[:, t]
            h, c = np.where(keep, h_t, h), np.where(keep, c_t, c)
            if zero_output_for_mask:
                output = np.where(keep, h_t, 0.0)
            elif semantics.masked_output == "previous_output":
                output = np.where(keep, h_t, output)
            else:
                output = h
        outputs[:, t] = output
    return outputs, h, c


def lstm(
    x: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any = None,
    *,
    activation: str = "tanh",
    recurrent_activation: str = "sigmoid",
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    mask: Any = None,
    initial_state: Sequence[Any] | None = None,
    zero_output_for_mask: bool = False,
    semantics: Semantics | str | None = None,
    dtype: DTypeLike = np.float64,
) -> Outputs:
    """What ``keras.layers.LSTM`` returns for ``x`` of shape ``(batch, timesteps, features)``.

    Weights are ``get_weights()``'s arrays. Returns the last output ``(batch, units)``, or every
    output ``(batch, timesteps, units)`` with ``return_sequences`` (in processing order: reversed
    in time with ``go_backwards``), or ``[output, h, c]`` with ``return_state``. ``mask`` is a
    bool ``(batch, timesteps)`` array, ``True`` where a step counts: masked steps carry the
    state unchanged, and their output follows ``zero_output_for_mask`` and ``semantics``.
    ``initial_state`` is ``[h0, c0]``, each ``(batch, units)``.
    """
    resolved_dtype = _float_dtype(dtype)
    options = _Options(activation, recurrent_activation, semantics, resolved_dtype)
    x = _inputs(x, resolved_dtype)
    weights = _Weights(kernel, recurrent_kernel, bias, input_dim=x.shape[2],
                       dtype=resolved_dtype)
    mask = _mask(mask, *x.shape[:2])
    h0, c0 = _states(initial_state, 2, x.shape[0], weights.units, resolved_dtype)
    outputs, h, c = _run(
        x, weights, semantics=options.semantics, activation=options.activation,
        recurrent_activation=options.recurrent_activation,
        go_backwards=_validate.boolean("go_backwards", go_backwards), mask=mask, h0=h0, c0=c0,
        zero_output_for_mask=_validate.boolean("zero_output_for_mask", zero_output_for_mask),
    )
    output = outputs if _validate.boolean("return_sequences", return_sequences) else outputs[:, -1]
    return [output, h, c] if _validate.boolean("return_state", return_state) else output


class _Options:
    """Validated cell options shared by :func:`lstm`, :func:`bidirectional` and
    :class:`StatefulLSTM`."""

    def __init__(self, activation: Any, recurrent_activation: Any,
                 semantics: Semantics | str | None, dtype: np.dtype[Any]) -> None:
        self.semantics = resolve(semantics)
        for name, value in (("activation", activation),
                            ("recurrent_activation", recurrent_activation)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be an activation name (str), "
                                f"got {_validate.describe(value)}")
            try:
                self.semantics.activation(value)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        self.activation = activation
        self.recurrent_activation = recurrent_activation
        self.dtype = dtype


_CELL_OPTIONS = frozenset({"activation", "recurrent_activation", "semantics", "dtype"})


def bidirectional(
    x: Any,
    forward_weights: Sequence[Any],
    backward_weights: Sequence[Any],
    *,
    merge_mode: str | None = "concat",
    return_sequences: bool = False,
    return_state: bool = False,
    mask: Any = None,
    initial_state: Sequence[Any] | None = None,
    **cell_options: Any,
) -> Outputs:
    """What ``keras.layers.Bidirectional(LSTM(...), merge_mode=...)`` returns.

    ``forward_weights`` / ``backward_weights`` are the first and second halves of the layer's
    ``get_weights()`` (``[kernel, recurrent_kernel, bias]`` or without bias). The backward
    direction reads the sequence from the end; with ``return_sequences`` its outputs are
    flipped back to time order before merging. Both directions use
    ``zero_output_for_mask = return_sequences``, as Keras forces. ``initial_state`` is
    ``[fwd_h0, fwd_c0, bwd_h0, bwd_c0]``. ``return_state`` gives
    ``[merged, fwd_h, fwd_c, bwd_h, bwd_c]``; ``merge_mode=None`` gives the two directions
    instead of ``merged``. ``cell_options``: ``activation``, ``recurrent_activation``,
    ``semantics``, ``dtype``.
    """
    unknown = set(cell_options) - _CELL_OPTIONS
    if unknown:
        raise TypeError(f"bidirectional() got unexpected options {sorted(unknown)}; cell options "
                        f"are {sorted(_CELL_OPTIONS)} (zero_output_for_mask is forced to "
                        "return_sequences and go_backwards is set per direction, as in Keras)")
    _validate.one_of("merge_mode", merge_mode, MERGE_MODES)
    dtype = _float_dtype(cell_options.get("dtype", np.float64))
    options = _Options(cell_options.get("activation", "tanh"),
                       cell_options.get("recurrent_activation", "sigmoid"),
                       cell_options.get("semantics"), dtype)
    x = _inputs(x, dtype)
    sequences = _validate.boolean("return_sequences", return_sequences)
    directions = []
    for label, weights in (("forward_weights", forward_weights),
                           ("backward_weights", backward_weights)):
        if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence) \
                or len(weights) not in (2, 3):
            raise ValueError(f"{label} must be [kernel, recurrent_kernel] or [kernel, "
                             f"recurrent_kernel, bias], got {_validate.describe(weights)}")
        directions.append(_Weights(weights[0], weights[1],
                                   weights[2] if len(weights) == 3 else None,
                                   input_dim=x.shape[2], dtype=dtype, prefix=f"{label}: "))
    forward, backward = directions
    if forward.units != backward.units:
        raise ValueError(f"forward and backward weights must have the same units, got "
                         f"{forward.units} and {backward.units}")
    mask = _mask(mask, *x.shape[:2])
    states = _states(initial_state, 4, x.shape[0], forward.units, dtype)
    results = []
    for direction, go_backwards, (h0, c0) in ((forward, False, states[:2]),
                                              (backward, True, states[2:])):
        outputs, h, c = _run(
            x, direction, semantics=options.semantics, activation=options.activation,
            recurrent_activation=options.recurrent_activation, go_backwards=go_backwards,
            mask=mask, h0=h0, c0=c0, zero_output_for_mask=sequences,
        )
        # The backward direction's sequence is flipped back to time order before merging.
        in_time_order = outputs[:, ::-1] if go_backwards else outputs
        results.append((in_time_order if sequences else outputs[:, -1], h, c))
    (y_forward, fwd_h, fwd_c), (y_backward, bwd_h, bwd_c) = results
    merged: list[np.ndarray] = (
        [y_forward, y_backward] if merge_mode is None else [merge(y_forward, y_backward,
                                                                  merge_mode)]
    )
    if _validate.boolean("return_state", return_state):
        return [*merged, fwd_h, fwd_c, bwd_h, bwd_c]
    return merged[0] if merge_mode is not None else merged


def merge(forward: np.ndarray, backward: np.ndarray, merge_mode: str) -> np.ndarray:
    """Combine the two directions' outputs as ``Bidirectional`` does."""
    if merge_mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if merge_mode == "sum":
        return np.asarray(forward + backward)
    if merge_mode == "mul":
        return np.asarray(forward * backward)
    if merge_mode == "ave":
        return np.asarray((forward + backward) / 2)
    raise ValueError(f"merge_mode must be one of 'concat', 'sum', 'mul', 'ave' here, "
                     f"got {merge_mode!r}")


class StatefulLSTM:
    """An LSTM with ``stateful=True``: each call starts from the state the previous call ended
    with (per batch row), as Keras does for consecutive batches of one stream.

    >>> import numpy as np
    >>> layer = StatefulLSTM(np.zeros((1, 4)), np.zeros((1, 4)), np.ones(4), batch_size=1)
    >>> first = layer(np.ones((1, 3, 1)))
    >>> [state.shape for state in layer.states]
    [(1, 1), (1, 1)]
    >>> layer.reset_states()  # back to zeros, as Keras's reset_state(s)
    """

    def __init__(self, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
                 batch_size: int, activation: str = "tanh",
                 recurrent_activation: str = "sigmoid", return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False,
                 zero_output_for_mask: bool = False, semantics: Semantics | str | None = None,
                 dtype: DTypeLike = np.float64) -> None:
        self.batch_size = _validate.positive_int("batch_size", batch_size)
        resolved = _float_dtype(dtype)
        self._options = _Options(activation, recurrent_activation, semantics, resolved)
        kernel = _validate.numeric_array("kernel", kernel)
        if kernel.ndim != 2:
            raise ValueError(f"kernel must have shape (input_dim, 4 * units), got {kernel.shape}")
        self._weights = _Weights(kernel, recurrent_kernel, bias, input_dim=kernel.shape[0],
                                 dtype=resolved)
        self._flags = {name: _validate.boolean(name, value) for name, value in (
            ("return_sequences", return_sequences), ("return_state", return_state),
            ("go_backwards", go_backwards), ("zero_output_for_mask", zero_output_for_mask))}
        self.states: list[np.ndarray] = []
        self.reset_states()

    def reset_states(self, states: Sequence[Any] | None = None) -> None:
        """Set ``[h, c]`` (zeros when ``states`` is ``None``)."""
        self.states = _states(states, 2, self.batch_size, self._weights.units,
                              self._options.dtype)

    def __call__(self, x: Any, *, mask: Any = None) -> Outputs:
        """Run one batch from the carried state, then carry the final state forward."""
        x = _inputs(x, self._options.dtype)
        if x.shape[0] != self.batch_size or x.shape[2] != self._weights.kernel.shape[0]:
            raise ValueError(f"x must have shape (batch_size, timesteps, input_dim) = "
                             f"({self.batch_size}, timesteps, "
                             f"{self._weights.kernel.shape[0]}), got {x.shape}")
        outputs, h, c = _run(
            x, self._weights, semantics=self._options.semantics,
            activation=self._options.activation,
            recurrent_activation=self._options.recurrent_activation,
            go_backwards=self._flags["go_backwards"], mask=_mask(mask, *x.shape[:2]),
            h0=self.states[0], c0=self.states[1],
            zero_output_for_mask=self._flags["zero_output_for_mask"],
        )
        self.states = [h, c]
        output = outputs if self._flags["return_sequences"] else outputs[:, -1]
        return [output, h, c] if self._flags["return_state"] else output
