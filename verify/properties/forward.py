"""Forward checks: Keras's outputs equal the NumPy reference (:mod:`verify.reference`) and
:func:`verify.predict`, under the data-scaled tolerance of :mod:`verify.compare`."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from hypothesis import currently_in_test_context, reject

from verify import compare, reference
from verify.config import BidirectionalConfig, RNNConfig, SequentialConfig
from verify.families import ModelSpec, reproducer
from verify.model import forward
from verify.semantics import Semantics


def adapter() -> Any:
    """:mod:`verify.keras_adapter`, imported on first use (drawing cases needs no Keras)."""
    from verify import keras_adapter

    return keras_adapter


def reference_outputs(config: RNNConfig | BidirectionalConfig, weights: Sequence[np.ndarray],
                      x: np.ndarray, *, mask: np.ndarray | None = None,
                      initial_state: Sequence[np.ndarray] | None = None,
                      semantics: Any = None, dtype: Any = np.float64) -> list[np.ndarray]:
    """The reference's outputs for ``config``, as a list in Keras's output order, under
    ``semantics`` (default: those of the Keras the adapter runs, as it reports them)."""
    if semantics is None:
        semantics = adapter().running_semantics()
    return reference.outputs(config, weights, x, mask=mask, initial_state=initial_state,
                             semantics=semantics, dtype=dtype)


def nudged(arrays: Sequence[np.ndarray] | None, seed: int) -> list[np.ndarray] | None:
    if arrays is None:
        return None
    return [compare.nudge(array, seed=seed + index) for index, array in enumerate(arrays)]


def listed(result: Any) -> list[np.ndarray]:
    return result if isinstance(result, list) else [result]


def compare_outputs(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray],
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
    versions = adapter().info().describe()
    compare.assert_equal(len(actual), len(expected), what=f"{what}: number of outputs",
                         config=config, versions=versions, snippet=snippet)
    return max(
        compare.assert_close(got, want, atol=atol, what=f"{what}: output {index} differs",
                             config=config, versions=versions, snippet=snippet)
        for index, (got, want) in enumerate(zip(actual, expected, strict=True))
    )


def check_forward(config: RNNConfig | BidirectionalConfig, weights: Sequence[np.ndarray],
                  x: np.ndarray, mask: np.ndarray | None = None,
                  initial_state: Sequence[np.ndarray] | None = None) -> float:
    """Keras's outputs equal :mod:`verify.reference`'s under the running Keras's semantics."""
    __tracebackhide__ = True
    actual = adapter().built(config).run(weights, x, mask=mask, initial_state=initial_state)
    return compare_to_reference(actual, config, weights, x, mask=mask,
                                initial_state=initial_state, what="Keras vs verify.reference")


def compare_to_reference(actual: Sequence[np.ndarray], config: RNNConfig | BidirectionalConfig,
                         weights: Sequence[np.ndarray], x: np.ndarray, *,
                         mask: np.ndarray | None = None,
                         initial_state: Sequence[np.ndarray] | None = None,
                         what: str) -> float:
    """``actual`` (float32 outputs of some implementation, in Keras's output order) equal the
    reference's for ``config`` under the data-scaled tolerance."""
    __tracebackhide__ = True
    expected = reference_outputs(config, weights, x, mask=mask, initial_state=initial_state)
    perturbed = [
        reference_outputs(config, nudged(weights, 1) or [], compare.nudge(x, seed=0),
                          mask=mask, initial_state=nudged(initial_state, 100)),
        reference_outputs(config, weights, x, mask=mask, initial_state=initial_state,
                          dtype=np.float32),
    ]
    snippet = functools.partial(compare.reproducer, config, weights=weights,
                                call={"x": x, "mask": mask, "initial_state": initial_state})
    return compare_outputs(actual, expected, perturbed, what=what, config=config,
                           snippet=snippet)


def check_model_forward(config: SequentialConfig | ModelSpec, x: Any,
                        weights: Sequence[np.ndarray] | None = None,
                        weights_seed: int | None = None) -> float:
    """Calling the Keras model equals :func:`verify.predict` on it (config and weights only).

    ``config`` is a stack of layers (a :class:`SequentialConfig`, with ``weights``) or a model
    of one of the real-model families (a :class:`verify.families.ModelSpec`, whose weights
    come from ``weights_seed``: their shapes are known once Keras has built the model)."""
    __tracebackhide__ = True
    if isinstance(config, ModelSpec):
        from verify import keras_families

        if weights_seed is None:
            raise TypeError("a ModelSpec case needs weights_seed")
        family_model = keras_families.build(config)
        family_model.set_weights(keras_families.seeded_weights(family_model, seed=weights_seed))
        # Masks propagated by verify.layers' rules, not read from the masks a Keras 3 config
        # records: a change in how Keras propagates masks must show up here as a mismatch.
        return check_predict(family_model, x, label=config, recorded_masks=False,
                             snippet=functools.partial(reproducer, config, weights_seed, x))
    if weights is None:
        raise TypeError("a SequentialConfig case needs weights")
    model = adapter().built(config)
    actual = model.run(weights, x)
    snippet = functools.partial(compare.reproducer, config, weights=weights, call={"x": x})
    return check_predict(model.layer, x, actual=actual, label=config, snippet=snippet,
                         recorded_masks=False)


def _nudge_input(array: np.ndarray, seed: int, keep: Sequence[float]) -> np.ndarray:
    """Float inputs move by a float32 step (except the ``Masking`` values in ``keep``); token
    ids (integers) stay as they are."""
    if np.asarray(array).dtype.kind in "iu":
        return array
    return compare.nudge(array, seed=seed, keep=keep)


def check_predict(model: Any, x: np.ndarray | list[np.ndarray], *,
                  actual: Sequence[np.ndarray] | None = None, label: Any = None,
                  snippet: compare.Snippet | None = None, recorded_masks: bool = True) -> float:
    """:func:`verify.predict` equals the Keras ``model``'s own outputs for ``x`` (with the
    weights the model holds). ``actual`` are those outputs if already computed.
    ``recorded_masks=False``: masks propagated by :mod:`verify.layers`' rules rather than read
    from a Keras 3 config (how the properties check those rules)."""
    __tracebackhide__ = True
    keras = adapter()
    if actual is None:
        actual = keras.call_model(model, x)
    records = keras.layer_records(model)
    return check_against_forward(
        actual, model.get_config(), {record.path: record.weights for record in records}, x,
        semantics=keras.running_semantics(),
        mask_values=[float(record.config.get("mask_value", 0.0)) for record in records
                     if record.class_name == "Masking"],
        label=label if label is not None else model.name, recorded_masks=recorded_masks,
        snippet=snippet, what="Keras model vs verify.predict")


def check_against_forward(actual: Sequence[np.ndarray], config: Mapping[str, Any],
                          weights: Mapping[str, Sequence[np.ndarray]],
                          x: np.ndarray | list[np.ndarray], *, semantics: Semantics,
                          mask_values: Sequence[float], label: Any, what: str,
                          snippet: compare.Snippet | None = None,
                          recorded_masks: bool = True) -> float:
    """Keras's outputs ``actual`` equal :func:`verify.model.forward` of a model ``config`` and
    its ``weights`` (by layer path) under ``semantics``, within the tolerance that a float32
    step of every weight and input moves the result by (``mask_values``, a Masking layer's
    values, are not moved)."""
    __tracebackhide__ = True
    expected = listed(forward(config, weights, x, semantics=semantics,
                              recorded_masks=recorded_masks))
    moved = {path: nudged(list(arrays), 1 + 10 * index) or []
             for index, (path, arrays) in enumerate(weights.items())}
    moved_x = ([_nudge_input(item, index, mask_values) for index, item in enumerate(x)]
               if isinstance(x, list) else _nudge_input(x, 0, mask_values))
    perturbed = [listed(forward(config, moved, moved_x, semantics=semantics,
                                recorded_masks=recorded_masks)),
                 listed(forward(config, weights, x, semantics=semantics, dtype=np.float32,
                                recorded_masks=recorded_masks))]
    shown = ("[" + ", ".join(map(compare.format_array, x)) + "]" if isinstance(x, list)
             else compare.format_array(x))
    snippet = snippet or ("# model: the Keras model under test\nimport verify\n"
                          f"outputs = verify.predict(model, {shown})")
    return compare_outputs(actual, expected, perturbed, what=what, config=label,
                           snippet=snippet)


def check_stateful(config: RNNConfig, weights: Sequence[np.ndarray],
                   batches: Sequence[np.ndarray], masks: Sequence[np.ndarray | None]) -> float:
    """A recurrent layer with ``stateful=True`` over consecutive batches equals
    :class:`verify.reference.Stateful`, batch after batch, and after a reset."""
    __tracebackhide__ = True
    keras = adapter()
    batch = batches[0].shape[0]
    layer = keras.stateful(config, batch_size=batch)
    layer.set_weights(weights)
    running = keras.running_semantics()
    expected_layer = reference.stateful(config, weights, batch_size=batch, semantics=running)
    nudged_layer = reference.stateful(config, nudged(weights, 1) or [], batch_size=batch,
                                      semantics=running)
    single_layer = reference.stateful(config, weights, batch_size=batch, semantics=running,
                                      dtype=np.float32)
    references = (expected_layer, nudged_layer, single_layer)
    worst = 0.0
    # The batches in order, then (None = reset) the first batch again from zero states.
    sequence: list[tuple[np.ndarray, np.ndarray | None] | None] = [
        *zip(batches, masks, strict=True), None, (batches[0], masks[0])]
    for step, item in enumerate(sequence):
        if item is None:
            keras.reset_states(layer)
            for stateful_reference in references:
                stateful_reference.reset_states()
            continue
        x, mask = item
        actual = layer(x, mask=mask)
        expected = listed(expected_layer(x, mask=mask))
        perturbed = [listed(nudged_layer(compare.nudge(x, seed=step), mask=mask)),
                     listed(single_layer(x, mask=mask))]
        snippet = functools.partial(_stateful_snippet, step, config, weights, x, mask)
        worst = max(worst, compare_outputs(actual, expected, perturbed,
                                           what=f"stateful batch {step}", config=config,
                                           snippet=snippet))
    return worst


def _stateful_snippet(step: int, config: RNNConfig, weights: Sequence[np.ndarray],
                      x: np.ndarray, mask: np.ndarray | None) -> str:
    return (f"# batch {step} of a stateful run (reset before the last one):\n"
            + compare.reproducer(config, weights=weights, call={"x": x, "mask": mask}))
