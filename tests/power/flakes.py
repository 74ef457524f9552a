"""``python -m tests.power.flakes [--seeds N] [--first S]``: run the whole test suite N times
(default 20) with different random Hypothesis seeds under the randomised ``dev`` profile, and
count failures. A property that fails on some seeds and not others is a flake (a tolerance too
tight, an ill-conditioned case compared anyway) or a real bug found late: either way, a finding.

The fault catalogue's tests (``tests/power``) run under the derandomised ``ci`` profile whatever
the seed, so every run would repeat them identically; they are left out here.
Exit 0 when every run passed, 1 otherwise."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.power.flakes", description=__doc__)
    parser.add_argument("--seeds", type=int, default=20, help="how many seeds (default 20)")
    parser.add_argument("--first", type=int, default=1, help="first seed (default 1)")
    parser.add_argument("--workers", default="auto", help="pytest-xdist -n (default auto)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds: expected a positive integer")
    env = {**os.environ, "HYPOTHESIS_PROFILE": "dev"}
    env.pop("CI", None)  # CI would not change the profile (set above) but keep the run plain
    failures = 0
    for seed in range(args.first, args.first + args.seeds):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-n", args.workers, "-p", "no:cacheprovider",
             f"--hypothesis-seed={seed}", "--ignore", str(ROOT / "tests" / "power")],
            cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        summary = (re.findall(r"^=*\s*(\d+ (?:passed|failed).*?)\s*=*$", result.stdout, re.M)
                   or [result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""])
        failed = result.returncode != 0
        failures += failed
        print(f"seed {seed:>3}: {'FAILED' if failed else 'ok':<6} {summary[-1]} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
        if failed:
            print("\n".join(line for line in result.stdout.splitlines()
                            if line.startswith(("FAILED", "ERROR"))), flush=True)
    print(f"\n{failures} failing runs in {args.seeds} seeds")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
