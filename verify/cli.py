"""Command line: ``python -m verify report`` (also installed as ``lstm-verify``).

Exit codes: 0 every property holds, 1 a mismatch (the minimal failing case is printed with a
runnable snippet), 2 bad usage or an unwritable output path.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from verify import profiles


@dataclass
class Outcome:
    """What running one property gave."""

    name: str
    summary: str
    examples: int = 0
    passed: bool = True
    worst_error_ratio: float = 0.0
    seconds: float = 0.0
    failure: str | None = field(default=None, repr=False)


def _integer(minimum: int, expected: str) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``, refused as ``expected`` otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    from verify.properties import PROPERTIES

    parser = argparse.ArgumentParser(
        prog="python -m verify",
        description="Check the installed Keras's LSTM against the documented formulas.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report", help="run the conformance properties and print a table",
        description="Run every conformance property on generated configurations against the "
                    "installed Keras, print a table and optionally write JSON.",
    )
    report.add_argument("--examples", type=_integer(1, "a positive integer"), metavar="N",
                        help="examples per property (default: the profile's budget)")
    report.add_argument("--seed", type=_integer(0, "an integer seed >= 0"), metavar="S",
                        help="random seed (default: derandomised under 'ci', random otherwise)")
    report.add_argument("--profile", choices=sorted(profiles.PROFILES), default="ci",
                        help="Hypothesis profile whose budget and settings to use (default: ci)")
    report.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    report.add_argument("--property", action="append", choices=list(PROPERTIES),
                        dest="properties", metavar="NAME",
                        help=f"run only this property (repeatable): {', '.join(PROPERTIES)}")
    return parser


def _run_property(name: str, *, settings_: Any, seed: int | None, out: TextIO) -> Outcome:
    from hypothesis import given
    from hypothesis import seed as hypothesis_seed

    from verify.properties import PROPERTIES

    prop = PROPERTIES[name]
    outcome = Outcome(name=name, summary=prop.summary)
    progress = out.isatty()

    @settings_  # type: ignore[untyped-decorator]  # a settings object made at run time
    @given(prop.cases())
    def run(case: dict[str, Any]) -> None:
        outcome.examples += 1
        outcome.worst_error_ratio = max(outcome.worst_error_ratio, prop.run(case))
        if progress:
            print(f"\r  {name}: {outcome.examples} examples", end="", file=out, flush=True)

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
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=out, flush=True)
    mark = "ok" if outcome.passed else "FAILED"
    print(f"  {name}: {outcome.examples} examples, {mark} ({outcome.seconds:.1f} s)", file=out,
          flush=True)
    return outcome


def format_table(outcomes: Sequence[Outcome]) -> str:
    """The results as an aligned text table."""
    rows = [("property", "examples", "result", "worst err/tol", "what it checks")]
    rows += [(o.name, str(o.examples), "pass" if o.passed else "FAIL",
              f"{o.worst_error_ratio:.3g}", o.summary) for o in outcomes]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  " + "-" * 14)
    return "\n".join(lines)


def report(args: argparse.Namespace, out: TextIO) -> int:
    from hypothesis import settings

    from verify.properties import PROPERTIES

    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.touch()
        except OSError as error:
            print(f"error: cannot write --json {str(args.json)!r}: {error.strerror or error}",
                  file=sys.stderr)
            return 2

    from verify import keras_adapter

    info = keras_adapter.info()
    profiles.register()
    overrides: dict[str, Any] = {}
    if args.examples is not None:
        overrides["max_examples"] = args.examples
    if args.seed is not None:
        overrides["derandomize"] = False
    settings_ = settings(settings.get_profile(args.profile), **overrides)
    names = args.properties or list(PROPERTIES)
    print(f"lstm-verify report: {info.describe()}", file=out)
    seed = args.seed if args.seed is not None else (
        "derandomised" if settings_.derandomize else "random")
    print(f"profile {args.profile}, {settings_.max_examples} examples per property, seed {seed}",
          file=out, flush=True)
    keras_adapter.warm_up()
    started = time.perf_counter()
    outcomes = [_run_property(name, settings_=settings_, seed=args.seed, out=out)
                for name in names]
    elapsed = time.perf_counter() - started
    print("\n" + format_table(outcomes), file=out)
    for outcome in outcomes:
        if outcome.failure:
            print(f"\n{outcome.name} failed; minimal failing case:\n{outcome.failure}", file=out)
    passed = all(outcome.passed for outcome in outcomes)
    total = sum(outcome.examples for outcome in outcomes)
    print(f"\n{'all properties hold' if passed else 'MISMATCH'}: {total} examples in "
          f"{elapsed:.1f} s ({total / elapsed:.1f}/s)", file=out)
    if args.json is not None:
        document = {
            "passed": passed,
            "versions": asdict(info),
            "profile": args.profile,
            "seed": args.seed,
            "examples_per_property": settings_.max_examples,
            "elapsed_seconds": round(elapsed, 3),
            "properties": [asdict(outcome) for outcome in outcomes],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"wrote {args.json}", file=out)
    return 0 if passed else 1


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m verify`` and ``lstm-verify``; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    if args.command == "report":
        return report(args, out)
    raise AssertionError(f"unhandled command {args.command!r}")  # argparse rejects others
