"""Keras recurrent weights to and from other layouts: named gates, PyTorch, ONNX.

Every function takes ``cell="LSTM"`` (default), ``"GRU"`` or ``"SimpleRNN"`` and the cell's
options (GRU: ``reset_after``); each cell's module (:mod:`verify.cells`) holds its layouts:

* Named (``layout="keras"``): ``W_<gate>`` (kernel blocks, ``(d, u)``), ``U_<gate>``
  (recurrent kernel blocks, ``(u, u)``), ``b_<gate>`` (``(u,)``); a GRU with
  ``reset_after=True`` has two bias rows, ``b_<gate>`` (input) and ``rb_<gate>`` (recurrent).
* PyTorch ``nn.LSTM`` (gates i, f, g, o = Keras's; ``bias_hh = 0``), ``nn.GRU`` (gates r, z, n;
  ``bias_ih``/``bias_hh`` = the two bias rows; ``reset_after=True`` only: ``False`` has no
  ``nn.GRU`` equivalent and is refused), ``nn.RNN`` (``bias_hh = 0``). The backward direction of
  a bidirectional layer takes the suffix ``_reverse``. PyTorch has no ``go_backwards``: feed
  such a layer the time-reversed sequence.
* ONNX ``LSTM`` (gates i, o, f, c), ``GRU`` (z, r, h; ``linear_before_reset=1`` is
  ``reset_after=True``), ``RNN``: ``W [dirs, k*u, d]``, ``R [dirs, k*u, u]``,
  ``B [dirs, 2*k*u] = [Wb, Rb]``; ``go_backwards`` is ``direction="reverse"`` (ONNX returns
  ``Y`` in time order, Keras in processing order), Bidirectional is ``"bidirectional"``
  (forward first).

Converting back sums two biases into Keras's one bias where Keras has one.

>>> import numpy as np
>>> kernel, recurrent, bias = np.zeros((3, 8)), np.zeros((2, 8)), np.arange(8.0)
>>> sorted(to_torch(kernel, recurrent, bias))
['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0']
>>> to_onnx([[kernel, recurrent, bias]])["B"][0, :8].tolist()   # i, o, f, c blocks of the bias
[0.0, 1.0, 6.0, 7.0, 2.0, 3.0, 4.0, 5.0]
>>> gru = [np.zeros((3, 6)), np.zeros((2, 6)), np.arange(12.0).reshape(2, 6)]
>>> to_torch(*gru, cell="GRU")["bias_ih_l0"].tolist()          # z, r, h -> r, z, n
[2.0, 3.0, 0.0, 1.0, 4.0, 5.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from verify import _validate, cells
from verify.cells.base import CellWeights

#: ONNX's LSTM gate order along its 4u axis.
ONNX_GATES: tuple[str, str, str, str] = ("i", "o", "f", "c")


def _checked(cell: cells.Cell, arrays: Sequence[Any], options: Mapping[str, Any],
             prefix: str = "") -> CellWeights:
    """One direction's arrays validated against ``cell``'s shapes (dtype kept)."""
    kernel = _validate.numeric_array(f"{prefix}kernel", arrays[0])
    dtype = kernel.dtype if np.issubdtype(kernel.dtype, np.floating) else np.float64
    return cell.check_weights(arrays[0], arrays[1], arrays[2] if len(arrays) > 2 else None,
                              input_dim=None, dtype=dtype, options=options, prefix=prefix,
                              check_finite=False)


def _cell(cell: str | cells.Cell, options: Mapping[str, Any]) -> tuple[cells.Cell,
                                                                        dict[str, Any]]:
    kind = cells.get(cell)
    return kind, kind.options(options)


def to_named(kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
             cell: str | cells.Cell = "LSTM", **cell_options: Any) -> dict[str, np.ndarray]:
    """``{"W_i": kernel block, ..., "U_i": recurrent block, ..., "b_i": bias block, ...}``
    (the cell's gate letters); no ``b_*`` without a bias; ``rb_*`` for a GRU's recurrent bias
    row (``reset_after=True``)."""
    kind, options = _cell(cell, cell_options)
    weights = _checked(kind, [kernel, recurrent_kernel, bias], options)
    named = {f"W_{gate}": part for gate, part in kind.split(weights.kernel).items()}
    named |= {f"U_{gate}": part for gate, part in kind.split(weights.recurrent_kernel).items()}
    if weights.bias is not None:
        rows = ([weights.bias] if weights.bias.ndim == 1 else list(weights.bias))
        for prefix, row in zip(("b", "rb"), rows, strict=False):
            named |= {f"{prefix}_{gate}": part for gate, part in kind.split(row).items()}
    return named


def to_torch(kernel: Any, recurrent_kernel: Any, bias: Any = None, *, reverse: bool = False,
             cell: str | cells.Cell = "LSTM", **cell_options: Any) -> dict[str, np.ndarray]:
    """PyTorch ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN`` state-dict entries (layer 0) for one Keras
    direction. A GRU with ``reset_after=False`` raises ``ValueError`` (no ``nn.GRU``
    equivalent)."""
    kind, options = _cell(cell, cell_options)
    suffix = "_reverse" if _validate.boolean("reverse", reverse) else ""
    return kind.to_torch(_checked(kind, [kernel, recurrent_kernel, bias], options), options,
                         suffix)


def from_torch(state_dict: Mapping[str, Any], *, reverse: bool = False,
               cell: str | cells.Cell = "LSTM", **cell_options: Any) -> list[np.ndarray]:
    """Keras ``[kernel, recurrent_kernel, bias]`` from a PyTorch state dict (layer 0;
    ``reverse=True`` for the backward direction). Tensors or arrays."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"state_dict must be a mapping of names to arrays, "
                        f"got {_validate.describe(state_dict)}")
    kind, options = _cell(cell, cell_options)
    suffix = "_reverse" if _validate.boolean("reverse", reverse) else ""
    names = [f"weight_ih_l0{suffix}", f"weight_hh_l0{suffix}"]
    missing = [name for name in names if name not in state_dict]
    if missing:
        raise ValueError(f"state_dict has no {missing}; it has {sorted(state_dict)}")
    arrays = {name: _validate.numeric_array(name, _numpy(value))
              for name, value in state_dict.items() if name.endswith(f"_l0{suffix}")}
    for name in names:
        if arrays[name].ndim != 2:
            raise ValueError(f"{name} must be 2-D, got shape {arrays[name].shape}")
    weights = kind.from_torch(arrays, options, suffix)
    checked = _checked(kind, weights, options)
    return [checked.kernel, checked.recurrent_kernel,
            checked.bias if checked.bias is not None else weights[2]]


def _numpy(value: Any) -> Any:
    """A PyTorch tensor (without importing torch) or anything array-like, as NumPy."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


def to_onnx(directions: Sequence[Sequence[Any]], *, cell: str | cells.Cell = "LSTM",
            **cell_options: Any) -> dict[str, np.ndarray]:
    """ONNX ``LSTM`` / ``GRU`` / ``RNN`` inputs ``W``, ``R``, ``B`` for one direction (forward
    or, for a ``go_backwards`` layer, ``direction="reverse"``) or two (``"bidirectional"``,
    forward first). Each direction is Keras's ``[kernel, recurrent_kernel]`` or with ``bias``.
    Set the operator's attributes with :func:`onnx_attributes`."""
    kind, options = _cell(cell, cell_options)
    if isinstance(directions, np.ndarray) or not isinstance(directions, Sequence) \
            or len(directions) not in (1, 2):
        raise ValueError(f"directions must be a list of 1 or 2 [kernel, recurrent_kernel, bias] "
                         f"lists, got {_validate.describe(directions)}")
    W, R, B = [], [], []
    for direction in directions:
        if isinstance(direction, np.ndarray) or len(direction) not in (2, 3):
            raise ValueError(f"each direction must be [kernel, recurrent_kernel] or [kernel, "
                             f"recurrent_kernel, bias], got {_validate.describe(direction)}")
        w, r, b = kind.to_onnx(_checked(kind, list(direction), options), options)
        W.append(w)
        R.append(r)
        B.append(b)
    return {"W": np.stack(W), "R": np.stack(R), "B": np.stack(B)}


def onnx_attributes(*, cell: str | cells.Cell = "LSTM", activation: str = "tanh",
                    directions: int = 1, **cell_options: Any) -> dict[str, Any]:
    """Attributes the ONNX operator needs beyond ``hidden_size`` and ``direction`` to compute
    what Keras does (GRU: ``linear_before_reset``; a relu SimpleRNN: ``activations``)."""
    kind, options = _cell(cell, cell_options)
    return kind.onnx_attributes(options, activation=activation,
                                directions=_validate.one_of("directions", directions, (1, 2)))


def from_onnx(W: Any, R: Any, B: Any = None, *, cell: str | cells.Cell = "LSTM",
              **cell_options: Any) -> list[list[np.ndarray]]:
    """Keras ``[kernel, recurrent_kernel, bias]`` per direction from ONNX ``W``, ``R``, ``B``."""
    kind, options = _cell(cell, cell_options)
    W = _validate.numeric_array("W", W)
    R = _validate.numeric_array("R", R)
    k = kind.blocks
    if W.ndim != 3 or R.ndim != 3 or R.shape[1] != k * R.shape[2] or W.shape[:2] != R.shape[:2]:
        raise ValueError(f"W must be [dirs, {k}u, d] and R [dirs, {k}u, u] with the same dirs "
                         f"and u for an ONNX {kind.onnx_operator}, got W {W.shape} and "
                         f"R {R.shape}")
    units = R.shape[2]
    if B is None:
        B = np.zeros((W.shape[0], 2 * k * units), W.dtype)
    B = _validate.numeric_array("B", B)
    if B.shape != (W.shape[0], 2 * k * units):
        raise ValueError(f"B must have shape [dirs, {2 * k}u] = {(W.shape[0], 2 * k * units)}, "
                         f"got {B.shape}")
    return [kind.from_onnx(w, r, b, options) for w, r, b in zip(W, R, B, strict=True)]


# --- export: the layers that :func:`verify.explain.explain` read, as arrays of a layout ---------
# (each layer: ``path``, ``kind``, ``cell``, ``layer`` (its RNNConfig), ``directions``
# (name -> [kernel, recurrent_kernel, bias?]), ``units``, ``input_dim``)


LAYOUTS = ("keras", "torch", "onnx")


def _check_exportable(layer: Any, layout: str) -> None:
    """Refuse what the target cannot compute (never export weights for another function)."""
    if layout == "keras":
        return
    if getattr(layer, "kernel_size", ()):
        raise ValueError(f"layer {layer.path!r} ({layer.kind}) cannot be exported to {layout}: "
                         f"{layout} has no convolutional LSTM (use --layout keras for its "
                         "gate blocks)")
    if not (layer.cell.torch_module if layout == "torch" else layer.cell.onnx_operator):
        raise ValueError(f"layer {layer.path!r} ({layer.kind}) cannot be exported to {layout}: "
                         f"{layout} has no {layer.cell.name} equivalent")
    allowed = layer.cell.target_activations
    recurrent = layer.layer.cell_options.get("recurrent_activation", "sigmoid")
    target = (f"torch.{layer.cell.torch_module}" if layout == "torch"
              else f"the ONNX {layer.cell.onnx_operator} operator's defaults")
    if layer.layer.activation not in allowed or recurrent != "sigmoid":
        raise ValueError(
            f"layer {layer.path!r} ({layer.kind}, activation={layer.layer.activation!r}"
            + (f", recurrent_activation={recurrent!r}"
               if "recurrent_activation" in layer.cell.option_defaults else "")
            + f") cannot be exported to {layout}: {target} computes activation in "
            f"{list(allowed)} with sigmoid gates only")


def export_arrays(layers: Sequence[Any], layout: str) -> dict[str, np.ndarray]:
    """Named arrays for an ``.npz``: per layer (by path) and gate, in ``layout`` ``keras``
    (``path/W_i`` …; ``path/forward/W_i`` for Bidirectional), ``torch`` (``path/weight_ih_l0``,
    ``_reverse`` for the backward direction) or ``onnx`` (``path/W``, ``path/R``, ``path/B``).
    A layer the target cannot compute (e.g. a GRU with ``reset_after=False`` for torch, a
    non-default activation) raises ``ValueError`` naming it."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of 'keras', 'torch', 'onnx'; got {layout!r}")
    arrays: dict[str, np.ndarray] = {}
    for layer in layers:
        _check_exportable(layer, layout)
        directions = list(layer.directions.items())
        options = {"cell": layer.cell, **layer.layer.cell_options}
        options.pop("recurrent_activation", None)
        try:
            if layout == "keras" and layer.kernel_size:
                kernels = zip(("W", "U", "b"), directions[0][1], strict=False)
                arrays |= {f"{layer.path}/{letter}_{gate}": block for letter, array in kernels
                           for gate, block in layer.cell.split(array).items()}
            elif layout == "keras":
                for direction, weights in directions:
                    prefix = layer.path if len(directions) == 1 else f"{layer.path}/{direction}"
                    arrays |= {f"{prefix}/{name}": value
                               for name, value in to_named(*weights, **options).items()}
            elif layout == "torch":
                for index, (_, weights) in enumerate(directions):
                    arrays |= {f"{layer.path}/{name}": value for name, value in
                               to_torch(*weights, reverse=index == 1,
                                                **options).items()}
            else:
                arrays |= {f"{layer.path}/{name}": value for name, value in
                           to_onnx([weights for _, weights in directions],
                                           **options).items()}
        except ValueError as error:
            raise ValueError(f"layer {layer.path!r} ({layer.kind}): {error}") from error
    return arrays


def export_notes(layers: Sequence[Any], layout: str) -> list[str]:
    """What the target needs besides the arrays, one line per layer (module or operator, its
    direction and attributes)."""
    notes = []
    for layer in layers:
        cell, config = layer.cell, layer.layer
        bidirectional = len(layer.directions) == 2
        if layout == "torch":
            extra = ", bidirectional=True" if bidirectional else ""
            extra += "".join(f", {name}={value!r}" for name, value in
                             cell.torch_arguments(config.activation).items())
            note = (f"torch.{cell.torch_module}({layer.input_dim}, {layer.units}, "
                    f"batch_first=True{extra})")
            if config.go_backwards:
                note += "; feed it the time-reversed sequence (go_backwards=True)"
        elif layout == "onnx":
            direction = ("bidirectional" if bidirectional
                         else "reverse" if config.go_backwards else "forward")
            attributes = {"hidden_size": layer.units, "direction": direction,
                          **cell.onnx_attributes(config.cell_options, activation=config.activation,
                                                 directions=2 if bidirectional else 1)}
            note = f"ONNX {cell.onnx_operator} with " + ", ".join(
                f"{name}={value!r}" for name, value in attributes.items())
        else:
            continue
        notes.append(f"{layer.path}: {note}")
    return notes
