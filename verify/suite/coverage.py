"""How much of the configuration space a run covered: distinct configurations, and the 1-wise
and pairwise coverage of the categorical options its cases drew, against the property's
declared space (:class:`verify.suite.plans.Plan`).

Hypothesis mutates earlier examples, so a run of 60 examples may check only ~20 distinct
configurations; counting examples alone flatters a run. :class:`Coverage` counts the distinct
configurations checked and, over the categorical options of each checked case
(:func:`categories`, read from the case itself, never from the plan row that asked for it):

* 1-wise: the share of the declared ``(option, value)`` items some case had, and which ones
  no case had (:meth:`Coverage.missed`);
* pairwise: the share of the declared pairs (two options of one group of the plan, one value
  each) that some case had together.

Cases rejected as ill-conditioned are not counted: they were drawn, not checked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strategies.families import ModelSpec
from verify.config import BidirectionalConfig, DenseConfig, RNNConfig, SequentialConfig
from verify.suite.plans import Pair, Plan, Value, pairs_of

#: Configuration fields that are sizes, not categorical options.
_SIZES = frozenset({"units", "input_dim", "timesteps"})


def layer_options(config: RNNConfig) -> dict[str, Hashable]:
    """The categorical options of one recurrent layer: its kind and every non-size field
    (``activation``, ``use_bias``, ..., and a cell's own flags such as ``reset_after``)."""
    options: dict[str, Hashable] = {"cell": config.CELL}
    for item in dataclasses.fields(config):
        value = getattr(config, item.name)
        if item.name not in _SIZES and isinstance(value, Hashable):
            options[item.name] = value
    return options


def mask_kind(case: Mapping[str, Any]) -> str | None:
    """``"none"``, or the kind of mask the case's strategy drew (``case["_drawn"]``), or
    ``None`` when the case has no mask option."""
    if "mask" not in case:
        return None
    if case["mask"] is None:
        return "none"
    return str(case.get("_drawn", {}).get("mask", "some"))


def categories(case: Mapping[str, Any]) -> dict[str, Hashable]:
    """The categorical options of one drawn case (configuration and arrays)."""
    config = case.get("config")
    options: dict[str, Hashable]
    if isinstance(config, ModelSpec):
        options = dict(config.categories())
    elif isinstance(config, BidirectionalConfig):
        options = {**layer_options(config.layer), "merge_mode": str(config.merge_mode)}
    elif isinstance(config, RNNConfig):
        options = layer_options(config)
    elif isinstance(config, SequentialConfig):
        recurrent = [layer for layer in config.layers if not isinstance(layer, DenseConfig)]
        options = {"depth": len(recurrent), "first_cell": recurrent[0].recurrent.CELL,
                   "bidirectional": any(isinstance(layer, BidirectionalConfig)
                                        for layer in recurrent),
                   "dense_head": isinstance(config.layers[-1], DenseConfig)}
    else:
        options = {}
    # What a strategy recorded of choices its case does not show (harness subjects).
    options.update({key: value for key, value in case.get("_drawn", {}).items()
                    if key != "mask"})
    kind = mask_kind(case)
    if kind is not None:
        options["mask"] = kind
    if "initial_state" in case:
        options["initial_state"] = case["initial_state"] is not None
    if "masks" in case:  # stateful: consecutive batches, each with a mask or none
        options["masked_batches"] = any(mask is not None for mask in case["masks"])
    return options


@dataclass
class Coverage:
    """Distinct configurations, values and value pairs seen over the checked cases of a run,
    measured against ``plan`` (without one, only configurations are counted)."""

    plan: Plan | None = None
    configurations: set[Hashable] = field(default_factory=set)
    values: set[Value] = field(default_factory=set)
    pairs: set[Pair] = field(default_factory=set)

    def add(self, case: Mapping[str, Any]) -> None:
        config = case.get("config")
        if config is not None:
            self.configurations.add(config)
        options = categories(case)
        self.values |= set(options.items())
        self.pairs |= pairs_of(options)

    @property
    def distinct(self) -> int:
        return len(self.configurations)

    def one_wise(self) -> float | None:
        """Declared values some case had / declared values (``None`` without a plan)."""
        if self.plan is None:
            return None
        declared = self.plan.values()
        return len(declared & self.values) / len(declared)

    def pairwise(self) -> float | None:
        """Declared pairs some case had / declared pairs (``None`` without a plan or when the
        plan declares no pairs)."""
        if self.plan is None:
            return None
        declared = self.plan.pairs()
        return len(declared & self.pairs) / len(declared) if declared else None

    def missed(self) -> list[str]:
        """The declared values no case had, as ``option=value``, sorted."""
        if self.plan is None:
            return []
        return sorted(f"{option}={value!r}" for option, value in self.plan.values() - self.values)


__all__ = ["Coverage", "categories", "layer_options", "mask_kind"]
