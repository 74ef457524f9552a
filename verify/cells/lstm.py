"""The LSTM cell: gates i, f, c, o; states ``[h, c]``.

One step, with ``ra`` the recurrent activation and ``act`` the activation::

    z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias ; z_i, z_f, z_c, z_o = split(z)
    i = ra(z_i); f = ra(z_f); o = ra(z_o)
    c_t = f * c_{t-1} + i * act(z_c)
    h_t = o * act(c_t)

Weights ``kernel (d, 4u)``, ``recurrent_kernel (u, 4u)``, ``bias (4u,)``: ``4u(d + u + 1)``
parameters. PyTorch ``nn.LSTM`` has the same gate order (i, f, g, o) and two biases; ONNX
``LSTM`` orders the gates i, o, f, c.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from verify import activations
from verify.cells.base import Activation, Cell, CellWeights, Saturation, matmul_rows, reorder

#: ONNX's gate order along its 4u axis.
ONNX_GATES = ("i", "o", "f", "c")


class _Stepper:
    """The LSTM step, with the columns reordered to i, f, o, c so that one activation call
    covers the three gates and the input projection of every step is one matmul."""

    def __init__(self, weights: CellWeights, act: Activation, gate: Activation) -> None:
        units = self.units = weights.units
        columns = np.concatenate([np.arange(4 * units)[LSTM.block(name, units)]
                                  for name in ("i", "f", "o", "c")])
        self.kernel = weights.kernel[:, columns]
        self.bias = None if weights.bias is None else weights.bias[columns]
        self.recurrent = np.ascontiguousarray(weights.recurrent_kernel[:, columns])
        self.act, self.gate = act, gate
        self.z: np.ndarray | None = None

    def paired(self, other: _Stepper) -> _Stepper:
        """One stepper for two directions (the other's weights second): every array gets a
        leading axis of 2, and each step is one batched matmul for both."""
        pair = object.__new__(_Stepper)
        pair.units, pair.act, pair.gate, pair.z = self.units, self.act, self.gate, None
        pair.kernel = np.stack([self.kernel, other.kernel])
        pair.recurrent = np.stack([self.recurrent, other.recurrent])
        pair.bias = None if self.bias is None or other.bias is None \
            else np.stack([self.bias, other.bias])[:, None, None, :]  # (2, batch, steps, 4u)
        return pair

    def project(self, x: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
        projected = matmul_rows(x, self.kernel, kept)
        if self.bias is not None:
            projected += self.bias
        return projected

    def step(self, projected: np.ndarray, states: list[np.ndarray]) -> list[np.ndarray]:
        h, c = states
        units = self.units
        if self.z is None or self.z.shape[:-1] != h.shape[:-1]:
            self.z = np.empty((*h.shape[:-1], 4 * units), dtype=h.dtype)
        z = self.z
        np.matmul(h, self.recurrent, out=z)
        z += projected
        gated = self.gate(z[..., :3 * units])
        i, f, o = gated[..., :units], gated[..., units:2 * units], gated[..., 2 * units:]
        c_t = f * c
        c_t += i * self.act(z[..., 3 * units:])
        h_t = o * self.act(c_t)
        return [h_t, c_t]


class LSTMCell(Cell):
    name = "LSTM"
    label = "an LSTM"
    key = "lstm"
    gate_key = ""  # the first cell: gate_i, gate_f, gate_c, gate_o
    mask_strata = True
    gates = ("i", "f", "c", "o")
    gate_names = MappingProxyType({"i": "input gate", "f": "forget gate", "c": "cell candidate",
                  "o": "output gate"})
    states = ("h", "c")
    option_defaults = MappingProxyType({"recurrent_activation": "sigmoid"})
    activation_blocks = MappingProxyType({"recurrent_activation": ("i", "f", "o"),
                                          "activation": None})
    saturations = (
        Saturation("i", -1.0, 0.0, "input gate closed (i=0): c_t = f_t*c_{t-1}, nothing is "
                   "written"),
        Saturation("f", -1.0, 0.0, "forget gate closed (f=0): c_t = i_t*g_t, the cell forgets"),
        Saturation("c", +1.0, 1.0, "candidate saturated (g=1): c_t = f_t*c_{t-1} + i_t"),
        Saturation("o", -1.0, 0.0, "output gate closed (o=0): h_t = 0, nothing is read out"),
    )
    torch_module = "nn.LSTM"
    onnx_operator = "LSTM"

    def param_formula(self, *, use_bias: bool, **options: Any) -> str:
        return f"4u(d + u{' + 1' if use_bias else ''})"

    def stepper(self, weights: CellWeights, *, activation: Activation,
                recurrent_activation: Activation | None,
                options: Mapping[str, Any]) -> _Stepper:
        assert recurrent_activation is not None
        return _Stepper(weights, activation, recurrent_activation)

    def gate_step(self, weights: CellWeights, x: np.ndarray, states: Sequence[np.ndarray],
                  forced: Mapping[str, float], options: Mapping[str, Any]) -> list[np.ndarray]:
        h, c = states
        z = x @ weights.kernel + h @ weights.recurrent_kernel
        if weights.bias is not None:
            z = z + weights.bias
        part = self.split(z)
        value = {"i": activations.sigmoid(part["i"]), "f": activations.sigmoid(part["f"]),
                 "c": np.tanh(part["c"]), "o": activations.sigmoid(part["o"])}
        for gate, forced_value in forced.items():
            value[gate] = np.full_like(value[gate], forced_value)
        c_t = value["f"] * c + value["i"] * value["c"]
        return [value["o"] * np.tanh(c_t), c_t]

    # PyTorch nn.LSTM: the base class's layout (gate order i, f, g, o = Keras's; bias_hh = 0).

    # ONNX LSTM: gates i, o, f, c; W [4u, d], R [4u, u], B [8u] = [Wb, Rb] with Rb = 0.
    def to_onnx(self, weights: CellWeights,
                options: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        bias = self.full_bias(weights, options)
        return (reorder(weights.kernel.T, self.gates, ONNX_GATES),
                reorder(weights.recurrent_kernel.T, self.gates, ONNX_GATES),
                np.concatenate([reorder(bias, self.gates, ONNX_GATES), np.zeros_like(bias)]))

    def from_onnx(self, w: np.ndarray, r: np.ndarray, b: np.ndarray,
                  options: Mapping[str, Any]) -> list[np.ndarray]:
        units = r.shape[1]
        bias = reorder(b[:4 * units] + b[4 * units:], ONNX_GATES, self.gates)
        return [reorder(w, ONNX_GATES, self.gates).T, reorder(r, ONNX_GATES, self.gates).T, bias]


LSTM = LSTMCell()
