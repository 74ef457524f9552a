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


def _strict_settings(adapter: Any) -> dict[str, str]:
    from verify.keras_backend import STRICT_SETTINGS

    found = adapter.device().settings
    for key in (adapter.BACKEND, f"{adapter.BACKEND} (legacy flags)"):
        if key in STRICT_SETTINGS and set(STRICT_SETTINGS[key]) <= set(found):
            return STRICT_SETTINGS[key]
    raise AssertionError(f"no strict settings of {adapter.BACKEND} match {found}")


def test_strict_precision_is_set_for_the_block_and_restored(adapter: Any) -> None:
    """With the backend's real flags (they exist and can be set without a GPU): inside the
    block every flag reads strict, so the verdict is float32 on any device; after it, and
    after a block that raised, each flag reads what it read before."""
    before = dict(adapter.device().settings)
    strict = _strict_settings(adapter)
    with adapter.strict_precision():
        inside = adapter.device()
        assert {key: inside.settings[key] for key in strict} == strict
        assert summarize(adapter.BACKEND, "gpu (any)", inside.settings).float32 == "float32"
    assert dict(adapter.device().settings) == before
    with pytest.raises(KeyError), adapter.strict_precision():
        raise KeyError("inside")
    assert dict(adapter.device().settings) == before


@pytest.mark.parametrize(("backend", "version", "gpu", "options", "path"), [
    # TensorFlow: cuDNN on a GPU for eligible LSTM/GRU, a right-padded mask allowed.
    ("tensorflow", "3.15.1", True, {"cell": "LSTM"}, "cudnn"),
    ("tensorflow", "3.15.1", True, {"cell": "LSTM", "mask": "right-padded"}, "cudnn"),
    ("tensorflow", "3.15.1", True, {"cell": "LSTM", "mask": "other"}, "generic loop"),
    ("tensorflow", "3.15.1", True, {"cell": "GRU", "reset_after": False}, "generic loop"),
    ("tensorflow", "3.15.1", True, {"cell": "GRU", "reset_after": False, "use_cudnn": True},
     "refused"),
    ("tensorflow", "3.15.1", True, {"cell": "LSTM", "use_cudnn": False}, "generic loop"),
    ("tensorflow", "3.15.1", True, {"cell": "LSTM", "recurrent_activation": "hard_sigmoid"},
     "generic loop"),
    ("tensorflow", "2.15.0", True, {"cell": "LSTM", "use_cudnn": False}, "cudnn"),  # Keras 2
    ("tensorflow", "2.15.0", False, {"cell": "LSTM", "use_cudnn": True}, "generic loop"),
    ("tensorflow", "3.15.1", False, {"cell": "LSTM"}, "generic loop"),
    # torch: no kernel before 3.10; 3.10-3.13 cuDNN LSTM with right-padded masks; from 3.14
    # no masks, and its fused loop where cuDNN cannot run.
    ("torch", "3.9.0", True, {"cell": "LSTM"}, "generic loop"),
    ("torch", "3.12.0", True, {"cell": "LSTM", "mask": "right-padded"}, "cudnn"),
    ("torch", "3.12.0", True, {"cell": "GRU"}, "generic loop"),
    ("torch", "3.12.0", False, {"cell": "LSTM", "use_cudnn": True}, "refused"),
    ("torch", "3.15.1", True, {"cell": "LSTM", "mask": "right-padded"}, "generic loop"),
    ("torch", "3.15.1", True, {"cell": "LSTM"}, "cudnn"),
    ("torch", "3.15.1", True, {"cell": "LSTM", "activation": "relu"}, "backend loop"),
    ("torch", "3.15.1", False, {"cell": "LSTM", "use_cudnn": True}, "backend loop"),
    ("torch", "3.15.1", True, {"cell": "GRU"}, "cudnn"),
    ("torch", "3.14.0", False, {"cell": "GRU"}, "generic loop"),
    ("torch", "3.15.1", False, {"cell": "GRU"}, "backend loop"),
    ("torch", "3.15.1", True, {"cell": "GRU", "reset_after": False}, "generic loop"),
    # jax: cuDNN LSTM from 3.14 on a GPU, a fused GRU scan from 3.15 anywhere.
    ("jax", "3.13.0", True, {"cell": "LSTM"}, "generic loop"),
    ("jax", "3.15.1", True, {"cell": "LSTM"}, "cudnn"),
    ("jax", "3.15.1", False, {"cell": "LSTM", "use_cudnn": True}, "refused"),
    ("jax", "3.15.1", False, {"cell": "GRU"}, "backend loop"),
    ("jax", "3.15.1", False, {"cell": "GRU", "unroll": True}, "generic loop"),
    ("jax", "3.14.0", True, {"cell": "GRU"}, "generic loop"),
    ("jax", "3.15.1", True, {"cell": "SimpleRNN", "use_cudnn": True}, "generic loop"),
])
def test_kernel_rules(backend: str, version: str, gpu: bool, options: dict[str, Any],
                      path: str) -> None:
    """Keras's rules as its sources state them, for devices and versions this machine does
    not have (the ``kernels`` property checks the running one against what Keras does)."""
    from verify.devices import expected_kernel

    found = expected_kernel(backend=backend, keras_version=version, gpu=gpu, **options)
    assert found.path == path, found.describe()


def test_mask_kinds() -> None:
    import numpy as np

    from verify.devices import mask_kind

    assert mask_kind(None) == "none"
    assert mask_kind(np.array([[1, 1, 0], [1, 0, 0]], bool)) == "right-padded"
    assert mask_kind(np.array([[0, 1, 1]], bool)) == "other"
    assert mask_kind(np.array([[1, 0, 1]], bool)) == "other"
    assert mask_kind(np.array([[0, 0, 0]], bool)) == "other"  # cuDNN refuses empty rows


@pytest.mark.parametrize(("backend", "settings", "kernel", "precision"), [
    ("torch", {"cudnn.rnn.fp32_precision": "tf32", "cuda.matmul.fp32_precision": "none"},
     "cudnn", "tf32"),
    ("torch", {"cudnn.rnn.fp32_precision": "tf32", "cuda.matmul.fp32_precision": "none"},
     "generic loop", "float32"),
    ("torch", {"cudnn.allow_tf32": "True", "cuda.matmul.allow_tf32": "False",
               "float32_matmul_precision": "highest"}, "cudnn", "tf32"),
    ("torch", {"cudnn.allow_tf32": "True", "cuda.matmul.allow_tf32": "False",
               "float32_matmul_precision": "high"}, "backend loop", "tf32"),
    ("jax", {"jax_default_matmul_precision": "default"}, "generic loop", "tf32"),
    ("jax", {"jax_default_matmul_precision": "highest"}, "cudnn", "float32"),
    ("tensorflow", {"tensor_float_32": "True"}, "generic loop", "tf32"),
    ("tensorflow", {"tensor_float_32": "True"}, "refused", "float32"),
])
def test_kernel_precision_on_a_gpu(backend: str, settings: dict[str, str], kernel: str,
                                   precision: str) -> None:
    from verify.devices import kernel_precision

    assert kernel_precision(summarize(backend, "gpu (H200)", settings), kernel) == precision
    assert kernel_precision(summarize(backend, None, settings), kernel) == "float32"
