"""What every command shares: the one-line usage error (exit 2), output paths checked before
slow work, model files read safely, Keras imported with a way out, progress on a terminal
only, and TensorFlow's own start-up noise hidden."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any, TextIO


class UsageError(Exception):
    """Bad usage or unreadable input: exit code 2 with this one-line message."""


def writable(path: Path, option: str, *, force: bool = True) -> None:
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


def read_model(path: Path, *, lenient: bool = False) -> Any:
    """The model file as data (:func:`verify.files.read`), or a :class:`UsageError`."""
    from verify import files

    try:
        return files.read(path, lenient=lenient)
    except (files.ModelFileError, files.UnsupportedLayer) as error:
        raise UsageError(str(error)) from error


def keras_adapter_for(command: str) -> Any:
    """:mod:`verify.keras_adapter` (imports Keras), or a one-line :class:`UsageError` saying
    how to install it: the file commands explain/export/predict need no Keras."""
    try:
        from verify import keras_adapter
    except ImportError as error:
        raise UsageError(f"{command} runs Keras, which cannot be imported here ({error}): "
                         "pip install 'lstm-verify[tf]' (explain, export and predict need no "
                         "TensorFlow)") from error
    return keras_adapter


class Progress:
    """``label: i/N`` rewritten in place on a terminal; nothing in a pipe or a CI log."""

    def __init__(self, out: TextIO, label: str, total: int) -> None:
        self.out, self.label, self.total = out, label, total
        self.shown = is_terminal(out)

    def __enter__(self) -> Progress:
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


def is_terminal(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def quiet(enabled: bool) -> Any:
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
