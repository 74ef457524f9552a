"""``python -m verify scan DIR``: :func:`verify.scan` over a folder, printed as a table (one
row per file, then the reasons for every refusal and wrong answer, then a summary line) or
as JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any, TextIO

from verify.terminal import Progress, UsageError, writable

_COLUMNS = ("explain", "predict", "check", "migrate")


def scan_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import scanning

    if args.json is not None:
        writable(args.json, "--json", force=True)
    try:
        paths = scanning.model_files(args.folder)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if args.migrate is not None and args.migrate.exists() and not args.migrate.is_dir():
        raise UsageError(f"--migrate {str(args.migrate)!r} exists and is not a folder")
    json_out = args.json is not None and str(args.json) == "-"
    with Progress(out, "scan", len(paths)) as progress:
        rows = scanning.scan(args.folder, check=args.check, migrate_to=args.migrate,
                             samples=args.samples, seed=args.seed, timesteps=args.timesteps,
                             rescale_hard_sigmoid=args.rescale_hard_sigmoid, force=args.force,
                             step=None if json_out else progress.step)
    document = {"folder": str(args.folder), "rows": [row.as_dict() for row in rows],
                "summary": scanning.summary(rows)}
    if json_out:
        print(json.dumps(document, indent=2), file=out)
    else:
        print(format_table(rows), file=out)
        if args.json is not None:
            args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 1 if any(row.wrong for row in rows) else 0


def _cell(step: Any) -> str:
    """A step's table cell: its status, and a check's worst error."""
    if step.status == "ok" and step.detail.startswith("worst "):
        return f"ok {step.detail.split()[1]}"
    return str(step.status)


def _without_path(detail: str) -> str:
    """A reason without the leading ``<path>: `` the library's errors start with."""
    from verify.scanning import SUFFIXES

    head, _, rest = detail.partition(": ")
    return rest if rest and ("/" in head or head.endswith(SUFFIXES)) else detail


def format_table(rows: Sequence[Any]) -> str:
    """The table: file, format, writer's Keras, layers, each step's outcome; then why each
    refused or wrong step is so; then the summary line."""
    from verify import scanning

    shown = [c for c in _COLUMNS if any(row.steps[c].status != scanning.NOT_RUN for row in rows)]
    header = ["file", "format", "keras", "layers", *shown]
    body = []
    for row in rows:
        layers = ", ".join(row.layers)
        body.append([row.file, row.format, row.keras_version or "?",
                     layers if len(layers) <= 44 else layers[:41] + "...",
                     *(_cell(row.steps[c]) for c in shown)])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
             .rstrip() for line in [header, *body]]
    reasons = []
    for row in rows:
        grouped: dict[tuple[str, str], list[str]] = {}
        for name, step in row.steps.items():
            if step.status in (scanning.REFUSED, scanning.WRONG):
                grouped.setdefault((step.status, _without_path(step.detail)), []).append(name)
        reasons += [f"  {row.file}: {', '.join(names)} {status}: {detail}"
                    for (status, detail), names in grouped.items()]
    if reasons:
        lines += ["", "why:", *reasons]
    return "\n".join([*lines, "", scanning.summary(rows)])
