"""Bidirectional(LSTM): every merge mode against Keras, and the merge rules by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verify import reference
from verify.suite.properties import run_id, runs


@pytest.mark.parametrize("run", runs("bidirectional_forward"), ids=run_id)
def test_reference_equals_keras_in_every_merge_mode(check_property: Any,
                                                    run: tuple[str, str | None]) -> None:
    name, stratum = run
    check_property(name, stratum)


@pytest.fixture
def halves() -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 3))
    forward = [rng.normal(size=(3, 8)), rng.normal(size=(2, 8)), rng.normal(size=8)]
    backward = [rng.normal(size=(3, 8)), rng.normal(size=(2, 8)), rng.normal(size=8)]
    return x, forward, backward


def test_directions_are_two_lstms(halves: Any) -> None:
    x, forward, backward = halves
    fwd_seq = reference.lstm(x, *forward, return_sequences=True, zero_output_for_mask=True)
    bwd_seq = reference.lstm(x, *backward, return_sequences=True, go_backwards=True,
                             zero_output_for_mask=True)[:, ::-1]
    both = reference.bidirectional(x, forward, backward, merge_mode=None, return_sequences=True)
    np.testing.assert_array_equal(both[0], fwd_seq)
    np.testing.assert_array_equal(both[1], bwd_seq)  # flipped back to time order
    merged = {mode: reference.bidirectional(x, forward, backward, merge_mode=mode,
                                            return_sequences=True)
              for mode in ("concat", "sum", "mul", "ave")}
    np.testing.assert_array_equal(merged["concat"], np.concatenate([fwd_seq, bwd_seq], -1))
    np.testing.assert_array_equal(merged["sum"], fwd_seq + bwd_seq)
    np.testing.assert_array_equal(merged["mul"], fwd_seq * bwd_seq)
    np.testing.assert_array_equal(merged["ave"], (fwd_seq + bwd_seq) / 2)


def test_return_state_order_is_fwd_h_fwd_c_bwd_h_bwd_c(halves: Any) -> None:
    x, forward, backward = halves
    _, fwd_h, fwd_c = reference.lstm(x, *forward, return_state=True)
    _, bwd_h, bwd_c = reference.lstm(x, *backward, return_state=True, go_backwards=True)
    result = reference.bidirectional(x, forward, backward, return_state=True)
    for got, want in zip(result[1:], [fwd_h, fwd_c, bwd_h, bwd_c], strict=True):
        np.testing.assert_array_equal(got, want)
