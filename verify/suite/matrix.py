"""Merge the tox environments' JUnit reports (``reports/<env>.xml``) into one table:
environments x properties, with tests passed/failed/skipped, examples run, the worst error as a
fraction of its tolerance, and the named divergences that applied (``python -m verify matrix``).
"""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from verify.suite import divergences
from verify.terminal import UsageError, writable


@dataclass
class PropertyResult:
    examples: int = 0
    rejected: int = 0
    worst: float = 0.0
    passed: bool = True


@dataclass
class EnvironmentResult:
    name: str
    environment: str = "?"
    tests: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    properties: dict[str, PropertyResult] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    skip_reasons: list[str] = field(default_factory=list)
    #: Whether the environment ran on a GPU (recorded by tests/test_divergences.py).
    gpu: bool = False

    @property
    def passed(self) -> bool:
        return self.failed == 0 and self.tests > 0


class ReportError(ValueError):
    """A reports folder or file that cannot be read as pytest JUnit XML."""


def read(path: Path) -> EnvironmentResult:
    """One environment's results from the JUnit XML pytest wrote (``--junitxml``)."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as error:
        raise ReportError(f"cannot read {str(path)!r} as JUnit XML: {error}") from error
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    if not suites:
        raise ReportError(f"{str(path)!r} has no <testsuite>: not a pytest JUnit report")
    result = EnvironmentResult(name=path.stem)
    for suite in suites:
        result.seconds += float(suite.get("time", 0))
        for case in suite.iter("testcase"):
            result.tests += 1
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped")
            result.failed += failed
            if skipped is not None:
                result.skipped += 1
                result.skip_reasons.append(f"{case.get('name')}: {skipped.get('message', '')}")
            values = {item.get("name", ""): item.get("value", "")
                      for item in case.iter("property")}
            if "environment" in values:
                result.environment = values["environment"]
            if values.get("gpu") == "True":
                result.gpu = True
            if values.get("divergence_applies") == "True":
                result.applied.append(values["divergence"])
            if "property" in values:
                entry = result.properties.setdefault(values["property"], PropertyResult())
                entry.examples += int(float(values.get("examples", 0)))
                entry.rejected += int(float(values.get("rejected", 0)))
                entry.worst = max(entry.worst, float(values.get("worst", 0)))
                entry.passed = entry.passed and not failed
    return result


def collect(folder: Path) -> list[EnvironmentResult]:
    if not folder.is_dir():
        raise ReportError(f"REPORTS_DIR {str(folder)!r} is not a directory")
    paths = sorted(folder.glob("*.xml"))
    if not paths:
        raise ReportError(f"no *.xml reports in {str(folder)!r}; run `tox` (each environment "
                          "writes reports/<env>.xml) first")
    return [read(path) for path in paths]


def _cell(result: PropertyResult | None) -> str:
    if result is None:
        return "-"
    mark = "✓" if result.passed else "✗"
    return f"{mark} {result.examples} / {result.worst:.2g}"


def table(results: Sequence[EnvironmentResult], *, markdown: bool) -> str:
    """Environments x properties; a cell is ``✓ examples / worst error÷tolerance``."""
    names = sorted({name for result in results for name in result.properties},
                   key=_property_order)
    header = ["environment", "Keras", "tests", *names, "divergences that applied"]
    rows = []
    for result in results:
        tests = (f"{'✓' if result.passed else '✗'} {result.tests - result.failed - result.skipped}"
                 f" passed, {result.failed} failed, {result.skipped} skipped")
        rows.append([result.name, result.environment, tests,
                     *(_cell(result.properties.get(name)) for name in names),
                     ", ".join(result.applied) or "none"])
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _property_order(name: str) -> int:
    from verify.suite.properties import PROPERTIES

    order = list(PROPERTIES)
    return order.index(name) if name in order else len(order)


def stale(results: Sequence[EnvironmentResult]) -> list[str]:
    """Divergence entries that applied in none of ``results`` (an entry that needs a GPU
    counts only where some environment ran on one)."""
    applied = {name for result in results for name in result.applied}
    gpu = any(result.gpu for result in results)
    return [entry.name for entry in divergences.load()
            if entry.name not in applied and (entry.needs != "gpu" or gpu)]


def summary(results: Sequence[EnvironmentResult]) -> str:
    lines = []
    green = sum(result.passed for result in results)
    lines.append(f"{green}/{len(results)} environments green")
    for result in results:
        if not result.passed:
            lines.append(f"  {result.name}: {result.failed} failed of {result.tests}")
        for reason in result.skip_reasons:
            lines.append(f"  {result.name} skipped {reason}")
    old = stale(results)
    lines.append("stale divergences (applied in no environment): "
                 + (", ".join(old) if old else "none"))
    return "\n".join(lines)


def matrix_command(args: argparse.Namespace, out: TextIO) -> int:
    if args.markdown is not None:
        writable(args.markdown, "--markdown")
    try:
        results = collect(args.reports)
    except ReportError as error:
        raise UsageError(str(error)) from error
    print(table(results, markdown=False), file=out)
    print("\n" + summary(results), file=out)
    print("cell: ✓/✗ examples run / worst error ÷ tolerance", file=out)
    if args.markdown is not None:
        args.markdown.write_text(
            table(results, markdown=True) + "\n\n"
            + "\n".join(f"- {line.strip()}" for line in summary(results).splitlines())
            + "\n")
        print(f"wrote {args.markdown}", file=out)
    return 0 if all(result.passed for result in results) else 1
