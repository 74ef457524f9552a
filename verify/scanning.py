"""``python -m verify scan DIR`` and :func:`verify.scan`: every model file under a folder read,
explained and predicted on sampled inputs (no TensorFlow); with ``check`` compared with the
installed Keras, with ``migrate_to`` rewritten into Keras 3 files with proofs. One
:class:`Row` per file, what a team runs over its saved models before a TensorFlow upgrade.

Each step of a row ends in one of:

* ``ok`` — answered (explained, predicted, checked or migrated with proof), with a detail;
* ``refused`` — the file cannot be computed this way, with the reason and the way out (a
  Keras 1 file, a custom class, a weights-only file for ``predict``, a Keras 2 file for a
  Keras 3 ``check``...);
* ``wrong`` — a wrong answer: ``verify.predict`` differs from Keras, a migration that could not
  be proven, or an unexpected error (a bug: please report it);
* ``-`` — not asked for.

:func:`scan` never raises for a file; the command exits 1 if any step is ``wrong``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The file name endings scanned (case-insensitive).
SUFFIXES = (".h5", ".hdf5", ".keras")

OK, REFUSED, WRONG, NOT_RUN = "ok", "refused", "wrong", "-"


@dataclass
class Step:
    """The outcome of one step on one file: :data:`OK`, :data:`REFUSED`, :data:`WRONG` or
    :data:`NOT_RUN`, and a one-line detail (the answer's size, or the reason)."""

    status: str = NOT_RUN
    detail: str = ""


@dataclass
class Row:
    """One file: where, which format and writer, its layers, and each step's outcome."""

    file: str
    format: str = "?"
    keras_version: str | None = None
    layers: list[str] = field(default_factory=list)
    explain: Step = field(default_factory=Step)
    predict: Step = field(default_factory=Step)
    check: Step = field(default_factory=Step)
    migrate: Step = field(default_factory=Step)

    @property
    def steps(self) -> dict[str, Step]:
        return {"explain": self.explain, "predict": self.predict, "check": self.check,
                "migrate": self.migrate}

    @property
    def wrong(self) -> bool:
        return any(step.status == WRONG for step in self.steps.values())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Every file under ``folder`` (recursively) whose name ends in :data:`SUFFIXES`, sorted;
    a folder with none is refused (``ValueError``)."""
    root = Path(os.fspath(folder))
    if not root.is_dir():
        raise ValueError(f"{root}: not a folder")
    found = sorted(path for path in root.rglob("*")
                   if path.is_file() and path.name.lower().endswith(SUFFIXES))
    if not found:
        raise ValueError(f"{root}: no model files under it (looked for "
                         f"{', '.join('*' + suffix for suffix in SUFFIXES)})")
    return found


def scan(folder: str | os.PathLike[str], *, check: bool = False,
         migrate_to: str | os.PathLike[str] | None = None, samples: int = 2, seed: int = 0,
         timesteps: int = 10, rescale_hard_sigmoid: bool = False, force: bool = False,
         step: Callable[[int, str], None] | None = None) -> list[Row]:
    """One :class:`Row` per model file under ``folder``: read as data, explained, predicted
    on sampled inputs; ``check``: compared with the installed Keras on ``samples`` random
    batches; ``migrate_to``: rewritten into ``migrate_to/<relative path>.keras`` with proof
    (``rescale_hard_sigmoid`` as in ``migrate``; existing outputs refused unless ``force``).
    Keras is imported only for ``check``/``migrate_to``."""
    root = Path(os.fspath(folder))
    paths = model_files(root)
    rows = []
    for index, path in enumerate(paths):
        if step is not None:
            step(index, path.name)
        relative = path.relative_to(root)
        row = Row(file=str(relative))
        _read_steps(row, path, timesteps=timesteps, seed=seed)
        if check:
            row.check = _guarded(_check, path, row.keras_version, samples, seed, timesteps)
        if migrate_to is not None:
            target = Path(os.fspath(migrate_to)) / relative.with_suffix(".keras")
            row.migrate = _guarded(_migrate, path, target, samples, seed, timesteps,
                                   rescale_hard_sigmoid, force)
        rows.append(row)
    return rows


def _guarded(run: Callable[..., Step], *arguments: Any) -> Step:
    """``run(*arguments)``; a refusal (the library's one-line errors) as :data:`REFUSED`,
    anything else unexpected as :data:`WRONG` (a bug)."""
    from verify import files
    from verify.terminal import UsageError

    try:
        return run(*arguments)
    except (UsageError, files.ModelFileError, files.UnsupportedLayer) as error:
        return Step(REFUSED, _one_line(error))
    except Exception as error:
        return Step(WRONG, f"unexpected error (please report it): {type(error).__name__}: "
                           f"{_one_line(error)}")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _read_steps(row: Row, path: Path, *, timesteps: int, seed: int) -> None:
    """Read (leniently, as ``explain`` does), explain, and predict on sampled inputs."""
    from verify import explain, files

    try:
        read = files.read(path, lenient=True)
    except (files.ModelFileError, files.UnsupportedLayer) as error:
        row.explain = row.predict = Step(REFUSED, _one_line(error))
        return
    except Exception as error:
        row.explain = Step(WRONG, f"unexpected error (please report it): "
                                  f"{type(error).__name__}: {_one_line(error)}")
        return
    row.format, row.keras_version = read.format, read.keras_version
    row.layers = [str(layer["class_name"]) + (f"({layer['config']['layer']['class_name']})"
                                               if isinstance(layer["config"].get("layer"), dict)
                                               else "")
                  for _, layer in read.layers() if layer["class_name"] != "InputLayer"]

    def explained() -> Step:
        try:
            found = explain.explain(read.records(readable_only=True))
        except explain.UnsupportedModel as error:
            return Step(REFUSED, next(iter(read.unread.values()), _one_line(error)))
        shown = ", ".join(f"{layer.path} {layer.kind}({layer.units})" for layer in found)
        parameters = all(layer.param_count == layer.expected_params for layer in found)
        if not parameters:
            return Step(WRONG, f"{shown}: a parameter count differs from its formula")
        unread = f"; {len(read.unread)} layer(s) not read" if read.unread else ""
        return Step(OK, f"{shown}{unread}")

    row.explain = _guarded(explained)
    row.predict = _guarded(_predict, read, timesteps, seed)


def _predict(read: Any, timesteps: int, seed: int) -> Step:
    import numpy as np

    from verify import proof

    read.require_computable()
    inputs = proof.sample_inputs(read, np.random.default_rng(seed), timesteps=timesteps)
    outputs = proof.listed(read.forward(inputs[0] if len(inputs) == 1 else inputs))
    finite = all(np.isfinite(output).all() for output in outputs)
    shapes = ", ".join(str(tuple(output.shape)) for output in outputs)
    return Step(OK, f"{shapes} from {', '.join(str(tuple(x.shape)) for x in inputs)}"
                + ("" if finite else " (some outputs are not finite)"))


def _check(path: Path, written: str | None, samples: int, seed: int, timesteps: int
           ) -> Step:
    """``check`` of one file (``written``: the Keras that wrote it, as the read found)."""
    from verify.commands.proving import SampleMismatch, _keras_model, check_model
    from verify.terminal import UsageError, keras_adapter_for

    running = keras_adapter_for("check").info()
    if written is not None and int(written.split(".")[0]) != running.keras_major:
        way = ("check it under Keras 2 (tf-keras with TF_USE_LEGACY_KERAS=1, or "
               "tensorflow<=2.15); under Keras 3, --migrate proves that the Keras 3 model "
               "computes what Keras 2 did") if running.keras_major >= 3 else \
            "check it under Keras 3 (unset TF_USE_LEGACY_KERAS)"
        return Step(REFUSED, f"written by Keras {written}, this is Keras "
                             f"{running.keras_version}: {way}")
    read, model = _keras_model(path)
    try:
        found = check_model(read, model, samples=samples, seed=seed, timesteps=timesteps,
                            label=str(path))
    except SampleMismatch as error:
        return Step(WRONG, _one_line(error)[:400])
    except UsageError as error:  # Keras itself cannot run the model on a sampled batch
        return Step(REFUSED, _one_line(error)[:400])
    if found.checked == 0:
        return Step(REFUSED, "every sampled batch was ill-conditioned: nothing to compare")
    return Step(OK, f"worst {found.worst:.3g} of the tolerance on {found.checked} batches "
                    f"(Keras {running.keras_version})")


def _migrate(path: Path, target: Path, samples: int, seed: int, timesteps: int,
             rescale: bool, force: bool) -> Step:
    from verify import migrate
    from verify.terminal import keras_adapter_for, read_model, writable

    writable(target, "the migrated file", force=force)
    read = read_model(path)
    try:
        plan = migrate.plan(read, rescale_hard_sigmoid=rescale)
        keras_adapter_for("migrate")
        result = migrate.run(plan, target, samples=samples, seed=seed, timesteps=timesteps)
    except migrate.CannotMigrate as error:
        return Step(REFUSED, _one_line(error))
    if not result.proven:
        return Step(WRONG, "migration not proven: " + " ".join(result.failure.split()))
    return Step(OK, f"{target} ({len(result.changes)} changes; worst {result.worst:.3g} of "
                    "the tolerance)")


def summary(rows: Iterable[Row]) -> str:
    """``N files: explained a, predicted b, checked c, migrated d; refused ...; wrong w``."""
    rows = list(rows)
    counts = {name: sum(row.steps[name].status == OK for row in rows)
              for name in ("explain", "predict", "check", "migrate")}
    asked = {name for name in counts if any(row.steps[name].status != NOT_RUN for row in rows)}
    done = ", ".join(f"{verb} {counts[name]}/{len(rows)}" for name, verb in (
        ("explain", "explained"), ("predict", "predicted"), ("check", "checked"),
        ("migrate", "migrated")) if name in asked)
    wrong = sum(row.wrong for row in rows)
    return f"{len(rows)} files: {done}; wrong answers: {wrong}"


__all__ = [
    "NOT_RUN",
    "OK",
    "REFUSED",
    "SUFFIXES",
    "WRONG",
    "Row",
    "Step",
    "model_files",
    "scan",
    "summary",
]
