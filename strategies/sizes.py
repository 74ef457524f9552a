"""Sizes (units, features, steps, batch, filters, vocabularies): any integer of a range, or,
*bucketed*, one of a few values of it.

A backend that compiles every new shape (jax: each eager primitive compiles once per shape,
and Keras's recurrent loop once per call) spends most of a property run compiling when every
example brings new sizes. Bucketed, a range ``[low, high]`` offers only ``low``, ``high`` and
the powers of 4 between them (``[1, 8]``: 1, 4, 8; ``[1, 3]``: 1, 3), so shapes repeat and
compiles are shared by the examples that follow, while every categorical option (cells,
activations, masks, merge modes, families) is drawn as before: distinct configurations are
kept, only the sizes between the buckets are not drawn. The trade is measured in the README.

Kernel sizes of convolutions are not sizes in this sense: their parity decides where
``same`` padding goes (a fault that moves it showed only with a kernel of 4), so they are
drawn in full everywhere.

Bucketing is on for the jax backend and off elsewhere; ``LSTM_VERIFY_SHAPE_BUCKETS=1`` or
``=0`` decides instead. Off, ``size_in`` is ``st.integers(low, high)`` itself, so the
examples a derandomized run draws do not change.

>>> bucket_values(1, 8), bucket_values(1, 3), bucket_values(4, 32)
((1, 4, 8), (1, 3), (4, 16, 32))
"""

from __future__ import annotations

import functools
import os

from hypothesis import strategies as st

#: The values inside a range a bucketed draw offers besides its ends.
BUCKETS = (1, 4, 16, 64, 256, 1024)


def bucket_values(low: int, high: int) -> tuple[int, ...]:
    """``low``, ``high`` and the :data:`BUCKETS` between them, ascending."""
    return tuple(sorted({low, high, *(value for value in BUCKETS if low < value < high)}))


def bucketed() -> bool:
    """Whether sizes are bucketed now: ``LSTM_VERIFY_SHAPE_BUCKETS`` (``1``/``0``) when set,
    else whether the Keras 3 backend is jax (read without importing Keras)."""
    setting = os.environ.get("LSTM_VERIFY_SHAPE_BUCKETS", "").strip()
    if setting in ("0", "1"):
        return setting == "1"
    if setting:
        raise ValueError(f"LSTM_VERIFY_SHAPE_BUCKETS must be 0 or 1, got {setting!r}")
    return _backend() == "jax"


@functools.cache
def _backend() -> str:
    from verify import environment

    return environment.keras3_backend()


def size_in(low: int, high: int) -> st.SearchStrategy[int]:
    """An integer of ``[low, high]``: any (``st.integers``), or one of
    :func:`bucket_values` when :func:`bucketed`."""
    if bucketed():
        return st.sampled_from(bucket_values(low, high))
    return st.integers(low, high)


__all__ = ["BUCKETS", "bucket_values", "bucketed", "size_in"]
