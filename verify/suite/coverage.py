"""How much of the configuration space a run covered: distinct configurations, and the pairwise
coverage of their categorical options.

Hypothesis mutates earlier examples, so a run of 60 examples may check only ~20 distinct
configurations; counting examples alone flatters a run. :class:`Coverage` counts the distinct
configurations checked and, over the categorical options of each case (:func:`categories`),
the share of value pairs seen together out of all pairs of the values each option took in
the run ("pairwise coverage": 100 % means every value of every option met every value of
every other option at least once).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strategies.families import ModelSpec
from verify.config import BidirectionalConfig, DenseConfig, RNNConfig, SequentialConfig


def _layer(config: RNNConfig) -> dict[str, Hashable]:
    options: dict[str, Hashable] = {
        "cell": config.CELL, "activation": config.activation,
        "use_bias": config.use_bias, "return_sequences": config.return_sequences,
        "return_state": config.return_state, "go_backwards": config.go_backwards,
        "zero_output_for_mask": config.zero_output_for_mask, "unroll": config.unroll,
    }
    recurrent_activation = getattr(config, "recurrent_activation", None)
    if recurrent_activation is not None:
        options["recurrent_activation"] = recurrent_activation
    if hasattr(config, "reset_after"):
        options["cell"] = f"GRU(reset_after={config.reset_after})"
    return options


def categories(case: Mapping[str, Any]) -> dict[str, Hashable]:
    """The categorical options of one drawn case (configuration and arrays)."""
    config = case.get("config")
    options: dict[str, Hashable]
    if isinstance(config, ModelSpec):
        options = dict(config.categories())
    elif isinstance(config, BidirectionalConfig):
        options = {**_layer(config.layer), "merge_mode": str(config.merge_mode)}
    elif isinstance(config, RNNConfig):
        options = _layer(config)
    elif isinstance(config, SequentialConfig):
        recurrent = [layer for layer in config.layers if not isinstance(layer, DenseConfig)]
        options = {"depth": len(recurrent), "first_cell": recurrent[0].recurrent.CELL,
                   "bidirectional": any(isinstance(layer, BidirectionalConfig)
                                        for layer in recurrent),
                   "dense_head": isinstance(config.layers[-1], DenseConfig)}
    else:
        options = {}
    if "mask" in case:
        options["mask"] = case["mask"] is not None
    if "initial_state" in case:
        options["initial_state"] = case["initial_state"] is not None
    return options


@dataclass
class Coverage:
    """Distinct configurations and option pairs seen over the cases of one run."""

    configurations: set[Hashable] = field(default_factory=set)
    values: dict[str, set[Hashable]] = field(default_factory=dict)
    pairs: set[tuple[str, Hashable, str, Hashable]] = field(default_factory=set)

    def add(self, case: Mapping[str, Any]) -> None:
        config = case.get("config")
        if config is not None:
            self.configurations.add(config)
        options = categories(case)
        for name, value in options.items():
            self.values.setdefault(name, set()).add(value)
        for (first, a), (second, b) in itertools.combinations(sorted(options.items(),
                                                                     key=lambda item: item[0]),
                                                              2):
            self.pairs.add((first, a, second, b))

    @property
    def distinct(self) -> int:
        return len(self.configurations)

    def pairwise(self) -> float | None:
        """Pairs seen / pairs possible among the values each option took; ``None`` when
        fewer than two options varied."""
        varied = sorted(name for name, values in self.values.items() if len(values) > 1)
        possible = sum(len(self.values[a]) * len(self.values[b])
                       for a, b in itertools.combinations(varied, 2))
        if possible == 0:
            return None
        seen = sum(1 for first, _, second, _ in self.pairs
                   if first in varied and second in varied)
        return seen / possible


__all__ = ["Coverage", "categories"]
