"""The time loop of the reference (:mod:`verify.reference`): one direction of any cell over a
sequence, with masks, ``go_backwards``, carried states and ``zero_output_for_mask`` — and the
options every entry point resolves the same way (cell, activations, semantics, dtype)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from verify import _validate, cells, precision
from verify.cells.base import CellWeights, finite
from verify.semantics import Semantics, resolve


def float_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be a NumPy float dtype, got {dtype!r}") from error
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(f"dtype must be a NumPy float dtype (float16/32/64), got {resolved}")
    return resolved


def inputs(x: Any, dtype: np.dtype[Any]) -> np.ndarray:
    x = _validate.numeric_array("x", x)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(f"x must have shape (batch, timesteps, features) with every size "
                         f">= 1, got {x.shape}")
    return finite("x", x.astype(dtype))


class Options:
    """A cell kind with validated options, activations and dtype: what every direction of one
    call shares."""

    def __init__(self, cell: str | cells.Cell, activation: Any, semantics: Any,
                 dtype: DTypeLike, options: Mapping[str, Any]) -> None:
        self.cell = cells.get(cell)
        self.semantics = resolve(semantics)
        self.dtype = float_dtype(dtype)
        self.options = self.cell.options(options)
        functions = {}
        names = {"activation": activation}
        if "recurrent_activation" in self.options:
            names["recurrent_activation"] = self.options["recurrent_activation"]
        for name, value in names.items():
            if not isinstance(value, str):
                raise TypeError(f"{name} must be an activation name (str), "
                                f"got {_validate.describe(value)}")
            try:
                functions[name] = self.semantics.activation(value)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        self.activation = functions["activation"]
        self.recurrent_activation = functions.get("recurrent_activation")

    def weights(self, arrays: Sequence[Any], *, input_dim: int | None,
                prefix: str = "") -> CellWeights:
        if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence) \
                or len(arrays) not in (2, 3):
            raise ValueError(f"{prefix or 'weights'} must be [kernel, recurrent_kernel] or "
                             f"[kernel, recurrent_kernel, bias], got {_validate.describe(arrays)}")
        bias = arrays[2] if len(arrays) == 3 else None
        return self.cell.check_weights(arrays[0], arrays[1], bias, input_dim=input_dim,
                                       dtype=self.dtype, options=self.options,
                                       prefix=f"{prefix}: " if prefix else "")

    def stepper(self, weights: CellWeights) -> cells.Stepper:
        return self.cell.stepper(weights, activation=self.activation,
                                 recurrent_activation=self.recurrent_activation,
                                 options=self.options)


def run(x: np.ndarray, stepper: cells.Stepper, *, semantics: Semantics, go_backwards: bool,
         mask: np.ndarray | None, states: list[np.ndarray],
         zero_output_for_mask: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """Every step's output (in processing order), and the final states.

    ``x`` is ``(batch, steps, features)``, or ``(2, batch, steps, features)`` for both
    directions of a Bidirectional layer at once (a paired stepper, states ``(2, batch, u)``,
    mask ``(2, batch, steps)``): the time axis is the second to last.
    """
    stepper = precision.emulating(stepper)  # itself, unless a TF32 emulation is asked for
    order = slice(None, None, -1) if go_backwards else slice(None)
    ordered_mask = None if mask is None else mask[..., order]
    rows = None if ordered_mask is None or ordered_mask.ndim != 2 \
        else prefix_rows(ordered_mask.T)
    if rows is not None:
        return _run_prefixes(x[..., order, :], rows, stepper, semantics=semantics,
                             states=states, zero_output_for_mask=zero_output_for_mask)
    # Every step's x_t @ kernel in one matmul (the kept steps' only), viewed time-major.
    projected = np.moveaxis(stepper.project(x[..., order, :], ordered_mask), -2, 0)
    kept = None if ordered_mask is None else np.moveaxis(ordered_mask, -1, 0)[..., None]
    h0 = states[0]
    output = h0 if semantics.masked_output == "carried_state" else np.zeros_like(h0)
    outputs = np.empty((x.shape[-2], *h0.shape), dtype=x.dtype)
    for t in range(x.shape[-2]):
        new = stepper.step(projected[t], states)
        if kept is None:
            states, output = new, new[0]
        else:
            keep = kept[t]
            states = [np.where(keep, value, old) for value, old in zip(new, states, strict=True)]
            if zero_output_for_mask:
                output = np.where(keep, new[0], 0.0)
            elif semantics.masked_output == "previous_output":
                output = np.where(keep, new[0], output)
            else:
                output = states[0]
        outputs[t] = output
    outputs = np.moveaxis(outputs, 0, -2)
    return outputs, states


def prefix_rows(kept: np.ndarray) -> tuple[np.ndarray, list[int]] | None:
    """For a ``(steps, batch)`` mask (processing order) whose rows each keep one run of steps
    touching an end of the sequence (right- or left-padding): the row order (most kept steps
    first) under which every step keeps exactly a prefix of the rows, and each step's prefix
    length; ``None`` for any other mask, or where little is masked."""
    batch = kept.shape[1]
    if batch < 2 or kept.mean() > 0.9:
        return None
    permutation = np.argsort(-kept.sum(axis=0), kind="stable")
    ordered = kept[:, permutation]
    lengths = ordered.sum(axis=1)
    if not np.array_equal(ordered, np.arange(batch) < lengths[:, None]):
        return None
    return permutation, lengths.tolist()


def _run_prefixes(x: np.ndarray, rows: tuple[np.ndarray, list[int]], stepper: cells.Stepper,
                  *, semantics: Semantics, states: list[np.ndarray],
                  zero_output_for_mask: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`run` for a padded batch ``x`` (processing order; :func:`prefix_rows`): with the
    rows sorted, each step computes the rows it keeps, a prefix, and nothing else — a masked
    row's states do not move, and its output is the rule's (zeros, the previous output, or
    the carried state), which the rows past the prefix already hold. The kept steps are
    projected in one matmul, laid out step after step, so each step reads one slice."""
    permutation, lengths = rows
    batch = len(permutation)
    prefix = np.arange(batch) < np.asarray(lengths)[:, None]  # (steps, batch), sorted rows
    steps_of, rank_of = np.nonzero(prefix)
    projected = stepper.project(x[permutation[rank_of], steps_of])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    states = [np.array(state[permutation]) for state in states]
    carried = semantics.masked_output == "carried_state"
    output = states[0] if carried else np.zeros_like(states[0])
    outputs = np.zeros((len(lengths), *states[0].shape), dtype=x.dtype)
    for t, count in enumerate(lengths):
        if count:
            new = stepper.step(projected[offsets[t]:offsets[t + 1]],
                               [state[:count] for state in states])
            for value, state in zip(new, states, strict=True):
                state[:count] = value
            if zero_output_for_mask:
                outputs[t, :count] = new[0]
                continue
            if not carried:
                output[:count] = new[0]
        elif zero_output_for_mask:
            continue
        outputs[t] = output
    inverse = np.argsort(permutation)
    return np.moveaxis(outputs[:, inverse], 0, 1), [state[inverse] for state in states]


def unrolled_zeroing(outputs: np.ndarray, mask: np.ndarray, semantics: Semantics) -> np.ndarray:
    """What Keras's unrolled loop (``unroll=True``) does with ``zero_output_for_mask`` to the
    output sequence ``outputs`` (processing order, masked steps holding the previous output):
    zeroes it where ``mask`` — in *time* order — is False (TensorFlow, torch, Keras 2: with
    ``go_backwards`` the wrong steps), or leaves it (jax). See ``Semantics.unrolled_zeroing``."""
    if semantics.unrolled_zeroing == "ignored":
        return outputs
    return np.where(mask[..., None], outputs, 0.0)
