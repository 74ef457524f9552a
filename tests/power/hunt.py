"""Inject one fault, run its target properties under the ``ci`` profile, report who caught it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import Phase, given, settings

from verify.suite import profiles
from verify.suite.properties import PROPERTIES, Property, run_id, runs

from .catalogue import Fault


@dataclass(frozen=True)
class Outcome:
    fault: Fault
    caught_by: str | None  # the property that failed, None if every target passed
    examples: int  # examples the catching run needed (0 when missed)
    message: str  # first line of the failure
    seconds: float

    @property
    def caught(self) -> bool:
        return self.caught_by is not None


def _export_properties() -> dict[str, Property]:
    """The conversion proofs of tests/test_convert.py as properties, for the faults in
    ``--layout torch|onnx`` (the report does not run them: they need torch/onnx)."""
    from hypothesis import strategies as st

    from tests import test_convert as proofs

    def configs(layout: str) -> st.SearchStrategy[Any]:
        return st.one_of(*[proofs.export_configs(cell, bidirectional=bidirectional,
                                                 layout=layout)
                           for cell in ("GRU", "LSTM", "SimpleRNN")
                           for bidirectional in (False, True)])

    def torch_check(**case: Any) -> float:
        from verify import keras_adapter

        return proofs.check_torch_export(keras_adapter, pytest.importorskip("torch"), case)

    def onnx_check(**case: Any) -> float:
        from verify import keras_adapter

        return proofs.check_onnx_export(keras_adapter, pytest.importorskip("onnx"),
                                        "reference", case)

    return {
        "torch_export": Property("torch_export", "--layout torch in torch.nn",
                                 lambda: proofs.cases(configs("torch")), torch_check),
        "onnx_export": Property("onnx_export", "--layout onnx in onnx's evaluator",
                                lambda: proofs.cases(configs("onnx")), onnx_check),
    }


def _runs(targets: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """The suite's runs of each target: a property (every stratum of it, in order) or one
    stratum, ``"model_forward[normalized_stack]"``."""
    extra = _export_properties()
    found: list[tuple[str, str | None]] = []
    for target in targets:
        if target.endswith("]"):
            name, stratum = target[:-1].split("[")
            found.append((name, stratum))
        else:
            found.extend([(target, None)] if target in extra else runs(target))
    return found


def _property(name: str) -> Property:
    return PROPERTIES[name] if name in PROPERTIES else _export_properties()[name]


def ci_settings() -> settings:
    """The ``ci`` profile (derandomized, so an outcome is reproducible), without the shrink
    phase: the first failing example is the catch; shrinking it would only cost time."""
    profiles.register()
    return settings(settings.get_profile("ci"), phases=(Phase.explicit, Phase.generate))


def hunt(fault: Fault) -> Outcome:
    """Apply ``fault``, run its target properties in order until one fails, undo the fault."""
    from verify import keras_adapter

    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as monkeypatch:
        fault.apply(monkeypatch)
        if fault.patches_keras:
            keras_adapter.clear()  # layers traced before the patch would not see it
        try:
            for run in _runs(fault.targets):  # the suite's own test runs, strata included
                caught = _first_failure(run)
                if caught is not None:
                    examples, message = caught
                    return Outcome(fault, run_id(run), examples, message,
                                   time.perf_counter() - started)
        finally:
            if fault.patches_keras:
                keras_adapter.clear()
    return Outcome(fault, None, 0, "every run of the target properties passed",
                   time.perf_counter() - started)


def _first_failure(run: tuple[str, str | None]) -> tuple[int, str] | None:
    """Run one property (stratum) as the suite does, under the ``ci`` profile; the number
    of the first failing example and the first line of its failure, or ``None``."""
    name, stratum = run
    prop = _property(name)
    calls = 0
    first: int | None = None

    @ci_settings()
    @given(case=prop.strategy(stratum))
    def test(case: dict[str, Any]) -> None:
        nonlocal calls, first
        calls += 1
        try:
            prop.run(case)
        except Exception:
            first = calls if first is None else first
            raise

    try:
        test()
    except Exception as error:  # the property failed: the fault is caught
        line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return first or calls, f"{type(error).__name__}: {line}"[:160]
    return None
