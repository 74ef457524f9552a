"""Which kernel Keras runs, checked against its own rules, and the default precision's bound
(verify.suite.properties.kernels), on the running Keras and device."""

from __future__ import annotations

from typing import Any

import pytest

from verify.suite.properties import run_id, runs


@pytest.mark.parametrize("run", runs("kernels", "default_precision"), ids=run_id)
def test_kernel_property(check_property: Any, run: tuple[str, str | None]) -> None:
    name, stratum = run
    check_property(name, stratum)
