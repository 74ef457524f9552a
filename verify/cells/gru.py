"""The GRU cell: gates z (update), r (reset), h (candidate); one state ``[h]``.

One step, with ``ra`` the recurrent activation and ``act`` the activation::

    x_z, x_r, x_h = split(x_t @ kernel + b_in)
    reset_after=True (Keras's default):
        r_z, r_r, r_h = split(h_{t-1} @ recurrent_kernel + b_rec)
        z = ra(x_z + r_z); r = ra(x_r + r_r); hh = act(x_h + r * r_h)
    reset_after=False:
        z = ra(x_z + h_{t-1} @ U_z); r = ra(x_r + h_{t-1} @ U_r)
        hh = act(x_h + (r * h_{t-1}) @ U_h)
    h_t = z * h_{t-1} + (1 - z) * hh

Weights ``kernel (d, 3u)``, ``recurrent_kernel (u, 3u)`` and a bias of ``(2, 3u)`` with
``reset_after=True`` (row 0 ``b_in``, row 1 ``b_rec``) or ``(3u,)`` (``b_in``; no ``b_rec``)
with ``reset_after=False``: ``3u(d + u + 2)`` / ``3u(d + u + 1)`` / ``3u(d + u)`` parameters.
PyTorch ``nn.GRU`` orders the gates r, z, n and is Keras's ``reset_after=True``;
``reset_after=False`` has no ``nn.GRU`` equivalent. ONNX ``GRU`` keeps z, r, h, with
``linear_before_reset=1`` for ``reset_after=True``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from verify import activations
from verify.cells.base import Activation, Cell, CellWeights, Saturation, matmul_rows, reorder

#: PyTorch's gate order along its 3u axis (its "n" is Keras's candidate "h").
TORCH_GATES = ("r", "z", "h")


class _Stepper:
    def __init__(self, weights: CellWeights, act: Activation, gate: Activation,
                 reset_after: bool) -> None:
        units = self.units = weights.units
        self.reset_after = reset_after
        self.kernel = weights.kernel
        self.input_bias = self.recurrent_bias = None
        if weights.bias is not None:
            if reset_after:
                self.input_bias, self.recurrent_bias = weights.bias[0], weights.bias[1]
            else:
                self.input_bias = weights.bias
        recurrent = weights.recurrent_kernel
        if reset_after:  # one matmul h @ U per step, split afterwards
            self.recurrent = np.ascontiguousarray(recurrent)
        else:  # h @ U_zr, then (r * h) @ U_h
            self.recurrent_zr = np.ascontiguousarray(recurrent[:, :2 * units])
            self.recurrent_h = np.ascontiguousarray(recurrent[:, 2 * units:])
        self.act, self.gate = act, gate

    def project(self, x: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
        projected = matmul_rows(x, self.kernel, kept)
        if self.input_bias is not None:
            projected += self.input_bias
        return projected

    def step(self, projected: np.ndarray, states: list[np.ndarray]) -> list[np.ndarray]:
        (h,) = states
        units = self.units
        if self.reset_after:
            inner = h @ self.recurrent
            if self.recurrent_bias is not None:
                inner += self.recurrent_bias
            zr = self.gate(projected[:, :2 * units] + inner[:, :2 * units])
        else:
            zr = self.gate(projected[:, :2 * units] + h @ self.recurrent_zr)
        z, r = zr[:, :units], zr[:, units:]
        # reset_after: r scales the recurrent term after the matmul, bias included;
        # otherwise r scales h before the matmul.
        recurrent_h = (r * inner[:, 2 * units:] if self.reset_after
                       else (r * h) @ self.recurrent_h)
        hh = self.act(projected[:, 2 * units:] + recurrent_h)
        return [z * h + (1 - z) * hh]


class GRUCell(Cell):
    name = "GRU"
    label = "a GRU"
    key = "gru"
    option_strata = MappingProxyType({"reset_after": {"reset_after": True},
                                      "reset_before": {"reset_after": False}})
    gates = ("z", "r", "h")
    gate_names = MappingProxyType({"z": "update gate", "r": "reset gate", "h": "candidate"})
    states = ("h",)
    option_defaults = MappingProxyType({"recurrent_activation": "sigmoid",
                                        "reset_after": True})
    activation_blocks = MappingProxyType({"recurrent_activation": ("z", "r"), "activation": ("h",)})
    saturations = (
        Saturation("z", +1.0, 1.0, "update gate saturated (z=1): h_t = h_{t-1}, the state "
                   "is copied"),
        Saturation("r", -1.0, 0.0, "reset gate closed (r=0): the candidate ignores the past, "
                   "hh = act(x_t W_h + b_h)"),
        Saturation("h", +1.0, 1.0, "candidate saturated (hh=1): h_t = z*h_{t-1} + (1 - z)"),
    )
    torch_module = "nn.GRU"
    onnx_operator = "GRU"

    def bias_shape(self, units: int, **options: Any) -> tuple[int, ...]:
        reset_after = self.options(options)["reset_after"]
        return (2, 3 * units) if reset_after else (3 * units,)

    def _bias_text(self, options: Mapping[str, Any]) -> str:
        return "(2, 3 * units)" if options.get("reset_after", True) else "(3 * units,)"

    def _options_text(self, options: Mapping[str, Any]) -> str:
        return f" with reset_after={options.get('reset_after', True)}"

    def shape_formulas(self, *, use_bias: bool, **options: Any) -> list[str]:
        formulas = ["(d, 3u)", "(u, 3u)"]
        if use_bias:
            formulas.append("(2, 3u)" if self.options(options)["reset_after"] else "(3u,)")
        return formulas

    def param_formula(self, *, use_bias: bool, **options: Any) -> str:
        if not use_bias:
            return "3u(d + u)"
        return "3u(d + u + 2)" if self.options(options)["reset_after"] else "3u(d + u + 1)"

    def bias_rows(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return ("input", "recurrent") if self.options(options)["reset_after"] else ()

    def stepper(self, weights: CellWeights, *, activation: Activation,
                recurrent_activation: Activation | None,
                options: Mapping[str, Any]) -> _Stepper:
        assert recurrent_activation is not None
        return _Stepper(weights, activation, recurrent_activation,
                        bool(self.options(options)["reset_after"]))

    def gate_step(self, weights: CellWeights, x: np.ndarray, states: Sequence[np.ndarray],
                  forced: Mapping[str, float], options: Mapping[str, Any]) -> list[np.ndarray]:
        (h,) = states
        reset_after = bool(self.options(options)["reset_after"])
        input_bias = recurrent_bias = None
        if weights.bias is not None:
            input_bias, recurrent_bias = ((weights.bias[0], weights.bias[1]) if reset_after
                                          else (weights.bias, None))
        projected = x @ weights.kernel + (0.0 if input_bias is None else input_bias)
        xp = self.split(projected)
        u = self.split(weights.recurrent_kernel)
        if reset_after:
            inner = h @ weights.recurrent_kernel + (0.0 if recurrent_bias is None
                                                    else recurrent_bias)
            rp = self.split(inner)
            recurrent = {"z": rp["z"], "r": rp["r"]}
        else:
            recurrent = {"z": h @ u["z"], "r": h @ u["r"]}
        value = {gate: activations.sigmoid(xp[gate] + recurrent[gate]) for gate in ("z", "r")}
        for gate in ("z", "r"):
            if gate in forced:
                value[gate] = np.full_like(value[gate], forced[gate])
        if reset_after:
            value["h"] = np.tanh(xp["h"] + value["r"] * rp["h"])
        else:
            value["h"] = np.tanh(xp["h"] + (value["r"] * h) @ u["h"])
        if "h" in forced:
            value["h"] = np.full_like(value["h"], forced["h"])
        return [value["z"] * h + (1 - value["z"]) * value["h"]]

    # PyTorch nn.GRU: gates r, z, n; weight_ih = kernel.T and weight_hh = recurrent_kernel.T
    # with the blocks reordered; bias_ih = b_in, bias_hh = b_rec (reset_after=True only).
    def to_torch(self, weights: CellWeights, options: Mapping[str, Any],
                 suffix: str) -> dict[str, np.ndarray]:
        if not self.options(options)["reset_after"]:
            raise ValueError("a GRU with reset_after=False has no torch.nn.GRU equivalent: "
                             "PyTorch applies the reset gate after the recurrent matmul "
                             "(Keras's reset_after=True); refusing rather than approximating")
        bias = self.full_bias(weights, options)
        return {
            f"weight_ih_l0{suffix}": np.ascontiguousarray(
                reorder(weights.kernel.T, self.gates, TORCH_GATES)),
            f"weight_hh_l0{suffix}": np.ascontiguousarray(
                reorder(weights.recurrent_kernel.T, self.gates, TORCH_GATES)),
            f"bias_ih_l0{suffix}": reorder(bias[0], self.gates, TORCH_GATES),
            f"bias_hh_l0{suffix}": reorder(bias[1], self.gates, TORCH_GATES),
        }

    def from_torch(self, arrays: Mapping[str, np.ndarray], options: Mapping[str, Any],
                   suffix: str) -> list[np.ndarray]:
        if not self.options(options)["reset_after"]:
            raise ValueError("torch.nn.GRU weights give a GRU with reset_after=True; "
                             "reset_after=False computes another function")
        kernel = reorder(arrays[f"weight_ih_l0{suffix}"], TORCH_GATES, self.gates).T
        recurrent = reorder(arrays[f"weight_hh_l0{suffix}"], TORCH_GATES, self.gates).T
        rows = [reorder(arrays[name], TORCH_GATES, self.gates) if name in arrays
                else np.zeros(kernel.shape[1], kernel.dtype)
                for name in (f"bias_ih_l0{suffix}", f"bias_hh_l0{suffix}")]
        return [kernel, recurrent, np.stack(rows)]

    # ONNX GRU: gates z, r, h (Keras's order); B = [Wb, Rb]; linear_before_reset=1 is
    # reset_after=True. With reset_after=False Keras has one bias: Wb = b, Rb = 0 (ONNX adds
    # Rb_h outside the reset gate when linear_before_reset=0, so the sum is what counts).
    def to_onnx(self, weights: CellWeights,
                options: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        reset_after = bool(self.options(options)["reset_after"])
        bias = self.full_bias(weights, options)
        rows = bias if reset_after else [bias, np.zeros_like(bias)]
        return weights.kernel.T.copy(), weights.recurrent_kernel.T.copy(), np.concatenate(rows)

    def from_onnx(self, w: np.ndarray, r: np.ndarray, b: np.ndarray,
                  options: Mapping[str, Any]) -> list[np.ndarray]:
        units = r.shape[1]
        if self.options(options)["reset_after"]:
            bias = np.stack([b[:3 * units], b[3 * units:]])
        else:
            bias = b[:3 * units] + b[3 * units:]
        return [w.T, r.T, bias]

    def onnx_attributes(self, options: Mapping[str, Any], *, activation: str = "tanh",
                        directions: int = 1) -> dict[str, Any]:
        return {"linear_before_reset": int(bool(self.options(options)["reset_after"]))}


GRU = GRUCell()
