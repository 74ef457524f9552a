"""The commands that run Keras on a model file: ``check`` (``verify.predict`` reproduces the
model on sampled inputs) and ``migrate`` (a Keras 2 file rewritten for Keras 3, with proof);
both prove with :mod:`verify.proof`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from verify.terminal import Progress, UsageError, keras_adapter_for, read_model, writable


def _keras_model(path: Path) -> Any:
    """The file read safely first (a Lambda is refused before Keras sees it), then loaded by
    Keras: what ``check`` compares against."""
    read = read_model(path)
    keras_adapter = keras_adapter_for("check")
    try:
        return read, keras_adapter.load_model(path)
    except keras_adapter.ModelFileError as error:
        raise UsageError(str(error)) from error


def check_command(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    from verify import compare, proof

    read, model = _keras_model(args.model)
    rng = np.random.default_rng(args.seed)
    worst, ill_conditioned, shapes = 0.0, 0, []
    with Progress(out, "check", args.samples) as progress:
        for sample in range(args.samples):
            progress.step(sample)
            inputs = proof.sample_inputs(read, rng, timesteps=args.timesteps)
            shapes = [item.shape for item in inputs]
            batch: Any = inputs[0] if len(inputs) == 1 else inputs
            try:
                worst = max(worst, proof.check_predict(model, batch,
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


def migrate_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import migrate

    if args.output.suffix != ".keras":
        raise UsageError(f"NEW must end in .keras, got {str(args.output)!r}")
    writable(args.output, "NEW", force=args.force)
    read = read_model(args.model)
    try:
        plan = migrate.plan(read, rescale_hard_sigmoid=args.rescale_hard_sigmoid)
    except migrate.CannotMigrate as error:
        raise UsageError(str(error)) from error
    keras_adapter_for("migrate")
    with Progress(out, "migrate", args.samples + 2) as progress:
        try:
            result = migrate.run(plan, args.output, samples=args.samples, seed=args.seed,
                                 timesteps=args.timesteps, step=progress.step)
        except migrate.CannotMigrate as error:
            raise UsageError(str(error)) from error
    print(result.summary(), file=out)
    return 0 if result.proven else 1
