"""Inject one fault, run its target properties under the ``ci`` profile, report who caught it."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
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
        # The onnx property runs onnx's reference evaluator: draw what it can run (the
        # default, onnxruntime's, includes a SimpleRNN relu the evaluator refuses, which made
        # this property fail with no fault at all).
        return st.one_of(*[proofs.export_configs(cell, bidirectional=bidirectional,
                                                 layout=layout, runtime="reference")
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


def report_runs(targets: tuple[str, ...]) -> list[tuple[str, str | None]] | None:
    """What ``python -m verify report`` runs of ``targets``: each target property's covering
    plan (a stratum target, ``"model_forward[conv_front]"``, the plan's rows of that family
    only, which the report runs too); ``None`` when a target is not a report property."""
    found: list[tuple[str, str | None]] = []
    for target in targets:
        name, _, stratum = target.rstrip("]").partition("[")
        if name not in PROPERTIES or PROPERTIES[name].plan is None:
            return None
        families = {row.get("family") for row in PROPERTIES[name].covering().rows}
        run = (name, stratum if stratum in families else None)
        if run not in found and (name, None) not in found:
            found.append(run)
    return found


def hunt(fault: Fault, *, report: bool = False) -> Outcome:
    """Apply ``fault``, run its target properties in order until one fails, undo the fault.
    ``report``: run them as ``python -m verify report`` does (:func:`report_runs`, the
    covering plans) instead of as the test suite's strata."""
    from verify import keras_adapter

    planned = report_runs(fault.targets) if report and fault.targets else None
    if report and fault.targets and planned is None:
        raise ValueError(f"fault {fault.name!r}: its targets {fault.targets} are not all "
                         "report properties")

    started = time.perf_counter()
    with pytest.MonkeyPatch.context() as monkeypatch:
        fault.apply(monkeypatch)
        if fault.patches_keras:
            keras_adapter.clear()  # layers traced before the patch would not see it
        try:
            if fault.test is not None:  # a fault no property sees: its test must fail
                try:
                    fault.test()
                except Exception as error:
                    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
                    return Outcome(fault, "pytest", 1, f"{type(error).__name__}: {line}"[:160],
                                   time.perf_counter() - started)
            for run in planned or _runs(fault.targets):  # the suite's own runs
                caught = _plan_failure(run) if planned else _first_failure(run)
                if caught is not None:
                    examples, message = caught
                    return Outcome(fault, run_id(run), examples, message,
                                   time.perf_counter() - started)
        finally:
            if fault.patches_keras:
                keras_adapter.clear()
    return Outcome(fault, None, 0, "every run of the target properties passed",
                   time.perf_counter() - started)


def _plan_failure(run: tuple[str, str | None]) -> tuple[int, str] | None:
    """Run one property's covering plan as the report does (``ci`` profile; a family's rows
    only when ``run`` names one); examples until the failure and its first line, or None."""
    name, family = run
    prop = PROPERTIES[name]
    stats: dict[str, float] = {}
    if family is not None:
        whole = prop.covering()
        rows = tuple(row for row in whole.rows if row.get("family") == family)
        prop = replace(prop, plan=lambda: _Rows(whole, rows))
    try:
        prop.plan_test(ci_settings(), stats=stats)()
    except Exception as error:
        line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return int(stats["examples"]), f"{type(error).__name__}: {line}"[:160]
    return None


class _Rows:
    """A plan restricted to some of its rows (same declared space)."""

    def __init__(self, plan: Any, rows: tuple[Any, ...]) -> None:
        self.plan, self.rows = plan, rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self.plan, name)


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
