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
              "cudnn.rnn.fp32_precision": ("tf32",), "cuda.matmul.fp32_precision": ("tf32",)},
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


__all__ = ["DeviceInfo", "summarize"]
