"""Command line: ``python -m verify COMMAND`` (also installed as ``lstm-verify``), a thin
dispatcher to the commands of :mod:`verify.commands` and :mod:`verify.suite`.

Exit codes: 0 every property holds, 1 a mismatch (the minimal failing case is printed with a
runnable snippet), 2 bad usage, an unreadable or unsupported model file, or an output path that
exists (without ``--force``) or cannot be written.

``explain``, ``export`` and ``predict`` read model files with :mod:`verify.files` (NumPy and
h5py; TensorFlow is never imported); ``report``, ``check`` and ``migrate`` run Keras, whose
start-up lines (oneDNN/absl) and warnings are hidden unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from verify.terminal import UsageError, quiet


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
    from verify.suite import profiles

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
        description="For every LSTM, GRU and SimpleRNN (plain, in Bidirectional or "
                    "TimeDistributed, or cells of RNN/StackedRNNCells) and ConvLSTM1D/2D in a "
                    "saved model (.keras, or .h5 written by Keras 2 or 3; a weights-only file "
                    "by its arrays' names and shapes): each array's shape and formula, its "
                    "gate blocks with column ranges (a GRU's two bias rows too), and the "
                    "parameter count checked against the formula. Reads the file as data (no "
                    "TensorFlow; a Lambda or custom layer is never run, and named as not "
                    "read).")
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
    check.add_argument("--precision", choices=("strict", "default"), default="strict",
                       help="strict (default): Keras's float32 matmuls in float32, held to "
                            "float32's bound; default: the device's own settings, held to the "
                            "bound of the precision they allow (TF32 on a GPU by default)")

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

    scan = commands.add_parser(
        "scan", parents=[common],
        help="read, explain and predict every model file under a folder (optionally check "
             "and migrate them)",
        description="Every .h5/.hdf5/.keras file under FOLDER: read as data, explained, run "
                    "with verify.predict on sampled inputs (no TensorFlow); --check: compared "
                    "with the installed Keras; --migrate OUT: rewritten into OUT/<name>.keras "
                    "for Keras 3 with proof. One row per file (format, the Keras that wrote "
                    "it, layers, each step's outcome), the reason for every refusal, and a "
                    "summary line. Exit 1 if any answer is wrong (a mismatch, an unproven "
                    "migration, an unexpected error), 2 on bad usage.")
    scan.add_argument("folder", type=Path, metavar="FOLDER")
    scan.add_argument("--check", action="store_true",
                      help="also compare verify.predict with the installed Keras on each file")
    scan.add_argument("--migrate", type=Path, metavar="OUT",
                      help="also migrate each file into OUT/<relative path>.keras with proof")
    scan.add_argument("--rescale-hard-sigmoid", action="store_true",
                      help="as in migrate: map Keras 2's hard_sigmoid exactly where a mapping "
                           "exists")
    scan.add_argument("--json", type=Path, metavar="PATH",
                      help="also write the rows as JSON ('-' for standard output alone)")
    scan.add_argument("--force", action="store_true",
                      help="overwrite migrated files that exist")
    _sampling_options(scan, samples=2)

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


#: Each command's function, as ``module:function``, imported when the command runs (so that
#: ``explain`` never imports Hypothesis or Keras).
COMMANDS = {
    "report": "verify.suite.report:report_command",
    "explain": "verify.commands.reading:explain_command",
    "check": "verify.commands.proving:check_command",
    "export": "verify.commands.reading:export_command",
    "predict": "verify.commands.reading:predict_command",
    "migrate": "verify.commands.proving:migrate_command",
    "matrix": "verify.suite.matrix:matrix_command",
    "scan": "verify.commands.scanning:scan_command",
}
#: The commands that run Keras (TensorFlow's start-up lines are hidden unless --verbose).
KERAS_COMMANDS = frozenset({"report", "check", "migrate", "scan"})


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``python -m verify`` and ``lstm-verify``; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = out or sys.stdout
    try:
        with quiet(args.command in KERAS_COMMANDS and not args.verbose):
            module, function = COMMANDS[args.command].split(":")
            return int(getattr(importlib.import_module(module), function)(args, out))
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
