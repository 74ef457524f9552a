"""Device checks: which kernel Keras runs (cuDNN, a backend's fused loop, the generic loop) is
the one its own rules name, and what the device's default float32 precision gives.

:func:`check_kernel` builds a fresh layer with ``use_cudnn`` ``"auto"``, ``True`` or ``False``
(Keras 3; Keras 2 has no such option and decides alone), watches which kernel ran
(:func:`verify.keras_adapter.kernel_run`), asserts it is the one
:func:`verify.devices.expected_kernel` names for this backend, Keras version, device, layer
options and mask, and that its outputs equal the reference. Run under strict precision (the
report and the suite set it), every kernel must meet float32's bound.

:func:`check_default_precision` runs the same layer at whatever precision the device's
defaults give (the report does not set strict precision for it) and holds the outputs to the
bound of the precision that kernel computes at there (:func:`verify.devices.kernel_precision`:
float32 on a CPU; TF32 for torch's cuDNN kernels, jax and TensorFlow on a GPU by default).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from verify import compare, devices
from verify.config import RNNConfig, config_class
from verify.suite.properties.forward import adapter, compare_to_reference


def expected(config: RNNConfig, mask: np.ndarray | None, use_cudnn: bool | str
             ) -> devices.Kernel:
    """The kernel :func:`verify.devices.expected_kernel` names for ``config`` on the running
    Keras and device."""
    keras_adapter = adapter()
    info = keras_adapter.info()
    return devices.expected_kernel(
        backend=info.backend, keras_version=info.keras_version,
        gpu=keras_adapter.device().accelerator is not None, cell=config.CELL,
        activation=config.activation,
        recurrent_activation=getattr(config, "recurrent_activation", "sigmoid"),
        use_bias=config.use_bias, unroll=config.unroll,
        reset_after=getattr(config, "reset_after", True), mask=devices.mask_kind(mask),
        use_cudnn=use_cudnn if info.keras_major >= 3 else "auto")


def check_kernel(config: RNNConfig, weights: Sequence[np.ndarray], x: np.ndarray,
                 mask: np.ndarray | None = None,
                 initial_state: Sequence[np.ndarray] | None = None,
                 use_cudnn: bool | str = "auto") -> float:
    """The kernel Keras ran is the one its rules name (``use_cudnn=True`` where there is none:
    Keras's ``ValueError``), and its outputs equal the reference's."""
    __tracebackhide__ = True
    keras_adapter = adapter()
    want = expected(config, mask, use_cudnn)
    versions = f"{keras_adapter.info().describe()}; {keras_adapter.device().describe()}"
    what = f"kernel of {config.CELL} with use_cudnn={use_cudnn!r}"

    def snippet() -> str:
        states = None if initial_state is None else \
            "[" + ", ".join(map(compare.format_array, initial_state)) + "]"
        return "\n".join([
            "import numpy as np", "from verify import keras_adapter",
            "from verify.config import *",
            "weights = [" + ", ".join(map(compare.format_array, weights)) + "]",
            f"x = {compare.format_array(x)}",
            f"mask = {None if mask is None else compare.format_array(mask)}",
            f"initial_state = {states}",
            f"outputs, kernel = keras_adapter.kernel_run({config!r}, weights, x, mask=mask, "
            f"initial_state=initial_state, use_cudnn={use_cudnn!r})"])

    try:
        actual, ran = keras_adapter.kernel_run(config, weights, x, mask=mask,
                                               initial_state=initial_state, use_cudnn=use_cudnn)
    except ValueError as error:
        if want.path == "refused" and "use_cudnn" in str(error):
            return 0.0
        reproduce = "\n".join("    " + line for line in snippet().splitlines())
        raise compare.Mismatch(f"{what}: Keras raised {error!s:.200} where the rules name "
                               f"{want.describe()}\n  configuration: {config!r}\n  running: "
                               f"{versions}\n  reproduce:\n{reproduce}") from error
    compare.assert_equal(ran, want.path, what=f"{what}: the kernel that ran ({want.reason})",
                         config=config, versions=versions, snippet=snippet)
    return compare_to_reference(actual, config, weights, x, mask=mask,
                                initial_state=initial_state,
                                what=f"Keras ({ran}) vs verify.reference")


def check_default_precision(config: RNNConfig, weights: Sequence[np.ndarray], x: np.ndarray,
                            mask: np.ndarray | None = None,
                            initial_state: Sequence[np.ndarray] | None = None) -> float:
    """At the device's default precision, Keras's outputs are within the bound of the
    precision its kernel computes at there."""
    __tracebackhide__ = True
    keras_adapter = adapter()
    actual, ran = keras_adapter.kernel_run(config, weights, x, mask=mask,
                                           initial_state=initial_state)
    precision = devices.kernel_precision(keras_adapter.device(), ran)
    return compare_to_reference(actual, config, weights, x, mask=mask,
                                initial_state=initial_state, precision=precision,
                                what=f"Keras ({ran}, default precision: {precision}) vs "
                                     f"verify.reference")


#: The layer of :func:`real_size_case`, in words.
DEVICE_SETUP = ("batch 32 x 50 steps x 16 features, 64 units, weights uniform in "
                "+-1/sqrt(fan-in)")


def real_size_case(cell: str, **options: Any) -> tuple[RNNConfig, list[np.ndarray],
                                                      np.ndarray]:
    """The layer the device measurements use (the issue that asked for them measured on it):
    batch 32 x 50 steps x 16 features, 64 units, every output, weights uniform in
    +-1/sqrt(fan-in), inputs uniform in +-1, from a fixed seed."""
    config = config_class(cell)(units=64, input_dim=16, timesteps=50, return_sequences=True,
                                **options)
    rng = np.random.default_rng(0)
    weights = []
    for shape in config.cell.weight_shapes(16, 64, **options):
        dims = tuple(int(dim or 0) for dim in shape)
        fan_in = dims[0] if len(dims) > 1 else 64
        weights.append((rng.uniform(-1, 1, dims) / np.sqrt(fan_in)).astype(np.float32))
    return config, weights, rng.uniform(-1, 1, (32, 50, 16)).astype(np.float32)


def error_at_default(config: RNNConfig, weights: Sequence[np.ndarray], x: np.ndarray, *,
                     mask: np.ndarray | None = None, emulate: str | None = None
                     ) -> tuple[str, float, float, float]:
    """``(kernel, relative error, float32 bound, TF32 bound)`` of one call at the precision in
    effect (errors and bounds relative to the largest output): what the default-precision
    probes and the device table read. ``emulate="tf32"``: not Keras but the reference's TF32
    emulation (:mod:`verify.precision`), kernel ``"numpy tf32 emulation"``."""
    from verify import precision as precisions
    from verify.suite.properties.forward import perturbed_outputs, reference_outputs

    expected_ = reference_outputs(config, weights, x, mask=mask)
    if emulate is None:
        actual, ran = adapter().kernel_run(config, weights, x, mask=mask)
    else:
        with precisions.emulated(emulate):
            actual = reference_outputs(config, weights, x, mask=mask, dtype=np.float32)
        ran = f"numpy {emulate} emulation"
    scale = max(float(np.abs(array).max(initial=0.0)) for array in expected_) or 1.0
    error = max(float(np.abs(np.asarray(a, np.float64) - b).max(initial=0.0))
                for a, b in zip(actual, expected_, strict=True))
    bounds = [compare.forward_tolerance(expected_, perturbed_outputs(
        config, weights, x, mask=mask, precision=precision), precision=precision)[0]
        for precision in ("float32", "tf32")]
    return ran, error / scale, bounds[0] / scale, bounds[1] / scale


#: The layers of the device table: (label, cell, options, masked).
DEVICE_LAYERS: tuple[tuple[str, str, dict[str, Any], bool], ...] = (
    ("LSTM", "LSTM", {}, False),
    ("GRU reset_after=True", "GRU", {}, False),
    ("GRU reset_after=False", "GRU", {"reset_after": False}, False),
    ("SimpleRNN", "SimpleRNN", {}, False),
    ("LSTM, right-padded mask", "LSTM", {}, True),
)


def device_table() -> list[dict[str, Any]]:
    """Per layer of :data:`DEVICE_LAYERS` (:func:`real_size_case`), at the device's default
    precision and (on an accelerator) at strict precision (and the reference's TF32 emulation:
    what a GPU's TF32 default gives, computed here): the kernel that ran, the error relative
    to the largest output, both bounds, and where the error falls (``float32``: within
    float32's bound; ``tf32``: within TF32's only; ``beyond tf32``)."""
    keras_adapter = adapter()
    on_accelerator = keras_adapter.device().accelerator is not None
    rows = []
    for label, cell, options, masked in DEVICE_LAYERS:
        config, weights, x = real_size_case(cell, **options)
        mask = None
        if masked:  # every other row loses its last 10-40 steps
            lengths = np.where(np.arange(x.shape[0]) % 2 == 0, x.shape[1],
                               x.shape[1] - 10 - np.arange(x.shape[0]) % 31)
            mask = np.arange(x.shape[1]) < lengths[:, None]
        # A CPU computes float32 matmuls in float32 whatever the flags say: strict rows,
        # which would repeat the default ones, are measured on an accelerator only.
        settings = ("default", "strict", "tf32 (emulated)") if on_accelerator \
            else ("default", "tf32 (emulated)")
        for setting in settings:
            block = keras_adapter.strict_precision() if setting == "strict" \
                else contextlib.nullcontext()
            with block:
                ran, error, float32_bound, tf32_bound = error_at_default(
                    config, weights, x, mask=mask,
                    emulate="tf32" if setting.startswith("tf32") else None)
            verdict = "float32" if error <= float32_bound else \
                "tf32" if error <= tf32_bound else "beyond tf32"
            rows.append({"layer": label, "precision": setting, "kernel": ran,
                         "relative_error": error, "float32_bound": float32_bound,
                         "tf32_bound": tf32_bound, "within": verdict})
    return rows


def format_device_table(rows: Sequence[dict[str, Any]]) -> str:
    """:func:`device_table` as aligned text."""
    lines = [("layer", "precision", "kernel", "error", "float32 bound", "tf32 bound",
              "within")]
    lines += [(row["layer"], row["precision"], row["kernel"], f"{row['relative_error']:.2g}",
               f"{row['float32_bound']:.2g}", f"{row['tf32_bound']:.2g}", row["within"])
              for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths,
                                                                        strict=True)).rstrip()
                     for line in lines)


__all__ = ["DEVICE_LAYERS", "DEVICE_SETUP", "check_default_precision", "check_kernel",
           "device_table", "error_at_default", "expected", "format_device_table",
           "real_size_case"]
