"""Argument checks shared by every public function.

Each helper names the argument, shows the value it got and says what was expected, so a
user's mistake reads as one clear line instead of a traceback from deep inside NumPy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages (arrays by shape and dtype)."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is an integer >= 1 (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive int, got {describe(value)}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int (>= 1), got {value!r}")
    return int(value)


def optional_positive_int(name: str, value: Any) -> int | None:
    """Like :func:`positive_int` but ``None`` is allowed (an unknown size)."""
    return None if value is None else positive_int(name, value)


def boolean(name: str, value: Any) -> bool:
    """Return ``value`` if it is a real ``bool`` (not 0/1, not a string)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool, got {describe(value)}")
    return bool(value)


def one_of(name: str, value: Any, options: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``options`` (compared by equality, types checked)."""
    allowed = [option for option in options if type(option) is type(value) and option == value]
    if not allowed:
        shown = ", ".join(repr(option) for option in options)
        raise ValueError(f"{name} must be one of {shown}; got {describe(value)}")
    return value


def numeric_array(name: str, value: Any, *, min_ndim: int = 0) -> np.ndarray:
    """Return ``value`` as a NumPy array of a real numeric dtype with at least ``min_ndim`` axes."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of numbers, got {describe(value)}") from error
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(
        array
    ):
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {array.dtype} "
            f"from {describe(value)}"
        )
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} axis/axes, got shape {array.shape}"
        )
    return array


def mask_array(mask: Any, batch: int, steps: int) -> np.ndarray | None:
    """``mask`` as a bool ``(batch, steps)`` array (``True`` where a step counts), or ``None``."""
    if mask is None:
        return None
    array = np.asarray(mask)
    if array.dtype != np.bool_ or array.shape != (batch, steps):
        raise ValueError(f"mask must be a bool array of shape (batch, timesteps) = "
                         f"{(batch, steps)}, got {describe(mask)}")
    return array


def state_list(initial_state: Any, count: int, batch: int, units: int) -> list[np.ndarray]:
    """``initial_state`` as ``count`` numeric arrays of shape ``(batch, units)``."""
    if isinstance(initial_state, np.ndarray) or not isinstance(initial_state, Sequence) \
            or len(initial_state) != count:
        raise ValueError(f"initial_state must be a list of {count} arrays of shape "
                         f"(batch, units) = {(batch, units)}, got {describe(initial_state)}")
    arrays = []
    for index, state in enumerate(initial_state):
        array = numeric_array(f"initial_state[{index}]", state)
        if array.shape != (batch, units):
            raise ValueError(f"initial_state[{index}] must have shape (batch, units) = "
                             f"{(batch, units)}, got {array.shape}")
        arrays.append(array)
    return arrays


def dataclass_repr(obj: Any, always: tuple[str, ...]) -> str:
    """``Name(field=value, ...)`` showing ``always`` fields and every non-default one."""
    shown = []
    for item in dataclasses.fields(obj):
        value = getattr(obj, item.name)
        if item.name in always or value != item.default:
            shown.append(f"{item.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(shown)})"




def keras_mapping(name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict from a Keras layer's get_config(), "
                        f"got {describe(value)}")
    return value
