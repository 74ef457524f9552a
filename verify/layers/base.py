"""What every layer handler of :func:`verify.predict` shares: tensors with their Keras masks,
the source of a layer's weights, the :class:`Context` of one forward pass and small helpers
for reading a saved layer's config."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verify.keras_config import name
from verify.semantics import Semantics

Tensor = tuple[np.ndarray, np.ndarray | None]  # a value and its Keras mask (or None)


WeightSource = Callable[[str], Sequence[Any]]


@dataclass(frozen=True)
class Context:
    """What every layer of one forward pass shares: the semantics and the float type."""

    semantics: Semantics
    dtype: np.dtype[Any]
    prefix: str = ""  # "outer/" inside a nested model
    #: Keras 3 records in a functional config the mask each layer was called with (as an
    #: argument computed by recorded operations). ``True``: use it, as the model does.
    #: ``False``: ignore it and propagate masks by this module's rules, which is how the
    #: property suite checks those rules against what Keras computes.
    recorded_masks: bool = True


Handler = Callable[[Mapping[str, Any], WeightSource, list[Any], dict[str, Any], Context],
                   list[Tensor]]


def weights(source: WeightSource, layer: Mapping[str, Any], context: Context
            ) -> list[np.ndarray]:
    # C-ordered whatever the source's layout (torch hands some kernels back as transposed
    # views): the same arrays give the same bits from a model and from its file.
    return [np.ascontiguousarray(w, dtype=context.dtype)
            for w in source(context.prefix + name(layer))]


def _one(arguments: list[Any]) -> Tensor:
    (tensor,) = arguments
    return tensor  # type: ignore[no-any-return]


def _unsupported(layer: Mapping[str, Any], what: str) -> NotImplementedError:
    return NotImplementedError(f"verify.predict does not support {what} (layer {name(layer)!r}, "
                               f"class {layer.get('class_name')!r})")


def _channels_last(layer: Mapping[str, Any]) -> None:
    if layer["config"].get("data_format", "channels_last") not in (None, "channels_last"):
        raise _unsupported(layer, f"data_format={layer['config']['data_format']!r} "
                           "(only 'channels_last')")


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(item) for item in value) if isinstance(value, list | tuple) \
        else (int(value),)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):  # a (value, mask) tensor
        return value[0]
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def explicit_mask(keywords: Mapping[str, Any], propagated: np.ndarray | None,
                  context: Context) -> Any:
    """Keras 3 records the mask a layer was called with; Keras 2 propagates it implicitly
    (see :attr:`Context.recorded_masks`)."""
    if context.recorded_masks and keywords.get("mask") is not None:
        return _plain(keywords["mask"])
    return propagated


__all__ = ["Context", "Handler", "Tensor", "WeightSource", "explicit_mask", "name", "weights"]
