"""Adding a cell kind is one module and one registration.

A minimal gated unit (MGU: one forget gate ``f`` and a candidate ``h``), written here as a
:class:`verify.cells.Cell` subclass, is registered with :func:`verify.register_cell`; with no
edit anywhere else, the shape formulas, the reference, ``verify.model.forward``, the
properties (against a Keras ``RNN`` of the same cell, written independently with Keras ops),
``explain`` and ``export`` take it. The properties are also shown to fail on a Keras cell that
computes another function (the gate applied the other way round)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest
from hypothesis import settings

import verify
from verify import cells, config, convert, explain, layers, shapes
from verify.cells.base import Activation, Cell, CellWeights, Saturation, matmul_rows
from verify.records import LayerRecord


class _Stepper:
    def __init__(self, weights: CellWeights, act: Activation, gate: Activation) -> None:
        units = weights.units
        self.kernel, self.bias = weights.kernel, weights.bias
        self.recurrent_f = weights.recurrent_kernel[:, :units]
        self.recurrent_h = weights.recurrent_kernel[:, units:]
        self.act, self.gate, self.units = act, gate, units

    def project(self, x: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
        projected = matmul_rows(x, self.kernel, kept)
        return projected if self.bias is None else projected + self.bias

    def step(self, projected: np.ndarray, states: list[np.ndarray]) -> list[np.ndarray]:
        (h,) = states
        f = self.gate(projected[..., :self.units] + h @ self.recurrent_f)
        candidate = self.act(projected[..., self.units:] + (f * h) @ self.recurrent_h)
        return [(1.0 - f) * h + f * candidate]


class MGUCell(Cell):
    """``f = ra(x W_f + h U_f + b_f)``, ``hh = act(x W_h + (f h) U_h + b_h)``,
    ``h_t = (1 - f) h_{t-1} + f hh``."""

    name = "MGU"
    label = "an MGU"
    key = "mgu"
    gates = ("f", "h")
    gate_names = MappingProxyType({"f": "forget gate", "h": "candidate"})
    option_defaults = MappingProxyType({"recurrent_activation": "sigmoid"})
    activation_blocks = MappingProxyType({"recurrent_activation": ("f",), "activation": None})
    saturations = (
        Saturation("f", -1.0, 0.0, "forget gate closed (f=0): h_t = h_{t-1}, the state is kept"),
        Saturation("h", +1.0, 1.0, "candidate saturated (hh=1): h_t = (1 - f) h_{t-1} + f"),
    )

    def param_formula(self, *, use_bias: bool, **options: Any) -> str:
        return f"2u(d + u{' + 1' if use_bias else ''})"

    def stepper(self, weights: CellWeights, *, activation: Activation,
                recurrent_activation: Activation | None, options: Mapping[str, Any]) -> Any:
        assert recurrent_activation is not None
        return _Stepper(weights, activation, recurrent_activation)

    def gate_step(self, weights: CellWeights, x: np.ndarray, states: Sequence[np.ndarray],
                  forced: Mapping[str, float], options: Mapping[str, Any]) -> list[np.ndarray]:
        (h,) = states
        bias = self.split(weights.bias if weights.bias is not None
                          else np.zeros(2 * weights.units))
        w, u = self.split(weights.kernel), self.split(weights.recurrent_kernel)
        f = 1.0 / (1.0 + np.exp(-(x @ w["f"] + h @ u["f"] + bias["f"])))
        f = np.full_like(f, forced["f"]) if "f" in forced else f
        candidate = np.tanh(x @ w["h"] + (f * h) @ u["h"] + bias["h"])
        candidate = np.full_like(candidate, forced["h"]) if "h" in forced else candidate
        return [(1.0 - f) * h + f * candidate]

    def keras_layer(self, keras: Any, **options: Any) -> Any:
        return _keras_mgu(keras, **options)


def _keras_mgu(keras: Any, *, units: int, activation: str, recurrent_activation: str,
               use_bias: bool, wrong: bool = False, **rnn_options: Any) -> Any:
    """The MGU as a Keras cell in ``keras.layers.RNN`` (Keras 2 and 3), from Keras ops only.
    ``wrong``: the gate applied the other way round (``f h_{t-1} + (1 - f) hh``)."""
    matmul = keras.ops.matmul if hasattr(keras, "ops") else keras.backend.dot
    act = keras.activations.get(activation)
    gate = keras.activations.get(recurrent_activation)

    class MGUKerasCell(keras.layers.Layer):  # type: ignore[misc,name-defined]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.units = self.state_size = self.output_size = units

        def build(self, input_shape: Any) -> None:
            features = int(input_shape[-1])
            self.kernel = self.add_weight(name="kernel", shape=(features, 2 * units),
                                          initializer="zeros")
            self.recurrent_kernel = self.add_weight(name="recurrent_kernel",
                                                    shape=(units, 2 * units),
                                                    initializer="zeros")
            self.bias = (self.add_weight(name="bias", shape=(2 * units,), initializer="zeros")
                         if use_bias else None)
            super().build(input_shape)

        def call(self, inputs: Any, states: Any, training: Any = None) -> Any:
            nested = isinstance(states, list | tuple)
            h = states[0] if nested else states
            z = matmul(inputs, self.kernel)
            if self.bias is not None:
                z = z + self.bias
            f = gate(z[:, :units] + matmul(h, self.recurrent_kernel[:, :units]))
            candidate = act(z[:, units:] + matmul(f * h, self.recurrent_kernel[:, units:]))
            new = f * h + (1 - f) * candidate if wrong else (1 - f) * h + f * candidate
            return new, ([new] if nested else new)

    return keras.layers.RNN(MGUKerasCell(), **rnn_options)


@pytest.fixture
def mgu() -> Iterator[tuple[Cell, type[config.RNNConfig]]]:
    """The MGU registered for one test (the registries restored after it)."""
    saved = dict(cells.CELLS), dict(config.RNN_CONFIGS), dict(layers.HANDLERS)
    cell = MGUCell()
    try:
        yield cell, verify.register_cell(cell)
    finally:
        for registry, before in zip((cells.CELLS, config.RNN_CONFIGS, layers.HANDLERS), saved,
                                    strict=True):
            registry.clear()
            registry.update(before)


def test_shapes_reference_and_model_forward_take_the_cell(mgu: Any) -> None:
    _, MGUConfig = mgu
    layer = MGUConfig(units=3, input_dim=2, return_sequences=True)
    assert repr(layer) == "MGUConfig(units=3, input_dim=2, return_sequences=True)"
    assert shapes.weight_shapes(layer) == [(2, 6), (3, 6), (6,)]
    assert shapes.param_count(layer) == 2 * 3 * (2 + 3 + 1) == 36
    rng = np.random.default_rng(0)
    weights = [rng.uniform(-0.5, 0.5, shape) for shape in shapes.weight_shapes(layer)]
    x = rng.uniform(-1, 1, (2, 4, 2))
    # One step by hand, from the equations in MGUCell's docstring.
    f = 1 / (1 + np.exp(-(x[:, 0] @ weights[0][:, :3] + weights[2][:3])))
    first = f * np.tanh(x[:, 0] @ weights[0][:, 3:] + weights[2][3:])
    by_reference = verify.reference.rnn("MGU", x, *weights, return_sequences=True)
    np.testing.assert_allclose(by_reference[:, 0], first, rtol=1e-12)
    model = {"layers": [{"class_name": "InputLayer", "name": "input",
                         "config": {"batch_shape": [None, 4, 2]}},
                        {"class_name": "MGU", "name": "mgu",
                         "config": {**layer.to_keras_config(), "name": "mgu"}}]}
    by_model = verify.model.forward(model, {"input": [], "mgu": weights}, x)
    np.testing.assert_array_equal(by_model, by_reference)


def test_explain_and_export_take_the_cell(mgu: Any) -> None:
    _, MGUConfig = mgu
    layer = MGUConfig(units=3, input_dim=2)
    weights = [np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
               for shape in shapes.weight_shapes(layer)]
    record = LayerRecord(path="mgu", class_name="MGU",
                         config={**layer.to_keras_config(), "name": "mgu"}, weights=weights)
    explained = explain.explain([record])
    text = explain.format_text(explained)
    assert "      kernel[:, 0:3]                 → W_f (forget gate)" in text
    assert "      recurrent_kernel[:, 3:6]       → U_h (candidate)" in text
    assert "parameters: 36 = 2u(d + u + 1) = 2*3*(2 + 3 + 1) = 36 ✓" in text
    arrays = convert.export_arrays(explained, "keras")
    np.testing.assert_array_equal(arrays["mgu/W_h"], weights[0][:, 3:])
    np.testing.assert_array_equal(arrays["mgu/U_f"], weights[1][:, :3])
    np.testing.assert_array_equal(arrays["mgu/b_h"], weights[2][3:])
    with pytest.raises(ValueError, match="torch has no MGU equivalent"):
        convert.export_arrays(explained, "torch")


@pytest.mark.parametrize("kind", ["shapes", "gate_f", "gate_h", "forward"])
def test_the_properties_take_the_cell(mgu: Any, adapter: Any, kind: str) -> None:
    from verify.suite.properties import cell_properties

    cell, _ = mgu
    found = {prop.name: prop for prop in cell_properties(cell)}
    assert sorted(found) == ["mgu_forward", "mgu_gate_f", "mgu_gate_h", "mgu_shapes"]
    prop = found[f"mgu_{kind}"]
    stats: dict[str, float] = {}
    settings(max_examples=15, derandomize=True, database=None, deadline=None)(
        prop.hypothesis_test(stats=stats))()
    assert stats["examples"] >= 10


def test_the_forward_property_catches_a_keras_cell_that_computes_another_function(
        mgu: Any, adapter: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from verify.suite.properties import forward_property

    cell, _ = mgu
    monkeypatch.setattr(type(cell), "keras_layer",
                        lambda self, keras, **options: _keras_mgu(keras, wrong=True, **options))
    adapter.clear()  # layers cached before the patch were built with the right cell
    try:
        with pytest.raises(AssertionError, match="output 0 differs"):
            settings(max_examples=15, derandomize=True, database=None, deadline=None)(
                forward_property(cell).hypothesis_test())()
    finally:
        adapter.clear()
