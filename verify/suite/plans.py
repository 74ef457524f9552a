"""Covering plans: which option values each run of a property must draw.

Hypothesis draws options at random and mutates earlier examples, so 60 examples of a property
rarely meet every value of every option (measured: ``model_forward`` at 57 % of option pairs,
a non-default convolution stride or a swapped merge almost never). A :class:`Plan` declares a
property's option space as *groups* (each a mapping ``option -> values``; an option with one
value fixes the context, e.g. ``family=("conv_front",)``, and options that only exist in some
contexts live in those groups alone) and derives *rows*: assignments of every option of a group
that together contain every value of every option (1-wise: 100 %) and at least ``target`` of
the value pairs of the options of each group (pairwise), by a deterministic greedy covering
array. A property then draws one case per row with those options fixed and everything else
(sizes, weights, inputs) from Hypothesis, which still shrinks it.

Coverage is measured on what the cases drew, not on the rows (:mod:`verify.suite.coverage`):
a strategy that ignored a fixed option shows up as a missed value.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

Value = tuple[str, Hashable]
Pair = tuple[Value, Value]
Row = dict[str, Hashable]


def _pair(a: Value, b: Value) -> Pair:
    return (a, b) if (a[0], repr(a[1])) <= (b[0], repr(b[1])) else (b, a)


def pairs_of(options: Mapping[str, Hashable]) -> set[Pair]:
    """Every pair of ``(option, value)`` items of one assignment."""
    items = sorted(options.items(), key=lambda item: item[0])
    return {_pair(a, b) for a, b in itertools.combinations(items, 2)}


@dataclass(frozen=True)
class Plan:
    """A property's declared option space and the rows that cover it.

    ``groups``: tuples of ``(option, values)`` pairs (hashable, so plans can be cached);
    :func:`plan` builds one from mappings. ``target``: the share of each group's value pairs the
    rows must contain (every value is always contained)."""

    groups: tuple[tuple[tuple[str, tuple[Hashable, ...]], ...], ...]
    target: float = 0.95
    #: Options whose every value must occur but whose pairs are not declared (an output
    #: activation need not meet every padding kind): they cost rows only by their own size.
    one_wise: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.groups:
            raise ValueError("a plan needs at least one group")
        for group in self.groups:
            for option, values in group:
                if not values:
                    raise ValueError(f"option {option!r} has no values")
                if len(set(values)) != len(values):
                    raise ValueError(f"option {option!r} lists a value twice: {values!r}")
        if not 0.0 < self.target <= 1.0:
            raise ValueError(f"target must be in (0, 1], got {self.target!r}")

    def values(self) -> set[Value]:
        """Every ``(option, value)`` the space declares."""
        return {(option, value) for group in self.groups for option, values in group
                for value in values}

    def pairs(self) -> set[Pair]:
        """Every pair of values of two options of the same group."""
        found: set[Pair] = set()
        for group in self.groups:
            found |= _pairs(group, self.one_wise)
        return found

    @property
    def rows(self) -> tuple[Row, ...]:
        """The rows, group after group (deterministic: a fixed seed; each group's covering
        is computed once per process, however many plans declare it)."""
        return tuple(row for group in self.groups
                     for row in _cover(group, self.target, self.one_wise))


def plan(*groups: Mapping[str, Iterable[Hashable]], target: float = 0.95,
         one_wise: Iterable[str] = ()) -> Plan:
    """A :class:`Plan` from mappings ``option -> values`` (one per group)."""
    return Plan(tuple(tuple((option, tuple(values)) for option, values in group.items())
                      for group in groups), target, frozenset(one_wise))


Group = tuple[tuple[str, tuple[Hashable, ...]], ...]


def _pairs(group: Group, one_wise: frozenset[str]) -> set[Pair]:
    paired = [(option, values) for option, values in group if option not in one_wise]
    return {_pair((first, a), (second, b))
            for (first, a_values), (second, b_values) in itertools.combinations(paired, 2)
            for a in a_values for b in b_values}


@functools.cache
def _cover(group: Group, target: float, one_wise: frozenset[str]) -> tuple[Row, ...]:
    """Greedy covering rows for one group: each new row is the best of a few candidates, each
    built option by option choosing the value that completes the most uncovered pairs (ties
    broken by a seeded shuffle); stop once every value is in some row and at least ``target``
    of the pairs are."""
    generator = random.Random(0)
    options = [option for option, _ in group]
    domains = dict(group)
    uncovered = _pairs(group, one_wise)
    unseen = {(option, value) for option, values in group for value in values}
    total = len(uncovered)
    rows: list[Row] = []
    while unseen or (total and 1 - len(uncovered) / total < target):
        best: tuple[int, Row] | None = None
        for _ in range(20):
            order = options[:]
            generator.shuffle(order)
            row: Row = {}
            for option in order:
                choices = list(domains[option])
                generator.shuffle(choices)
                row[option] = max(choices, key=lambda value: (
                    ((option, value) in unseen)
                    + sum(_pair((option, value), (other, chosen)) in uncovered
                          for other, chosen in row.items())))
            gain = len(pairs_of(row) & uncovered) + len(set(row.items()) & unseen)
            if best is None or gain > best[0]:
                best = (gain, {option: row[option] for option in options})
        assert best is not None
        rows.append(best[1])
        uncovered -= pairs_of(best[1])
        unseen -= set(best[1].items())
    return tuple(rows)


__all__ = ["Plan", "Row", "pairs_of", "plan"]
