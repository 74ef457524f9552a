"""Structure checks: Keras's weight shapes, parameter counts, weight names and output shapes
equal the documented formulas (:mod:`verify.shapes`, written in each cell's module)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

from verify import compare, shapes
from verify.config import BidirectionalConfig, RNNConfig, SequentialConfig
from verify.suite.properties.forward import adapter


def check_shapes(config: RNNConfig | BidirectionalConfig | SequentialConfig,
                 weights: Sequence[np.ndarray], x: np.ndarray) -> float:
    """Keras's ``get_weights()`` shapes, ``count_params()``, weight names and output shapes
    (symbolic and from a real call) equal the documented formulas."""
    __tracebackhide__ = True
    keras = adapter()
    layer = keras.built(config)
    versions = keras.info().describe()
    snippet = functools.partial(compare.reproducer, config, call={"x": x})

    def equal(actual: Any, expected: Any, what: str) -> None:
        __tracebackhide__ = True
        compare.assert_equal(actual, expected, what=what, config=config, versions=versions,
                             snippet=snippet)

    equal([w.shape for w in layer.get_weights()], shapes.weight_shapes(config),
          "get_weights() shapes differ from the formula")
    equal(layer.count_params(), shapes.param_count(config),
          "count_params() differs from the formula")
    if not isinstance(config, SequentialConfig):
        equal(_weight_roles(layer.weight_paths()), _expected_roles(config),
              "weight names / order differ from kernel, recurrent_kernel, bias "
              "(forward before backward)")
    equal(layer.symbolic_output_shapes(timesteps=config.timesteps), shapes.output_shapes(config),
          "symbolic output shapes (compute_output_shape) differ from the formula")
    layer.set_weights(weights)
    outputs = layer(x)
    expected = shapes.output_shapes(config, batch=x.shape[0])
    actual = [output.shape for output in outputs]
    equal(actual[0] if len(actual) == 1 and isinstance(expected, tuple) else actual, expected,
          "shapes of the arrays returned by a call differ from the formula")
    return 0.0


def _weight_roles(paths: Sequence[str]) -> list[tuple[str, str]]:
    """``(direction, name)`` per weight path: direction from a ``forward_``/``backward_``
    component (``""`` when there is none), name from the last component."""
    roles = []
    for path in paths:
        parts = path.split("/")
        direction = next((part.split("_")[0] for part in parts
                          if part.startswith(("forward_", "backward_"))), "")
        roles.append((direction, parts[-1]))
    return roles


def _expected_roles(config: RNNConfig | BidirectionalConfig) -> list[tuple[str, str]]:
    names = ["kernel", "recurrent_kernel"] + (["bias"] if config.recurrent.use_bias else [])
    if isinstance(config, RNNConfig):
        return [("", name) for name in names]
    return [("forward", name) for name in names] + [("backward", name) for name in names]
