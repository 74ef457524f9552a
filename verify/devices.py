"""Which device the running Keras backend computes on, and at which float32 precision its
matrix products run there: what the report header, ``--json`` and ``check`` print.

On a CPU every backend computes float32 matmuls in float32 whatever its flags say. On a GPU
the flags decide: TensorFlow's TF32 switch
(``tf.config.experimental.tensor_float_32_execution_enabled()``, on by default on Ampere and
later), torch's ``cudnn.allow_tf32`` / ``cuda.matmul.allow_tf32`` (or, in newer torch, the
``fp32_precision`` settings per backend; torch refuses a mix of the two APIs, so whichever the
installed torch has is read), jax's ``jax_default_matmul_precision`` (its default lets XLA use
reduced-precision passes on GPUs). :func:`verify.keras_backend.device` reads them (the one
module that imports a backend); :func:`summarize` turns what was read into one verdict without
touching any backend, so it is tested without a GPU.

>>> summarize("torch", None, {"cudnn.allow_tf32": "True"}).float32
'float32'
>>> summarize("torch", "NVIDIA H200", {"cudnn.allow_tf32": "True"}).float32
'tf32 allowed (cudnn.allow_tf32)'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DeviceInfo:
    """The accelerator (``None``: CPU only), the float32 precision verdict and the raw
    settings it was read from."""

    backend: str
    accelerator: str | None
    float32: str
    settings: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """One line, e.g. ``cpu; float32 matmuls in float32 (tensor_float_32=True)``."""
        where = self.accelerator or "cpu"
        shown = ", ".join(f"{key}={value}" for key, value in self.settings.items())
        return f"{where}; float32 matmuls in {self.float32}" + (f" ({shown})" if shown else "")

    def as_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "accelerator": self.accelerator or "cpu",
                "float32": self.float32, "settings": dict(self.settings)}


#: The settings that let a GPU compute float32 matmuls at a reduced precision, per backend,
#: with the values that mean "reduced".
_REDUCING: dict[str, dict[str, tuple[str, ...]]] = {
    "tensorflow": {"tensor_float_32": ("True",)},
    "torch": {"cudnn.allow_tf32": ("True",), "cuda.matmul.allow_tf32": ("True",),
              "float32_matmul_precision": ("high", "medium"),
              "cudnn.rnn.fp32_precision": ("tf32",), "cuda.matmul.fp32_precision": ("tf32",),
              "cudnn.conv.fp32_precision": ("tf32",)},
    "jax": {"jax_default_matmul_precision": ("default", "None", "bfloat16", "tensorfloat32",
                                             "bfloat16_3x")},
}


def summarize(backend: str, accelerator: str | None, settings: Mapping[str, str]
              ) -> DeviceInfo:
    """The verdict for ``settings`` read from ``backend`` on ``accelerator`` (``None``: CPU):
    ``"float32"``, or which setting allows a reduced precision on the accelerator."""
    if accelerator is None:
        return DeviceInfo(backend, None, "float32", dict(settings))
    reducing = [key for key, values in _REDUCING.get(backend, {}).items()
                if settings.get(key) in values]
    if not reducing:
        return DeviceInfo(backend, accelerator, "float32", dict(settings))
    kind = "reduced passes allowed" if backend == "jax" else "tf32 allowed"
    return DeviceInfo(backend, accelerator, f"{kind} ({', '.join(reducing)})", dict(settings))


#: The kernels a recurrent layer may run: the backend's cuDNN kernel, the backend's own fused
#: loop (torch's and jax's, Keras >= 3.14, where cuDNN cannot run), Keras's generic RNN loop
#: (the step function over time), or none (``use_cudnn=True`` where the backend has no cuDNN
#: path for the case: Keras raises ``ValueError``).
KERNELS = ("cudnn", "backend loop", "generic loop", "refused")

#: The kinds of mask a kernel choice depends on: none, right-padded (every row a run of
#: ``True`` then a run of ``False``, at least one ``True``), any other.
MASK_KINDS = ("none", "right-padded", "other")


@dataclass(frozen=True)
class Kernel:
    """Which kernel a recurrent layer runs (one of :data:`KERNELS`) and why."""

    path: str
    reason: str

    def describe(self) -> str:
        return f"{self.path} ({self.reason})"


def mask_kind(mask: Any) -> str:
    """``"none"``, ``"right-padded"`` or ``"other"`` for a ``(batch, steps)`` boolean mask."""
    if mask is None:
        return "none"
    import numpy as np

    rows = np.asarray(mask, dtype=bool)
    lengths = rows.sum(axis=-1)
    prefix = np.arange(rows.shape[-1]) < lengths[..., None]
    return "right-padded" if bool(np.all(rows == prefix) and np.all(lengths > 0)) else "other"


def _version(text: str) -> tuple[int, int]:
    major, minor = [*text.split("."), "0"][:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


def expected_kernel(*, backend: str, keras_version: str, gpu: bool, cell: str,
                    activation: str = "tanh", recurrent_activation: str = "sigmoid",
                    use_bias: bool = True, unroll: bool = False, reset_after: bool = True,
                    mask: str = "none", use_cudnn: bool | str = "auto") -> Kernel:
    """The kernel Keras runs for one ``LSTM``/``GRU``/``SimpleRNN`` call, from Keras's own
    rules as its sources state them (``keras/src/layers/rnn/{lstm,gru}.py`` and each backend's
    ``rnn.py``; Keras 2: ``keras/src/layers/rnn/lstm.py`` and ``gru_lstm_utils.py``).

    cuDNN needs ``activation="tanh"``, ``recurrent_activation="sigmoid"``, ``use_bias``, no
    ``unroll``, a GPU, and for a GRU ``reset_after=True``. Per backend:

    - TensorFlow (Keras 2 and 3): cuDNN for LSTM and GRU; a mask must be right-padded, else
      the generic loop (Keras 2 decides at run time, Keras 3 catches cuDNN's refusal).
    - torch: nothing before Keras 3.10; 3.10-3.13 cuDNN for LSTM (a right-padded mask or
      none); from 3.14 no mask at all, and where cuDNN cannot run an LSTM (CPU, other
      activations) torch's own fused loop; GRU (``reset_after``, no mask) from 3.14 on cuDNN,
      from 3.15 the fused loop elsewhere.
    - jax: nothing before 3.14; from 3.14 cuDNN for an unmasked LSTM
      (``jax.experimental.rnn``); from 3.15 a fused scan for an unmasked GRU with
      ``reset_after`` and no ``unroll``, on any device.

    ``use_cudnn=False`` (Keras 3) always takes the generic loop; ``use_cudnn=True`` where the
    backend has no path for the case is ``"refused"`` (Keras raises ``ValueError``). SimpleRNN
    has no kernel of its own.
    """
    if mask not in MASK_KINDS:
        raise ValueError(f"mask must be one of {', '.join(MASK_KINDS)}, got {mask!r}")
    version = _version(keras_version)
    if cell == "SimpleRNN":
        return Kernel("generic loop", "SimpleRNN has no fused kernel")
    if cell not in ("LSTM", "GRU"):
        raise ValueError(f"cell must be LSTM, GRU or SimpleRNN, got {cell!r}")
    if version[0] < 3:
        use_cudnn = "auto"  # Keras 2 has no such option: it decides alone
    elif use_cudnn is False:
        return Kernel("generic loop", "use_cudnn=False")
    eligible = [reason for reason, ok in (
        (f"activation={activation}", activation == "tanh"),
        (f"recurrent_activation={recurrent_activation}", recurrent_activation == "sigmoid"),
        ("use_bias=False", use_bias), ("unroll=True", not unroll),
        ("reset_after=False", cell == "LSTM" or reset_after)) if not ok]
    cudnn_ok = not eligible and gpu
    why_not = ", ".join(eligible) or "no GPU"
    if backend == "tensorflow":
        if cudnn_ok and mask != "other":
            return Kernel("cudnn", "TensorFlow's cuDNN kernel")
        reason = why_not if not cudnn_ok else "mask not right-padded"
        return _forced(Kernel("generic loop", reason), use_cudnn)
    if backend == "torch":
        return _forced(_torch_kernel(version, cell, cudnn_ok, why_not, reset_after, mask),
                       use_cudnn)
    if backend == "jax":
        return _forced(_jax_kernel(version, cell, cudnn_ok, why_not, reset_after, unroll, mask),
                       use_cudnn)
    return _forced(Kernel("generic loop", f"the {backend} backend has no fused kernel"),
                   use_cudnn)


def _torch_kernel(version: tuple[int, int], cell: str, cudnn_ok: bool, why_not: str,
                  reset_after: bool, mask: str) -> Kernel:
    if version < (3, 10) or (cell == "GRU" and version < (3, 14)):
        return Kernel("generic loop", f"torch has no {cell} kernel in Keras < "
                      f"{'3.10' if cell == 'LSTM' else '3.14'}")
    if version < (3, 14):  # an LSTM; cuDNN takes right-padded masks
        if cudnn_ok and mask != "other":
            return Kernel("cudnn", "torch's cuDNN LSTM")
        return Kernel("generic loop", why_not if not cudnn_ok else "mask not right-padded")
    if mask != "none":
        return Kernel("generic loop", "torch's kernels take no mask (Keras >= 3.14)")
    if cell == "GRU" and not reset_after:
        return Kernel("generic loop", "reset_after=False")
    if cudnn_ok:
        return Kernel("cudnn", f"torch's cuDNN {cell}")
    if cell == "GRU" and version < (3, 15):
        return Kernel("generic loop", why_not)
    return Kernel("backend loop", f"torch's fused {cell} loop ({why_not})")


def _jax_kernel(version: tuple[int, int], cell: str, cudnn_ok: bool, why_not: str,
                reset_after: bool, unroll: bool, mask: str) -> Kernel:
    if version < (3, 14):
        return Kernel("generic loop", "jax has no recurrent kernel in Keras < 3.14")
    if mask != "none":
        return Kernel("generic loop", "jax's kernels take no mask")
    if cell == "LSTM":
        return Kernel("cudnn", "jax.experimental.rnn (cuDNN)") if cudnn_ok \
            else Kernel("generic loop", why_not)
    if version >= (3, 15) and reset_after and not unroll:
        return Kernel("backend loop", "jax's fused GRU scan")
    return Kernel("generic loop", "reset_after=False" if not reset_after else
                  "unroll=True" if unroll else "jax has no GRU kernel in Keras 3.14")


#: Per backend and kernel, the settings that decide its float32 matmuls' precision: torch's
#: cuDNN RNN kernels follow cuDNN's RNN flag, its loops cuBLAS's matmul flags; TensorFlow and
#: jax have one switch for all.
_GOVERNING: dict[tuple[str, str], tuple[str, ...]] = {
    ("torch", "cudnn"): ("cudnn.allow_tf32", "cudnn.rnn.fp32_precision"),
    ("torch", "backend loop"): ("cuda.matmul.allow_tf32", "float32_matmul_precision",
                                "cuda.matmul.fp32_precision"),
    ("torch", "generic loop"): ("cuda.matmul.allow_tf32", "float32_matmul_precision",
                                "cuda.matmul.fp32_precision"),
}


def kernel_precision(device: DeviceInfo, kernel: str) -> str:
    """``"float32"`` or ``"tf32"``: the precision ``kernel`` (:data:`KERNELS`) computes its
    matmuls at on ``device`` under the settings read there (a CPU: float32)."""
    if device.accelerator is None or kernel == "refused":
        return "float32"
    governing = _GOVERNING.get((device.backend, kernel))
    reducing = _REDUCING.get(device.backend, {})
    for key, values in reducing.items():
        if (governing is None or key in governing) and device.settings.get(key) in values:
            return "tf32"
    return "float32"


def _forced(kernel: Kernel, use_cudnn: bool | str) -> Kernel:
    """``use_cudnn=True`` where only the generic loop can run: Keras raises."""
    if use_cudnn is True and kernel.path == "generic loop":
        return Kernel("refused", f"use_cudnn=True but {kernel.reason}")
    return kernel


__all__ = ["KERNELS", "MASK_KINDS", "DeviceInfo", "Kernel", "expected_kernel",
           "kernel_precision", "mask_kind", "summarize"]
