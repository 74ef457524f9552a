"""The checks themselves, shared by the test suite and ``python -m verify report``.

A :class:`Property` pairs a Hypothesis strategy that draws one case (a dict of keyword
arguments, :mod:`~verify.suite.properties.cases`) with a check that builds real Keras for it and
raises :class:`~verify.compare.Mismatch` when Keras and the documentation disagree. A check
returns its worst error divided by its tolerance (0.0 for exact checks), so reports can show
the margin. The checks, by kind: :mod:`~verify.suite.properties.structure` (shapes, counts, names),
:mod:`~verify.suite.properties.gate_semantics` (gate order proven by saturation) and
:mod:`~verify.suite.properties.forward` (outputs against the reference and ``verify.predict``).
Keras is imported on the first check, not on import of this package: drawing cases and
collecting tests need no TensorFlow.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, reject, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import UnsatisfiedAssumption

from verify import _validate, cells
from verify.suite.coverage import Coverage
from verify.suite.plans import Plan, Row
from verify.suite.properties import cases, spaces
from verify.suite.properties.cases import Case
from verify.suite.properties.forward import (
    check_forward,
    check_harness,
    check_model_forward,
    check_predict,
    check_stateful,
    compare_to_reference,
    reference_outputs,
)
from verify.suite.properties.gate_semantics import SATURATION, check_gate_block
from verify.suite.properties.kernels import check_default_precision, check_kernel
from verify.suite.properties.structure import check_shapes


@dataclass(frozen=True)
class Property:
    """A named check and the strategy that draws its cases.

    ``strata`` split the cases along one categorical choice (a merge mode, a kind of mask,
    GRU's ``reset_after``) into strategies that each fix it. The test suite runs every stratum
    with its own example budget: Hypothesis's generation mutates earlier examples, so one run
    over all values of a choice often draws some of them rarely or never (seen:
    ``merge_mode=None`` in 0 of 60 examples). ``cases`` still draws every value, for the report.
    """

    name: str
    summary: str
    cases: Callable[[], st.SearchStrategy[Case]]
    check: Callable[..., float]
    strata: Mapping[str, Callable[[], st.SearchStrategy[Case]]] = field(default_factory=dict)
    #: Strata whose examples cost much more than the others run this fraction of the
    #: profile's budget (at least 10 examples), e.g. ``{"real_size": 0.25}``.
    budget: Mapping[str, float] = field(default_factory=dict)
    #: The declared option space (:class:`verify.suite.plans.Plan`) and the cases of one of
    #: its rows: what the covering run (:meth:`plan_test`) draws.
    plan: Callable[[], Plan] | None = None
    row_cases: Callable[[Row], st.SearchStrategy[Case]] | None = None
    #: Examples per row of the covering run under the ``ci`` budget (scaled with the
    #: profile's ``max_examples``; at least one).
    row_examples: int = 1
    #: ``"strict"``: every example runs with the backend's float32 matmuls at IEEE float32
    #: (:func:`verify.keras_adapter.strict_precision`; what a CPU always does); ``"default"``:
    #: at whatever the device's settings give (the default-precision property).
    precision: str = "strict"

    def run(self, case: Case) -> float:
        """Check one drawn case at this property's :attr:`precision`; the worst error /
        tolerance (0.0 for exact checks). Keys starting with ``_`` (what the strategy
        recorded of its choices) are not arguments."""
        with _precision(self.precision):
            return self.check(**{key: value for key, value in case.items()
                                 if not key.startswith("_")})

    def strategy(self, stratum: str | None = None) -> st.SearchStrategy[Case]:
        """The cases of one stratum (``None``: every case)."""
        if stratum is None:
            return self.cases()
        return self.strata[_validate.one_of("stratum", stratum, tuple(self.strata))]()

    def stratum_names(self) -> tuple[str | None, ...]:
        """What the suite runs: every stratum, or the whole property when it has none."""
        return tuple(self.strata) or (None,)

    def hypothesis_test(self, stratum: str | None = None,
                        stats: dict[str, float] | None = None,
                        on_example: Callable[[dict[str, float]], None] | None = None,
                        coverage: Coverage | None = None) -> Callable[[], None]:
        """A Hypothesis test of this property (or of one stratum of it) under the current
        settings profile. ``stats``, if given, is filled with the examples run, those rejected
        as ill-conditioned and the worst error / tolerance; ``on_example(stats)`` is called
        after each example that passed; ``coverage`` counts the cases checked."""
        tally = _tally(stats)
        test = self._test(self.strategy(stratum), tally, on_example, coverage)
        test.__name__ = self.name if stratum is None else f"{self.name}[{stratum}]"
        if stratum is not None and stratum in self.budget:
            current = settings.get_profile(settings.get_current_profile_name())
            examples = max(10, math.ceil(current.max_examples * self.budget[stratum]))
            return settings(current, max_examples=examples)(test)
        return test

    def covering(self) -> Plan:
        """The plan of this property (its declared option space and covering rows)."""
        if self.plan is None:
            raise ValueError(f"property {self.name!r} declares no plan")
        return self.plan()

    def plan_test(self, settings_: settings, *, seed: int | None = None,
                  stats: dict[str, float] | None = None,
                  on_example: Callable[[dict[str, float]], None] | None = None,
                  coverage: Coverage | None = None) -> Callable[[], None]:
        """The covering run (what ``python -m verify report`` runs): one Hypothesis test per
        row of :meth:`covering`, the row's options fixed, ``settings_.max_examples`` shared
        out as :attr:`row_examples` per row, scaled by ``settings_.max_examples`` / 60 (the ci
        budget; at least one per row). Hypothesis's first example of a test is its
        simplest (1 unit, 1 step, ...): a row skips it and checks the next, drawn at random;
        each row runs without the example database (its rows are not tests of their own).
        Stops at the first failing row, with the row in the failure's notes."""
        if self.row_cases is None:
            raise ValueError(f"property {self.name!r} declares no plan")
        row_cases = self.row_cases
        tally = _tally(stats)
        rows = self.covering().rows
        per_row = max(1, round(self.row_examples * settings_.max_examples / CI_EXAMPLES))
        row_settings = settings(settings_, max_examples=per_row, database=None)

        def run() -> None:
            for index, row in enumerate(rows):
                test = self._test(row_cases(row), tally, on_example, coverage, skip_first=True,
                                  digest=f"{self.name}[row {index}]")
                test.__name__ = f"{self.name}[row {index}]"
                test = row_settings(test)
                if seed is not None:
                    test = hypothesis_seed(seed)(test)
                try:
                    test()
                except Exception as error:
                    error.add_note(f"{self.name}: plan row {index} of {len(rows)}: {row}")
                    raise

        run.__name__ = self.name
        return run

    def _test(self, strategy: st.SearchStrategy[Case], tally: dict[str, float],
              on_example: Callable[[dict[str, float]], None] | None,
              coverage: Coverage | None, *, skip_first: bool = False,
              digest: str | None = None) -> Callable[[], None]:
        calls = 0

        def test(case: Case) -> None:
            nonlocal calls
            calls += 1
            if skip_first and calls == 1:
                reject()  # the simplest example: not counted, not checked
            tally["examples"] += 1
            try:
                ratio = self.run(case)
            except UnsatisfiedAssumption:
                tally["rejected"] += 1
                raise
            tally["worst"] = max(tally["worst"], ratio)
            if coverage is not None:
                coverage.add(case)
            if on_example is not None:
                on_example(tally)

        if digest is not None:
            # Hypothesis derives a derandomized test's seed from the function's source, which
            # every row shares: this gives each row its own (the hook pytest's parametrize
            # uses; without it rows would only share their random draws).
            test._hypothesis_internal_add_digest = digest.encode()  # type: ignore[attr-defined]
        return given(case=strategy)(test)


#: The ``ci`` profile's examples per property, which :attr:`Property.row_examples` is for.
CI_EXAMPLES = 60


def _precision(precision: str) -> contextlib.AbstractContextManager[Any]:
    """Strict float32 for the block (``"strict"``), or the device's defaults (``"default"``)."""
    if precision == "default":
        return contextlib.nullcontext()
    from verify import keras_adapter

    return keras_adapter.strict_precision()


def _tally(stats: dict[str, float] | None) -> dict[str, float]:
    tally = stats if stats is not None else {}
    tally.update(examples=0, rejected=0, worst=0.0)
    return tally


def _strata(cell: cells.Cell, cases: Callable[..., st.SearchStrategy[Case]]
            ) -> dict[str, Callable[[], st.SearchStrategy[Case]]]:
    """One stratum per entry of the cell's ``option_strata`` (none when it has none)."""
    return {name: functools.partial(cases, **values)
            for name, values in cell.option_strata.items()}


def _both_ways(cell: cells.Cell) -> str:
    """``"reset_after both ways"`` for a cell whose strata fix a flag, else ``""``."""
    flags = sorted({name for values in cell.option_strata.values() for name in values})
    return ", ".join(f"{name} both ways" for name in flags)


_SHAPES = ("weight shapes, parameter count, weight names and output shapes equal the "
           "formulas")


def shapes_property(cell: cells.Cell) -> Property:
    """Keras's weight shapes, parameter count, weight names and output shapes for layers of
    ``cell`` equal the formulas."""
    cases_ = functools.partial(cases.layer_cases, cell.name)
    note = f" ({_both_ways(cell)})" if cell.option_strata else ""
    return Property(f"{cell.key}_shapes", f"{cell.name}{note}: {_SHAPES}", cases_, check_shapes,
                    _strata(cell, cases_), plan=functools.partial(spaces.shapes_plan, cell.name),
                    row_cases=spaces.shapes_row, row_examples=2)


def gate_properties(cell: cells.Cell) -> list[Property]:
    """One property per gate: its bias block saturated in Keras has exactly the effect the
    cell's step equations predict (the cell's ``saturations``)."""
    found = []
    for saturation in cell.saturations:
        def check(gate: str = saturation.gate, **case: Any) -> float:
            return check_gate_block(gate=gate, **case)

        cases_ = functools.partial(cases.gate_cases, cell.name)
        found.append(Property(
            name=f"{cell.gate_prefix}gate_{saturation.gate}",
            summary=f"{cell.name} bias block {saturation.gate!r} saturated in Keras: "
                    f"{saturation.effect}",
            cases=cases_, check=check, strata=_strata(cell, cases_),
            plan=functools.partial(spaces.gate_plan, cell.name), row_cases=spaces.gate_row,
            row_examples=2))
    return found


def forward_property(cell: cells.Cell) -> Property:
    """Keras's outputs for layers of ``cell`` (masks, initial states, go_backwards, every
    activation) equal the reference's."""
    cases_ = functools.partial(cases.cell_forward_cases, cell.name)
    strata = cases.mask_strata(cases_) if cell.mask_strata else _strata(cell, cases_)
    options = "".join(f"{note}, " for note in [_both_ways(cell)] if note)
    return Property(f"{cell.key}_forward",
                    f"{cell.name} outputs ({options}masks, initial states, go_backwards, every "
                    f"activation) equal verify.reference", cases_, check_forward, strata,
                    plan=functools.partial(spaces.forward_plan, cell.name),
                    row_cases=spaces.forward_row)


def cell_properties(cell: cells.Cell) -> list[Property]:
    """Every property of one cell kind: shapes, each gate, forward. A registered cell
    (:func:`verify.register_cell`) gets these without an edit here."""
    return [shapes_property(cell), *gate_properties(cell), forward_property(cell)]


_CELLS = tuple(cells.CELLS.values())

#: Every property, by name, in the order reports list them.
PROPERTIES: dict[str, Property] = {
    prop.name: prop
    for prop in [
        *(shapes_property(cell) for cell in _CELLS),
        Property("bidirectional_shapes", "Bidirectional(LSTM|GRU|SimpleRNN), every merge mode: "
                 "weight shapes, parameter count, names (forward first) and output shapes equal "
                 "the formulas", cases.bidirectional_cases, check_shapes,
                 cases.merge_strata(cases.bidirectional_cases), plan=spaces.bidirectional_plan,
                 row_cases=spaces.bidirectional_row, row_examples=2),
        Property("sequential_shapes", "stacked LSTM/GRU/SimpleRNN/Bidirectional layers with "
                 "Dense heads: weight shapes, parameter count and output shape equal the "
                 "formulas", cases.model_cases, check_shapes, plan=spaces.sequential_plan,
                 row_cases=spaces.sequential_row, row_examples=2),
        *(prop for cell in _CELLS for prop in gate_properties(cell)),
        *(forward_property(cell) for cell in _CELLS),
        Property("bidirectional_forward", "Bidirectional(LSTM|GRU|SimpleRNN) outputs, every "
                 "merge mode, equal verify.reference.bidirectional",
                 cases.bidirectional_forward_cases, check_forward,
                 cases.merge_strata(cases.bidirectional_forward_cases),
                 plan=spaces.bidirectional_forward_plan,
                 row_cases=spaces.bidirectional_forward_row, row_examples=2),
        Property("model_forward", "real-model families (Embedding/Masking fronts, Conv1D, "
                 "pooling, normalization, merges, encoder-decoders, Attention/"
                 "AdditiveAttention decoders, TimeDistributed(LSTM|GRU), RNN(cell) and "
                 "StackedRNNCells, ConvLSTM1D/2D) and stacked LSTM/GRU/SimpleRNN layers: the "
                 "Keras model "
                 "equals verify.predict, masks included", cases.all_model_cases,
                 check_model_forward, cases.model_strata(),
                 # A real-size example (up to 256 units, 64 steps) costs ~0.5 s, ten small ones.
                 budget={"real_size": 0.25}, plan=spaces.model_plan,
                 row_cases=spaces.model_row),
        Property("harness", "the harness: a cached layer, stacked model and family model, each "
                 "run twice with two drawn weight sets, computes with each example's own "
                 "weights (equal to verify.reference / verify.predict for them)",
                 lambda: st.one_of(*map(spaces.harness_row, spaces.harness_plan().rows)),
                 check_harness, plan=spaces.harness_plan, row_cases=spaces.harness_row),
        Property("kernels", "LSTM/GRU/SimpleRNN with use_cudnn auto/True/False (Keras 3): the "
                 "kernel Keras runs (cuDNN, a backend's fused loop, the generic loop, or a "
                 "ValueError) is the one its rules name for this backend, version, device, "
                 "options and mask; its outputs equal verify.reference", cases.kernel_cases,
                 check_kernel),
        Property("default_precision", "LSTM/GRU/SimpleRNN at the device's default float32 "
                 "precision (not set strict): outputs within the bound of the precision the "
                 "kernel computes at there (float32 on a CPU; TF32 where a GPU's defaults "
                 "allow it, a named divergence)",
                 lambda: cases.kernel_cases(use_cudnn=False), check_default_precision,
                 precision="default"),
        Property("stateful_forward", "LSTM/GRU/SimpleRNN with stateful=True over consecutive "
                 "batches and a reset equal verify.reference.Stateful", cases.stateful_cases,
                 check_stateful, cases.cell_strata(cases.stateful_cases),
                 plan=spaces.stateful_plan, row_cases=spaces.stateful_row, row_examples=2),
    ]
}


def runs(*names: str) -> list[tuple[str, str | None]]:
    """``(property, stratum)`` for every run the test suite makes of properties ``names``."""
    return [(name, stratum) for name in names
            for stratum in PROPERTIES[_validate.one_of("property", name,
                                                       tuple(PROPERTIES))].stratum_names()]


def run_id(run: tuple[str, str | None]) -> str:
    name, stratum = run
    return name if stratum is None else f"{name}[{stratum}]"


__all__ = ["PROPERTIES", "SATURATION", "Case", "Property", "cell_properties", "check_forward",
           "check_gate_block", "check_model_forward", "check_predict", "check_shapes",
           "check_stateful", "compare_to_reference", "reference_outputs", "run_id", "runs"]
