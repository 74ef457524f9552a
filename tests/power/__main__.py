"""``python -m tests.power [--json PATH] [--fault NAME ...]``: inject every seeded fault in
turn and report, per fault, whether the suite caught it, which property did, and after how many
Hypothesis examples (``ci`` profile). Exit 0 when every fault is caught, 1 otherwise, 2 on bad
usage."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

for _variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from .catalogue import CATALOGUE, FAULTS  # noqa: E402
from .hunt import Outcome, hunt, report_runs  # noqa: E402


def table(outcomes: list[Outcome], reported: dict[str, bool]) -> str:
    rows = [f"{'fault':<40} {'where':<9} {'run by':<6} {'caught by':<22} {'examples':>8}  "
            "first failure"]
    for outcome in outcomes:
        run_by = "report" if reported.get(outcome.fault.name) else "pytest"
        rows.append(f"{outcome.fault.name:<40} {outcome.fault.where:<9} {run_by:<6} "
                    f"{outcome.caught_by or 'MISSED':<22} {outcome.examples:>8}  "
                    f"{outcome.message[:90]}")
    caught = sum(outcome.caught for outcome in outcomes)
    quick = sum(outcome.caught and outcome.examples <= 20 for outcome in outcomes)
    by_report = sum(outcome.caught and reported.get(outcome.fault.name, False)
                    for outcome in outcomes)
    rows.append(f"\n{caught}/{len(outcomes)} faults caught ({100 * caught / len(outcomes):.0f} %), "
                f"{quick} within 20 examples; {by_report} caught by the report's own runs, "
                f"{caught - by_report} by the test suite only")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.power", description=__doc__)
    parser.add_argument("--fault", action="append", choices=sorted(FAULTS), metavar="NAME",
                        help="run only this fault (repeatable)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    from verify import keras_adapter

    keras_adapter.warm_up()
    faults = [FAULTS[name] for name in args.fault] if args.fault else list(CATALOGUE)
    outcomes = []
    reported: dict[str, bool] = {}
    for fault in faults:
        if fault.requires is not None:
            try:
                fault.requires()
            except pytest.skip.Exception as skipped:
                print(f"  {fault.name}: skipped: {skipped.msg}", file=sys.stderr)
                continue
        by_report = bool(fault.targets) and report_runs(fault.targets) is not None
        outcomes.append(hunt(fault, report=by_report))
        reported[fault.name] = by_report
        print(f"  {fault.name}: {outcomes[-1].caught_by or 'MISSED'}", file=sys.stderr)
    print(table(outcomes, reported))
    if args.json:
        args.json.write_text(json.dumps({
            "versions": keras_adapter.info().describe(),
            "faults": [{"name": o.fault.name, "where": o.fault.where,
                        "run_by": "report" if reported.get(o.fault.name) else "pytest",
                        "description": o.fault.description, "caught_by": o.caught_by,
                        "examples": o.examples, "message": o.message,
                        "seconds": round(o.seconds, 3)} for o in outcomes]}, indent=2) + "\n")
    return 0 if all(outcome.caught for outcome in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
