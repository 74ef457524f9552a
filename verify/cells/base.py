"""What every recurrent cell kind has, and the one place that checks a cell's arrays.

A :class:`Cell` describes one Keras cell kind (LSTM, GRU, SimpleRNN): the gate blocks along
the last axis of its fused arrays, its states, its options, its weight-shape and parameter
formulas, its step equations (a :class:`Stepper` for the reference loop), its PyTorch and ONNX
layouts and how to prove its gate order in Keras. Everything around a cell — masks,
``go_backwards``, initial and carried states, Bidirectional merging, whole models — is generic
and lives elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from verify import _validate

Shape = tuple[int | None, ...]
Activation = Any  # Callable[[np.ndarray], np.ndarray]


def finite(name: str, array: np.ndarray) -> np.ndarray:
    """``array`` if every value is finite, else ``ValueError`` naming the first bad index."""
    if not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(f"{name} contains {float(array[where])!r} at index {where}; the "
                         "reference accepts finite values only (NaN and infinity are refused)")
    return array


@dataclass(frozen=True)
class CellWeights:
    """One direction's validated arrays, cast to the computing dtype."""

    units: int
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray | None


class Stepper(Protocol):
    """One direction of a cell, ready to run: the reference loop calls ``project`` once for the
    whole sequence ``(batch, steps, features)``, then ``step`` per time step. ``states[0]`` is
    ``h``, which is also the step's output. ``kept`` (``(batch, steps)``, optional) marks the
    steps whose projection is used: the others may be left unprojected."""

    def project(self, x: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray: ...

    def step(self, projected: np.ndarray, states: list[np.ndarray]) -> list[np.ndarray]: ...


def matmul_rows(x: np.ndarray, kernel: np.ndarray, kept: np.ndarray | None = None
                ) -> np.ndarray:
    """``x @ kernel`` as one matrix product over all leading axes of ``x`` (NumPy would run
    one small product per leading index). A kernel ``(2, d, n)`` (a paired stepper's, both
    directions) multiplies ``x[i]`` by ``kernel[i]``. With ``kept`` (``x.shape[:-1]``
    booleans), only those rows are multiplied and the others are zero: a masked step's
    projection is never used, and padded batches are often half padding."""
    out = np.empty((*x.shape[:-1], kernel.shape[-1]),
                   dtype=np.result_type(x.dtype, kernel.dtype))
    if kernel.ndim == 3:
        for index in range(kernel.shape[0]):
            _matmul_into(x[index], kernel[index], out[index],
                         None if kept is None else kept[index])
    else:
        _matmul_into(x, kernel, out, kept)
    return out


def _matmul_into(x: np.ndarray, kernel: np.ndarray, out: np.ndarray,
                 kept: np.ndarray | None) -> None:
    """``out[...] = x @ kernel`` with the leading axes flattened into one product (only the
    ``kept`` rows when given, zeros elsewhere)."""
    if kept is not None and kept.mean() < 0.8:
        out[...] = 0.0
        out[kept] = x[kept] @ kernel
        return
    rows = x.reshape(-1, x.shape[-1])  # a copy only when x is a strided view
    np.matmul(rows, kernel, out=out.reshape(-1, kernel.shape[-1]))


@dataclass(frozen=True)
class Saturation:
    """One gate-semantics experiment: add ``sign * SATURATION`` to ``gate``'s input-bias block,
    which forces the gate to ``forced``; ``effect`` says what the step equations then predict."""

    gate: str
    sign: float
    forced: float
    effect: str


class Cell:
    """A recurrent cell kind. Subclasses fill in the class attributes and the methods below."""

    #: The name users write (``"LSTM"``), which is also the Keras layer class.
    name: str = ""
    #: The name with its article, for messages (``"an LSTM"``).
    label: str = ""
    #: The cell's name in the suite's property names (``"lstm"`` -> ``lstm_shapes``), and the
    #: prefix of its gate properties (``gru_`` -> ``gru_gate_z``; ``None``: ``key`` + ``_``).
    key: str = ""
    gate_key: str | None = None
    #: How the suite splits this cell's runs, each part with its own example budget: option
    #: values by stratum name (GRU: ``reset_after`` True/False, two functions), or, with
    #: ``mask_strata``, the forward property by kind of mask.
    option_strata: Mapping[str, Mapping[str, Any]] = MappingProxyType({})
    mask_strata: bool = False
    #: The gate blocks along the last axis of the kernel, recurrent kernel and bias, in Keras's
    #: order; ``GATE_NAMES`` says what each letter stands for.
    gates: tuple[str, ...] = ()
    gate_names: Mapping[str, str] = MappingProxyType({})
    #: The states, in the order Keras returns them with ``return_state``.
    states: tuple[str, ...] = ("h",)
    #: Options of the cell beyond ``activation`` and ``use_bias``, with Keras's defaults.
    option_defaults: Mapping[str, Any] = MappingProxyType({})
    #: The gate-semantics experiments that prove the gate order in Keras.
    saturations: tuple[Saturation, ...] = ()
    #: For each activation option, the gate blocks whose pre-activations (linear functions of
    #: the layer's own weights) it is applied to; ``None`` where it is applied to something
    #: else (an LSTM's ``activation`` also reads the cell state). ``migrate`` rescales exactly
    #: these columns to carry Keras 2's ``hard_sigmoid`` over to Keras 3.
    activation_blocks: Mapping[str, tuple[str, ...] | None] = MappingProxyType({})
    #: PyTorch module and ONNX operator of the same function, and the activations they can
    #: compute (with sigmoid gates); anything else has no equivalent there.
    torch_module: str = ""
    onnx_operator: str = ""
    target_activations: tuple[str, ...] = ("tanh",)

    # --- options ---------------------------------------------------------------------------
    def options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` completed with the defaults; unknown names (and a flag that is not a bool)
        raise ``TypeError``."""
        unknown = set(given) - set(self.option_defaults)
        if unknown:
            raise TypeError(f"{self.name} has no options {sorted(unknown)}; its options are "
                            f"{sorted(self.option_defaults) or 'none'}")
        for name, value in given.items():
            if isinstance(self.option_defaults[name], bool):
                _validate.boolean(name, value)
        return {**self.option_defaults, **given}

    # --- shapes ----------------------------------------------------------------------------
    @property
    def blocks(self) -> int:
        """How many blocks of ``units`` columns the fused arrays have."""
        return len(self.gates)

    def bias_shape(self, units: int, **options: Any) -> tuple[int, ...]:
        return (self.blocks * units,)

    def weight_shapes(self, input_dim: int, units: int, *, use_bias: bool = True,
                      **options: Any) -> list[Shape]:
        """``get_weights()`` shapes of one layer of this cell kind."""
        d = _validate.positive_int("input_dim", input_dim)
        u = _validate.positive_int("units", units)
        options = self.options(options)
        shapes: list[Shape] = [(d, self.blocks * u), (u, self.blocks * u)]
        if _validate.boolean("use_bias", use_bias):
            shapes.append(self.bias_shape(u, **options))
        return shapes

    def param_count(self, input_dim: int, units: int, *, use_bias: bool = True,
                    **options: Any) -> int:
        """Trainable parameters of one layer: the sizes of :meth:`weight_shapes` summed."""
        return sum(math.prod(int(dim or 0) for dim in shape) for shape in self.weight_shapes(
            input_dim, units, use_bias=use_bias, **options))

    def param_formula(self, *, use_bias: bool, **options: Any) -> str:
        """The parameter count in symbols, e.g. ``4u(d + u + 1)``."""
        raise NotImplementedError

    def shape_formulas(self, *, use_bias: bool, **options: Any) -> list[str]:
        """Each array's shape in symbols, e.g. ``["(d, 4u)", "(u, 4u)", "(4u,)"]``."""
        k = f"{self.blocks}u" if self.blocks > 1 else "u"
        formulas = [f"(d, {k})", f"(u, {k})"]
        if use_bias:
            formulas.append(f"({k},)")
        return formulas

    # --- arrays ----------------------------------------------------------------------------
    def check_weights(self, kernel: Any, recurrent_kernel: Any, bias: Any, *,
                      input_dim: int | None, dtype: Any, options: Mapping[str, Any],
                      prefix: str = "", check_finite: bool = True) -> CellWeights:
        """Validate one direction's arrays against this cell's shapes (``input_dim=None``:
        whatever the kernel has) and cast them to ``dtype``."""
        k = self.blocks
        recurrent = _validate.numeric_array(f"{prefix}recurrent_kernel", recurrent_kernel)
        if recurrent.ndim != 2 or recurrent.shape[0] < 1 or recurrent.shape[1] != \
                k * recurrent.shape[0]:
            raise ValueError(f"{prefix}recurrent_kernel must have shape (units, {self._k()}) "
                             f"for {self.label}, got {recurrent.shape}")
        units = recurrent.shape[0]
        kernel = _validate.numeric_array(f"{prefix}kernel", kernel)
        if input_dim is None and kernel.ndim == 2:
            input_dim = kernel.shape[0]
        if kernel.shape != (input_dim, k * units):
            raise ValueError(f"{prefix}kernel must have shape (input_dim, {self._k()}) = "
                             f"{(input_dim, k * units)} for x's {input_dim} features and "
                             f"{prefix}recurrent_kernel's {units} units, got {kernel.shape}")
        check = finite if check_finite else (lambda name, array: array)
        checked_bias = None
        if bias is not None:
            bias = _validate.numeric_array(f"{prefix}bias", bias)
            expected = self.bias_shape(units, **options)
            if bias.shape != expected:
                raise ValueError(f"{prefix}bias must have shape {self._bias_text(options)} = "
                                 f"{expected} for {self.label}{self._options_text(options)}, "
                                 f"got {bias.shape}")
            checked_bias = check(f"{prefix}bias", bias.astype(dtype))
        return CellWeights(units, check(f"{prefix}kernel", kernel.astype(dtype)),
                           check(f"{prefix}recurrent_kernel", recurrent.astype(dtype)),
                           checked_bias)

    def _k(self) -> str:
        return f"{self.blocks} * units" if self.blocks > 1 else "units"

    def _bias_text(self, options: Mapping[str, Any]) -> str:
        return f"({self._k()},)"

    def _options_text(self, options: Mapping[str, Any]) -> str:
        return ""

    def block(self, gate: str, units: int) -> slice:
        """The column range of ``gate`` in a fused array of ``blocks * units`` columns."""
        _validate.one_of("gate", gate, self.gates)
        units = _validate.positive_int("units", units)
        start = self.gates.index(gate) * units
        return slice(start, start + units)

    def split(self, array: Any) -> dict[str, np.ndarray]:
        """``array`` split by gate along its last axis (views, as ``numpy.split``)."""
        array = _validate.numeric_array("array", array, min_ndim=1)
        columns = array.shape[-1]
        if columns == 0 or columns % self.blocks:
            raise ValueError(
                f"array's last axis must be a positive multiple of {self.blocks} (one block per "
                f"{self.name} gate {', '.join(self.gates)}), got shape {array.shape}")
        return dict(zip(self.gates, np.split(array, self.blocks, axis=-1), strict=True))

    def join(self, parts: Mapping[str, Any]) -> np.ndarray:
        """Inverse of :meth:`split`: the blocks concatenated in Keras's order."""
        names = ", ".join(self.gates)
        if not isinstance(parts, Mapping):
            raise TypeError(f"parts must be a mapping with keys {names}, "
                            f"got {_validate.describe(parts)}")
        if set(parts) != set(self.gates):
            missing = [gate for gate in self.gates if gate not in parts]
            extra = sorted(str(key) for key in parts if key not in self.gates)
            raise ValueError(f"parts must have exactly the keys {names}; "
                             f"missing {missing}, unexpected {extra}")
        arrays = {gate: _validate.numeric_array(f"parts[{gate!r}]", parts[gate], min_ndim=1)
                  for gate in self.gates}
        shapes = {gate: array.shape for gate, array in arrays.items()}
        if len(set(shapes.values())) != 1:
            raise ValueError(f"all gate blocks must have the same shape, got {shapes}")
        return np.concatenate([arrays[gate] for gate in self.gates], axis=-1)

    def bias_rows(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Names of the bias's rows when it has two (GRU ``reset_after``); ``()`` otherwise."""
        return ()

    # --- computing -------------------------------------------------------------------------
    def stepper(self, weights: CellWeights, *, activation: Activation,
                recurrent_activation: Activation | None, options: Mapping[str, Any]) -> Stepper:
        raise NotImplementedError

    def gate_step(self, weights: CellWeights, x: np.ndarray, states: Sequence[np.ndarray],
                  forced: Mapping[str, float], options: Mapping[str, Any]) -> list[np.ndarray]:
        """One float64 step with default activations (sigmoid gates, tanh), written gate by gate
        from :meth:`split` blocks, with the gates in ``forced`` replaced by their values: the
        prediction the gate-semantics check compares Keras with."""
        raise NotImplementedError

    def saturated_bias(self, bias: np.ndarray, saturation: Saturation,
                       amount: float) -> np.ndarray:
        """``bias`` with ``amount`` added to ``saturation.gate``'s input-bias block."""
        changed = np.array(bias, dtype=np.float32)
        units = changed.shape[-1] // self.blocks
        target = changed[0] if changed.ndim == 2 else changed
        target[self.block(saturation.gate, units)] += np.float32(amount)
        return changed

    # --- other frameworks --------------------------------------------------------------------
    def full_bias(self, weights: CellWeights, options: Mapping[str, Any]) -> np.ndarray:
        """The bias, or the zeros that ``use_bias=False`` computes with."""
        if weights.bias is not None:
            return weights.bias
        return np.zeros(self.bias_shape(weights.units, **options), weights.kernel.dtype)

    # PyTorch's layout where the gate order is Keras's and Keras has one bias (nn.LSTM,
    # nn.RNN): weight_ih = kernel.T, weight_hh = recurrent_kernel.T, bias_ih = bias,
    # bias_hh = 0. A cell with another layout (GRU) overrides both methods.
    def to_torch(self, weights: CellWeights, options: Mapping[str, Any],
                 suffix: str) -> dict[str, np.ndarray]:
        bias = self.full_bias(weights, options)
        return {f"weight_ih_l0{suffix}": np.ascontiguousarray(weights.kernel.T),
                f"weight_hh_l0{suffix}": np.ascontiguousarray(weights.recurrent_kernel.T),
                f"bias_ih_l0{suffix}": bias.copy(), f"bias_hh_l0{suffix}": np.zeros_like(bias)}

    def from_torch(self, arrays: Mapping[str, np.ndarray], options: Mapping[str, Any],
                   suffix: str) -> list[np.ndarray]:
        kernel = arrays[f"weight_ih_l0{suffix}"].T
        bias = np.zeros(kernel.shape[1], kernel.dtype)
        for name in (f"bias_ih_l0{suffix}", f"bias_hh_l0{suffix}"):
            if name in arrays:
                bias = bias + arrays[name]
        return [kernel, arrays[f"weight_hh_l0{suffix}"].T, bias]

    def to_onnx(self, weights: CellWeights,
                options: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def from_onnx(self, w: np.ndarray, r: np.ndarray, b: np.ndarray,
                  options: Mapping[str, Any]) -> list[np.ndarray]:
        raise NotImplementedError

    def torch_arguments(self, activation: str) -> dict[str, Any]:
        """Keyword arguments of the PyTorch module beyond sizes, ``batch_first`` and
        ``bidirectional``."""
        return {}

    def onnx_attributes(self, options: Mapping[str, Any], *, activation: str = "tanh",
                        directions: int = 1) -> dict[str, Any]:
        """Attributes of the ONNX operator beyond ``hidden_size`` and ``direction``."""
        return {}

    @property
    def gate_prefix(self) -> str:
        """The prefix of this cell's gate property names (``gate_i``, ``gru_gate_z``)."""
        return f"{self.key}_" if self.gate_key is None else self.gate_key

    def keras_layer(self, keras: Any, **config: Any) -> Any:
        """The Keras layer of this cell kind for ``config`` (the layer class of the same name
        in ``keras.layers``); ``keras`` is the module the adapter imported."""
        return getattr(keras.layers, self.name)(**config)

    def __repr__(self) -> str:
        return f"<{self.name} cell>"


def reorder(array: np.ndarray, source: Sequence[str], target: Sequence[str],
            axis: int = 0) -> np.ndarray:
    """Reorder the gate blocks of ``array`` along ``axis`` from ``source`` order to ``target``."""
    blocks = dict(zip(source, np.split(array, len(source), axis=axis), strict=True))
    return np.concatenate([blocks[gate] for gate in target], axis=axis)
