"""The device and float32 precision report (verify.devices): the verdict from what a backend's
flags say, tested for GPUs without one, and what this machine's backend reports."""

from __future__ import annotations

from typing import Any

import pytest

from verify.devices import summarize


@pytest.mark.parametrize(("backend", "accelerator", "settings", "verdict"), [
    # A CPU computes float32 matmuls in float32 whatever the flags say.
    ("tensorflow", None, {"tensor_float_32": "True"}, "float32"),
    ("torch", None, {"cudnn.rnn.fp32_precision": "tf32"}, "float32"),
    ("jax", None, {"jax_default_matmul_precision": "default"}, "float32"),
    # On a GPU the flags decide.
    ("tensorflow", "gpu (GPU:0)", {"tensor_float_32": "True"},
     "tf32 allowed (tensor_float_32)"),
    ("tensorflow", "gpu (GPU:0)", {"tensor_float_32": "False"}, "float32"),
    ("torch", "gpu (NVIDIA H200)", {"cudnn.allow_tf32": "True", "cuda.matmul.allow_tf32":
                                    "False", "float32_matmul_precision": "highest"},
     "tf32 allowed (cudnn.allow_tf32)"),
    ("torch", "gpu (NVIDIA H200)", {"cudnn.allow_tf32": "False", "cuda.matmul.allow_tf32":
                                    "False", "float32_matmul_precision": "highest"},
     "float32"),
    ("torch", "gpu (NVIDIA H200)", {"cudnn.rnn.fp32_precision": "tf32",
                                    "cuda.matmul.fp32_precision": "ieee"},
     "tf32 allowed (cudnn.rnn.fp32_precision)"),
    ("jax", "gpu (H200)", {"jax_default_matmul_precision": "default"},
     "reduced passes allowed (jax_default_matmul_precision)"),
    ("jax", "gpu (H200)", {"jax_default_matmul_precision": "highest"}, "float32"),
])
def test_precision_verdict(backend: str, accelerator: str | None, settings: dict[str, str],
                           verdict: str) -> None:
    found = summarize(backend, accelerator, settings)
    assert found.float32 == verdict
    assert found.describe().startswith(accelerator or "cpu")
    assert all(f"{key}={value}" in found.describe() for key, value in settings.items())


def test_this_machine_reports_its_backend(adapter: Any) -> None:
    """No accelerator here (CI has none): the running backend says cpu and float32, with the
    flags it read."""
    found = adapter.device()
    assert found.backend == adapter.BACKEND
    if found.accelerator is None:
        assert found.float32 == "float32" and found.describe().startswith("cpu;")
    assert found.settings and found.as_dict()["accelerator"] == (found.accelerator or "cpu")
