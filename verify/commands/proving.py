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
    #: The bound the outputs were held to (``"float32"``, or ``"tf32"`` for a GPU's default).
    bound: str = "float32"
    #: The kernel each LSTM/GRU ran, by the path of its kernel variable (Keras 3).
    kernels: dict[str, str] = field(default_factory=dict)

    @property
    def checked(self) -> int:
        return self.samples - self.ill_conditioned


class SampleMismatch(Exception):
    """``verify.predict`` differs from Keras on one sampled batch (the message says where)."""


def check_model(read: Any, model: Any, *, samples: int, seed: int, timesteps: int,
                label: str, step: Callable[[int], None] = lambda index: None,
                precision: str = "strict") -> Checked:
    """``verify.predict`` against the loaded Keras ``model`` of the file ``read`` on
    ``samples`` random batches (:func:`verify.proof.sample_inputs`); raises
    :class:`SampleMismatch` on the first difference. ``precision="strict"``: Keras runs with
    float32 matmuls in float32 (:func:`verify.keras_adapter.strict_precision`) and is held to
    float32's bound; ``"default"``: at the device's settings, held to the bound of the
    precision they allow (TF32 on a GPU by default, float32 on a CPU)."""
    import contextlib

    import numpy as np

    from verify import compare, keras_adapter, proof

    if precision not in PRECISIONS:
        raise UsageError(f"--precision must be one of {', '.join(PRECISIONS)}, got "
                         f"{precision!r}")
    reduced = keras_adapter.device().float32 != "float32"
    rng = np.random.default_rng(seed)
    found = Checked(samples, bound="tf32" if precision == "default" and reduced else "float32")
    block = keras_adapter.strict_precision() if precision == "strict" \
        else contextlib.nullcontext()
    with block, keras_adapter.watched_kernels() as found.kernels:
        for sample in range(samples):
            step(sample)
            inputs = proof.sample_inputs(read, rng, timesteps=timesteps)
            found.shapes = [item.shape for item in inputs]
            batch: Any = inputs[0] if len(inputs) == 1 else inputs
            actual = _keras_outputs(model, batch, sample=sample, shapes=found.shapes)
            try:
                found.worst = max(found.worst, proof.check_predict(
                    model, batch, actual=actual, label=label, precision=found.bound))
            except compare.IllConditioned:
                found.ill_conditioned += 1
            except compare.Mismatch as error:
                raise SampleMismatch(f"MISMATCH on sample {sample} (seed {seed}, precision "
                                     f"{precision}, {found.bound} bound):\n{error}") from error
    return found


def _keras_outputs(model: Any, batch: Any, *, sample: int, shapes: list[tuple[int, ...]]
                   ) -> list[Any]:
    """The Keras model's outputs for one sampled batch; where Keras itself cannot run the
    model on it, :class:`UsageError` (exit 2) with Keras's first line and, where
    ``verify.predict`` refuses the batch too, its reason (which names the Keras behaviour,
    e.g. a divergence that makes a layer raise for some shapes)."""
    from verify import keras_adapter
    from verify.model import predict

    try:
        return list(keras_adapter.call_model(model, batch))
    except Exception as error:  # Keras's own failure, whatever its backend's error type
        keras_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        reason = ""
        try:
            predict(model, batch)
        except ValueError as refusal:
            reason = f"; verify.predict refuses it too: {refusal}"
        except Exception:
            pass
        raise UsageError(f"Keras cannot run the model on sampled batch {sample} (input "
                         f"shapes {shapes}): {type(error).__name__}: {keras_line[:300]}"
                         f"{reason}") from error


#: ``check --precision``: strict float32, or the device's default settings.
PRECISIONS = ("strict", "default")


def describe_kernels(model: Any, kernels: dict[str, str]) -> str:
    """Which kernel each recurrent layer ran: the watched LSTM/GRU calls by layer name; the
    other recurrent layers (SimpleRNN, use_cudnn=False, Keras 2's layers) are named by what
    their rules say when nothing was watched."""
    from verify import keras_adapter

    if keras_adapter.KERAS_MAJOR < 3:
        return ("Keras 2 picks cuDNN or its standard loop at run time (cuDNN on a GPU for "
                "eligible LSTM/GRU layers, see verify.devices.expected_kernel)")
    by_layer: dict[str, str] = {}
    for path, kernel in kernels.items():
        by_layer.setdefault(path.split("/")[0], kernel)
    return ", ".join(f"{name}: {kernel}" for name, kernel in by_layer.items()) or \
        "no LSTM/GRU reached a fused kernel (generic loop)"


def check_command(args: argparse.Namespace, out: TextIO) -> int:
    from verify import compare

    read, model = _keras_model(args.model)
    from verify import keras_adapter

    device = keras_adapter.device()
    print(f"device: {device.describe()}", file=out)
    if args.precision == "strict":
        with keras_adapter.strict_precision():
            settings = keras_adapter.device().settings
        print("precision: strict float32 (" + ", ".join(
            f"{key}={value}" for key, value in settings.items()) + ")", file=out)
    else:
        print(f"precision: the device's defaults (float32 matmuls in {device.float32})",
              file=out)
    with Progress(out, "check", args.samples) as progress:
        try:
            found = check_model(read, model, samples=args.samples, seed=args.seed,
                                timesteps=args.timesteps, label=str(args.model),
                                step=progress.step, precision=args.precision)
        except SampleMismatch as error:
            progress.clear()
            print(error, file=out)
            return 1
    print(f"kernels: {describe_kernels(model, found.kernels)}", file=out)
    print(f"{args.model}: verify.predict reproduces the model on {found.checked} random "
          f"batches of shape {found.shapes} (seed {args.seed}); worst error {found.worst:.3g} "
          f"of the {found.bound} bound", file=out)
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
