"""The precisions a GPU may compute float32 matrix products at, and their emulation in NumPy.

On Ampere and later NVIDIA GPUs a float32 matmul may run on tensor cores in **TF32**: each
operand is rounded to a 10-bit mantissa (float32 has 23), the products (exact in float32: two
11-bit significands) are summed in float32. Whether it does is a setting of the backend
(:mod:`verify.devices` reads it): cuDNN's LSTM/GRU kernels under torch's default
``cudnn.allow_tf32=True``, every matmul under jax's default precision and TensorFlow's
default ``tensor_float_32_execution``. Elementwise work (gates, activations, the cell) stays
float32.

:func:`emulated` makes :mod:`verify.reference` compute exactly that on the CPU: inside
``with emulated("tf32"):`` every matmul of a recurrent cell's step rounds both operands to
TF32 (round to nearest, ties away from zero, as ``cvt.rna.tf32.f32`` does) and multiplies in
the reference's dtype. The suite tests its TF32 bound (:func:`verify.compare.forward_tolerance`
with ``precision="tf32"``) against this emulation without a GPU.

>>> float(round_to_tf32(np.float32(1 + 2**-11 + 2**-20)))  # 1 + 2**-10, the nearest TF32
1.0009765625
>>> float(round_to_tf32(np.float32(1 + 2**-12)))
1.0
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
from collections.abc import Iterator
from typing import Any

import numpy as np

#: The precisions a float32 matmul may run at: float32 itself, or TF32 (10-bit mantissa).
PRECISIONS = ("float32", "tf32")

#: Explicit mantissa bits of each precision.
MANTISSA_BITS = {"float32": 23, "tf32": 10}


def eps(precision: str) -> float:
    """The machine epsilon of ``precision``: 2**-23 for float32, 2**-10 for TF32."""
    return 2.0 ** -MANTISSA_BITS[_checked(precision)]


def _checked(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def round_to_tf32(array: Any) -> np.ndarray:
    """``array`` as float32 values rounded to TF32's 10-bit mantissa (to nearest, ties away
    from zero); infinities and NaNs stay as they are."""
    values = np.array(array, dtype=np.float32)  # a C-ordered copy, 0-d kept
    bits = values.view(np.uint32)
    rounded = ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(np.float32)
    return np.where(np.isfinite(values), rounded, values)


class _Tf32Operand(np.ndarray):
    """A weight matrix whose every matmul rounds both operands to TF32 first (the other ufuncs
    see a plain array). What :func:`emulated` gives the reference's steppers."""

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        plain = [np.asarray(value).view(np.ndarray) if isinstance(value, np.ndarray) else value
                 for value in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(out).view(np.ndarray) for out in kwargs["out"])
        if ufunc is np.matmul and method == "__call__":
            dtype = np.result_type(*(np.asarray(value).dtype for value in plain))
            plain = [round_to_tf32(value).astype(dtype, copy=False) for value in plain]
        return getattr(ufunc, method)(*plain, **kwargs)


_CURRENT: contextvars.ContextVar[str] = contextvars.ContextVar("matmul_precision",
                                                               default="float32")


@contextlib.contextmanager
def emulated(precision: str) -> Iterator[None]:
    """Inside the block, :mod:`verify.reference` computes the matmuls of recurrent cells at
    ``precision`` (``"float32"``: as written, the default)."""
    token = _CURRENT.set(_checked(precision))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> str:
    """The matmul precision :func:`emulated` set (``"float32"`` outside it)."""
    return _CURRENT.get()


def emulating(stepper: Any) -> Any:
    """``stepper`` as the current precision computes it: itself under float32; under TF32 a
    copy whose weight matrices (its ``kernel`` and ``recurrent*`` attributes) round both
    operands of every matmul."""
    if _CURRENT.get() == "float32":
        return stepper
    emulating_copy = copy.copy(stepper)
    for name, value in vars(stepper).items():
        if (name == "kernel" or name.startswith("recurrent")) and isinstance(value, np.ndarray) \
                and value.ndim >= 2:
            setattr(emulating_copy, name, value.view(_Tf32Operand))
    return emulating_copy


__all__ = ["MANTISSA_BITS", "PRECISIONS", "current", "emulated", "emulating", "eps",
           "round_to_tf32"]
