"""Gate semantics: saturating one gate block of the bias in Keras has exactly the effect the
cell's step equations predict (LSTM: input gate closed → nothing is written, …; GRU: update
gate saturated → the state is copied, reset gate closed → the candidate ignores the past, …).
If the blocks were in another order than :mod:`verify.cells` says, the saturation would hit
another gate and the prediction would fail."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from verify import _validate, compare
from verify.cells.base import CellWeights
from verify.config import RNNConfig
from verify.suite.properties.forward import adapter

#: Added to one gate's bias block to saturate it. With inputs, states and weights bounded by
#: 1, ``|pre-activation| <= d + u + 2 <= 100`` here, so ``sigmoid(z - 1e4)`` is exactly 0 and
#: ``tanh(z + 1e4)`` exactly 1 in float32 and float64.
SATURATION = 1e4
_MAX_PREACTIVATION = 100.0


def check_gate_block(config: RNNConfig, weights: Sequence[np.ndarray], x: np.ndarray,
                     gate: str, initial_state: Sequence[np.ndarray] | None = None) -> float:
    """Saturate only ``gate``'s block of the (input) bias in Keras and check that every ``h_t``
    and the final states change exactly as the step equations with that gate forced predict.

    The prediction is teacher-forced: step ``t`` is computed in float64 from the *unperturbed*
    weights, split by gate with the cell's :meth:`~verify.cells.Cell.split`, from Keras's own
    ``h_{t-1}`` (and, for an LSTM, the predicted ``c_{t-1}``), with the saturated gate replaced
    by its forced value (:meth:`~verify.cells.Cell.gate_step`).
    """
    __tracebackhide__ = True
    activations_ok = config.activation == "tanh" and getattr(
        config, "recurrent_activation", "sigmoid") == "sigmoid"
    if not (isinstance(config, RNNConfig) and config.use_bias and config.return_sequences
            and config.return_state and activations_ok):
        raise ValueError(f"check_gate_block needs a recurrent layer config with use_bias, "
                         f"return_sequences and return_state, activation='tanh' and "
                         f"recurrent_activation='sigmoid'; got {config!r}")
    cell = config.cell
    saturation = {item.gate: item for item in cell.saturations}[
        _validate.one_of("gate", gate, cell.gates)]
    bound = max(float(np.abs(array).max(initial=0.0))
                for array in [x, *weights, *(initial_state or [])])
    reach = bound * (config.input_dim + config.units + 2)
    if reach > _MAX_PREACTIVATION:
        raise ValueError(f"pre-activations may reach {reach:.3g} > {_MAX_PREACTIVATION}: "
                         f"weights/inputs too large for "
                         f"SATURATION={SATURATION} to saturate a gate exactly")
    options = config.cell_options
    saturated = cell.saturated_bias(weights[2], saturation, saturation.sign * SATURATION)
    perturbed_weights = [weights[0], weights[1], saturated]

    keras = adapter()
    layer = keras.built(config)
    layer.set_weights(perturbed_weights)
    sequence, *final = layer(x, initial_state=initial_state)

    batch, steps = x.shape[:2]
    exact = CellWeights(config.units, *(np.asarray(w, dtype=np.float64) for w in weights))
    states = ([np.zeros((batch, config.units))] * config.state_count if initial_state is None
              else [np.asarray(state, np.float64) for state in initial_state])
    processed = np.asarray(x, dtype=np.float64)[:, ::-1] if config.go_backwards else x
    predicted = np.empty(sequence.shape)
    for t in range(steps):
        states = cell.gate_step(exact, processed[:, t], states, {gate: saturation.forced},
                                options)
        predicted[:, t] = states[0]
        states = [np.asarray(sequence[:, t], np.float64), *states[1:]]  # teacher forcing

    versions = keras.info().describe()
    snippet = functools.partial(compare.reproducer, config, weights=perturbed_weights,
                                call={"x": x, "initial_state": initial_state})
    atol = compare.teacher_forced_tolerance(input_dim=config.input_dim, units=config.units,
                                            timesteps=steps)
    what = f"saturating {cell.name} gate block {gate!r}: {saturation.effect}; Keras's"
    worst = compare.assert_close(sequence, predicted, atol=atol, what=f"{what} h sequence "
                                 "differs", config=config, versions=versions, snippet=snippet)
    expected_final = [predicted[:, -1], *states[1:]]
    for name, got, want in zip(cell.states, final, expected_final, strict=True):
        worst = max(worst, compare.assert_close(
            got, want, atol=atol, what=f"{what} final {name} differs", config=config,
            versions=versions, snippet=snippet))
    return worst
