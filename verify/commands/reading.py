"""The commands that read a model file as data, without TensorFlow: ``explain``, ``export``
and ``predict``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from verify.terminal import UsageError, read_model, writable


def _explained(path: Path) -> tuple[list[Any], list[str]]:
    """The recurrent layers of the file decoded, and notes on what the file does not say
    (a weights-only file's options, layers not read)."""
    from verify import explain

    read = read_model(path, lenient=True)
    try:
        layers = explain.explain(read.records(readable_only=True))
    except explain.UnsupportedModel as error:
        # With no recurrent layer left to explain, what was not read is the reason to name.
        raise UsageError(next(iter(read.unread.values()), f"{path}: {error}")) from error
    notes = [] if read.architecture else [
        "weights only (save_weights): each layer's kind and units are inferred from its "
        "arrays' names and shapes; activations and other options are not stored (Keras's "
        "defaults are shown)"]
    notes += [f"not read: {reason.split(': ', 1)[-1]}" for reason in read.unread.values()]
    return layers, notes


def explain_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import explain

    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path is not None:
            writable(path, option, force=args.force)
    if args.plot is not None:
        try:
            import matplotlib
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'lstm-verify[plot]'") from None
        matplotlib.use("Agg")
    layers, notes = _explained(args.model)
    # `--json -`: standard output carries the JSON alone (what a pipe reads); the rest goes to
    # standard error.
    json_out = args.json is not None and str(args.json) == "-"
    messages = sys.stderr if json_out else out
    if not json_out:
        print(explain.format_text(layers), end="", file=out)
    for note in notes:
        print(f"note: {note}", file=messages)
    if args.json is not None:
        text = json.dumps({"model": str(args.model), "notes": notes,
                           "layers": [layer.as_dict() for layer in layers]}, indent=2)
        if json_out:
            print(text, file=out)
        else:
            args.json.write_text(text + "\n")
    if args.plot is not None:
        _plot(layers, args.plot)
        print(f"wrote {args.plot}", file=messages)
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


def export_command(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    from verify import explain

    if args.output.suffix != ".npz":
        raise UsageError(f"OUT must end in .npz (numpy.savez adds it otherwise), "
                         f"got {str(args.output)!r}")
    writable(args.output, "OUT", force=args.force)
    layers, notes = _explained(args.model)
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
    for note in notes:
        print(f"note: {note}", file=out)
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
    writable(args.output, "OUT", force=args.force)
    read = read_model(args.model)
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
