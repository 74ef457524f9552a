"""The commands that run Keras on a model file: ``check`` (``verify.predict`` reproduces the
model on sampled inputs) and ``migrate`` (a Keras 2 file rewritten for Keras 3, with proof);
both prove with :mod:`verify.proof`."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class Checked:
    """What :func:`check_model` found: the worst error (a fraction of the tolerance) over the
    batches checked, how many were skipped as ill-conditioned, and the input shapes."""

    samples: int
    worst: float = 0.0
    ill_conditioned: int = 0
    shapes: list[tuple[int, ...]] = field(default_factory=list)

    @property
    def checked(self) -> int:
        return self.samples - self.ill_conditioned


class SampleMismatch(Exception):
    """``verify.predict`` differs from Keras on one sampled batch (the message says where)."""


def check_model(read: Any, model: Any, *, samples: int, seed: int, timesteps: int,
                label: str, step: Callable[[int], None] = lambda index: None) -> Checked:
    """``verify.predict`` against the loaded Keras ``model`` of the file ``read`` on
    ``samples`` random batches (:func:`verify.proof.sample_inputs`); raises
    :class:`SampleMismatch` on the first difference."""
    import numpy as np

    from verify import compare, proof

    rng = np.random.default_rng(seed)
    found = Checked(samples)
    for sample in range(samples):
        step(sample)
        inputs = proof.sample_inputs(read, rng, timesteps=timesteps)
        found.shapes = [item.shape for item in inputs]
        batch: Any = inputs[0] if len(inputs) == 1 else inputs
        try:
            found.worst = max(found.worst, proof.check_predict(model, batch, label=label))
        except compare.IllConditioned:
            found.ill_conditioned += 1
        except compare.Mismatch as error:
            raise SampleMismatch(f"MISMATCH on sample {sample} (seed {seed}):\n{error}") \
                from error
    return found


def check_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import compare

    read, model = _keras_model(args.model)
    with Progress(out, "check", args.samples) as progress:
        try:
            found = check_model(read, model, samples=args.samples, seed=args.seed,
                                timesteps=args.timesteps, label=str(args.model),
                                step=progress.step)
        except SampleMismatch as error:
            progress.clear()
            print(error, file=out)
            return 1
    from verify import keras_adapter

    print(f"device: {keras_adapter.device().describe()}", file=out)
    print(f"{args.model}: verify.predict reproduces the model on {found.checked} random "
          f"batches of shape {found.shapes} (seed {args.seed}); worst error {found.worst:.3g} "
          "of the tolerance", file=out)
    if found.ill_conditioned:
        print(f"  {found.ill_conditioned} batches skipped as ill-conditioned (outputs move by "
              f"more than {compare.ILL_CONDITIONED:g} of their size under one float32 step)",
              file=out)
    if found.checked == 0:
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
