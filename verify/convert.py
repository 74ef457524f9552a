"""Keras LSTM weights to and from other layouts: named gates, PyTorch ``nn.LSTM``, ONNX ``LSTM``.

* Named (``layout="keras"``): ``W_i, W_f, W_c, W_o`` (kernel blocks, ``(d, u)``),
  ``U_i…U_o`` (recurrent kernel blocks, ``(u, u)``), ``b_i…b_o`` (``(u,)``).
* PyTorch: ``weight_ih_l0 (4u, d) = kernel.T``, ``weight_hh_l0 (4u, u) = recurrent_kernel.T``,
  ``bias_ih_l0 = bias``, ``bias_hh_l0 = 0``; gate order i, f, g, o is Keras's. The backward
  direction of a bidirectional LSTM takes the suffix ``_reverse``. PyTorch has no
  ``go_backwards``: feed such a layer the time-reversed sequence.
* ONNX: gates in the order **i, o, f, c**; ``W [dirs, 4u, d]``, ``R [dirs, 4u, u]``,
  ``B [dirs, 8u] = [Wb, Rb]`` with ``Rb = 0``; ``go_backwards`` is ``direction="reverse"``
  (ONNX returns ``Y`` in time order, Keras in processing order), Bidirectional is
  ``"bidirectional"`` (forward first).

Converting back sums the two PyTorch/ONNX biases into Keras's one bias.

>>> import numpy as np
>>> kernel, recurrent, bias = np.zeros((3, 8)), np.zeros((2, 8)), np.arange(8.0)
>>> sorted(to_torch(kernel, recurrent, bias))
['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']
>>> to_onnx([[kernel, recurrent, bias]])["B"][0, :8].tolist()   # i, o, f, c blocks of the bias
[0.0, 1.0, 6.0, 7.0, 2.0, 3.0, 4.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from verify import _validate, gates

#: ONNX's gate order along its 4u axis.
ONNX_GATES: tuple[str, str, str, str] = ("i", "o", "f", "c")


def _lstm_arrays(kernel: Any, recurrent_kernel: Any,
                 bias: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated Keras arrays; a missing bias becomes zeros (what ``use_bias=False`` computes)."""
    recurrent = _validate.numeric_array("recurrent_kernel", recurrent_kernel)
    if recurrent.ndim != 2 or recurrent.shape[1] != 4 * recurrent.shape[0] or not recurrent.size:
        raise ValueError(f"recurrent_kernel must have shape (units, 4 * units), "
                         f"got {recurrent.shape}")
    units = recurrent.shape[0]
    kernel = _validate.numeric_array("kernel", kernel)
    if kernel.ndim != 2 or kernel.shape[1] != 4 * units:
        raise ValueError(f"kernel must have shape (input_dim, 4 * units) = (d, {4 * units}), "
                         f"got {kernel.shape}")
    if bias is None:
        bias = np.zeros(4 * units, kernel.dtype)
    bias = _validate.numeric_array("bias", bias)
    if bias.shape != (4 * units,):
        raise ValueError(f"bias must have shape {(4 * units,)}, got {bias.shape}")
    return kernel, recurrent, bias


def to_named(kernel: Any, recurrent_kernel: Any, bias: Any = None) -> dict[str, np.ndarray]:
    """``{"W_i": kernel block, ..., "U_i": recurrent block, ..., "b_i": bias block, ...}``;
    no ``b_*`` without a bias."""
    kernel, recurrent, full_bias = _lstm_arrays(kernel, recurrent_kernel, bias)
    named = {f"W_{gate}": part for gate, part in gates.split(kernel).items()}
    named |= {f"U_{gate}": part for gate, part in gates.split(recurrent).items()}
    if bias is not None:
        named |= {f"b_{gate}": part for gate, part in gates.split(full_bias).items()}
    return named


def to_torch(kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
             reverse: bool = False) -> dict[str, np.ndarray]:
    """PyTorch ``nn.LSTM`` state-dict entries (layer 0) for one Keras LSTM direction."""
    kernel, recurrent, full_bias = _lstm_arrays(kernel, recurrent_kernel, bias)
    suffix = "_reverse" if _validate.boolean("reverse", reverse) else ""
    return {
        f"weight_ih_l0{suffix}": np.ascontiguousarray(kernel.T),
        f"weight_hh_l0{suffix}": np.ascontiguousarray(recurrent.T),
        f"bias_ih_l0{suffix}": full_bias.copy(),
        f"bias_hh_l0{suffix}": np.zeros_like(full_bias),
    }


def from_torch(state_dict: Mapping[str, Any], *, reverse: bool = False) -> list[np.ndarray]:
    """Keras ``[kernel, recurrent_kernel, bias]`` from a PyTorch ``nn.LSTM`` state dict (layer
    0; ``reverse=True`` for the backward direction). Tensors or arrays; biases are summed."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to arrays, "
                        f"got {_validate.describe(state_dict)}")
    suffix = "_reverse" if _validate.boolean("reverse", reverse) else ""
    names = [f"weight_ih_l0{suffix}", f"weight_hh_l0{suffix}"]
    missing = [name for name in names if name not in state_dict]
    if missing:
        raise ValueError(f"state_dict has no {missing}; it has {sorted(state_dict)}")
    arrays = {name: _validate.numeric_array(name, _numpy(value))
              for name, value in state_dict.items() if name.endswith(f"_l0{suffix}")}
    kernel, recurrent = arrays[names[0]].T, arrays[names[1]].T
    bias = np.zeros(kernel.shape[1], kernel.dtype)
    for name in (f"bias_ih_l0{suffix}", f"bias_hh_l0{suffix}"):
        if name in arrays:
            bias = bias + arrays[name]
    return list(_lstm_arrays(kernel, recurrent, bias))


def _numpy(value: Any) -> Any:
    """A PyTorch tensor (without importing torch) or anything array-like, as NumPy."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def _reorder(array: np.ndarray, source: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """Reorder the four gate blocks of ``array``'s first axis from ``source`` to ``target``."""
    blocks = dict(zip(source, np.split(array, 4, axis=0), strict=True))
    return np.concatenate([blocks[gate] for gate in target], axis=0)


def to_onnx(directions: Sequence[Sequence[Any]]) -> dict[str, np.ndarray]:
    """ONNX ``LSTM`` inputs ``W``, ``R``, ``B`` for one direction (forward or, for a
    ``go_backwards`` layer, ``direction="reverse"``) or two (``"bidirectional"``, forward
    first). Each direction is Keras's ``[kernel, recurrent_kernel]`` or with ``bias``."""
    if isinstance(directions, np.ndarray) or not isinstance(directions, Sequence) \
            or len(directions) not in (1, 2):
        raise ValueError(f"directions must be a list of 1 or 2 [kernel, recurrent_kernel, bias] "
                         f"lists, got {_validate.describe(directions)}")
    W, R, B = [], [], []
    for direction in directions:
        if isinstance(direction, np.ndarray) or len(direction) not in (2, 3):
            raise ValueError(f"each direction must be [kernel, recurrent_kernel] or [kernel, "
                             f"recurrent_kernel, bias], got {_validate.describe(direction)}")
        kernel, recurrent, bias = _lstm_arrays(*direction, *([None] * (3 - len(direction))))
        W.append(_reorder(kernel.T, gates.GATES, ONNX_GATES))
        R.append(_reorder(recurrent.T, gates.GATES, ONNX_GATES))
        B.append(np.concatenate([_reorder(bias, gates.GATES, ONNX_GATES), np.zeros_like(bias)]))
    return {"W": np.stack(W), "R": np.stack(R), "B": np.stack(B)}


def from_onnx(W: Any, R: Any, B: Any = None) -> list[list[np.ndarray]]:
    """Keras ``[kernel, recurrent_kernel, bias]`` per direction from ONNX ``W``, ``R``, ``B``."""
    W = _validate.numeric_array("W", W)
    R = _validate.numeric_array("R", R)
    if W.ndim != 3 or R.ndim != 3 or R.shape[1] != 4 * R.shape[2] or W.shape[:2] != R.shape[:2]:
        raise ValueError(f"W must be [dirs, 4u, d] and R [dirs, 4u, u] with the same dirs and "
                         f"u, got W {W.shape} and R {R.shape}")
    units = R.shape[2]
    if B is None:
        B = np.zeros((W.shape[0], 8 * units), W.dtype)
    B = _validate.numeric_array("B", B)
    if B.shape != (W.shape[0], 8 * units):
        raise ValueError(f"B must have shape [dirs, 8u] = {(W.shape[0], 8 * units)}, "
                         f"got {B.shape}")
    result = []
    for w, r, b in zip(W, R, B, strict=True):
        bias = _reorder(b[:4 * units] + b[4 * units:], ONNX_GATES, gates.GATES)
        result.append([_reorder(w, ONNX_GATES, gates.GATES).T,
                       _reorder(r, ONNX_GATES, gates.GATES).T, bias])
    return result
