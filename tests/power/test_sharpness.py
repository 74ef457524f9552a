"""The suite's sharpness is pinned: a defect in Keras just above float32 noise is caught."""

from __future__ import annotations

from typing import Any

import pytest

from .hunt import hunt
from .sharpness import PINNED, TARGETS, defect


@pytest.mark.parametrize("cell", list(TARGETS))
def test_a_relative_defect_of_1e4_in_one_gate_block_is_caught(cell: str, adapter: Any) -> None:
    fault = defect(cell, PINNED)
    outcome = hunt(fault)
    assert outcome.caught, (
        f"{fault.description}: not caught by {', '.join(fault.targets)} under the ci profile; "
        "the forward tolerance or the strategies have lost sharpness")
