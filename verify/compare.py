"""Tolerances and mismatch messages: how Keras's float32 results are compared, in one place.

Every comparison goes through :func:`assert_close` or :func:`assert_equal`, which raise
:class:`Mismatch` with a message that explains itself: what was compared, the configuration,
the Keras/backend versions, the worst element with both values, the error against the
tolerance, and a snippet that reproduces the case.

Errors are absolute: LSTM outputs cross zero, where relative errors and ULP counts explode
while the absolute error stays at float32 rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from verify.precision import MANTISSA_BITS, eps

#: float32 machine epsilon, 2**-23: the unit of every tolerance below.
EPS32 = float(np.finfo(np.float32).eps)


def teacher_forced_tolerance(*, input_dim: int, units: int, timesteps: int) -> float:
    """Tolerance for a float64 one-step prediction fed Keras's own float32 ``h_{t-1}``.

    Why this number: each pre-activation ``z = x_t K + h_{t-1} R + b`` sums ``d + u + 1``
    products of magnitude <= 1 (the strategies bound inputs, states and weights to [-1, 1]),
    so Keras's float32 ``z`` is off by at most ~``(d + u + 1) * eps32`` per term; sigmoid and
    tanh are 1-Lipschitz, so each gate carries that error; the cell ``c_t = f c_{t-1} + i g``
    accumulates it over the ``timesteps`` steps (``|f| <= 1`` so it does not grow
    geometrically). A factor 16 covers the few terms that round the same way; a real gate-order
    or equation error is of the order of the gate values themselves (~0.1), 1000x larger.
    """
    return 16 * EPS32 * (input_dim + units + 1) * timesteps


#: Outputs that move by more than this fraction of their scale when the inputs and weights move
#: by one float32 step cannot be pinned down in float32 at all: such cases are rejected (with
#: ``hypothesis.assume``), not compared with a looser tolerance.
ILL_CONDITIONED = 1e-4


def nudge(array: np.ndarray, *, seed: int, keep: Sequence[float] = (),
          precision: str = "float32") -> np.ndarray:
    """``array`` (float32 values) with every element moved one float32 step up or down, in a
    fixed pseudo-random pattern: the size of the rounding Keras's float32 inputs carry.
    ``precision="tf32"``: one TF32 step (10-bit mantissa, 2**13 float32 steps), the rounding
    a TF32 matmul gives its operands.

    Zeros stay zero: one step from zero is a subnormal, which TensorFlow's CPU kernels flush
    to zero anyway, and moving it would unmask the zero-padded steps a ``Masking`` layer masks.
    Values in ``keep`` (other ``Masking`` values) stay too, for the same reason.
    """
    values = np.asarray(array, dtype=np.float32)
    up = np.random.default_rng(seed).random(values.shape) < 0.5
    if precision == "float32":
        moved = np.where(up, np.nextafter(values, np.float32(np.inf)),
                         np.nextafter(values, np.float32(-np.inf)))
    else:
        _, exponent = np.frexp(values.astype(np.float64))  # |v| = f * 2**exponent, f in [.5, 1)
        step = np.ldexp(1.0, exponent - 1 - MANTISSA_BITS[precision])
        moved = np.where(up, values + step, values - step)
    fixed = values == 0
    for value in keep:
        fixed |= values == np.float32(value)
    return np.where(fixed, values, moved).astype(np.float64)


#: The bound at each matmul precision: ``factor * sensitivity + floor * eps * scale`` (see
#: :func:`forward_tolerance`).
BOUNDS: dict[str, tuple[float, float]] = {"float32": (100.0, 8.0), "tf32": (16.0, 0.125)}

#: Per precision, the relative sensitivity above which a case has no answer at that
#: precision (:data:`ILL_CONDITIONED` for float32; at TF32, outputs that move by 1% of their
#: size under one TF32 step of the data).
ILL_CONDITIONED_AT: dict[str, float] = {"float32": ILL_CONDITIONED, "tf32": 1e-2}


def forward_tolerance(expected: Sequence[np.ndarray],
                      perturbed: Sequence[Sequence[np.ndarray]], *,
                      precision: str = "float32") -> tuple[float, float]:
    """``(atol, relative sensitivity)`` for float32 Keras vs the float64 reference.

    ``expected`` are the float64 reference's outputs; ``perturbed`` are the same reference's
    outputs for runs that carry float32-sized errors: (1) every input, weight and state moved
    by one float32 step (:func:`nudge`), which measures how the data amplify rounding (saturated
    gates damp it, large recurrent weights amplify it step after step); (2) the whole reference
    run in float32, which adds the roundings of intermediates (gates, cell, the values passed
    between stacked layers) that (1) does not see. ``sensitivity`` is the largest change either
    makes. Keras makes O(10) roundings of that size per step, so ``100 * sensitivity`` covers
    them with a margin of ~10; ``8 * eps32 * scale`` is the floor, the last rounding of outputs
    of magnitude ``scale``. PRACTICE.md: the nudge rule alone held on 750+ random single-layer
    configurations on three Keras stacks, where a fixed 1e-6 failed 10-30% of configurations
    with weights up to ±10; the float32 run was added after a stacked Keras 2 model (two
    recurrent layers, two Dense) exceeded the nudge-only tolerance 1.5x.

    ``precision="tf32"`` bounds Keras computing its matmuls in TF32 (a GPU's default, see
    :mod:`verify.precision`): ``perturbed`` is then the reference with every input, weight and
    state moved by one TF32 step (``nudge(..., precision="tf32")``), and the bound is
    ``16 * sensitivity + eps_tf32 * scale / 8``. TF32 rounds the operands of the matmuls
    only (about four roundings of that size per step, where float32 Keras makes O(10)), so the
    factor is 16; measured on 450 random LSTM/GRU/SimpleRNN cases (masks, states, every
    activation) the TF32 emulation's error was at most 4.4x the sensitivity (median 0.24x),
    and at most 0.12 of this bound. The floor covers the cases whose few elements let the
    nudge's errors cancel. What it still sees is pinned in ``tests/test_precision.py``.
    """
    factor, floor = BOUNDS[precision]
    scale = max(1.0, *(float(np.abs(array).max(initial=0.0)) for array in expected))
    sensitivity = max(
        float(np.abs(np.asarray(a, np.float64) - b).max(initial=0.0))
        for run in perturbed for a, b in zip(run, expected, strict=True)
    )
    return factor * sensitivity + floor * eps(precision) * scale, sensitivity / scale


class IllConditioned(ValueError):
    """A case that float32 cannot pin down (see :data:`ILL_CONDITIONED`); not a mismatch."""


class Mismatch(AssertionError):
    """Keras disagreed with the documented formula or the reference equations."""


def format_array(array: np.ndarray) -> str:
    """A Python literal that rebuilds ``array`` exactly (float32 values round-trip)."""
    array = np.asarray(array)
    return f"np.array({array.tolist()!r}, dtype=np.{array.dtype})"


def reproducer(config: Any, *, weights: Sequence[np.ndarray] | None = None,
               call: dict[str, Any] | None = None) -> str:
    """A runnable snippet that builds ``config`` in Keras, installs ``weights`` and calls it."""
    lines = [
        "import numpy as np",
        "from verify import keras_adapter",
        "from verify.config import *",
        f"layer = keras_adapter.built({config!r})",
    ]
    if weights is not None:
        lines.append("layer.set_weights([" + ", ".join(format_array(w) for w in weights) + "])")
    if call is not None:
        arguments = []
        for name, value in call.items():
            if value is None:
                continue
            if isinstance(value, list | tuple):
                text = "[" + ", ".join(format_array(item) for item in value) + "]"
            else:
                text = format_array(value)
            arguments.append(text if name == "x" else f"{name}={text}")
        lines.append(f"outputs = layer({', '.join(arguments)})")
    return "\n".join(lines)


Snippet = str | Callable[[], str]  # a callable is only called when a check fails


def _report(what: str, detail: str, *, config: Any, versions: str, snippet: Snippet) -> str:
    text = snippet() if callable(snippet) else snippet
    indented = "\n".join("    " + line for line in text.splitlines())
    return (f"{what}\n  configuration: {config!r}\n  running: {versions}\n  {detail}\n"
            f"  reproduce:\n{indented}")


def assert_equal(actual: Any, expected: Any, *, what: str, config: Any, versions: str,
                 snippet: Snippet) -> None:
    """Raise :class:`Mismatch` unless ``actual == expected`` (shapes, counts, names)."""
    __tracebackhide__ = True
    if actual != expected:
        detail = f"Keras gives {actual!r}\n  formula gives {expected!r}"
        raise Mismatch(_report(what, detail, config=config, versions=versions, snippet=snippet))


def assert_close(actual: np.ndarray, expected: np.ndarray, *, atol: float, what: str,
                 config: Any, versions: str, snippet: Snippet) -> float:
    """Raise :class:`Mismatch` unless ``|actual - expected| <= atol`` everywhere.

    Returns the worst error divided by the tolerance (<= 1 when the check passes), which
    reports use to show how close to the limit a property runs.
    """
    __tracebackhide__ = True
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise Mismatch(_report(what, f"Keras shape {actual.shape} != expected {expected.shape}",
                               config=config, versions=versions, snippet=snippet))
    if actual.size == 0:
        return 0.0
    error = np.abs(actual - expected)
    error = np.where(np.isnan(error), np.inf, error)
    worst = np.unravel_index(int(np.argmax(error)), error.shape)
    ratio = float(error[worst] / atol)
    if not ratio <= 1.0:
        detail = (f"worst element at index {tuple(int(i) for i in worst)}: Keras "
                  f"{float(actual[worst])!r}, expected {float(expected[worst])!r}, |error| "
                  f"{error[worst]:.3g} > tolerance {atol:.3g} ({ratio:.3g}x); "
                  f"{int(np.count_nonzero(error > atol))} of {error.size} elements out of "
                  f"tolerance")
        raise Mismatch(_report(what, detail, config=config, versions=versions, snippet=snippet))
    return ratio
