"""Command line: ``python -m verify report`` (also installed as ``lstm-verify``).

Exit codes: 0 every property holds, 1 a mismatch (the minimal failing case is printed with a
runnable snippet), 2 bad usage, an unreadable or unsupported model file, or an output path that
exists (without ``--force``) or cannot be written.

``explain``, ``export`` and ``predict`` read model files with :mod:`verify.files` (NumPy and
h5py; TensorFlow is never imported); ``report``, ``check`` and ``migrate`` run Keras, whose
start-up lines (oneDNN/absl) and warnings are hidden unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO


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
    from verify import profiles

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's start-up lines and library warnings")
    parser = argparse.ArgumentParser(
        prog="python -m verify",
        description="Check the installed Keras's LSTM, GRU and SimpleRNN layers against the "
                    "documented formulas and a NumPy reference (report); explain, export and "
                    "run saved models without TensorFlow (explain, export, predict); compare "
                    "a saved model with Keras (check); move Keras 2 files to Keras 3 with "
                    "proof (migrate).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report", parents=[common], help="run the conformance properties and print a table",
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
    report.add_argument("--property", action="append", dest="properties", metavar="NAME",
                        help="run only this property (repeatable; the names of the table's "
                             "first column)")

    explain = commands.add_parser(
        "explain", parents=[common], help="decode a saved model's recurrent weights gate by gate",
        description="For every LSTM, GRU and SimpleRNN (plain or in Bidirectional) in a saved "
                    "model (.keras, or .h5 written by Keras 2 or 3): each array's shape and "
                    "formula, its gate blocks with column ranges (a GRU's two bias rows too), "
                    "and the parameter count checked against the formula. Reads the file as "
                    "data (no TensorFlow; a Lambda or custom layer is refused by name).")
    explain.add_argument("model", type=Path, metavar="MODEL")
    explain.add_argument("--json", type=Path, metavar="PATH",
                         help="also write the explanation as JSON ('-' for standard output)")
    explain.add_argument("--plot", type=Path, metavar="PNG",
                         help="draw each kernel's gate blocks as heatmaps (needs matplotlib)")
    explain.add_argument("--force", action="store_true",
                         help="overwrite --json/--plot files that exist")

    check = commands.add_parser(
        "check", parents=[common],
        help="check that verify.predict reproduces a saved model's outputs",
        description="Run the model in Keras and with verify.predict (NumPy) on random inputs of "
                    "its input shape (zero-padded where the model has a Masking layer) and "
                    "report the worst error against the tolerance. Exit 1 on a mismatch.")
    check.add_argument("model", type=Path, metavar="MODEL")
    _sampling_options(check, samples=8)

    export = commands.add_parser(
        "export", parents=[common],
        help="save a model's recurrent weights by gate, or in PyTorch/ONNX layout",
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
    export.add_argument("--force", action="store_true", help="overwrite OUT if it exists")

    predict = commands.add_parser(
        "predict", parents=[common],
        help="run a saved model on an input array with NumPy (no TensorFlow)",
        description="What model.predict(INPUT) returns, computed by verify.predict_file from "
                    "the file's config and weights in float64, without TensorFlow. INPUT is an "
                    ".npy (one model input) or an .npz (one array per input, by input layer "
                    "name or in order); OUT is an .npy (one output) or an .npz (output_0, "
                    "output_1, ...). Semantics: those of the Keras that wrote the file, unless "
                    "--semantics says otherwise.")
    predict.add_argument("model", type=Path, metavar="MODEL")
    predict.add_argument("input", type=Path, metavar="INPUT")
    predict.add_argument("output", type=Path, metavar="OUT")
    predict.add_argument("--semantics", choices=sorted(_semantics_names()), metavar="NAME",
                         help="the Keras behaviour to reproduce (default: the file's writer): "
                              f"{', '.join(sorted(_semantics_names()))}")
    predict.add_argument("--float32", action="store_true",
                         help="compute in float32 (default: float64)")
    predict.add_argument("--force", action="store_true", help="overwrite OUT if it exists")

    migrate = commands.add_parser(
        "migrate", parents=[common],
        help="rewrite a Keras 2 .h5 model so that Keras 3 loads it, and prove it",
        description="Read OLD (a Keras 2 .h5) as data, rewrite its config for Keras 3 (drop "
                    "time_major, batch_input_shape -> batch_shape, Keras 2 initializer and "
                    "regularizer names, CuDNNLSTM/CuDNNGRU -> LSTM/GRU with converted weights), "
                    "build it with the installed Keras 3, install the weights, save NEW.keras, "
                    "load it back and prove on random inputs that it computes what the original "
                    "computed under Keras 2 (verify.model.forward with Keras 2 semantics). "
                    "What cannot be preserved (Keras 2's hard_sigmoid, time_major=True...) is "
                    "refused with exit 2 and its reason; a failed proof exits 1 and writes "
                    "nothing.")
    migrate.add_argument("model", type=Path, metavar="OLD.h5")
    migrate.add_argument("output", type=Path, metavar="NEW.keras")
    _sampling_options(migrate, samples=4)
    migrate.add_argument("--rescale-hard-sigmoid", action="store_true",
                         help="map Keras 2's hard_sigmoid exactly, where a mapping exists: "
                              "hard_sigmoid_2(z) = hard_sigmoid_3(1.2 z), so the kernel, "
                              "recurrent kernel and bias columns it reads are scaled by 1.2")
    migrate.add_argument("--force", action="store_true", help="overwrite NEW if it exists")

    matrix = commands.add_parser(
        "matrix", parents=[common], help="merge the tox environments' reports into one table",
        description="Read every REPORTS_DIR/<env>.xml written by `tox` (pytest --junitxml) and "
                    "print environments x properties: tests passed/failed/skipped, examples "
                    "run, worst error / tolerance, and the named divergences that applied; "
                    "divergences that applied nowhere are reported as stale. Exit 1 if an "
                    "environment failed.")
    matrix.add_argument("reports", type=Path, metavar="REPORTS_DIR")
    matrix.add_argument("--markdown", type=Path, metavar="PATH",
                        help="also write the table as Markdown")
    return parser


def _sampling_options(parser: argparse.ArgumentParser, *, samples: int) -> None:
    """--samples/--seed/--timesteps of the commands that compare on random inputs
    (verify.files.sample_inputs)."""
    parser.add_argument("--samples", type=_integer(1, "a positive integer"), default=samples,
                        metavar="N", help=f"random batches to try (default: {samples})")
    parser.add_argument("--seed", type=_integer(0, "an integer seed >= 0"), default=0,
                        metavar="S", help="seed of the random inputs (default: 0)")
    parser.add_argument("--timesteps", type=_integer(1, "a positive integer"), default=10,
                        metavar="T", help="length to use where the model's time axis is "
                        "unknown (default: 10)")


def _semantics_names() -> list[str]:
    from verify.semantics import VARIANTS

    return list(VARIANTS)


def _run_property(name: str, *, settings_: Any, seed: int | None, out: TextIO) -> Outcome:
    from hypothesis import seed as hypothesis_seed

    from verify.coverage import Coverage
    from verify.properties import PROPERTIES

    prop = PROPERTIES[name]
    outcome = Outcome(name=name, summary=prop.summary)
    progress = _is_terminal(out)
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

    unknown = [name for name in args.properties or [] if name not in PROPERTIES]
    if unknown:
        raise UsageError(f"--property: unknown {', '.join(map(repr, unknown))}; "
                         f"choose from {', '.join(PROPERTIES)}")
    if args.json is not None:
        _writable(args.json, "--json")

    from verify import profiles

    keras_adapter = _keras_adapter("report")
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


def _writable(path: Path, option: str, *, force: bool = True) -> None:
    """Fail early (exit 2) if ``path`` cannot be written (or exists, unless ``force``), before
    any slow work."""
    if str(path) == "-":
        return
    if path.is_dir():
        raise UsageError(f"cannot write {option} {str(path)!r}: it is a directory")
    if path.exists() and not force:
        raise UsageError(f"{option} {str(path)!r} exists: pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"cannot write {option} {str(path)!r}: cannot create "
                         f"{str(path.parent)!r}: {error.strerror or error}") from error
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"cannot write {option} {str(path)!r}: permission denied")


class UsageError(Exception):
    """Bad usage or unreadable input: exit code 2 with this one-line message."""


def _read(path: Path) -> Any:
    """The model file as data (:func:`verify.files.read`), or a :class:`UsageError`."""
    from verify import files

    try:
        return files.read(path)
    except (files.ModelFileError, files.UnsupportedLayer) as error:
        raise UsageError(str(error)) from error


def _keras_adapter(command: str) -> Any:
    """:mod:`verify.keras_adapter` (imports Keras), or a one-line :class:`UsageError` saying
    how to install it: the file commands explain/export/predict need no Keras."""
    try:
        from verify import keras_adapter
    except ImportError as error:
        raise UsageError(f"{command} runs Keras, which cannot be imported here ({error}): "
                         "pip install 'lstm-verify[tf]' (explain, export and predict need no "
                         "TensorFlow)") from error
    return keras_adapter


def _explained(path: Path) -> list[Any]:
    from verify import explain

    try:
        return explain.explain(_read(path).records())
    except explain.UnsupportedModel as error:
        raise UsageError(f"{path}: {error}") from error


def _keras_model(path: Path) -> Any:
    """The file read safely first (a Lambda is refused before Keras sees it), then loaded by
    Keras: what ``check`` compares against."""
    read = _read(path)
    keras_adapter = _keras_adapter("check")
    try:
        return read, keras_adapter.load_model(path)
    except keras_adapter.ModelFileError as error:
        raise UsageError(str(error)) from error


def explain_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import explain

    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path is not None:
            _writable(path, option, force=args.force)
    if args.plot is not None:
        try:
            import matplotlib
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'lstm-verify[plot]'") from None
        matplotlib.use("Agg")
    layers = _explained(args.model)
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

    from verify import compare, files, properties

    read, model = _keras_model(args.model)
    rng = np.random.default_rng(args.seed)
    worst, ill_conditioned, shapes = 0.0, 0, []
    with _Progress(out, "check", args.samples) as progress:
        for sample in range(args.samples):
            progress.step(sample)
            inputs = files.sample_inputs(read, rng, timesteps=args.timesteps)
            shapes = [item.shape for item in inputs]
            batch: Any = inputs[0] if len(inputs) == 1 else inputs
            try:
                worst = max(worst, properties.check_predict(model, batch,
                                                            label=str(args.model)))
            except compare.IllConditioned:
                ill_conditioned += 1
            except compare.Mismatch as error:
                progress.clear()
                print(f"MISMATCH on sample {sample} (seed {args.seed}):\n{error}", file=out)
                return 1
    checked = args.samples - ill_conditioned
    print(f"{args.model}: verify.predict reproduces the model on {checked} random batches of "
          f"shape {shapes} (seed {args.seed}); worst error {worst:.3g} of the tolerance",
          file=out)
    if ill_conditioned:
        print(f"  {ill_conditioned} batches skipped as ill-conditioned (outputs move by more "
              f"than {compare.ILL_CONDITIONED:g} of their size under one float32 step)", file=out)
    if checked == 0:
        print("  nothing could be checked: every batch was ill-conditioned", file=out)
        return 1
    return 0


class _Progress:
    """``label: i/N`` rewritten in place on a terminal; nothing in a pipe or a CI log."""

    def __init__(self, out: TextIO, label: str, total: int) -> None:
        self.out, self.label, self.total = out, label, total
        self.shown = _is_terminal(out)

    def __enter__(self) -> _Progress:
        return self

    def step(self, index: int, what: str = "") -> None:
        if self.shown:
            text = f"{self.label}: {index + 1}/{self.total} {what}".rstrip()
            print(f"\r{text:<60}", end="", file=self.out, flush=True)

    def clear(self) -> None:
        if self.shown:
            print("\r" + " " * 60 + "\r", end="", file=self.out, flush=True)

    def __exit__(self, *exc: object) -> None:
        self.clear()


def _is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


def export_command(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    from verify import explain

    if args.output.suffix != ".npz":
        raise UsageError(f"OUT must end in .npz (numpy.savez adds it otherwise), "
                         f"got {str(args.output)!r}")
    _writable(args.output, "OUT", force=args.force)
    layers = _explained(args.model)
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


def predict_command(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    if args.output.suffix not in (".npy", ".npz"):
        raise UsageError(f"OUT must end in .npy (one output) or .npz (several), "
                         f"got {str(args.output)!r}")
    _writable(args.output, "OUT", force=args.force)
    read = _read(args.model)
    x = _load_inputs(args.input, read)
    try:
        result = read.forward(x, semantics=args.semantics,
                              dtype=np.float32 if args.float32 else np.float64)
    except (ValueError, TypeError) as error:
        raise UsageError(f"{args.model} on {args.input}: {error}") from error
    outputs = result if isinstance(result, list) else [result]
    if len(outputs) > 1 and args.output.suffix != ".npz":
        raise UsageError(f"the model has {len(outputs)} outputs: OUT must end in .npz, "
                         f"got {str(args.output)!r}")
    try:
        if args.output.suffix == ".npy":
            np.save(args.output, outputs[0])
        else:
            np.savez(args.output, **{f"output_{i}": o for i, o in enumerate(outputs)})
    except OSError as error:
        raise UsageError(f"cannot write {str(args.output)!r}: {error.strerror or error}") \
            from error
    semantics = args.semantics or read.semantics.name
    print(f"wrote {args.output}: {', '.join(str(o.shape) for o in outputs)} "
          f"({outputs[0].dtype}, {semantics} semantics)", file=out)
    return 0


def _load_inputs(path: Path, read: Any) -> Any:
    """INPUT as the model's ``x``: an .npy array, or an .npz's arrays by input name/order.
    Pickled objects are refused (``allow_pickle=False``)."""
    import numpy as np

    if not path.is_file():
        raise UsageError(f"INPUT {str(path)!r}: no such file")
    names = [name for name, _ in _input_names(read)]
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise UsageError(f"INPUT {str(path)!r} is not a readable .npy/.npz array file: "
                         f"{str(error).splitlines()[0][:160]}") from error
    if isinstance(loaded, np.ndarray):
        if len(names) != 1:
            raise UsageError(f"the model has {len(names)} inputs {names}: INPUT must be an .npz "
                             "with one array per input")
        return loaded
    with loaded:
        keys = list(loaded.files)
        order = names if set(names) <= set(keys) else keys
        if len(order) != len(names):
            raise UsageError(f"INPUT {str(path)!r} holds arrays {keys}; the model takes "
                             f"{len(names)} inputs {names}")
        arrays = [loaded[key] for key in order]
    return arrays[0] if len(arrays) == 1 else arrays


def _input_names(read: Any) -> list[tuple[str, Any]]:
    from verify import files

    try:
        return files.input_layers(read.config)
    except files.ModelFileError as error:
        raise UsageError(f"{read.path}: {error}") from error


def migrate_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import migrate

    if args.output.suffix != ".keras":
        raise UsageError(f"NEW must end in .keras, got {str(args.output)!r}")
    _writable(args.output, "NEW", force=args.force)
    read = _read(args.model)
    try:
        plan = migrate.plan(read, rescale_hard_sigmoid=args.rescale_hard_sigmoid)
    except migrate.CannotMigrate as error:
        raise UsageError(str(error)) from error
    _keras_adapter("migrate")
    with _Progress(out, "migrate", args.samples + 2) as progress:
        try:
            result = migrate.run(plan, args.output, samples=args.samples, seed=args.seed,
                                 timesteps=args.timesteps, step=progress.step)
        except migrate.CannotMigrate as error:
            raise UsageError(str(error)) from error
    print(result.summary(), file=out)
    return 0 if result.proven else 1


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
            "export": export_command, "predict": predict_command, "migrate": migrate_command,
            "matrix": matrix_command}
#: The commands that run Keras (TensorFlow's start-up lines are hidden unless --verbose).
KERAS_COMMANDS = frozenset({"report", "check", "migrate"})


@contextlib.contextmanager
def _quiet(enabled: bool) -> Any:
    """Hide what TensorFlow and Keras print on their own: native lines on file descriptor 2
    (oneDNN, absl; written before Python logging exists, so only a file-descriptor redirect
    stops them) and Python warnings and log records from keras/tensorflow/absl. This
    program's own messages still reach stderr: ``sys.stderr`` is pointed at a copy of the
    original descriptor for the duration."""
    if not enabled:
        yield
        return
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl", "keras", "jax")]
    levels = [logger.level for logger in loggers]
    with warnings.catch_warnings(), contextlib.ExitStack() as restore:
        for logger, level in zip(loggers, levels, strict=True):
            restore.callback(logger.setLevel, level)
        warnings.filterwarnings(
            "ignore", module=r"(keras|tensorflow|tf_keras|absl|jax|torch|google)(\.|$)")
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        try:
            real = sys.stderr.fileno() == 2
        except (AttributeError, ValueError, io.UnsupportedOperation):
            real = False  # stderr captured in-process (tests): leave descriptors alone
        if not real:
            yield
            return
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        python_stderr = sys.stderr
        sys.stderr = open(saved, "w", buffering=1, closefd=False)  # noqa: SIM115
        try:
            yield
        finally:
            sys.stderr.flush()
            sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m verify`` and ``lstm-verify``; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    try:
        with _quiet(args.command in KERAS_COMMANDS and not args.verbose):
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
