"""Every fault in the catalogue must make the suite fail (mutation score 100 %)."""

from __future__ import annotations

from typing import Any

import pytest

from verify.suite.properties import PROPERTIES

from .catalogue import CATALOGUE, Fault
from .hunt import hunt, report_runs


@pytest.mark.parametrize("fault", CATALOGUE, ids=lambda fault: fault.name)
def test_fault_is_caught(fault: Fault, adapter: Any) -> None:
    """Where the report claims the faulty code's area (every target is a report property),
    the report's own covering run must catch the fault; elsewhere (the conversion proofs,
    the artifacts) the test suite's run of its targets must."""
    if fault.requires is not None:
        fault.requires()  # skips, saying why, where the targets cannot run
    by_report = bool(fault.targets) and report_runs(fault.targets) is not None
    outcome = hunt(fault, report=by_report)
    assert outcome.caught, (
        f"seeded fault {fault.name!r} ({fault.description}) was not caught by "
        f"{'the report runs of ' if by_report else ''}{', '.join(fault.targets)} in "
        f"{outcome.examples} examples under the ci profile")


def test_a_failure_is_reproducible_and_says_how(adapter: Any) -> None:
    """Under the ci profile a failure is the same on every run (derandomized generation), and it
    prints Hypothesis's reproduction blob and a runnable snippet that rebuilds the failing case.
    Shrinking is left out here: Hypothesis bounds it in time, so on a slow backend (jax
    compiling every new shape) two runs may stop shrinking at different examples."""
    from .catalogue import FAULTS
    from .hunt import ci_settings

    failures = []
    with pytest.MonkeyPatch.context() as monkeypatch:
        FAULTS["gate_order_i_f"].apply(monkeypatch)
        for _ in range(2):
            test = ci_settings()(PROPERTIES["lstm_forward"].hypothesis_test("no_mask"))
            with pytest.raises(AssertionError) as raised:
                test()
            failures.append(raised.value)
    first, second = failures
    assert str(first) == str(second), "the ci profile must find the same failing example"
    notes = "\n".join(getattr(first, "__notes__", []))
    assert "@reproduce_failure(" in notes
    assert "layer = keras_adapter.built(LSTMConfig(" in str(first)
    assert "layer.set_weights([np.array(" in str(first)


@pytest.mark.parametrize("name", ["torch_export", "onnx_export"])
def test_the_export_properties_pass_without_a_fault(name: str, adapter: Any) -> None:
    """A conversion fault counts as caught when its property fails: the property must pass
    with no fault in place (once it drew a relu SimpleRNN that onnx's evaluator refuses, so
    every ONNX fault was 'caught' by an environment error)."""
    from .catalogue import _needs_onnx, _needs_torch
    from .hunt import _first_failure

    (_needs_torch if name == "torch_export" else _needs_onnx)()
    assert _first_failure((name, None)) is None
