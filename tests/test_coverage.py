"""The coverage figures the report prints, against a case counted by hand; and the covering
plans: every declared value in the rows, and the target share of pairs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from verify.suite.coverage import Coverage, categories
from verify.suite.plans import pairs_of, plan
from verify.suite.properties import PROPERTIES, Property


def test_coverage_equals_a_hand_count() -> None:
    """Two groups: {a: 1, 2; b: x, y} and {c: p, q}. Declared values: a=1, a=2, b=x, b=y,
    c=p, c=q (6). Declared pairs: only within the first group, (a, b): 2 x 2 = 4; a and c are
    in different groups, so no (a, c) pair is declared. Checked cases: {a=1, b=x},
    {a=1, b=y}, {c=p}; the fourth, {a=2, b=y}, is rejected (ill-conditioned) and must not
    count. By hand: values seen a=1, b=x, b=y, c=p = 4/6; pairs (1, x), (1, y) = 2/4; missed
    a=2 and c=q. The cases run through a real Property, so the count is the one the report
    makes (after the check, rejected cases left out)."""
    space = plan({"a": (1, 2), "b": ("x", "y")}, {"c": ("p", "q")}, target=1.0)
    assert len(space.values()) == 6 and len(space.pairs()) == 4
    cases = [{"_drawn": {"a": 1, "b": "x"}}, {"_drawn": {"a": 1, "b": "y"}},
             {"_drawn": {"c": "p"}}, {"_drawn": {"a": 2, "b": "y"}, "reject": True}]

    def check(reject: bool = False) -> float:
        if reject:
            from hypothesis import reject as hypothesis_reject

            hypothesis_reject()
        return 0.0

    prop = Property("counted", "a hand-counted run", lambda: st.sampled_from(cases), check)
    coverage = Coverage(space)
    for case in cases:  # each case through the property's own test, as the report runs it
        test = prop._test(st.just(case), {"examples": 0, "rejected": 0, "worst": 0.0}, None,
                          coverage)
        try:
            settings(max_examples=1, database=None)(test)()
        except Unsatisfiable:  # the rejected case: Hypothesis finds nothing else to check
            assert case.get("reject")
    assert coverage.one_wise() == pytest.approx(4 / 6)
    assert coverage.pairwise() == pytest.approx(2 / 4)
    assert coverage.missed() == ["a=2", "c='q'"]


def test_a_plan_covers_every_value_and_its_target_share_of_pairs() -> None:
    for name, prop in PROPERTIES.items():
        if prop.plan is None:
            continue
        covering = prop.covering()
        seen = {item for row in covering.rows for item in row.items()}
        assert covering.values() <= seen, name
        pairs = {pair for row in covering.rows for pair in pairs_of(row)}
        share = len(covering.pairs() & pairs) / len(covering.pairs())
        assert share >= covering.target, (name, share)


def test_a_plan_refuses_an_empty_or_repeated_option() -> None:
    with pytest.raises(ValueError, match="no values"):
        plan({"a": ()})
    with pytest.raises(ValueError, match="twice"):
        plan({"a": (1, 1)})
    with pytest.raises(ValueError, match="target"):
        plan({"a": (1,)}, target=0.0)


@pytest.mark.parametrize("name", [name for name, prop in PROPERTIES.items()
                                  if prop.row_cases is not None])
def test_each_row_draws_the_options_it_fixes(name: str) -> None:
    """Every row of the plan, drawn once (no Keras): the case's own categories contain the
    row's options, so a strategy that ignored a fixed option fails here, not only as a missed
    value in a report."""
    prop = PROPERTIES[name]
    assert prop.row_cases is not None
    drawn: list[dict[str, Any]] = []
    for index, row in enumerate(prop.covering().rows):
        drawn.clear()

        @settings(max_examples=1, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=prop.row_cases(row))
        def draw(case: dict[str, Any]) -> None:
            drawn.append(categories(case))

        draw()
        missing = {key: value for key, value in row.items() if drawn[-1].get(key) != value}
        assert not missing, (name, index, row, drawn[-1])


def test_the_harness_property_runs_its_plan(adapter: Any) -> None:
    """The harness property (each example computes with its own weights, caches included) as
    the report runs it."""
    from verify.suite import profiles

    profiles.register()
    stats: dict[str, float] = {}
    PROPERTIES["harness"].plan_test(settings(settings.get_profile("ci")), stats=stats)()
    assert stats["examples"] == len(PROPERTIES["harness"].covering().rows)
