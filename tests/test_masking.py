"""Masks: states carried through masked steps, and the output rules that differ between
Keras versions and backends, shown to be real on the installed Keras."""

from __future__ import annotations

from typing import Any

import numpy as np

from verify import reference, semantics
from verify.config import LSTMConfig


def _case() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    return {
        "weights": [rng.uniform(-1, 1, (2, 12)).astype(np.float32),
                    rng.uniform(-1, 1, (3, 12)).astype(np.float32),
                    rng.uniform(-1, 1, 12).astype(np.float32)],
        "x": rng.uniform(-1, 1, (2, 4, 2)).astype(np.float32),
        # Row 0 is left-padded (two leading masked steps), row 1 masks its last step.
        "mask": np.array([[False, False, True, True], [True, True, True, False]]),
        "initial_state": [rng.uniform(-1, 1, (2, 3)).astype(np.float32) for _ in range(2)],
    }


def _keras(adapter: Any, case: dict[str, Any], **options: Any) -> list[np.ndarray]:
    config = LSTMConfig(units=3, input_dim=2, return_sequences=True, return_state=True,
                        **options)
    layer = adapter.built(config)
    layer.set_weights(case["weights"])
    return layer(case["x"], mask=case["mask"], initial_state=case["initial_state"])


def _reference(case: dict[str, Any], rules: semantics.Semantics, **options: Any) -> list[Any]:
    result = reference.lstm(case["x"], *case["weights"], mask=case["mask"],
                            initial_state=case["initial_state"], return_sequences=True,
                            return_state=True, semantics=rules, **options)
    assert isinstance(result, list)
    return result


def test_masked_output_rule_of_the_installed_keras_is_the_detected_one(adapter: Any) -> None:
    case = _case()
    sequence, _, _ = _keras(adapter, case)
    detected = semantics.default()
    other = semantics.KERAS3_JAX if detected.masked_output_is_previous() else semantics.KERAS3
    expected = _reference(case, detected)
    np.testing.assert_allclose(sequence, expected[0], atol=1e-6)
    # The two rules differ exactly at row 0's leading masked steps (non-zero initial state).
    alternative = _reference(case, other)
    leading = (0, slice(0, 2))
    assert not np.allclose(alternative[0][leading], sequence[leading], atol=1e-3)
    np.testing.assert_allclose(np.delete(alternative[0], 0, axis=0),
                               np.delete(expected[0], 0, axis=0), atol=1e-12)
    if detected.masked_output_is_previous():
        np.testing.assert_array_equal(sequence[leading], 0.0)
    else:
        np.testing.assert_allclose(sequence[leading],
                                   np.broadcast_to(case["initial_state"][0][0], (2, 3)))


def test_states_are_carried_through_masked_steps(adapter: Any) -> None:
    case = _case()
    _, h, c = _keras(adapter, case)
    # Row 1's last step is masked: its final state is the state after step 3.
    unmasked = reference.lstm(case["x"][1:, :3], *case["weights"], return_state=True,
                              initial_state=[s[1:] for s in case["initial_state"]])
    np.testing.assert_allclose(h[1:], unmasked[1], atol=1e-6)
    np.testing.assert_allclose(c[1:], unmasked[2], atol=1e-6)


def test_zero_output_for_mask_zeroes_the_last_output_too(adapter: Any) -> None:
    """keras-team/keras#17596: with return_sequences=False and the last step masked, the
    returned output is zeros, not the last unmasked output."""
    case = _case()
    config = LSTMConfig(units=3, input_dim=2, zero_output_for_mask=True)
    layer = adapter.built(config)
    layer.set_weights(case["weights"])
    (last,) = layer(case["x"], mask=case["mask"], initial_state=case["initial_state"])
    np.testing.assert_array_equal(last[1], 0.0)
    expected = reference.lstm(case["x"], *case["weights"], mask=case["mask"],
                              initial_state=case["initial_state"], zero_output_for_mask=True)
    np.testing.assert_allclose(last, expected, atol=1e-6)
