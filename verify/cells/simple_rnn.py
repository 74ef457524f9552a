"""The SimpleRNN cell: one block, one state ``[h]``.

One step: ``h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)`` (default ``tanh``).
Weights ``kernel (d, u)``, ``recurrent_kernel (u, u)``, ``bias (u,)``: ``u(d + u + 1)``
parameters. PyTorch ``nn.RNN`` (``nonlinearity`` tanh or relu) and ONNX ``RNN`` compute the
same with ``bias_hh``/``Rb`` zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from verify.cells.base import Activation, Cell, CellWeights, Saturation, matmul_rows


class _Stepper:
    def __init__(self, weights: CellWeights, act: Activation) -> None:
        self.kernel, self.bias = weights.kernel, weights.bias
        self.recurrent = np.ascontiguousarray(weights.recurrent_kernel)
        self.act = act

    def project(self, x: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
        projected = matmul_rows(x, self.kernel, kept)
        if self.bias is not None:
            projected += self.bias
        return projected

    def step(self, projected: np.ndarray, states: list[np.ndarray]) -> list[np.ndarray]:
        return [self.act(projected + states[0] @ self.recurrent)]


class SimpleRNNCell(Cell):
    name = "SimpleRNN"
    label = "a SimpleRNN"
    key = "simple_rnn"
    gates = ("h",)
    gate_names = MappingProxyType({"h": "hidden state"})
    states = ("h",)
    option_defaults: Mapping[str, Any] = MappingProxyType({})
    activation_blocks = MappingProxyType({"activation": ("h",)})
    saturations = (
        Saturation("h", +1.0, 1.0, "pre-activation saturated: h_t = act(+large) = 1 in every "
                   "unit, whatever the past"),
    )
    torch_module = "nn.RNN"
    onnx_operator = "RNN"
    target_activations = ("tanh", "relu")

    def param_formula(self, *, use_bias: bool, **options: Any) -> str:
        return f"u(d + u{' + 1' if use_bias else ''})"

    def stepper(self, weights: CellWeights, *, activation: Activation,
                recurrent_activation: Activation | None,
                options: Mapping[str, Any]) -> _Stepper:
        return _Stepper(weights, activation)

    def gate_step(self, weights: CellWeights, x: np.ndarray, states: Sequence[np.ndarray],
                  forced: Mapping[str, float], options: Mapping[str, Any]) -> list[np.ndarray]:
        z = x @ weights.kernel + states[0] @ weights.recurrent_kernel
        if weights.bias is not None:
            z = z + weights.bias
        h = np.tanh(z)
        if "h" in forced:
            h = np.full_like(h, forced["h"])
        return [h]

    # PyTorch nn.RNN: the base class's layout (bias_hh = 0; nonlinearity tanh or relu).
    def torch_arguments(self, activation: str) -> dict[str, Any]:
        return {"nonlinearity": activation}

    def onnx_attributes(self, options: Mapping[str, Any], *, activation: str = "tanh",
                        directions: int = 1) -> dict[str, Any]:
        """ONNX RNN defaults to Tanh; another activation is named once per direction."""
        if activation == "tanh":
            return {}
        return {"activations": [activation.capitalize()] * directions}

    def to_onnx(self, weights: CellWeights,
                options: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bias = self.full_bias(weights, options)
        return (weights.kernel.T.copy(), weights.recurrent_kernel.T.copy(),
                np.concatenate([bias, np.zeros_like(bias)]))

    def from_onnx(self, w: np.ndarray, r: np.ndarray, b: np.ndarray,
                  options: Mapping[str, Any]) -> list[np.ndarray]:
        units = r.shape[1]
        return [w.T, r.T, b[:units] + b[units:]]


SIMPLE_RNN = SimpleRNNCell()
