"""The errors of reading a model file, shared by the reader (:mod:`verify.files`) and the Keras
edge (:mod:`verify.keras_adapter`): one type for "this file cannot be used", whoever finds it."""

from __future__ import annotations


class ModelFileError(ValueError):
    """A file that is missing, unreadable, not a Keras model, hostile or inconsistent."""


class UnsupportedLayer(NotImplementedError):
    """A layer the file names but this project does not read (``Lambda``, custom classes)."""


__all__ = ["ModelFileError", "UnsupportedLayer"]
