"""A saved model's layers as plain data: what the Keras adapter reads out of a model and what
:mod:`verify.explain` and the command line work on (no Keras needed to use one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LayerRecord:
    """One layer of a model: where it sits, what it is, its config and weights.
    ``wrapped`` is the class a Bidirectional/TimeDistributed wrapper holds."""

    path: str
    class_name: str
    config: Mapping[str, Any]
    weights: Sequence[np.ndarray]
    wrapped: str | None = None


__all__ = ["LayerRecord"]
