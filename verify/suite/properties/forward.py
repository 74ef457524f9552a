"""Forward checks: Keras's outputs equal the NumPy reference (:mod:`verify.reference`) and
:func:`verify.predict`, under the data-scaled tolerance of :mod:`verify.compare`."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from hypothesis import currently_in_test_context, reject

from strategies.families import ModelSpec, reproducer
from verify import compare, environment, proof, reference
from verify.config import BidirectionalConfig, RNNConfig, SequentialConfig
from verify.proof import listed, nudged


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


def compare_outputs(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                    perturbed: Sequence[Sequence[np.ndarray]], *, what: str, config: Any,
                    snippet: compare.Snippet, precision: str = "float32") -> float:
    """:func:`verify.proof.compare_outputs`, with an ill-conditioned case rejected inside a
    Hypothesis test (Hypothesis counts it) rather than raised."""
    __tracebackhide__ = True
    with rejecting():
        return proof.compare_outputs(actual, expected, perturbed, what=what, config=config,
                                     snippet=snippet, precision=precision)


@contextlib.contextmanager
def rejecting() -> Iterator[None]:
    """Inside a Hypothesis test, turn :class:`verify.compare.IllConditioned` into
    ``reject()``: a case whose outputs move by more than ``ILL_CONDITIONED`` of their size
    under one float32 step has no float32 answer to check (e.g. unbounded activations
    compounding over many steps), so it is not compared loosely."""
    try:
        yield
    except compare.IllConditioned:
        if currently_in_test_context():
            reject()
        raise


def check_forward(config: RNNConfig | BidirectionalConfig, weights: Sequence[np.ndarray],
                  x: np.ndarray, mask: np.ndarray | None = None,
                  initial_state: Sequence[np.ndarray] | None = None) -> float:
    """Keras's outputs equal :mod:`verify.reference`'s under the running Keras's semantics;
    where a named divergence says this Keras cannot compute the case, that it raises."""
    __tracebackhide__ = True
    refusal = _refused_by_divergence(config, x, mask)
    if refusal is not None:
        name, error = refusal
        try:
            adapter().built(config).run(weights, x, mask=mask, initial_state=initial_state)
        except error:
            return 0.0
        raise compare.Mismatch(
            f"Keras ran a case the named divergence {name} says it refuses with "
            f"{error.__name__} (fixed here? update verify/suite/divergences.toml and "
            f"verify.environment)\n  configuration: {config!r}")
    actual = adapter().built(config).run(weights, x, mask=mask, initial_state=initial_state)
    return compare_to_reference(actual, config, weights, x, mask=mask,
                                initial_state=initial_state, what="Keras vs verify.reference")


def _refused_by_divergence(config: Any, x: np.ndarray, mask: np.ndarray | None
                           ) -> tuple[str, type[Exception]] | None:
    """The named divergence under which the running Keras refuses this case, and the error it
    raises; ``None`` when Keras computes it."""
    layer = config.recurrent
    if not layer.unroll or mask is None:
        return None
    if (isinstance(config, RNNConfig) and config.zero_output_for_mask
            and not config.return_sequences and x.shape[1] > 1
            and environment.unrolled_masked_last_output_raises()):
        return "unrolled-masked-last-output-raises-keras2", ValueError
    backwards = isinstance(config, BidirectionalConfig) or layer.go_backwards
    if backwards and environment.unrolled_backwards_mask_raises():
        return "unrolled-backwards-mask-raises-torch", AttributeError
    return None


def compare_to_reference(actual: Sequence[np.ndarray], config: RNNConfig | BidirectionalConfig,
                         weights: Sequence[np.ndarray], x: np.ndarray, *,
                         mask: np.ndarray | None = None,
                         initial_state: Sequence[np.ndarray] | None = None,
                         what: str, precision: str = "float32",
                         semantics: Any = None) -> float:
    """``actual`` (float32 outputs of some implementation, in Keras's output order) equal the
    reference's for ``config`` under the data-scaled tolerance for matmuls at ``precision``
    (:func:`verify.compare.forward_tolerance`)."""
    __tracebackhide__ = True
    expected = reference_outputs(config, weights, x, mask=mask, initial_state=initial_state,
                                 semantics=semantics)
    perturbed = perturbed_outputs(config, weights, x, mask=mask, initial_state=initial_state,
                                  precision=precision, semantics=semantics)
    snippet = functools.partial(compare.reproducer, config, weights=weights,
                                call={"x": x, "mask": mask, "initial_state": initial_state})
    return compare_outputs(actual, expected, perturbed, what=what, config=config,
                           snippet=snippet, precision=precision)


def perturbed_outputs(config: RNNConfig | BidirectionalConfig, weights: Sequence[np.ndarray],
                      x: np.ndarray, *, mask: np.ndarray | None = None,
                      initial_state: Sequence[np.ndarray] | None = None,
                      precision: str = "float32", semantics: Any = None
                      ) -> list[list[np.ndarray]]:
    """The reference runs :func:`verify.compare.forward_tolerance` measures the bound at
    ``precision`` with: every input, weight and state moved by one step of that precision,
    and (float32) the whole reference in float32."""
    runs = [reference_outputs(config, nudged(weights, 1, precision=precision) or [],
                              compare.nudge(x, seed=0, precision=precision), mask=mask,
                              initial_state=nudged(initial_state, 100, precision=precision),
                              semantics=semantics)]
    if precision == "float32":
        runs.append(reference_outputs(config, weights, x, mask=mask,
                                      initial_state=initial_state, dtype=np.float32,
                                      semantics=semantics))
    return runs


def check_model_forward(config: SequentialConfig | ModelSpec, x: Any,
                        weights: Sequence[np.ndarray] | None = None,
                        weights_seed: int | None = None) -> float:
    """Calling the Keras model equals :func:`verify.predict` on it (config and weights only).

    ``config`` is a stack of layers (a :class:`SequentialConfig`, with ``weights``) or a model
    of one of the real-model families (a :class:`strategies.families.ModelSpec`, whose weights
    come from ``weights_seed``: their shapes are known once Keras has built the model)."""
    __tracebackhide__ = True
    if isinstance(config, ModelSpec):
        from verify.suite import keras_families

        if weights_seed is None:
            raise TypeError("a ModelSpec case needs weights_seed")
        family_model = keras_families.build(config)
        drawn = keras_families.seeded_weights(family_model, seed=weights_seed)
        family_model.set_weights(drawn)
        batch = (x[0] if isinstance(x, list) else x).shape[0]
        if (config.family == "attention_decoder" and config.mask
                and config.attention != "multi_head"
                # the Attention after a MultiHeadAttention is never causal
                and (not config.causal or config.attention == "multi_head_then_dot")
                and adapter().running_semantics().attention_value_mask == "misbroadcast"
                and batch not in (1, config.decoder_steps)):
            try:  # attention-value-mask-misbroadcast-keras-3.0-3.11: the shapes do not meet
                adapter().call_model(family_model, x)
            except Exception:
                return 0.0
            raise compare.Mismatch(
                "Keras ran a model the named divergence attention-value-mask-misbroadcast-"
                "keras-3.0-3.11 says it cannot (fixed here? update verify/suite/"
                f"divergences.toml and verify.semantics)\n  configuration: {config!r}")
        if (config.cell_form == "stacked_cells" and len(config.cells) == 1
                and environment.stacked_single_cell_raises(config.cells[0],
                                                           masked=config.mask,
                                                           steps=config.steps)):
            try:
                adapter().call_model(family_model, x)
            except (ValueError, IndexError, TypeError):
                return 0.0
            raise compare.Mismatch(
                "Keras ran a model the named divergence stacked-single-cell-raises-keras3 "
                "says it refuses (fixed here? update verify/suite/divergences.toml and "
                f"verify.environment)\n  configuration: {config!r}")
        # Masks propagated by verify.layers' rules, not read from the masks a Keras 3 config
        # records: a change in how Keras propagates masks must show up here as a mismatch.
        ratio = check_predict(family_model, x, label=config, recorded_masks=False,
                              snippet=functools.partial(reproducer, config, weights_seed, x))
        ran_with_drawn_weights(family_model.get_weights(), drawn, config)
        return ratio
    if weights is None:
        raise TypeError("a SequentialConfig case needs weights")
    model = adapter().built(config)
    actual = model.run(weights, x)
    snippet = functools.partial(compare.reproducer, config, weights=weights, call={"x": x})
    ratio = check_predict(model.layer, x, actual=actual, label=config, snippet=snippet,
                          recorded_masks=False)
    ran_with_drawn_weights(model.get_weights(), weights, config)
    return ratio


def ran_with_drawn_weights(used: Sequence[np.ndarray], drawn: Sequence[np.ndarray],
                           config: Any) -> None:
    """The harness's own check: the (cached) model held exactly the example's weights. Both
    sides of ``check_predict`` read the model, so a harness that left another example's
    weights in a cached model would compare two stale computations and pass."""
    __tracebackhide__ = True
    if len(used) != len(drawn) or not all(
            np.array_equal(np.asarray(a), np.asarray(b))
            for a, b in zip(used, drawn, strict=True)):
        raise compare.Mismatch(f"harness: the model ran with weights other than the "
                               f"example's ({len(used)} arrays held, {len(drawn)} drawn)\n"
                               f"  configuration: {config!r}")


def check_predict(model: Any, x: np.ndarray | list[np.ndarray], **options: Any) -> float:
    """:func:`verify.proof.check_predict`, ill-conditioned cases rejected (:func:`rejecting`)."""
    __tracebackhide__ = True
    with rejecting():
        return proof.check_predict(model, x, **options)


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


def check_harness(config: Any, x: Any, weights: Sequence[np.ndarray] | None = None,
                  other_weights: Sequence[np.ndarray] | None = None,
                  weights_seed: int | None = None, other_seed: int | None = None) -> float:
    """The harness itself: one configuration run twice through the caches (the layer cache of
    :mod:`verify.keras_adapter`, the model cache of :mod:`verify.suite.keras_families`) with two
    drawn weight sets; each run must equal the reference for *its* weights (a layer), or hold
    exactly its weights while matching :func:`verify.predict` (a model)."""
    __tracebackhide__ = True
    if isinstance(config, ModelSpec):
        return max(check_model_forward(config, x, weights_seed=weights_seed),
                   check_model_forward(config, x, weights_seed=other_seed))
    if isinstance(config, SequentialConfig):
        return max(check_model_forward(config, x, weights=weights),
                   check_model_forward(config, x, weights=other_weights))
    worst = 0.0
    for drawn in (weights, other_weights):
        if drawn is None:
            raise TypeError("a layer case needs weights and other_weights")
        actual = adapter().built(config).run(drawn, x)
        worst = max(worst, compare_to_reference(actual, config, drawn, x,
                                                what="Keras (cached layer) vs verify.reference"))
    return worst
