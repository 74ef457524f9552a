"""Every fault in the catalogue must make the suite fail (mutation score 100 %)."""

from __future__ import annotations

from typing import Any

import pytest

from .catalogue import CATALOGUE, Fault
from .hunt import hunt


@pytest.mark.parametrize("fault", CATALOGUE, ids=lambda fault: fault.name)
def test_fault_is_caught(fault: Fault, adapter: Any) -> None:
    outcome = hunt(fault)
    assert outcome.caught, (
        f"seeded fault {fault.name!r} ({fault.description}) was not caught by "
        f"{', '.join(fault.targets)} in {outcome.examples} examples under the ci profile")
