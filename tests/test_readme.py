"""The README's formula table is executed: each formula must equal its library call.

(The doctest block in the README runs too, through ``--doctest-glob=README.md``.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verify import shapes
from verify.config import (
    BidirectionalConfig,
    DenseConfig,
    GRUConfig,
    LSTMConfig,
    SimpleRNNConfig,
)

README = Path(__file__).resolve().parent.parent / "README.md"
NAMESPACE = {
    **{name: getattr(shapes, name) for name in shapes.__all__},
    "LSTMConfig": LSTMConfig, "BidirectionalConfig": BidirectionalConfig,
    "DenseConfig": DenseConfig, "GRUConfig": GRUConfig, "SimpleRNNConfig": SimpleRNNConfig,
}


def formula_rows() -> list[tuple[str, str, str]]:
    section = README.read_text().split("## The formulas", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and all(cell.startswith("`") for cell in cells[1:]):
            rows.append((cells[0], cells[1].strip("`"), cells[2].strip("`")))
    return rows


ROWS = formula_rows()


def test_the_table_is_found() -> None:
    assert len(ROWS) >= 24, "the README's formula table changed shape; update this test"


@pytest.mark.parametrize(("quantity", "formula", "call"), ROWS, ids=[row[0] for row in ROWS])
@given(d=st.integers(1, 300), u=st.integers(1, 300), k=st.integers(1, 50),
       T=st.integers(1, 100))
def test_formula_equals_library(quantity: str, formula: str, call: str, d: int, u: int, k: int,
                                T: int) -> None:
    variables = {"d": d, "u": u, "k": k, "T": T}
    assert eval(formula, {}, variables) == eval(call, NAMESPACE, variables), quantity


def test_quick_start_is_what_ci_runs() -> None:
    commands = re.findall(r"```bash\n(.+?)\n```", README.read_text())
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[:2] == ['pip install -e ".[tf,test]" && python -m verify report',
                            "pytest -n auto"]
    for command in commands[:2]:
        assert command in ci, f"{command!r} is not run verbatim by .ci/run"
