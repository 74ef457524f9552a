"""``python -m verify report``: every conformance property run against the installed Keras,
one table row each (examples, distinct configurations, 1-wise and pairwise coverage of its
declared option space, ill-conditioned cases rejected, result, worst error / tolerance),
optionally as JSON. A property with a covering plan (:mod:`verify.suite.plans`) runs it: every
value of every option it declares, and most pairs of them, in every run."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from verify.terminal import UsageError, is_terminal, keras_adapter_for, writable


@dataclass
class Outcome:
    """What running one property gave."""

    name: str
    summary: str
    examples: int = 0
    #: Examples rejected as ill-conditioned (outputs move by more than
    #: ``compare.ILL_CONDITIONED`` of their size under one float32 step): drawn, not compared.
    rejected: int = 0
    passed: bool = True
    worst_error_ratio: float = 0.0
    seconds: float = 0.0
    #: Distinct configurations checked, the 1-wise and pairwise coverage of the categorical
    #: options of the cases checked against the declared space (verify.suite.coverage; None
    #: without a plan), and the declared values no checked case had.
    configurations: int = 0
    one_wise: float | None = None
    pairwise: float | None = None
    missed: list[str] = field(default_factory=list)
    failure: str | None = field(default=None, repr=False)


def _run_property(name: str, *, settings_: Any, seed: int | None, out: TextIO) -> Outcome:
    from hypothesis import seed as hypothesis_seed

    from verify.suite.coverage import Coverage
    from verify.suite.properties import PROPERTIES

    prop = PROPERTIES[name]
    outcome = Outcome(name=name, summary=prop.summary)
    progress = is_terminal(out)
    stats: dict[str, float] = {}

    def show(tally: dict[str, float]) -> None:
        print(f"\r  {name}: {int(tally['examples'])} examples", end="", file=out, flush=True)

    on_example = show if progress else None
    if prop.plan is not None:
        coverage = Coverage(prop.covering())
        run = prop.plan_test(settings_, seed=seed, stats=stats, on_example=on_example,
                             coverage=coverage)
    else:
        coverage = Coverage()
        run = settings_(prop.hypothesis_test(stats=stats, on_example=on_example,
                                             coverage=coverage))
        if seed is not None:
            run = hypothesis_seed(seed)(run)
    started = time.perf_counter()
    try:
        run()
    except Exception as error:  # a property failure: report it, keep going with the others
        outcome.passed = False
        notes = "\n".join(getattr(error, "__notes__", []))
        outcome.failure = f"{type(error).__name__}: {error}\n{notes}".strip()
    outcome.seconds = time.perf_counter() - started
    outcome.examples, outcome.rejected = int(stats["examples"]), int(stats["rejected"])
    outcome.worst_error_ratio = stats["worst"]
    outcome.configurations, outcome.pairwise = coverage.distinct, coverage.pairwise()
    outcome.one_wise, outcome.missed = coverage.one_wise(), coverage.missed()
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=out, flush=True)
    mark = "ok" if outcome.passed else "FAILED"
    print(f"  {name}: {outcome.examples} examples, {mark} ({outcome.seconds:.1f} s)", file=out,
          flush=True)
    return outcome


def _percent(share: float | None) -> str:
    """A coverage share as a percentage; 100% only when nothing was missed."""
    if share is None:
        return "-"
    return f"{100 * share:.0f}%" if share == 1 or share < 0.995 else "99%"


def format_table(outcomes: Sequence[Outcome]) -> str:
    """The results as an aligned text table."""
    rows = [("property", "examples", "configs", "1-wise", "pairs", "ill-cond.", "result",
             "worst err/tol", "what it checks")]
    rows += [(o.name, str(o.examples), str(o.configurations), _percent(o.one_wise),
              _percent(o.pairwise), str(o.rejected),
              "pass" if o.passed else "FAIL", f"{o.worst_error_ratio:.3g}", o.summary)
             for o in outcomes]
    columns = len(rows[0]) - 1
    widths = [max(len(row[i]) for row in rows) for i in range(columns)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(columns)] + [row[columns]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  " + "-" * 14)
    return "\n".join(lines)


def report_command(args: argparse.Namespace, out: TextIO) -> int:
    from hypothesis import settings

    from verify.suite.properties import PROPERTIES

    unknown = [name for name in args.properties or [] if name not in PROPERTIES]
    if unknown:
        raise UsageError(f"--property: unknown {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(PROPERTIES)}")
    if args.json is not None:
        writable(args.json, "--json")

    from verify.suite import profiles

    keras_adapter = keras_adapter_for("report")
    info = keras_adapter.info()
    profiles.register()
    overrides: dict[str, Any] = {}
    if args.examples is not None:
        overrides["max_examples"] = args.examples
    if args.seed is not None:
        overrides["derandomize"] = False
    settings_ = settings(settings.get_profile(args.profile), **overrides)
    names = args.properties or list(PROPERTIES)
    device = keras_adapter.device()
    print(f"lstm-verify report: {info.describe()}", file=out)
    print(f"device: {device.describe()}", file=out)
    with keras_adapter.strict_precision():
        strict = keras_adapter.device()
    changed = {key: value for key, value in strict.settings.items()
               if device.settings.get(key) != value}
    print("precision: properties run at strict float32 ("
          + (", ".join(f"{key}={value}" for key, value in changed.items()) or "as the defaults")
          + "); default_precision and the device table at the defaults", file=out)
    seed = args.seed if args.seed is not None else (
        "derandomised" if settings_.derandomize else "random")
    print(f"profile {args.profile}, {settings_.max_examples} examples per property, seed {seed}",
          file=out, flush=True)
    cache = keras_adapter.reuse_compilations()
    if cache is not None:
        print(f"jax compilation cache: {cache} (LSTM_VERIFY_JAX_CACHE=0: off)", file=out)
    keras_adapter.warm_up()
    started = time.perf_counter()
    outcomes = [_run_property(name, settings_=settings_, seed=args.seed, out=out)
                for name in names]
    elapsed = time.perf_counter() - started
    print("\n" + format_table(outcomes), file=out)
    from verify.suite import divergences
    from verify.suite.properties import kernels

    rows = kernels.device_table()
    print(f"\ndevice table ({kernels.DEVICE_SETUP}; error and bounds relative to the largest "
          "output):\n" + kernels.format_device_table(rows), file=out)
    environment = divergences.environment()
    applied = [entry for entry in divergences.load()
               if entry.needs == "gpu" and entry.applies_to(environment)]
    print("default-precision divergences here: " + ("; ".join(
        f"{entry.name} ({entry.what})" for entry in applied) if applied else
        "none (float32 matmuls in float32 at the defaults)"), file=out)
    for outcome in outcomes:
        if outcome.missed and outcome.passed:
            print(f"\n{outcome.name} missed (no checked case had): {', '.join(outcome.missed)}",
                  file=out)
    for outcome in outcomes:
        if outcome.failure:
            print(f"\n{outcome.name} failed; minimal failing case:\n{outcome.failure}", file=out)
    passed = all(outcome.passed for outcome in outcomes)
    total = sum(outcome.examples for outcome in outcomes)
    rejected = sum(outcome.rejected for outcome in outcomes)
    print(f"\n{'all properties hold' if passed else 'MISMATCH'}: {total} examples in "
          f"{elapsed:.1f} s ({total / elapsed:.1f}/s); {rejected} rejected as ill-conditioned",
          file=out)
    if args.json is not None:
        document = {
            "passed": passed,
            "versions": asdict(info),
            "device": device.as_dict(),
            "strict_settings": dict(strict.settings),
            "device_table": rows,
            "default_precision_divergences": [entry.name for entry in applied],
            "profile": args.profile,
            "seed": args.seed,
            "examples_per_property": settings_.max_examples,
            "elapsed_seconds": round(elapsed, 3),
            "properties": [asdict(outcome) for outcome in outcomes],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}", file=out)
    return 0 if passed else 1
