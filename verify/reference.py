"""The NumPy reference for Keras's recurrent layers: exactly what Keras computes.

One loop (:func:`verify.loop.run`) serves every cell kind (:mod:`verify.cells`: LSTM, GRU,
SimpleRNN) and every option Keras has around the cell: masks, ``go_backwards``, initial and carried
(stateful) states, ``return_sequences``/``return_state``, ``zero_output_for_mask`` and
Bidirectional merging. The step equations live in each cell's module.

Public entry points: :func:`lstm`, :func:`gru`, :func:`simple_rnn` (thin named wrappers of
:func:`rnn`), :func:`bidirectional`, :class:`Stateful` (and :class:`StatefulLSTM`), and
:func:`outputs`, which runs any :mod:`verify.config` layer configuration.

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

from verify import _validate, cells, loop
from verify.cells.base import finite
from verify.config import MERGE_MODES, BidirectionalConfig, RNNConfig
from verify.semantics import Semantics

Outputs = np.ndarray | list[np.ndarray]


def _states(initial_state: Any, count: int, batch: int, units: int,
            dtype: np.dtype[Any]) -> list[np.ndarray]:
    if initial_state is None:
        return [np.zeros((batch, units), dtype)] * count
    return [finite(f"initial_state[{index}]", array.astype(dtype)) for index, array in
            enumerate(_validate.state_list(initial_state, count, batch, units))]


def rnn(
    cell: str | cells.Cell,
    x: Any,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any = None,
    *,
    activation: str = "tanh",
    return_sequences: bool = False,
    return_state: bool = False,
    go_backwards: bool = False,
    mask: Any = None,
    initial_state: Sequence[Any] | None = None,
    zero_output_for_mask: bool = False,
    unroll: bool = False,
    semantics: Semantics | str | None = None,
    dtype: DTypeLike = np.float64,
    **cell_options: Any,
) -> Outputs:
    """What a Keras recurrent layer of kind ``cell`` (``"LSTM"``, ``"GRU"``, ``"SimpleRNN"``)
    returns for ``x`` of shape ``(batch, timesteps, features)``.

    Weights are ``get_weights()``'s arrays. Returns the last output ``(batch, units)``, or every
    output ``(batch, timesteps, units)`` with ``return_sequences`` (in processing order: reversed
    in time with ``go_backwards``), or ``[output, *states]`` with ``return_state`` (LSTM
    ``[output, h, c]``, GRU and SimpleRNN ``[output, h]``). ``mask`` is a bool
    ``(batch, timesteps)`` array, ``True`` where a step counts: masked steps carry the state
    unchanged, and their output follows ``zero_output_for_mask`` and ``semantics`` (with
    ``unroll``, Keras's unrolled loop: see ``Semantics.unrolled_zeroing``).
    ``initial_state`` is the list of states, each ``(batch, units)``. ``cell_options`` are the
    cell's own (``recurrent_activation``; GRU ``reset_after``).
    """
    options = loop.Options(cell, activation, semantics, dtype, cell_options)
    x = loop.inputs(x, options.dtype)
    weights = options.weights([kernel, recurrent_kernel, *([] if bias is None else [bias])],
                              input_dim=x.shape[2])
    mask = _validate.mask_array(mask, *x.shape[:2])
    backwards = _validate.boolean("go_backwards", go_backwards)
    zero = _validate.boolean("zero_output_for_mask", zero_output_for_mask)
    unrolled = _validate.boolean("unroll", unroll) and mask is not None
    outputs, states = loop.run(
        x, options.stepper(weights),
        semantics=options.semantics.unrolled() if unrolled else options.semantics,
        go_backwards=backwards, mask=mask,
        states=_states(initial_state, len(options.cell.states), x.shape[0], weights.units,
                       options.dtype),
        zero_output_for_mask=zero and not unrolled,
    )
    last = outputs[:, -1]
    if unrolled and zero and mask is not None:
        if options.semantics.unrolled_zeroing == "time_order":  # by the last processed step
            last = np.where((mask[:, 0] if backwards else mask[:, -1])[:, None], last, 0.0)
        outputs = loop.unrolled_zeroing(outputs, mask, options.semantics)
    output = outputs if _validate.boolean("return_sequences", return_sequences) else last
    return [output, *states] if _validate.boolean("return_state", return_state) else output


def lstm(x: Any, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
         activation: str = "tanh", recurrent_activation: str = "sigmoid",
         **options: Any) -> Outputs:
    """What ``keras.layers.LSTM`` returns (see :func:`rnn` for every option); ``initial_state``
    is ``[h0, c0]`` and ``return_state`` gives ``[output, h, c]``."""
    return rnn("LSTM", x, kernel, recurrent_kernel, bias, activation=activation,
               recurrent_activation=recurrent_activation, **options)


def gru(x: Any, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
        activation: str = "tanh", recurrent_activation: str = "sigmoid",
        reset_after: bool = True, **options: Any) -> Outputs:
    """What ``keras.layers.GRU`` returns (see :func:`rnn`). ``bias`` is ``(2, 3u)`` with
    ``reset_after=True`` (Keras's default: the reset gate multiplies the recurrent term after
    the matmul, recurrent bias included) or ``(3u,)`` with ``reset_after=False`` (``r * h``
    before the matmul); ``initial_state`` is ``[h0]``, ``return_state`` gives ``[output, h]``."""
    return rnn("GRU", x, kernel, recurrent_kernel, bias, activation=activation,
               recurrent_activation=recurrent_activation, reset_after=reset_after, **options)


def simple_rnn(x: Any, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
               activation: str = "tanh", **options: Any) -> Outputs:
    """What ``keras.layers.SimpleRNN`` returns (see :func:`rnn`): ``h_t = act(x_t W + h U + b)``;
    ``initial_state`` is ``[h0]``, ``return_state`` gives ``[output, h]``."""
    return rnn("SimpleRNN", x, kernel, recurrent_kernel, bias, activation=activation,
               **options)


_BIDIRECTIONAL_OPTIONS = frozenset({"cell", "activation", "semantics", "dtype",
                                    "recurrent_activation", "reset_after", "unroll"})


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
    """What ``keras.layers.Bidirectional(<cell>(...), merge_mode=...)`` returns.

    ``forward_weights`` / ``backward_weights`` are the first and second halves of the layer's
    ``get_weights()`` (``[kernel, recurrent_kernel, bias]`` or without bias). The backward
    direction reads the sequence from the end; with ``return_sequences`` its outputs are
    flipped back to time order before merging. Both directions use
    ``zero_output_for_mask = return_sequences``, as Keras forces. ``initial_state`` is
    ``[*fwd_states, *bwd_states]`` (LSTM ``[fwd_h0, fwd_c0, bwd_h0, bwd_c0]``). ``return_state``
    gives ``[merged, *fwd_states, *bwd_states]``; ``merge_mode=None`` gives the two directions
    instead of ``merged``. ``cell_options``: ``cell`` (default ``"LSTM"``), ``activation``,
    ``recurrent_activation``, ``reset_after`` (GRU), ``unroll``, ``semantics``, ``dtype``.
    """
    unknown = set(cell_options) - _BIDIRECTIONAL_OPTIONS
    if unknown:
        raise TypeError(f"bidirectional() got unexpected options {sorted(unknown)}; cell options "
                        f"are {sorted(_BIDIRECTIONAL_OPTIONS)} (zero_output_for_mask is forced "
                        "to return_sequences and go_backwards is set per direction, as in Keras)")
    _validate.one_of("merge_mode", merge_mode, MERGE_MODES)
    cell = cells.get(cell_options.pop("cell", "LSTM"))
    unroll = _validate.boolean("unroll", cell_options.pop("unroll", False))
    options = loop.Options(cell, cell_options.pop("activation", "tanh"),
                       cell_options.pop("semantics", None),
                       cell_options.pop("dtype", np.float64), cell_options)
    x = loop.inputs(x, options.dtype)
    sequences = _validate.boolean("return_sequences", return_sequences)
    forward = options.weights(forward_weights, input_dim=x.shape[2], prefix="forward_weights")
    backward = options.weights(backward_weights, input_dim=x.shape[2],
                               prefix="backward_weights")
    if forward.units != backward.units:
        raise ValueError(f"forward and backward weights must have the same units, got "
                         f"{forward.units} and {backward.units}")
    mask = _validate.mask_array(mask, *x.shape[:2])
    unrolled = unroll and mask is not None
    semantics = options.semantics.unrolled() if unrolled else options.semantics
    count = len(cell.states)
    states = _states(initial_state, 2 * count, x.shape[0], forward.units, options.dtype)
    steppers = [options.stepper(forward), options.stepper(backward)]
    initial = [states[:count], states[count:]]
    # Both directions in one loop, unless a padded batch lets each direction compute only
    # the rows each step keeps (loop.prefix_rows), which is faster.
    paired = None if mask is not None and loop.prefix_rows(mask.T) is not None \
        else getattr(steppers[0], "paired", None)
    runs: list[tuple[np.ndarray, list[np.ndarray]]]
    if paired is not None:
        # Both directions in one loop (batched matmuls): the backward one reads x reversed.
        outputs, final = loop.run(np.stack([x, x[:, ::-1]]), paired(steppers[1]),
                              semantics=semantics, go_backwards=False,
                              mask=None if mask is None else np.stack([mask, mask[:, ::-1]]),
                              states=[np.stack(pair) for pair in zip(*initial, strict=True)],
                              zero_output_for_mask=sequences and not unrolled)
        runs = [(outputs[index], [state[index] for state in final]) for index in range(2)]
    else:
        runs = [loop.run(x, stepper, semantics=semantics, go_backwards=go_backwards,
                     mask=mask, states=start, zero_output_for_mask=sequences and not unrolled)
                for stepper, go_backwards, start in zip(steppers, (False, True), initial,
                                                        strict=True)]
    results = []
    for go_backwards, (outputs, final) in zip((False, True), runs, strict=True):
        if unrolled and sequences and mask is not None:  # both directions zero by time order
            outputs = loop.unrolled_zeroing(outputs, mask, options.semantics)
        # The backward direction's sequence is flipped back to time order before merging.
        in_time_order = outputs[:, ::-1] if go_backwards else outputs
        results.append((in_time_order if sequences else outputs[:, -1], final))
    (y_forward, forward_states), (y_backward, backward_states) = results
    merged: list[np.ndarray] = (
        [y_forward, y_backward] if merge_mode is None else [merge(y_forward, y_backward,
                                                                  merge_mode)]
    )
    if _validate.boolean("return_state", return_state):
        return [*merged, *forward_states, *backward_states]
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


def outputs(config: RNNConfig | BidirectionalConfig, weights: Sequence[Any], x: Any, *,
            mask: Any = None, initial_state: Sequence[Any] | None = None,
            semantics: Semantics | str | None = None,
            dtype: DTypeLike = np.float64) -> list[np.ndarray]:
    """What the Keras layer described by ``config`` returns, as a list in Keras's output order:
    the one entry point from a configuration (:mod:`verify.config`) to the reference."""
    if not isinstance(config, RNNConfig | BidirectionalConfig):
        raise TypeError(f"config must be a recurrent layer config (RNN or Bidirectional), "
                        f"got {_validate.describe(config)}")
    layer = config.recurrent
    common: dict[str, Any] = {
        "activation": layer.activation, "return_sequences": layer.return_sequences,
        "return_state": layer.return_state, "mask": mask, "initial_state": initial_state,
        "semantics": semantics, "dtype": dtype, **layer.cell_options}
    if isinstance(config, BidirectionalConfig):
        forward, backward = config.direction_weights(weights)
        result = bidirectional(x, forward, backward, cell=layer.cell,
                               merge_mode=config.merge_mode, unroll=layer.unroll, **common)
    else:
        result = rnn(layer.cell, x, *weights, go_backwards=layer.go_backwards,
                     zero_output_for_mask=layer.zero_output_for_mask, unroll=layer.unroll,
                     **common)
    return result if isinstance(result, list) else [result]


class Stateful:
    """A recurrent layer with ``stateful=True``: each call starts from the state the previous
    call ended with (per batch row), as Keras does for consecutive batches of one stream.

    >>> import numpy as np
    >>> layer = Stateful("GRU", np.zeros((1, 3)), np.zeros((1, 3)), batch_size=1)
    >>> first = layer(np.ones((1, 3, 1)))
    >>> [state.shape for state in layer.states]
    [(1, 1)]
    >>> layer.reset_states()  # back to zeros, as Keras's reset_state(s)
    """

    def __init__(self, cell: str | cells.Cell, kernel: Any, recurrent_kernel: Any,
                 bias: Any = None, *, batch_size: int, activation: str = "tanh",
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, zero_output_for_mask: bool = False,
                 semantics: Semantics | str | None = None, dtype: DTypeLike = np.float64,
                 **cell_options: Any) -> None:
        self.batch_size = _validate.positive_int("batch_size", batch_size)
        self._options = loop.Options(cell, activation, semantics, dtype, cell_options)
        self._weights = self._options.weights(
            [kernel, recurrent_kernel, *([] if bias is None else [bias])], input_dim=None)
        self._stepper = self._options.stepper(self._weights)
        self._flags = {name: _validate.boolean(name, value) for name, value in (
            ("return_sequences", return_sequences), ("return_state", return_state),
            ("go_backwards", go_backwards), ("zero_output_for_mask", zero_output_for_mask))}
        self.states: list[np.ndarray] = []
        self.reset_states()

    def reset_states(self, states: Sequence[Any] | None = None) -> None:
        """Set the states (zeros when ``states`` is ``None``)."""
        self.states = _states(states, len(self._options.cell.states), self.batch_size,
                              self._weights.units, self._options.dtype)

    def __call__(self, x: Any, *, mask: Any = None) -> Outputs:
        """Run one batch from the carried state, then carry the final state forward."""
        x = loop.inputs(x, self._options.dtype)
        input_dim = self._weights.kernel.shape[0]
        if x.shape[0] != self.batch_size or x.shape[2] != input_dim:
            raise ValueError(f"x must have shape (batch_size, timesteps, input_dim) = "
                             f"({self.batch_size}, timesteps, {input_dim}), got {x.shape}")
        outputs, states = loop.run(
            x, self._stepper, semantics=self._options.semantics,
            go_backwards=self._flags["go_backwards"],
            mask=_validate.mask_array(mask, *x.shape[:2]), states=self.states,
            zero_output_for_mask=self._flags["zero_output_for_mask"],
        )
        self.states = states
        output = outputs if self._flags["return_sequences"] else outputs[:, -1]
        return [output, *states] if self._flags["return_state"] else output


class StatefulLSTM(Stateful):
    """:class:`Stateful` for an LSTM (states ``[h, c]``).

    >>> import numpy as np
    >>> layer = StatefulLSTM(np.zeros((1, 4)), np.zeros((1, 4)), np.ones(4), batch_size=1)
    >>> first = layer(np.ones((1, 3, 1)))
    >>> [state.shape for state in layer.states]
    [(1, 1), (1, 1)]
    """

    def __init__(self, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
                 batch_size: int, recurrent_activation: str = "sigmoid",
                 **options: Any) -> None:
        super().__init__("LSTM", kernel, recurrent_kernel, bias, batch_size=batch_size,
                         recurrent_activation=recurrent_activation, **options)


def stateful(config: RNNConfig, weights: Sequence[Any], *, batch_size: int,
             semantics: Semantics | str | None = None,
             dtype: DTypeLike = np.float64) -> Stateful:
    """A :class:`Stateful` reference for the layer ``config`` describes."""
    return Stateful(config.cell, *weights, batch_size=batch_size, activation=config.activation,
                    return_sequences=config.return_sequences,
                    return_state=config.return_state, go_backwards=config.go_backwards,
                    zero_output_for_mask=config.zero_output_for_mask, semantics=semantics,
                    dtype=dtype, **config.cell_options)
