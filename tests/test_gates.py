"""Gate blocks: split/join round-trip, and the split is semantically right in real Keras."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from verify import gates
from verify.properties import GATE_EFFECTS


def fused_arrays() -> st.SearchStrategy[np.ndarray]:
    """Arrays shaped like a kernel, recurrent kernel or bias: last axis 4u."""
    shapes = st.tuples(st.integers(1, 5), st.integers(1, 6)).flatmap(
        lambda du: st.sampled_from([(4 * du[1],), (du[0], 4 * du[1]), (du[1], 4 * du[1])])
    )
    return shapes.flatmap(lambda shape: hnp.arrays(np.float32, shape,
                                                   elements=st.floats(-1, 1, width=32)))


@given(fused_arrays())
def test_split_then_join_is_identity(array: np.ndarray) -> None:
    parts = gates.split(array)
    assert list(parts) == list(gates.GATES)
    units = array.shape[-1] // 4
    for gate, part in parts.items():
        assert part.shape == (*array.shape[:-1], units)
        np.testing.assert_array_equal(part, array[..., gates.block(gate, units)])
    np.testing.assert_array_equal(gates.join(parts), array)


@given(st.integers(1, 6), st.integers(1, 4))
def test_join_then_split_is_identity(units: int, rows: int) -> None:
    parts = {gate: np.full((rows, units), index, np.float32)
             for index, gate in enumerate(gates.GATES)}
    again = gates.split(gates.join(parts))
    for gate in gates.GATES:
        np.testing.assert_array_equal(again[gate], parts[gate])


def test_gate_order_is_keras_order() -> None:
    assert gates.GATES == ("i", "f", "c", "o")
    assert gates.block("i", 128) == slice(0, 128)
    assert gates.block("o", 128) == slice(384, 512)


@pytest.mark.parametrize("gate", list(GATE_EFFECTS))
def test_perturbing_one_gate_block_has_that_gates_effect_in_keras(check_property: Any,
                                                                  gate: str) -> None:
    check_property(f"gate_{gate}")
