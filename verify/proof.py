"""The proof that a NumPy forward equals Keras: the comparison ``check``, ``migrate`` and the
property suite all run.

Keras computes in float32, :func:`verify.model.forward` in float64. Each comparison reruns the
forward with every weight and input moved by one float32 step: how far that moves the outputs
(``sensitivity``) sets the tolerance (:func:`verify.compare.forward_tolerance`), and a case
whose outputs move by more than :data:`verify.compare.ILL_CONDITIONED` of their size has no
float32 answer to check: :class:`verify.compare.IllConditioned` is raised, never a loose
comparison. :func:`sample_inputs` draws the random inputs a saved model is proven on.

Keras is imported on first use (:mod:`verify.keras_adapter`), not on import of this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from verify import compare
from verify.errors import ModelFileError
from verify.keras_config import input_readers
from verify.model import forward
from verify.semantics import Semantics


class SavedModel(Protocol):
    """What :func:`sample_inputs` reads of a model (a :class:`verify.files.ModelFile`)."""

    def layers(self) -> list[tuple[str, Mapping[str, Any]]]: ...

    def inputs(self) -> list[tuple[tuple[int | None, ...], str]]: ...

    def input_readers(self) -> list[list[Mapping[str, Any]]]: ...


def nudged(arrays: Sequence[np.ndarray] | None, seed: int, *, precision: str = "float32"
           ) -> list[np.ndarray] | None:
    """Every array moved by one float32 (or ``precision``) step (``None`` stays ``None``)."""
    if arrays is None:
        return None
    return [compare.nudge(array, seed=seed + index, precision=precision)
            for index, array in enumerate(arrays)]


def listed(result: Any) -> list[np.ndarray]:
    """One output or a list of outputs, as a list."""
    return result if isinstance(result, list) else [result]


def compare_outputs(actual: Sequence[np.ndarray], expected: Sequence[np.ndarray],
                    perturbed: Sequence[Sequence[np.ndarray]], *, what: str, config: Any,
                    snippet: compare.Snippet, precision: str = "float32") -> float:
    """Compare every output under the data-scaled tolerance (``perturbed``: the reference's
    nudged and float32 runs, see :func:`compare.forward_tolerance`; at ``precision="tf32"``
    its TF32-nudged run); the worst error divided by the tolerance. Raises
    :class:`compare.IllConditioned` for a case with no answer at that precision,
    :class:`compare.Mismatch` on a difference."""
    __tracebackhide__ = True
    from verify import keras_adapter

    atol, sensitivity = compare.forward_tolerance(expected, perturbed, precision=precision)
    if sensitivity > compare.ILL_CONDITIONED_AT[precision]:
        raise compare.IllConditioned(f"{what}: outputs move by {sensitivity:.3g} of their size "
                                     f"under one {precision} step of the data")
    if precision != "float32":
        what = f"{what} (bound for {precision} matmuls)"
    versions = keras_adapter.info().describe()
    compare.assert_equal(len(actual), len(expected), what=f"{what}: number of outputs",
                         config=config, versions=versions, snippet=snippet)
    return max(
        compare.assert_close(got, want, atol=atol, what=f"{what}: output {index} differs",
                             config=config, versions=versions, snippet=snippet)
        for index, (got, want) in enumerate(zip(actual, expected, strict=True))
    )


def _nudge_input(array: np.ndarray, seed: int, keep: Sequence[float], *, tokens: bool,
                 precision: str = "float32") -> np.ndarray:
    """Float inputs move by a float32 step (except the ``Masking`` values in ``keep``); token
    ids (an input an ``Embedding`` reads, whatever its dtype, or integers) stay as they are."""
    if tokens or np.asarray(array).dtype.kind in "iu":
        return array
    return compare.nudge(array, seed=seed, keep=keep, precision=precision)


def _token_inputs(config: Mapping[str, Any], count: int) -> list[bool]:
    """Which of the model's ``count`` inputs an ``Embedding`` reads (all False when the
    config does not say)."""
    try:
        readers = input_readers(config)
    except (KeyError, TypeError, ValueError, ModelFileError):
        return [False] * count
    if len(readers) != count:
        return [False] * count
    return [any(layer.get("class_name") == "Embedding" for layer in found) for found in readers]


def check_against_forward(actual: Sequence[np.ndarray], config: Mapping[str, Any],
                          weights: Mapping[str, Sequence[np.ndarray]],
                          x: np.ndarray | list[np.ndarray], *, semantics: Semantics,
                          mask_values: Sequence[float], label: Any, what: str,
                          snippet: compare.Snippet | None = None,
                          recorded_masks: bool = True, precision: str = "float32") -> float:
    """Keras's outputs ``actual`` equal :func:`verify.model.forward` of a model ``config`` and
    its ``weights`` (by layer path) under ``semantics``, within the tolerance that a float32
    (or ``precision``) step of every weight and input moves the result by (``mask_values``, a
    Masking layer's values, are not moved)."""
    __tracebackhide__ = True
    expected = listed(forward(config, weights, x, semantics=semantics,
                              recorded_masks=recorded_masks))
    moved = {path: nudged(list(arrays), 1 + 10 * index, precision=precision) or []
             for index, (path, arrays) in enumerate(weights.items())}
    tokens = _token_inputs(config, len(x) if isinstance(x, list) else 1)
    moved_x = ([_nudge_input(item, index, mask_values, tokens=tokens[index],
                             precision=precision) for index, item in enumerate(x)]
               if isinstance(x, list) else _nudge_input(x, 0, mask_values, tokens=tokens[0],
                                                        precision=precision))
    perturbed = [listed(forward(config, moved, moved_x, semantics=semantics,
                                recorded_masks=recorded_masks))]
    if precision == "float32":
        perturbed.append(listed(forward(config, weights, x, semantics=semantics,
                                        dtype=np.float32, recorded_masks=recorded_masks)))
    shown = ("[" + ", ".join(map(compare.format_array, x)) + "]" if isinstance(x, list)
             else compare.format_array(x))
    snippet = snippet or ("# model: the Keras model under test\nimport verify\n"
                          f"outputs = verify.predict(model, {shown})")
    return compare_outputs(actual, expected, perturbed, what=what, config=label,
                           snippet=snippet, precision=precision)


def check_predict(model: Any, x: np.ndarray | list[np.ndarray], *,
                  actual: Sequence[np.ndarray] | None = None, label: Any = None,
                  snippet: compare.Snippet | None = None, recorded_masks: bool = True,
                  precision: str = "float32") -> float:
    """:func:`verify.predict` equals the Keras ``model``'s own outputs for ``x`` (with the
    weights the model holds). ``actual`` are those outputs if already computed.
    ``recorded_masks=False``: masks propagated by :mod:`verify.layers`' rules rather than read
    from a Keras 3 config (how the properties check those rules). ``precision``: the bound
    for Keras's matmuls at that precision (``"tf32"``: a GPU's default, see
    :func:`verify.compare.forward_tolerance`)."""
    __tracebackhide__ = True
    from verify import keras_adapter

    if actual is None:
        actual = keras_adapter.call_model(model, x)
    records = keras_adapter.layer_records(model)
    return check_against_forward(
        actual, model.get_config(), {record.path: record.weights for record in records}, x,
        semantics=keras_adapter.running_semantics(),
        mask_values=_masked_values((record.class_name, record.config) for record in records),
        label=label if label is not None else model.name, recorded_masks=recorded_masks,
        snippet=snippet, what="Keras model vs verify.predict", precision=precision)


def mask_values(read: SavedModel) -> list[float]:
    """The values the ``Masking`` layers of a saved model mask (kept as they are when inputs
    are nudged)."""
    return _masked_values((layer["class_name"], layer["config"]) for _, layer in read.layers())


def _masked_values(layers: Iterable[tuple[str, Mapping[str, Any]]]) -> list[float]:
    """``mask_value`` of every ``Masking`` layer among ``(class name, config)`` pairs."""
    return [float(config.get("mask_value", 0.0)) for kind, config in layers if kind == "Masking"]


def _numeric_dtype(name: str) -> str:
    """The dtype an input array is drawn in: the recorded one when NumPy has it as an integer
    or float type, else float32 (strings, bfloat16 and the like)."""
    try:
        return name if np.dtype(name).kind in "iuf" else "float32"
    except TypeError:
        return "float32"


def sample_inputs(read: SavedModel, rng: np.random.Generator, *, timesteps: int = 10,
                  batch: int = 4) -> list[np.ndarray]:
    """Random inputs for the model in ``read``, one array per input, in the dtype the file
    records: unknown axes get ``timesteps``; an input an ``Embedding`` reads gets token ids
    below that Embedding's ``input_dim`` whatever dtype the file records (Keras writes float32
    for almost every Embedding input); where the model masks (``mask_zero`` or a Masking layer)
    every other row is right-padded (token 0, or the mask value) so that masks are exercised."""
    masking = mask_values(read)
    arrays = []
    for (shape, dtype), readers in zip(read.inputs(), read.input_readers(), strict=True):
        full = (batch, *(timesteps if dim is None else dim for dim in shape[1:]))
        vocab = min([int(layer["config"]["input_dim"]) for layer in readers
                     if layer.get("class_name") == "Embedding"] or [0])
        kind = _numeric_dtype(dtype)
        tokens = vocab > 0 or np.dtype(kind).kind in "iu"
        if tokens:
            x = rng.integers(1, max(vocab, 2), full).astype(kind)
        else:
            x = rng.uniform(-1, 1, full).astype(np.float32)
        if (tokens or masking) and x.ndim >= 2:
            for row in range(0, batch, 2):
                x[row, rng.integers(1, x.shape[1] + 1):] = 0 if tokens else masking[0]
        arrays.append(x)
    return arrays


__all__ = ["SavedModel", "check_against_forward", "check_predict", "compare_outputs",
           "listed", "mask_values", "nudged", "sample_inputs"]
