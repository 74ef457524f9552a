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

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import UnsatisfiedAssumption

from verify import _validate, cells
from verify.suite.coverage import Coverage
from verify.suite.properties import cases
from verify.suite.properties.cases import Case
from verify.suite.properties.forward import (
    check_forward,
    check_model_forward,
    check_predict,
    check_stateful,
    compare_to_reference,
    reference_outputs,
)
from verify.suite.properties.gate_semantics import SATURATION, check_gate_block
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

    def run(self, case: Case) -> float:
        """Check one drawn case; the worst error / tolerance (0.0 for exact checks)."""
        return self.check(**case)

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
        after each example that passed; ``coverage`` counts the configurations drawn."""
        tally = stats if stats is not None else {}
        tally.update(examples=0, rejected=0, worst=0.0)

        @given(case=self.strategy(stratum))
        def test(case: Case) -> None:
            tally["examples"] += 1
            if coverage is not None:
                coverage.add(case)
            try:
                ratio = self.run(case)
            except UnsatisfiedAssumption:
                tally["rejected"] += 1
                raise
            tally["worst"] = max(tally["worst"], ratio)
            if on_example is not None:
                on_example(tally)

        test.__name__ = self.name if stratum is None else f"{self.name}[{stratum}]"
        if stratum is not None and stratum in self.budget:
            current = settings.get_profile(settings.get_current_profile_name())
            examples = max(10, math.ceil(current.max_examples * self.budget[stratum]))
            return settings(current, max_examples=examples)(test)
        return test


def _gate_property(cell: cells.Cell, gate: str, prefix: str) -> Property:
    def check(**case: Any) -> float:
        return check_gate_block(gate=gate, **case)

    effect = {item.gate: item.effect for item in cell.saturations}[gate]
    strata = (cases.reset_after_strata(functools.partial(cases.gate_cases, cell.name))
              if "reset_after" in cell.option_defaults else {})
    return Property(
        name=f"{prefix}gate_{gate}",
        summary=f"{cell.name} bias block {gate!r} saturated in Keras: {effect}",
        cases=functools.partial(cases.gate_cases, cell.name),
        check=check,
        strata=strata,
    )


_SHAPES = ("weight shapes, parameter count, weight names and output shapes equal the "
           "formulas")

#: Every property, by name, in the order reports list them.
PROPERTIES: dict[str, Property] = {
    prop.name: prop
    for prop in [
        Property("lstm_shapes", f"LSTM: {_SHAPES}", cases.layer_cases, check_shapes),
        Property("gru_shapes", f"GRU (reset_after both ways): {_SHAPES}",
                 functools.partial(cases.layer_cases, "GRU"), check_shapes,
                 cases.reset_after_strata(functools.partial(cases.layer_cases, "GRU"))),
        Property("simple_rnn_shapes", f"SimpleRNN: {_SHAPES}",
                 functools.partial(cases.layer_cases, "SimpleRNN"), check_shapes),
        Property("bidirectional_shapes", "Bidirectional(LSTM|GRU|SimpleRNN), every merge mode: "
                 "weight shapes, parameter count, names (forward first) and output shapes equal "
                 "the formulas", cases.bidirectional_cases, check_shapes,
                 cases.merge_strata(cases.bidirectional_cases)),
        Property("sequential_shapes", "stacked LSTM/GRU/SimpleRNN/Bidirectional layers with "
                 "Dense heads: weight shapes, parameter count and output shape equal the "
                 "formulas", cases.model_cases, check_shapes),
        *(_gate_property(cells.LSTM, gate, "") for gate in cells.LSTM.gates),
        *(_gate_property(cells.GRU, gate, "gru_") for gate in cells.GRU.gates),
        *(_gate_property(cells.SIMPLE_RNN, gate, "simple_rnn_")
          for gate in cells.SIMPLE_RNN.gates),
        Property("lstm_forward", "LSTM outputs (masks, initial states, go_backwards, every "
                 "activation) equal verify.reference", cases.forward_cases, check_forward,
                 cases.mask_strata()),
        Property("gru_forward", "GRU outputs (reset_after both ways, masks, initial states, "
                 "go_backwards, every activation) equal verify.reference.gru",
                 cases.gru_forward_cases, check_forward,
                 cases.reset_after_strata(cases.gru_forward_cases)),
        Property("simple_rnn_forward", "SimpleRNN outputs (masks, initial states, go_backwards, "
                 "every activation) equal verify.reference.simple_rnn",
                 cases.simple_rnn_forward_cases, check_forward),
        Property("bidirectional_forward", "Bidirectional(LSTM|GRU|SimpleRNN) outputs, every "
                 "merge mode, equal verify.reference.bidirectional",
                 cases.bidirectional_forward_cases, check_forward,
                 cases.merge_strata(cases.bidirectional_forward_cases)),
        Property("model_forward", "real-model families (Embedding/Masking fronts, Conv1D, "
                 "pooling, normalization, merges, encoder-decoders) and stacked "
                 "LSTM/GRU/SimpleRNN layers: the Keras model equals verify.predict, masks "
                 "included", cases.all_model_cases, check_model_forward, cases.model_strata(),
                 # A real-size example (up to 256 units, 64 steps) costs ~0.5 s, ten small ones.
                 budget={"real_size": 0.25}),
        Property("stateful_forward", "LSTM/GRU/SimpleRNN with stateful=True over consecutive "
                 "batches and a reset equal verify.reference.Stateful", cases.stateful_cases,
                 check_stateful, cases.cell_strata(cases.stateful_cases)),
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


__all__ = ["PROPERTIES", "SATURATION", "Case", "Property", "check_forward", "check_gate_block",
           "check_model_forward", "check_predict", "check_shapes", "check_stateful",
           "compare_to_reference", "reference_outputs", "run_id", "runs"]
