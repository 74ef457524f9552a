"""Command line: ``python -m verify report`` (also installed as ``lstm-verify``).

Exit codes: 0 every property holds, 1 a mismatch (the minimal failing case is printed with a
runnable snippet), 2 bad usage or an unwritable output path.
"""

from __future__ import annotations

import argparse
import json
import os
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
    #: Examples rejected as ill-conditioned (outputs move by more than
    #: ``compare.ILL_CONDITIONED`` of their size under one float32 step): drawn, not compared.
    rejected: int = 0
    passed: bool = True
    worst_error_ratio: float = 0.0
    seconds: float = 0.0
    #: Distinct configurations checked, and the pairwise coverage of their categorical
    #: options (verify.coverage; None when fewer than two options varied).
    configurations: int = 0
    pairwise: float | None = None
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
        description="Check the installed Keras's LSTM, GRU and SimpleRNN layers against the "
                    "documented formulas and a NumPy reference.",
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

    explain = commands.add_parser(
        "explain", help="decode a saved model's recurrent weights gate by gate",
        description="For every LSTM, GRU and SimpleRNN (plain or in Bidirectional) in a saved "
                    "model (.keras, .h5 or a SavedModel directory Keras can load): each array's "
                    "shape and formula, its gate blocks with column ranges (a GRU's two bias "
                    "rows too), and the parameter count checked against the formula.")
    explain.add_argument("model", type=Path, metavar="MODEL")
    explain.add_argument("--json", type=Path, metavar="PATH",
                         help="also write the explanation as JSON ('-' for standard output)")
    explain.add_argument("--plot", type=Path, metavar="PNG",
                         help="draw each kernel's gate blocks as heatmaps (needs matplotlib)")

    check = commands.add_parser(
        "check", help="check that verify.predict reproduces a saved model's outputs",
        description="Run the model in Keras and with verify.predict (NumPy) on random inputs of "
                    "its input shape (zero-padded where the model has a Masking layer) and "
                    "report the worst error against the tolerance. Exit 1 on a mismatch.")
    check.add_argument("model", type=Path, metavar="MODEL")
    check.add_argument("--samples", type=_integer(1, "a positive integer"), default=8,
                       metavar="N", help="random batches to try (default: 8)")
    check.add_argument("--seed", type=_integer(0, "an integer seed >= 0"), default=0,
                       metavar="S", help="seed of the random inputs (default: 0)")
    check.add_argument("--timesteps", type=_integer(1, "a positive integer"), default=10,
                       metavar="T", help="length to use where the model's time axis is "
                       "unknown (default: 10)")

    export = commands.add_parser(
        "export", help="save a model's recurrent weights by gate, or in PyTorch/ONNX layout",
        description="Write the LSTM/GRU/SimpleRNN weights of a saved model to an .npz: named "
                    "per layer and gate (keras: path/W_i ...), as PyTorch nn.LSTM/nn.GRU/nn.RNN "
                    "state-dict entries (torch: path/weight_ih_l0 ..., _reverse for the backward "
                    "direction) or as ONNX LSTM/GRU/RNN inputs (onnx: path/W, path/R, path/B). "
                    "What the target cannot compute (a GRU with reset_after=False in torch, an "
                    "activation the target lacks) is refused with exit 2.")
    export.add_argument("model", type=Path, metavar="MODEL")
    export.add_argument("output", type=Path, metavar="OUT.npz")
    export.add_argument("--layout", choices=["keras", "torch", "onnx"], default="keras",
                        help="array layout (default: keras)")

    matrix = commands.add_parser(
        "matrix", help="merge the tox environments' reports into one table",
        description="Read every REPORTS_DIR/<env>.xml written by `tox` (pytest --junitxml) and "
                    "print environments x properties: tests passed/failed/skipped, examples "
                    "run, worst error / tolerance, and the named divergences that applied; "
                    "divergences that applied nowhere are reported as stale. Exit 1 if an "
                    "environment failed.")
    matrix.add_argument("reports", type=Path, metavar="REPORTS_DIR")
    matrix.add_argument("--markdown", type=Path, metavar="PATH",
                        help="also write the table as Markdown")
    return parser


def _run_property(name: str, *, settings_: Any, seed: int | None, out: TextIO) -> Outcome:
    from hypothesis import seed as hypothesis_seed

    from verify.coverage import Coverage
    from verify.properties import PROPERTIES

    prop = PROPERTIES[name]
    outcome = Outcome(name=name, summary=prop.summary)
    progress = out.isatty()
    stats: dict[str, float] = {}

    def show(tally: dict[str, float]) -> None:
        print(f"\r  {name}: {int(tally['examples'])} examples", end="", file=out, flush=True)

    coverage = Coverage()
    run = settings_(prop.hypothesis_test(stats=stats, on_example=show if progress else None,
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
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=out, flush=True)
    mark = "ok" if outcome.passed else "FAILED"
    print(f"  {name}: {outcome.examples} examples, {mark} ({outcome.seconds:.1f} s)", file=out,
          flush=True)
    return outcome


def format_table(outcomes: Sequence[Outcome]) -> str:
    """The results as an aligned text table."""
    rows = [("property", "examples", "configs", "pairs", "ill-cond.", "result",
             "worst err/tol", "what it checks")]
    rows += [(o.name, str(o.examples), str(o.configurations),
              "-" if o.pairwise is None else f"{100 * o.pairwise:.0f}%", str(o.rejected),
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


def report(args: argparse.Namespace, out: TextIO) -> int:
    from hypothesis import settings

    from verify.properties import PROPERTIES

    if args.json is not None:
        _writable(args.json, "--json")

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
    rejected = sum(outcome.rejected for outcome in outcomes)
    print(f"\n{'all properties hold' if passed else 'MISMATCH'}: {total} examples in "
          f"{elapsed:.1f} s ({total / elapsed:.1f}/s); {rejected} rejected as ill-conditioned",
          file=out)
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


def _writable(path: Path, option: str) -> None:
    """Fail early (exit 2) if ``path`` cannot be written, before any slow work."""
    if str(path) == "-":
        return
    if path.is_dir():
        raise UsageError(f"cannot write {option} {str(path)!r}: it is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot write {option} {str(path)!r}: cannot create "
                         f"{str(path.parent)!r}: {error.strerror or error}") from error
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"cannot write {option} {str(path)!r}: permission denied")


class UsageError(Exception):
    """Bad usage or unreadable input: exit code 2 with this one-line message."""


def _load(path: Path) -> tuple[Any, list[Any], list[Any]]:
    """The model, its layer records and its explained LSTM layers, or a :class:`UsageError`."""
    if not path.exists():  # before importing Keras: a typo should not cost a TensorFlow start
        raise UsageError(f"{path}: no such file or directory")
    from verify import explain, keras_adapter

    try:
        model = keras_adapter.load_model(path)
        records = keras_adapter.layer_records(model)
        return model, records, explain.explain(records)
    except (keras_adapter.ModelFileError, explain.UnsupportedModel) as error:
        raise UsageError(str(error)) from error


def explain_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import explain

    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path is not None:
            _writable(path, option)
    if args.plot is not None:
        try:
            import matplotlib
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'lstm-verify[plot]'") from None
        matplotlib.use("Agg")
    _, _, layers = _load(args.model)
    print(explain.format_text(layers), end="", file=out)
    if args.json is not None:
        text = json.dumps({"model": str(args.model),
                           "layers": [layer.as_dict() for layer in layers]}, indent=2)
        if str(args.json) == "-":
            print(text, file=out)
        else:
            args.json.write_text(text + "\n")
    if args.plot is not None:
        _plot(layers, args.plot)
        print(f"wrote {args.plot}", file=out)
    return 0


def _plot(layers: Sequence[Any], target: Path) -> None:
    import matplotlib.pyplot as plt

    panels = [(layer, direction, weights[0]) for layer in layers
              for direction, weights in layer.directions.items()]
    columns = max(layer.cell.blocks for layer in layers)
    figure, axes = plt.subplots(len(panels), columns, figsize=(3.3 * columns, 3.0 * len(panels)),
                                squeeze=False, layout="constrained")
    for row, (layer, direction, kernel) in enumerate(panels):
        limit = float(abs(kernel).max()) or 1.0
        for column in range(layer.cell.blocks, columns):
            axes[row][column].axis("off")
        for column, (gate, block) in enumerate(layer.cell.split(kernel).items()):
            axis = axes[row][column]
            image = axis.imshow(block, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
            span = layer.cell.block(gate, layer.units)
            label = f"{layer.path} ({direction})" if len(layer.directions) > 1 else layer.path
            axis.set_title(f"{label}\nW_{gate} {layer.cell.gate_names[gate]}: "
                           f"kernel[:, {span.start}:{span.stop}]", fontsize=8)
            axis.set_xlabel("unit")
            if column == 0:
                axis.set_ylabel("input feature")
        figure.colorbar(image, ax=list(axes[row]), shrink=0.8)
    figure.savefig(target, dpi=100)
    plt.close(figure)


def check_command(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    from verify import compare, keras_adapter, properties

    model, records, _ = _load(args.model)
    shapes = [tuple(args.timesteps if dim is None else dim for dim in shape[1:])
              for shape in keras_adapter.input_shapes(model)]
    masking = [record.config.get("mask_value", 0.0)
               for record in records if record.class_name == "Masking"]
    # Token inputs (integer dtype) get ids below the smallest Embedding's vocabulary.
    vocab = min([int(record.config["input_dim"]) for record in records
                 if record.class_name == "Embedding"] or [2])
    integer = keras_adapter.input_is_integer(model)
    rng = np.random.default_rng(args.seed)
    worst, ill_conditioned = 0.0, 0
    for sample in range(args.samples):
        inputs = [rng.integers(1, max(vocab, 2), (4, *shape)).astype(np.int32) if tokens
                  else rng.uniform(-1, 1, (4, *shape)).astype(np.float32)
                  for shape, tokens in zip(shapes, integer, strict=True)]
        for x, tokens in zip(inputs, integer, strict=True):
            # Right-pad half the rows (token 0, or the Masking value) so masks are exercised.
            if (tokens or masking) and x.ndim >= 2:
                for row in range(0, x.shape[0], 2):
                    x[row, rng.integers(1, x.shape[1] + 1):] = 0 if tokens else masking[0]
        batch: Any = inputs[0] if len(inputs) == 1 else inputs
        try:
            worst = max(worst, properties.check_predict(model, batch, label=str(args.model)))
        except compare.IllConditioned:
            ill_conditioned += 1
        except compare.Mismatch as error:
            print(f"MISMATCH on sample {sample} (seed {args.seed}):\n{error}", file=out)
            return 1
    checked = args.samples - ill_conditioned
    print(f"{args.model}: verify.predict reproduces the model on {checked} random batches of "
          f"shape {[(4, *shape) for shape in shapes]} (seed {args.seed}); worst error "
          f"{worst:.3g} of the tolerance", file=out)
    if ill_conditioned:
        print(f"  {ill_conditioned} batches skipped as ill-conditioned (outputs move by more "
              f"than {compare.ILL_CONDITIONED:g} of their size under one float32 step)", file=out)
    if checked == 0:
        print("  nothing could be checked: every batch was ill-conditioned", file=out)
        return 1
    return 0


def export_command(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    from verify import explain

    if args.output.suffix != ".npz":
        raise UsageError(f"OUT must end in .npz (numpy.savez adds it otherwise), "
                         f"got {str(args.output)!r}")
    _writable(args.output, "OUT")
    _, _, layers = _load(args.model)
    try:
        arrays = explain.export_arrays(layers, args.layout)
    except ValueError as error:
        raise UsageError(str(error)) from error
    try:
        np.savez(args.output, **arrays)  # type: ignore[arg-type]  # numpy stubs: names as kwargs
    except OSError as error:
        raise UsageError(f"cannot write {str(args.output)!r}: {error.strerror or error}") \
            from error
    print(f"wrote {len(arrays)} arrays ({args.layout} layout) to {args.output}:", file=out)
    for name, array in arrays.items():
        print(f"  {name:<40} {tuple(array.shape)}", file=out)
    notes = explain.export_notes(layers, args.layout)
    if notes:
        print("load them into:", file=out)
        for note in notes:
            print(f"  {note}", file=out)
    return 0


def matrix_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import matrix

    if args.markdown is not None:
        _writable(args.markdown, "--markdown")
    try:
        results = matrix.collect(args.reports)
    except matrix.ReportError as error:
        raise UsageError(str(error)) from error
    print(matrix.table(results, markdown=False), file=out)
    print("\n" + matrix.summary(results), file=out)
    print("cell: ✓/✗ examples run / worst error ÷ tolerance", file=out)
    if args.markdown is not None:
        args.markdown.write_text(
            matrix.table(results, markdown=True) + "\n\n"
            + "\n".join(f"- {line.strip()}" for line in matrix.summary(results).splitlines())
            + "\n")
        print(f"wrote {args.markdown}", file=out)
    return 0 if all(result.passed for result in results) else 1


COMMANDS = {"report": report, "explain": explain_command, "check": check_command,
            "export": export_command, "matrix": matrix_command}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m verify`` and ``lstm-verify``; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    try:
        return COMMANDS[args.command](args, out)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except NotImplementedError as error:  # e.g. verify.predict meeting a layer it cannot run
        print(f"error: not supported: {error}", file=sys.stderr)
        return 2
    except Exception as error:
        if os.environ.get("LSTM_VERIFY_DEBUG"):
            raise
        print(f"error: internal error: {type(error).__name__}: {error} (please report it; "
              "set LSTM_VERIFY_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 2
