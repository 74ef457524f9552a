"""The suite's sharpness is pinned: a defect in Keras just above float32 noise is caught."""

from __future__ import annotations

from typing import Any

import pytest

from .hunt import hunt
from .sharpness import PINNED, PINNED_FOR, TARGETS, defect


@pytest.mark.parametrize("check", list(TARGETS))
def test_a_relative_defect_of_1e4_in_one_gate_block_is_caught(check: str, adapter: Any) -> None:
    """As the report runs them (its covering plans); 1e-3 where :data:`PINNED_FOR` says."""
    fault = defect(check, PINNED_FOR.get(check, PINNED))
    outcome = hunt(fault, report=True)
    assert outcome.caught, (
        f"{fault.description}: not caught by {', '.join(fault.targets)} under the ci profile; "
        "the tolerance or the strategies have lost sharpness")


@pytest.mark.parametrize("check", ["LSTM", "LSTM in models"])
def test_a_zero_defect_is_not_caught(check: str, adapter: Any) -> None:
    """The control: the defect's own machinery (a wrapped Keras call) changes nothing when
    the defect is zero. (It once broke Keras's build of functional models, so model_forward
    'caught' every defect, however small, by an unrelated error.)"""
    outcome = hunt(defect(check, 0.0), report=True)
    assert not outcome.caught, outcome.message
