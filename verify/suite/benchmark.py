"""Speed of the NumPy reference against Keras's own CPU forward:
``python -m verify.suite.benchmark``.

Real-size models first (``--real`` for those alone): verify.predict against model.predict on
a text classifier (Embedding 20000 x 128 -> Bidirectional LSTM(64) x 2, 32 x 200 tokens) and a
Conv1D + GRU forecaster. Mid-size case: batch 64, 100 steps, 32 features, LSTM(128)
(+ Dense(1) for the model), and the same sizes for GRU(128) (both ``reset_after``
conventions) and SimpleRNN(128). One thread each (TensorFlow and NumPy's BLAS), so the
ratio compares like with like per core.
Prints a table and writes JSON with ``--json PATH``. Results are ratios to report, never
assertions.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import functools  # noqa: E402
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
    from verify.config import (
        DenseConfig,
        GRUConfig,
        LSTMConfig,
        SequentialConfig,
        SimpleRNNConfig,
    )

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
    for config, name in ((GRUConfig(units=UNITS, input_dim=FEATURES, timesteps=STEPS), "GRU"),
                         (GRUConfig(units=UNITS, input_dim=FEATURES, timesteps=STEPS,
                                    reset_after=False), "GRU reset_after=False"),
                         (SimpleRNNConfig(units=UNITS, input_dim=FEATURES, timesteps=STEPS),
                          "SimpleRNN")):
        cell_weights = [rng.uniform(-scale, scale, [int(dim or 0) for dim in shape])
                        .astype(np.float32) for shape in verify.shapes.weight_shapes(config)]
        built = keras_adapter.built(config)
        built.set_weights(cell_weights)
        times[f"keras {name}, compiled call"] = best_of(functools.partial(built, x),
                                                        repeat=repeat)
        for dtype in (np.float64, np.float32):
            times[f"reference {name} {np.dtype(dtype).name}"] = best_of(
                functools.partial(reference.outputs, config, cell_weights, x, dtype=dtype),
                repeat=repeat)
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
            **{f"reference {name} {dtype} / keras {name} compiled":
               times[f"reference {name} {dtype}"] / times[f"keras {name}, compiled call"]
               for name in ("GRU", "GRU reset_after=False", "SimpleRNN")
               for dtype in ("float64", "float32")},
        },
        "reference GFLOP/s (float64)": flops / times["reference.lstm float64"] / 1e9,
        "recurrent matmuls alone GFLOP/s (float64)": 2 * BATCH * STEPS * 4 * UNITS * UNITS
        / matmul / 1e9,
    }


def real_models(repeat: int) -> dict[str, dict[str, float]]:
    """``verify.predict`` (float64) against ``model.predict`` on models of real size: a text
    classifier (Embedding 20000 x 128 with mask_zero -> Bidirectional LSTM(64) x 2 ->
    Dense, batch 32 x 200 tokens, right-padded) and a forecaster (Conv1D(32, 5, causal) ->
    MaxPooling1D -> GRU(64) -> Dense, batch 32 x 200 steps x 8 features)."""
    import verify
    from verify import keras_adapter

    keras = keras_adapter.keras
    layers = keras.layers
    rng = np.random.default_rng(0)
    tokens = rng.integers(1, 20000, (32, 200)).astype(np.int32)
    for row, length in enumerate(rng.integers(20, 201, 32)):
        tokens[row, length:] = 0
    models = {
        "text classifier (Embedding, BiLSTM x 2)": (keras.Sequential([
            keras.Input((200,), dtype="int32"), layers.Embedding(20000, 128, mask_zero=True),
            layers.Bidirectional(layers.LSTM(64, return_sequences=True)),
            layers.Bidirectional(layers.LSTM(64)), layers.Dense(1, activation="sigmoid")]),
            tokens),
        "forecaster (Conv1D, GRU)": (keras.Sequential([
            keras.Input((200, 8)), layers.Conv1D(32, 5, padding="causal", activation="relu"),
            layers.MaxPooling1D(2), layers.GRU(64), layers.Dense(1)]),
            rng.uniform(-1, 1, (32, 200, 8)).astype(np.float32)),
    }
    results = {}
    for name, (model, x) in models.items():
        model.set_weights([rng.uniform(-0.1, 0.1, w.shape).astype(np.float32)
                           for w in model.get_weights()])
        keras_seconds = best_of(lambda: model.predict(x, verbose=0), repeat=repeat)  # noqa: B023
        ours = best_of(lambda: verify.predict(model, x), repeat=repeat)  # noqa: B023
        results[name] = {"keras model.predict s": keras_seconds,
                         "verify.predict float64 s": ours, "ratio": ours / keras_seconds}
    return results


def _draw_cases(strategy: Any, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` cases from ``strategy``, reproducibly (Hypothesis with a fixed seed)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    cases: list[dict[str, Any]] = []

    @hypothesis_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(case: dict[str, Any]) -> None:
        cases.append(case)

    collect()
    return cases[:count]


def _naive(case: dict[str, Any]) -> None:
    """The baseline: a fresh model per example and ``model.predict``, then the same check."""
    from verify import keras_adapter
    from verify.config import SequentialConfig
    from verify.suite import properties

    keras = keras_adapter.keras
    config = case["config"]
    built = keras_adapter.BuiltLayer(config)  # not cached: built anew, as naive code does
    if isinstance(config, SequentialConfig):
        model = built.layer
    else:
        inputs = keras.Input((config.timesteps, config.input_dim))
        model = keras.Model(inputs, built.layer(inputs))
    model.set_weights(case["weights"])
    result = model.predict(case["x"], verbose=0)
    outputs = [np.asarray(r) for r in (result if isinstance(result, list | tuple) else [result])]
    if isinstance(config, SequentialConfig):
        properties.check_predict(model, case["x"], actual=outputs)
    else:
        properties.compare_to_reference(outputs, config, case["weights"], case["x"],
                                        what="naive baseline")


def _rate(check: Callable[[dict[str, Any]], Any], cases: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for case in cases:
        try:
            check(case)
        except Exception as error:  # an ill-conditioned case counts as checked (rejected)
            if type(error).__name__ != "IllConditioned":
                raise
    return len(cases) / (time.perf_counter() - started)


def _rss_mb() -> float:
    """Current resident set size in MB (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def throughput(count: int, seed: int) -> dict[str, Any]:
    """Examples/s of the forward properties: naive baseline, harness cold, harness warm."""
    import functools

    from verify import keras_adapter
    from verify.suite import properties
    from verify.suite.properties import cases as case_strategies

    keras_adapter.warm_up()
    results: dict[str, Any] = {}
    for kind, cases_of, name in (
            ("lstm", case_strategies.layer_cases, "lstm_forward"),
            ("gru", functools.partial(case_strategies.layer_cases, "GRU"), "gru_forward"),
            ("bidirectional", case_strategies.bidirectional_cases, "bidirectional_forward"),
            ("stacked model", case_strategies.model_cases, "model_forward")):
        cases = _draw_cases(cases_of(), count, seed)
        prop = properties.PROPERTIES[name]
        naive = _rate(_naive, cases[: max(5, count // 4)])
        keras_adapter.clear()
        cold = _rate(prop.run, cases)  # every layer built, called eagerly
        for _ in range(keras_adapter.EAGER_CALLS_BEFORE_TRACING):  # more eager calls, a trace
            _rate(prop.run, cases)
        warm = _rate(prop.run, cases)  # steady state: cached layers, compiled calls
        results[kind] = {"examples": len(cases), "naive/s": naive, "cold/s": cold,
                         "warm/s": warm, "cold/naive": cold / naive, "warm/naive": warm / naive}
    return results


def memory(builds: int) -> dict[str, Any]:
    """RSS while building ``builds`` distinct layers through the cache (should stay flat)."""
    from verify import keras_adapter
    from verify.config import LSTMConfig

    samples = []
    x = np.zeros((1, 2, 1), np.float32)
    for index in range(builds):
        config = LSTMConfig(units=1 + index % 32, input_dim=1 + index // 32 % 32,
                            return_sequences=bool(index // 1024 % 2))
        keras_adapter.built(config)(np.zeros((1, 2, config.input_dim), np.float32) + x[..., :1])
        if index % max(1, builds // 10) == 0 or index == builds - 1:
            samples.append((index + 1, round(_rss_mb(), 1)))
    return {"builds": builds, "rss_mb_by_build": samples,
            "growth_mb_second_half": samples[-1][1] - samples[len(samples) // 2][1]}


def suite_scaling() -> dict[str, float]:
    """Wall time of the default test run (ci profile) with ``-n 0`` and ``-n 2``."""
    import subprocess
    import sys

    times = {}
    for workers in ("0", "2"):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", workers, "-p",
                        "no:cacheprovider"], check=True, capture_output=True,
                       env={**os.environ, "CI": "true"})
        times[f"-n {workers} seconds"] = time.perf_counter() - started
    times["speed-up"] = times["-n 0 seconds"] / times["-n 2 seconds"]
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.suite.benchmark", description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per entry (best of)")
    parser.add_argument("--examples", type=int, default=40,
                        help="cases per kind for the property throughput (default 40)")
    parser.add_argument("--builds", type=int, default=600,
                        help="distinct layers built for the memory check (default 600)")
    parser.add_argument("--suite", action="store_true",
                        help="also time the whole test suite with -n 0 and -n 2 (~3 min)")
    parser.add_argument("--real", action="store_true",
                        help="only time verify.predict against model.predict on real-size "
                             "models")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    for option in ("repeat", "examples", "builds"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be >= 1, got {getattr(args, option)}")
    real = real_models(args.repeat)
    print(f"real-size models, best of {args.repeat}, one thread:")
    for name, row in real.items():
        print(f"  {name:<40} model.predict {row['keras model.predict s'] * 1000:7.1f} ms, "
              f"verify.predict {row['verify.predict float64 s'] * 1000:7.1f} ms "
              f"({row['ratio']:.2f}x)")
    if args.real:
        if args.json:
            args.json.write_text(json.dumps({"real_models": real}, indent=2) + "\n")
        return 0
    rates = throughput(args.examples, seed=0)
    print("forward property, examples/s (one process, one thread; default strategies):")
    print(f"  {'kind':<15} {'naive':>8} {'cold':>8} {'warm':>8} {'cold/naive':>11} "
          f"{'warm/naive':>11}")
    for kind, row in rates.items():
        print(f"  {kind:<15} {row['naive/s']:8.1f} {row['cold/s']:8.1f} {row['warm/s']:8.1f} "
              f"{row['cold/naive']:10.1f}x {row['warm/naive']:10.1f}x")
    results = run(args.repeat)
    print(f"\n{results['versions']}; batch {BATCH} x {STEPS} steps x {FEATURES} features, "
          f"LSTM({UNITS}); best of {args.repeat}, one thread")
    for name, seconds in results["seconds"].items():
        print(f"  {name:<36} {seconds * 1000:8.1f} ms")
    for name, ratio in results["ratios"].items():
        print(f"  {name:<60} {ratio:6.2f}x")
    print(f"  reference: {results['reference GFLOP/s (float64)']:.1f} GFLOP/s; the recurrent "
          f"matmuls alone: {results['recurrent matmuls alone GFLOP/s (float64)']:.1f} GFLOP/s")
    results["throughput"] = rates
    results["real_models"] = real
    results["memory"] = memory(args.builds)
    print(f"\nmemory: RSS (MB) after n builds {results['memory']['rss_mb_by_build']}; growth "
          f"over the second half {results['memory']['growth_mb_second_half']:+.1f} MB")
    if args.suite:
        results["suite"] = suite_scaling()
        print(f"\ntest suite (ci profile): -n 0 {results['suite']['-n 0 seconds']:.1f} s, "
              f"-n 2 {results['suite']['-n 2 seconds']:.1f} s, "
              f"speed-up {results['suite']['speed-up']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
