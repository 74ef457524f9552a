"""The checks themselves, shared by the test suite and ``python -m verify report``.

A :class:`Property` pairs a Hypothesis strategy that draws one case (a dict of keyword
arguments) with a check that builds real Keras for it and raises
:class:`~verify.compare.Mismatch` when Keras and the documentation disagree. A check returns
its worst error divided by its tolerance (0.0 for exact checks), so reports can show the
margin. Keras is imported on the first check, not on import of this module: drawing cases
and collecting tests need no TensorFlow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import currently_in_test_context, given, reject
from hypothesis import strategies as st
from hypothesis.errors import UnsatisfiedAssumption

import strategies
from verify import _validate, compare, gates, reference, shapes
from verify.config import MERGE_MODES, BidirectionalConfig, LSTMConfig, SequentialConfig
from verify.model import forward, predict

Case = dict[str, Any]


@dataclass(frozen=True)
class Property:
    """A named check and the strategy that draws its cases.

    ``strata`` split the cases along one categorical choice (a merge mode, a kind of mask)
    into strategies that each fix it. The test suite runs every stratum with its own example
    budget: Hypothesis's generation mutates earlier examples, so one run over all values of a
    choice often draws some of them rarely or never (seen: ``merge_mode=None`` in 0 of 60
    examples). ``cases`` still draws every value, for the report.
    """

    name: str
    summary: str
    cases: Callable[[], st.SearchStrategy[Case]]
    check: Callable[..., float]
    strata: Mapping[str, Callable[[], st.SearchStrategy[Case]]] = field(default_factory=dict)

    def run(self, case: Case) -> float:
        """Check one drawn case; the worst error / tolerance (0.0 for exact checks)."""
        return self.check(**case)

    def strategy(self, stratum: str | None = None) -> st.SearchStrategy[Case]:
        """The cases of one stratum (``None``: every case)."""
        if stratum is None:
            return self.cases()
        return self.strata[_validate.one_of("stratum", stratum, tuple(self.strata))]()

    def stratum_names(self) -> tuple[str | None, ...]:
        """What the suite runs: every stratum, or the whole property when it has none."""
        return tuple(self.strata) or (None,)

    def hypothesis_test(self, stratum: str | None = None,
                        stats: dict[str, float] | None = None,
                        on_example: Callable[[dict[str, float]], None] | None = None
                        ) -> Callable[[], None]:
        """A Hypothesis test of this property (or of one stratum of it) under the current
        settings profile. ``stats``, if given, is filled with the examples run, those rejected
        as ill-conditioned and the worst error / tolerance; ``on_example(stats)`` is called
        after each example that passed."""
        tally = stats if stats is not None else {}
        tally.update(examples=0, rejected=0, worst=0.0)

        @given(case=self.strategy(stratum))
        def test(case: Case) -> None:
            tally["examples"] += 1
            try:
                ratio = self.run(case)
            except UnsatisfiedAssumption:
                tally["rejected"] += 1
                raise
            tally["worst"] = max(tally["worst"], ratio)
            if on_example is not None:
                on_example(tally)

        test.__name__ = self.name if stratum is None else f"{self.name}[{stratum}]"
        return test


def _adapter() -> Any:
    from verify import keras_adapter

    return keras_adapter


# --- cases --------------------------------------------------------------------------------


def _with_arrays(configs: st.SearchStrategy[Any], *, states: bool = False,
                 masks: Sequence[str] = (), allow_no_mask: bool = True) -> st.SearchStrategy[Case]:
    """Cases ``{config, weights, x[, initial_state][, mask]}`` for configurations from
    ``configs``; states may be drawn as ``None``; masks of the given ``strategies.masks``
    kinds, or ``None`` if ``allow_no_mask`` (no ``mask`` key when ``masks`` is empty)."""

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        config = draw(configs, label="config")
        batch = draw(st.integers(1, 3), label="batch")
        case = {
            "config": config,
            "weights": draw(strategies.weights(config), label="weights"),
            "x": draw(strategies.inputs(config, batch_size=batch), label="x"),
        }
        if states:
            case["initial_state"] = draw(strategies.initial_states(config, batch_size=batch),
                                         label="initial_state")
        if masks:
            case["mask"] = draw(strategies.masks(config, batch_size=batch, kinds=tuple(masks),
                                                 allow_none=allow_no_mask), label="mask")
        return case

    return draw_case()


def recurrent_cases() -> st.SearchStrategy[Case]:
    """A single LSTM from the default strategy, with its arrays."""
    return _with_arrays(strategies.lstm_configs())


def bidirectional_cases(merge_modes: Sequence[str | None] = MERGE_MODES
                        ) -> st.SearchStrategy[Case]:
    return _with_arrays(strategies.bidirectional_configs(merge_modes=merge_modes))


def model_cases() -> st.SearchStrategy[Case]:
    return _with_arrays(strategies.sequential_configs())


def forward_cases(configs: st.SearchStrategy[Any] | None = None, *,
                  mask_kinds: Sequence[str] = strategies.MASK_KINDS,
                  allow_no_mask: bool = True) -> st.SearchStrategy[Case]:
    """A layer with weights, inputs, a mask (right/left-padded, random, all-masked rows, or
    none) and an initial state (or none)."""
    if configs is None:  # with masks drawn, zero_output_for_mask matters: draw it too
        configs = strategies.lstm_configs(zero_output_for_mask=None)
    if not mask_kinds:  # the no-mask stratum
        return _with_arrays(configs, states=True)
    return _with_arrays(configs, states=True, masks=mask_kinds, allow_no_mask=allow_no_mask)


def bidirectional_forward_cases(merge_modes: Sequence[str | None] = MERGE_MODES
                                ) -> st.SearchStrategy[Case]:
    return forward_cases(strategies.bidirectional_configs(merge_modes=merge_modes))


def _mask_strata() -> dict[str, Callable[[], st.SearchStrategy[Case]]]:
    strata: dict[str, Callable[[], st.SearchStrategy[Case]]] = {
        "no_mask": functools.partial(forward_cases, mask_kinds=())}
    for kind in strategies.MASK_KINDS:
        strata[kind] = functools.partial(forward_cases, mask_kinds=(kind,), allow_no_mask=False)
    return strata


def _merge_strata(cases: Callable[..., st.SearchStrategy[Case]]
                  ) -> dict[str, Callable[[], st.SearchStrategy[Case]]]:
    return {str(mode).lower(): functools.partial(cases, merge_modes=(mode,))
            for mode in MERGE_MODES}


def stateful_cases() -> st.SearchStrategy[Case]:
    """An LSTM and two to three consecutive batches (same rows), each with a mask or none."""

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        config = draw(strategies.lstm_configs(zero_output_for_mask=None), label="config")
        batch = draw(st.integers(1, 3), label="batch")
        count = draw(st.integers(2, 3), label="batches")
        return {
            "config": config,
            "weights": draw(strategies.weights(config), label="weights"),
            "batches": [draw(strategies.inputs(config, batch_size=batch), label=f"x[{n}]")
                        for n in range(count)],
            "masks": [draw(strategies.masks(config, batch_size=batch), label=f"mask[{n}]")
                      for n in range(count)],
        }

    return draw_case()


def gate_cases() -> st.SearchStrategy[Case]:
    """LSTMs whose gates saturate (sigmoid gates, tanh candidate), returning every ``h`` and the
    final ``c``, so that one perturbed gate block has an exact, observable effect."""
    configs = strategies.lstm_configs(
        use_bias=True, activations=("tanh",), recurrent_activations=("sigmoid",),
        return_sequences=True, return_state=True,
    )
    return _with_arrays(configs, states=True)


# --- shape checks -------------------------------------------------------------------------


def check_shapes(config: LSTMConfig | BidirectionalConfig | SequentialConfig,
                 weights: Sequence[np.ndarray], x: np.ndarray) -> float:
    """Keras's ``get_weights()`` shapes, ``count_params()``, weight names and output shapes
    (symbolic and from a real call) equal the documented formulas."""
    __tracebackhide__ = True
    adapter = _adapter()
    layer = adapter.built(config)
    versions = adapter.info().describe()
    snippet = functools.partial(compare.reproducer, config, call={"x": x})

    def equal(actual: Any, expected: Any, what: str) -> None:
        __tracebackhide__ = True
        compare.assert_equal(actual, expected, what=what, config=config, versions=versions,
                             snippet=snippet)

    equal([w.shape for w in layer.get_weights()], shapes.weight_shapes(config),
          "get_weights() shapes differ from the formula")
    equal(layer.count_params(), shapes.param_count(config),
          "count_params() differs from the formula")
    if not isinstance(config, SequentialConfig):
        equal(_weight_roles(layer.weight_paths()), _expected_roles(config),
              "weight names / order differ from kernel, recurrent_kernel, bias "
              "(forward before backward)")
    equal(layer.symbolic_output_shapes(timesteps=config.timesteps), shapes.output_shapes(config),
          "symbolic output shapes (compute_output_shape) differ from the formula")
    layer.set_weights(weights)
    outputs = layer(x)
    expected = shapes.output_shapes(config, batch=x.shape[0])
    actual = [output.shape for output in outputs]
    equal(actual[0] if len(actual) == 1 and isinstance(expected, tuple) else actual, expected,
          "shapes of the arrays returned by a call differ from the formula")
    return 0.0


def _weight_roles(paths: Sequence[str]) -> list[tuple[str, str]]:
    """``(direction, name)`` per weight path: direction from a ``forward_``/``backward_``
    component (``""`` when there is none), name from the last component."""
    roles = []
    for path in paths:
        parts = path.split("/")
        direction = next((part.split("_")[0] for part in parts
                          if part.startswith(("forward_", "backward_"))), "")
        roles.append((direction, parts[-1]))
    return roles


def _expected_roles(config: LSTMConfig | BidirectionalConfig) -> list[tuple[str, str]]:
    lstm = config.layer if isinstance(config, BidirectionalConfig) else config
    names = ["kernel", "recurrent_kernel"] + (["bias"] if lstm.use_bias else [])
    if isinstance(config, LSTMConfig):
        return [("", name) for name in names]
    return [("forward", name) for name in names] + [("backward", name) for name in names]


# --- forward: Keras vs the NumPy reference ----------------------------------------------------


def reference_outputs(config: LSTMConfig | BidirectionalConfig, weights: Sequence[np.ndarray],
                      x: np.ndarray, *, mask: np.ndarray | None = None,
                      initial_state: Sequence[np.ndarray] | None = None,
                      semantics: Any = None, dtype: Any = np.float64) -> list[np.ndarray]:
    """The reference's outputs for ``config``, as a list in Keras's output order."""
    lstm = config.layer if isinstance(config, BidirectionalConfig) else config
    options = {"activation": lstm.activation, "recurrent_activation": lstm.recurrent_activation,
               "return_sequences": lstm.return_sequences, "return_state": lstm.return_state,
               "mask": mask, "initial_state": initial_state, "semantics": semantics,
               "dtype": dtype}
    if isinstance(config, BidirectionalConfig):
        half = len(weights) // 2
        result = reference.bidirectional(x, weights[:half], weights[half:],
                                         merge_mode=config.merge_mode, **options)
    else:
        result = reference.lstm(x, *weights, go_backwards=lstm.go_backwards,
                                zero_output_for_mask=lstm.zero_output_for_mask, **options)
    return _listed(result)


def _nudged(arrays: Sequence[np.ndarray] | None, seed: int) -> list[np.ndarray] | None:
    if arrays is None:
        return None
    return [compare.nudge(array, seed=seed + index) for index, array in enumerate(arrays)]


def _listed(result: Any) -> list[np.ndarray]:
    return result if isinstance(result, list) else [result]


def _compare_outputs(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                     perturbed: Sequence[Sequence[np.ndarray]], *, what: str, config: Any,
                     snippet: compare.Snippet) -> float:
    """Compare every output under the data-scaled tolerance (``perturbed``: the reference's
    nudged and float32 runs, see :func:`compare.forward_tolerance`); reject ill-conditioned
    cases."""
    __tracebackhide__ = True
    atol, sensitivity = compare.forward_tolerance(expected, perturbed)
    # A case whose outputs move by more than ILL_CONDITIONED of their size when the data move
    # by one float32 step has no float32 answer to check (e.g. unbounded activations compounding
    # over many steps); it is rejected (Hypothesis counts it) rather than compared loosely.
    if sensitivity > compare.ILL_CONDITIONED:
        if currently_in_test_context():
            reject()
        raise compare.IllConditioned(f"{what}: outputs move by {sensitivity:.3g} of their size "
                                     "under one float32 step of the data")
    versions = _adapter().info().describe()
    compare.assert_equal(len(actual), len(expected), what=f"{what}: number of outputs",
                         config=config, versions=versions, snippet=snippet)
    return max(
        compare.assert_close(got, want, atol=atol, what=f"{what}: output {index} differs",
                             config=config, versions=versions, snippet=snippet)
        for index, (got, want) in enumerate(zip(actual, expected, strict=True))
    )


def check_forward(config: LSTMConfig | BidirectionalConfig, weights: Sequence[np.ndarray],
                  x: np.ndarray, mask: np.ndarray | None = None,
                  initial_state: Sequence[np.ndarray] | None = None) -> float:
    """Keras's outputs equal :mod:`verify.reference`'s under the installed Keras's semantics."""
    __tracebackhide__ = True
    actual = _adapter().built(config).run(weights, x, mask=mask, initial_state=initial_state)
    return compare_to_reference(actual, config, weights, x, mask=mask,
                                initial_state=initial_state, what="Keras vs verify.reference")


def compare_to_reference(actual: Sequence[np.ndarray], config: LSTMConfig | BidirectionalConfig,
                         weights: Sequence[np.ndarray], x: np.ndarray, *,
                         mask: np.ndarray | None = None,
                         initial_state: Sequence[np.ndarray] | None = None,
                         what: str) -> float:
    """``actual`` (float32 outputs of some implementation, in Keras's output order) equal the
    reference's for ``config`` under the data-scaled tolerance."""
    __tracebackhide__ = True
    expected = reference_outputs(config, weights, x, mask=mask, initial_state=initial_state)
    perturbed = [
        reference_outputs(config, _nudged(weights, 1) or [], compare.nudge(x, seed=0),
                          mask=mask, initial_state=_nudged(initial_state, 100)),
        reference_outputs(config, weights, x, mask=mask, initial_state=initial_state,
                          dtype=np.float32),
    ]
    snippet = functools.partial(compare.reproducer, config, weights=weights,
                                 call={"x": x, "mask": mask, "initial_state": initial_state})
    return _compare_outputs(actual, expected, perturbed, what=what,
                            config=config, snippet=snippet)


def check_model_forward(config: SequentialConfig, weights: Sequence[np.ndarray],
                        x: np.ndarray) -> float:
    """Calling the Keras model equals :func:`verify.predict` on it (config and weights only)."""
    __tracebackhide__ = True
    model = _adapter().built(config)
    actual = model.run(weights, x)
    snippet = functools.partial(compare.reproducer, config, weights=weights, call={"x": x})
    return check_predict(model.layer, x, actual=actual, label=config, snippet=snippet)


def check_predict(model: Any, x: np.ndarray | list[np.ndarray], *,
                  actual: Sequence[np.ndarray] | None = None, label: Any = None,
                  snippet: compare.Snippet | None = None) -> float:
    """:func:`verify.predict` equals the Keras ``model``'s own outputs for ``x`` (with the
    weights the model holds). ``actual`` are those outputs if already computed."""
    __tracebackhide__ = True
    if actual is None:
        actual = _adapter().call_model(model, x)
    expected = _listed(predict(model, x))
    # The tolerance runs read the model's config and weights once, not once per run.
    config, records = model.get_config(), _adapter().layer_records(model)
    weights = {record.path: record.weights for record in records}
    nudged = {record.path: _nudged(record.weights, 1 + 10 * index) or []
              for index, record in enumerate(records)}
    nudged_x = ([compare.nudge(item, seed=index) for index, item in enumerate(x)]
                if isinstance(x, list) else compare.nudge(x, seed=0))
    perturbed = [_listed(forward(config, nudged, nudged_x)),
                 _listed(forward(config, weights, x, dtype=np.float32))]
    shown = ("[" + ", ".join(map(compare.format_array, x)) + "]" if isinstance(x, list)
             else compare.format_array(x))
    snippet = snippet or ("# model: the Keras model under test\nimport verify\n"
                          f"outputs = verify.predict(model, {shown})")
    return _compare_outputs(actual, expected, perturbed, what="Keras model vs verify.predict",
                            config=label if label is not None else model.name, snippet=snippet)


def check_stateful(config: LSTMConfig, weights: Sequence[np.ndarray],
                   batches: Sequence[np.ndarray], masks: Sequence[np.ndarray | None]) -> float:
    """``LSTM(stateful=True)`` over consecutive batches equals
    :class:`verify.reference.StatefulLSTM`, batch after batch, and after a reset."""
    __tracebackhide__ = True
    adapter = _adapter()
    layer = adapter.stateful(config, batch_size=batches[0].shape[0])
    layer.set_weights(weights)
    options: dict[str, Any] = {
        "activation": config.activation, "recurrent_activation": config.recurrent_activation,
        "return_sequences": config.return_sequences, "return_state": config.return_state,
        "go_backwards": config.go_backwards, "zero_output_for_mask": config.zero_output_for_mask,
    }
    batch = batches[0].shape[0]
    expected_layer = reference.StatefulLSTM(*weights, batch_size=batch, **options)
    nudged_layer = reference.StatefulLSTM(*(_nudged(weights, 1) or []), batch_size=batch,
                                          **options)
    single_layer = reference.StatefulLSTM(*weights, batch_size=batch, dtype=np.float32,
                                          **options)
    references = (expected_layer, nudged_layer, single_layer)
    worst = 0.0
    # The batches in order, then (None = reset) the first batch again from zero states.
    sequence: list[tuple[np.ndarray, np.ndarray | None] | None] = [
        *zip(batches, masks, strict=True), None, (batches[0], masks[0])]
    for step, item in enumerate(sequence):
        if item is None:
            adapter.reset_states(layer)
            for stateful_reference in references:
                stateful_reference.reset_states()
            continue
        x, mask = item
        actual = layer(x, mask=mask)
        expected = _listed(expected_layer(x, mask=mask))
        perturbed = [_listed(nudged_layer(compare.nudge(x, seed=step), mask=mask)),
                     _listed(single_layer(x, mask=mask))]
        snippet = functools.partial(_stateful_snippet, step, config, weights, x, mask)
        worst = max(worst, _compare_outputs(actual, expected, perturbed,
                                            what=f"stateful batch {step}", config=config,
                                            snippet=snippet))
    return worst


def _stateful_snippet(step: int, config: LSTMConfig, weights: Sequence[np.ndarray],
                      x: np.ndarray, mask: np.ndarray | None) -> str:
    return (f"# batch {step} of a stateful run (reset before the last one):\n"
            + compare.reproducer(config, weights=weights, call={"x": x, "mask": mask}))


# --- gate semantics -------------------------------------------------------------------------

#: Added to one gate's bias block to saturate it. With inputs, states and weights bounded by
#: 1, ``|x K + h R + b| <= d + u + 1 <= 100`` here, so ``sigmoid(z - 1e4)`` is exactly 0 and
#: ``tanh(z + 1e4)`` exactly 1 in float32 and float64.
SATURATION = 1e4
_MAX_PREACTIVATION = 100.0

#: Per gate: the sign of the bias perturbation, the value it forces the gate to, and what
#: that means for the cell, in the words of the step equations.
GATE_EFFECTS: dict[str, tuple[float, float, str]] = {
    "i": (-1.0, 0.0, "input gate closed (i=0): c_t = f_t*c_{t-1}, nothing is written"),
    "f": (-1.0, 0.0, "forget gate closed (f=0): c_t = i_t*g_t, the cell forgets"),
    "c": (+1.0, 1.0, "candidate saturated (g=1): c_t = f_t*c_{t-1} + i_t"),
    "o": (-1.0, 0.0, "output gate closed (o=0): h_t = 0, nothing is read out"),
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)))


def check_gate_block(config: LSTMConfig, weights: Sequence[np.ndarray], x: np.ndarray,
                     gate: str, initial_state: Sequence[np.ndarray] | None = None) -> float:
    """Perturb only ``gate``'s block of the bias in Keras and check that every ``h_t`` and the
    final ``c`` change exactly as the step equations with that gate forced predict.

    The prediction is teacher-forced: step ``t`` is computed in float64 from the *unperturbed*
    weights, split with :func:`verify.gates.split`, Keras's own ``h_{t-1}`` and the predicted
    ``c_{t-1}``, with the perturbed gate replaced by its saturated value. If the gate blocks
    were in another order, the perturbation would hit another gate and the prediction fail.
    """
    __tracebackhide__ = True
    if not (isinstance(config, LSTMConfig) and config.use_bias
            and config.return_sequences and config.return_state
            and (config.activation, config.recurrent_activation) == ("tanh", "sigmoid")):
        raise ValueError(f"check_gate_block needs an LSTMConfig with use_bias, "
                         f"return_sequences and return_state, activation='tanh' and "
                         f"recurrent_activation='sigmoid'; got {config!r}")
    sign, forced, _ = GATE_EFFECTS[_validate.one_of("gate", gate, gates.GATES)]
    kernel, recurrent_kernel, bias = (np.asarray(w, dtype=np.float64) for w in weights)
    perturbed = np.array(weights[2], dtype=np.float32)
    perturbed[gates.block(gate, config.units)] += np.float32(sign * SATURATION)
    perturbed_weights = [weights[0], weights[1], perturbed]

    adapter = _adapter()
    layer = adapter.built(config)
    layer.set_weights(perturbed_weights)
    sequence, last_h, last_c = layer(x, initial_state=initial_state)

    batch, steps = x.shape[:2]
    h0, c0 = (np.zeros((batch, config.units)),) * 2 if initial_state is None else initial_state
    processed = np.asarray(x, dtype=np.float64)[:, ::-1] if config.go_backwards else x
    h_previous, c = np.asarray(h0, np.float64), np.asarray(c0, np.float64)
    predicted = np.empty(sequence.shape)
    for t in range(steps):
        z = processed[:, t] @ kernel + h_previous @ recurrent_kernel + bias
        if np.abs(z).max() > _MAX_PREACTIVATION:
            raise ValueError(f"pre-activations reach {np.abs(z).max():.3g} > "
                             f"{_MAX_PREACTIVATION}: weights/inputs too large for "
                             f"SATURATION={SATURATION} to saturate a gate exactly")
        part = gates.split(z)
        value = {"i": _sigmoid(part["i"]), "f": _sigmoid(part["f"]),
                 "c": np.tanh(part["c"]), "o": _sigmoid(part["o"])}
        value[gate] = np.full_like(value[gate], forced)
        c = value["f"] * c + value["i"] * value["c"]
        predicted[:, t] = value["o"] * np.tanh(c)
        h_previous = np.asarray(sequence[:, t], dtype=np.float64)  # teacher forcing

    versions = adapter.info().describe()
    snippet = functools.partial(compare.reproducer, config, weights=perturbed_weights,
                                 call={"x": x, "initial_state": initial_state})
    atol = compare.teacher_forced_tolerance(input_dim=config.input_dim, units=config.units,
                                            timesteps=steps)
    what = f"perturbing gate block {gate!r}: {GATE_EFFECTS[gate][2]}; Keras's"
    return max(
        compare.assert_close(sequence, predicted, atol=atol, what=f"{what} h sequence differs",
                             config=config, versions=versions, snippet=snippet),
        compare.assert_close(last_h, predicted[:, -1], atol=atol, what=f"{what} final h differs",
                             config=config, versions=versions, snippet=snippet),
        compare.assert_close(last_c, c, atol=atol, what=f"{what} final c differs",
                             config=config, versions=versions, snippet=snippet),
    )


def _gate_property(gate: str) -> Property:
    def check(**case: Any) -> float:
        return check_gate_block(gate=gate, **case)

    return Property(
        name=f"gate_{gate}",
        summary=f"bias block {gate!r} perturbed in Keras: {GATE_EFFECTS[gate][2]}",
        cases=gate_cases,
        check=check,
    )


#: Every property, by name, in the order reports list them.
PROPERTIES: dict[str, Property] = {
    prop.name: prop
    for prop in [
        Property("lstm_shapes", "LSTM: weight shapes, parameter count, weight names and output "
                 "shapes equal the formulas", recurrent_cases, check_shapes),
        Property("bidirectional_shapes", "Bidirectional(LSTM), every merge mode: weight shapes, "
                 "parameter count, names (forward first) and output shapes equal the formulas",
                 bidirectional_cases, check_shapes, _merge_strata(bidirectional_cases)),
        Property("sequential_shapes", "stacked LSTM/Bidirectional layers with Dense heads: "
                 "weight shapes, parameter count and output shape equal the formulas",
                 model_cases, check_shapes),
        *(_gate_property(gate) for gate in gates.GATES),
        Property("lstm_forward", "LSTM outputs (masks, initial states, go_backwards, every "
                 "activation) equal verify.reference", forward_cases, check_forward,
                 _mask_strata()),
        Property("bidirectional_forward", "Bidirectional(LSTM) outputs, every merge mode, equal "
                 "verify.reference.bidirectional", bidirectional_forward_cases, check_forward,
                 _merge_strata(bidirectional_forward_cases)),
        Property("model_forward", "stacked LSTM/Bidirectional models with Dense heads: the "
                 "Keras model equals verify.predict", model_cases, check_model_forward),
        Property("stateful_forward", "LSTM(stateful=True) over consecutive batches and a reset "
                 "equals verify.reference.StatefulLSTM", stateful_cases, check_stateful),
    ]
}


def runs(*names: str) -> list[tuple[str, str | None]]:
    """``(property, stratum)`` for every run the test suite makes of properties ``names``."""
    return [(name, stratum) for name in names
            for stratum in PROPERTIES[_validate.one_of("property", name,
                                                       tuple(PROPERTIES))].stratum_names()]


def run_id(run: tuple[str, str | None]) -> str:
    name, stratum = run
    return name if stratum is None else f"{name}[{stratum}]"
