"""Gate blocks of every cell kind: split/join round-trip, and the order is semantically right in
real Keras (saturating one block has exactly that gate's effect)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from verify import cells, gates
from verify.suite.properties import run_id, runs


def fused_arrays() -> st.SearchStrategy[np.ndarray]:
    """Arrays shaped like a kernel, recurrent kernel or bias: last axis 4u."""
    shapes = st.tuples(st.integers(1, 5), st.integers(1, 6)).flatmap(
        lambda du: st.sampled_from([(4 * du[1],), (du[0], 4 * du[1]), (du[1], 4 * du[1])])
    )
    return shapes.flatmap(lambda shape: hnp.arrays(np.float32, shape,
                                                   elements=st.floats(-1, 1, width=32)))


@pytest.mark.parametrize("cell", list(cells.CELLS))
@given(data=st.data())
def test_every_cell_splits_and_joins_by_its_gates(cell: str, data: st.DataObject) -> None:
    kind = cells.get(cell)
    units = data.draw(st.integers(1, 5), label="units")
    array = np.arange(2 * kind.blocks * units, dtype=np.float32).reshape(2, -1)
    parts = gates.split(array, cell=cell)
    assert list(parts) == list(kind.gates)
    for index, gate in enumerate(kind.gates):
        np.testing.assert_array_equal(parts[gate], array[:, index * units:(index + 1) * units])
        assert gates.block(gate, units, cell=cell) == slice(index * units, (index + 1) * units)
    np.testing.assert_array_equal(gates.join(parts, cell=cell), array)


def test_gru_gate_order_is_z_r_h() -> None:
    assert cells.GRU.gates == ("z", "r", "h")
    assert gates.block("r", 32, cell="GRU") == slice(32, 64)
    assert cells.SIMPLE_RNN.gates == ("h",)


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


GATE_PROPERTIES = [name for cell, prefix in ((cells.LSTM, ""), (cells.GRU, "gru_"),
                                             (cells.SIMPLE_RNN, "simple_rnn_"))
                   for name in (f"{prefix}gate_{gate}" for gate in cell.gates)]


@pytest.mark.parametrize("run", runs(*GATE_PROPERTIES), ids=run_id)
def test_saturating_one_gate_block_has_that_gates_effect_in_keras(
        check_property: Any, run: tuple[str, str | None]) -> None:
    name, stratum = run
    check_property(name, stratum)
