"""Speed of the NumPy reference against Keras's own CPU forward: ``python -m verify.benchmark``.

Mid-size case: batch 64, 100 steps, 32 features, LSTM(128) (+ Dense(1) for the model). One
thread each (TensorFlow and NumPy's BLAS), so the ratio compares like with like per core.
Prints a table and writes JSON with ``--json PATH``. Results are ratios to report, never
assertions.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

BATCH, STEPS, FEATURES, UNITS = 64, 100, 32, 128


def best_of(function: Callable[[], Any], *, repeat: int) -> float:
    """Best wall time of ``repeat`` calls after one warm-up call, in seconds."""
    function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def run(repeat: int) -> dict[str, Any]:
    import verify
    from verify import keras_adapter, reference
    from verify.config import DenseConfig, LSTMConfig, SequentialConfig

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (BATCH, STEPS, FEATURES)).astype(np.float32)
    lstm = LSTMConfig(units=UNITS, input_dim=FEATURES, timesteps=STEPS)
    model_config = SequentialConfig((lstm, DenseConfig(units=1, input_dim=UNITS)))
    scale = 1 / np.sqrt(UNITS)  # keeps the gates away from saturation, as trained nets are
    weights = [rng.uniform(-scale, scale, [int(dim or 0) for dim in shape]).astype(np.float32)
               for shape in verify.shapes.weight_shapes(model_config)]

    layer = keras_adapter.built(lstm)
    layer.set_weights(weights[:3])
    model = keras_adapter.built(model_config)
    model.set_weights(weights)
    keras_model = model.layer

    times = {
        "keras LSTM, compiled call": best_of(lambda: layer(x), repeat=repeat),
        "reference.lstm float64": best_of(lambda: reference.lstm(x, *weights[:3]), repeat=repeat),
        "reference.lstm float32": best_of(
            lambda: reference.lstm(x, *weights[:3], dtype=np.float32), repeat=repeat),
        "keras model.predict": best_of(lambda: keras_model.predict(x, verbose=0), repeat=repeat),
        "keras model, compiled call": best_of(lambda: model(x), repeat=repeat),
        "verify.predict (float64)": best_of(lambda: verify.predict(keras_model, x),
                                            repeat=repeat),
    }
    # The machine's practical limit: one matmul with the flops of all the recurrent products.
    h = rng.uniform(-1, 1, (BATCH, UNITS))
    recurrent = weights[1].astype(np.float64)
    matmul = best_of(lambda: [h @ recurrent for _ in range(STEPS)], repeat=repeat)
    flops = 2 * BATCH * STEPS * 4 * UNITS * (FEATURES + UNITS)
    return {
        "case": {"batch": BATCH, "timesteps": STEPS, "features": FEATURES, "units": UNITS},
        "versions": keras_adapter.info().describe(),
        "seconds": times,
        "ratios": {
            "reference float64 / keras LSTM compiled": times["reference.lstm float64"]
            / times["keras LSTM, compiled call"],
            "verify.predict / keras model.predict": times["verify.predict (float64)"]
            / times["keras model.predict"],
            "verify.predict / keras model compiled": times["verify.predict (float64)"]
            / times["keras model, compiled call"],
        },
        "reference GFLOP/s (float64)": flops / times["reference.lstm float64"] / 1e9,
        "recurrent matmuls alone GFLOP/s (float64)": 2 * BATCH * STEPS * 4 * UNITS * UNITS
        / matmul / 1e9,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.benchmark", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per entry (best of)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    results = run(args.repeat)
    print(f"{results['versions']}; batch {BATCH} x {STEPS} steps x {FEATURES} features, "
          f"LSTM({UNITS}); best of {args.repeat}, one thread")
    for name, seconds in results["seconds"].items():
        print(f"  {name:<30} {seconds * 1000:8.1f} ms")
    for name, ratio in results["ratios"].items():
        print(f"  {name:<45} {ratio:6.2f}x")
    print(f"  reference: {results['reference GFLOP/s (float64)']:.1f} GFLOP/s; the recurrent "
          f"matmuls alone: {results['recurrent matmuls alone GFLOP/s (float64)']:.1f} GFLOP/s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
