"""``ConvLSTM1D`` and ``ConvLSTM2D``: an LSTM whose four gate blocks are convolutions.

On inputs ``(batch, T, *spatial, C)`` (``channels_last``) with ``F`` filters and a kernel
``k`` (``(k,)`` or ``(kh, kw)``), ``get_weights()`` is ``kernel (*k, C, 4F)``,
``recurrent_kernel (*k, F, 4F)`` and ``bias (4F,)``, the blocks along the last axis in the
LSTM's order **i, f, c, o**: ``kernel[..., 0:F]`` is ``W_i`` and so on. Each step::

    z = conv(x_t, kernel; strides, padding, dilation_rate) + bias
        + conv(h_{t-1}, recurrent_kernel; strides 1, padding "same")
    i, f, o = recurrent_activation(z_i, z_f, z_o);  c_t = f c_{t-1} + i activation(z_c)
    h_t = o activation(c_t)

``padding="same"`` pads as TensorFlow does (the odd element on the right). Masks,
``go_backwards``, ``return_sequences``, ``return_state`` and initial states follow the
recurrent layers' rules (:func:`verify.loop.run`); the states and outputs are
``(batch, *out_spatial, F)`` where ``out_spatial`` is the input convolution's output size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from verify import loop
from verify.layers.base import (
    Context,
    Tensor,
    WeightSource,
    _channels_last,
    _ints,
    _unsupported,
    explicit_mask,
    weights,
)
from verify.layers.sequence import _windows

#: The ConvLSTM classes read, by their number of spatial axes.
RANKS = {"ConvLSTM1D": 1, "ConvLSTM2D": 2}


def _per_axis(value: Any, rank: int) -> tuple[int, ...]:
    found = _ints(value)
    return found * rank if len(found) == 1 else found


def conv(x: np.ndarray, kernel: np.ndarray, *, strides: tuple[int, ...],
         dilation: tuple[int, ...], padding: str) -> np.ndarray:
    """``x (n, *spatial, C)`` convolved with ``kernel (*k, C, out)`` (no bias), as
    ``keras.ops.conv`` computes it for ``channels_last``."""
    rank = kernel.ndim - 2
    pads, indices = [(0, 0)], []
    for axis in range(rank):
        index, left, right = _windows(x.shape[1 + axis], kernel.shape[axis], strides[axis],
                                      dilation[axis], padding)
        pads.append((left, right))
        indices.append(index)
    padded = np.pad(x, [*pads, (0, 0)])
    if rank == 1:
        windows = padded[:, indices[0]]  # (n, out, k, C)
    else:
        rows, columns = indices
        # (n, out_h, k_h, out_w, k_w, C) -> (n, out_h, out_w, k_h, k_w, C)
        windows = padded[:, rows[:, :, None, None], columns[None, None, :, :]]
        windows = windows.transpose(0, 1, 3, 2, 4, 5)
    out_shape = windows.shape[1:1 + rank]
    flat = windows.reshape(x.shape[0] * int(np.prod(out_shape)), -1)
    product = flat @ kernel.reshape(-1, kernel.shape[-1])
    return np.asarray(product.reshape(x.shape[0], *out_shape, kernel.shape[-1]))


class Stepper:
    """The ConvLSTM step for :func:`verify.loop.run` (gates i, f, c, o). The loop sees each
    step's input and the states flattened to ``(batch, features)``; the stepper works on
    their spatial shapes."""

    def __init__(self, arrays: list[np.ndarray], config: Mapping[str, Any],
                 spatial: tuple[int, ...], context: Context) -> None:
        rank = len(spatial)
        self.kernel, self.recurrent = arrays[0], arrays[1]
        self.bias = arrays[2] if len(arrays) > 2 else None
        self.filters = int(config["filters"])
        self.strides = _per_axis(config.get("strides", 1), rank)
        self.dilation = _per_axis(config.get("dilation_rate", 1), rank)
        self.padding = str(config.get("padding", "valid")).lower()
        self.unit = (1,) * rank
        self.spatial = spatial
        self.out_spatial = output_spatial(config, spatial)
        self.act = context.semantics.activation(str(config.get("activation", "tanh")))
        self.gate = context.semantics.activation(
            str(config.get("recurrent_activation", "sigmoid")))

    def project(self, x: np.ndarray, kept: np.ndarray | None = None) -> np.ndarray:
        """Every step's input convolution plus the bias, flattened: ``x`` is ``(...,
        prod(spatial) * C)`` with any leading axes (batch and steps, or kept rows)."""
        lead = x.shape[:-1]
        images = x.reshape(int(np.prod(lead)), *self.spatial, -1)
        out = conv(images, self.kernel, strides=self.strides, dilation=self.dilation,
                   padding=self.padding)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(*lead, -1)

    def step(self, projected: np.ndarray, states: list[np.ndarray]) -> list[np.ndarray]:
        batch = projected.shape[0]
        shape = (batch, *self.out_spatial, self.filters)
        h, c = (state.reshape(shape) for state in states)
        z = projected.reshape(*shape[:-1], -1) + conv(
            h, self.recurrent, strides=self.unit, dilation=self.unit, padding="same")
        f_ = self.filters
        i = self.gate(z[..., :f_])
        f = self.gate(z[..., f_:2 * f_])
        c_t = f * c + i * self.act(z[..., 2 * f_:3 * f_])
        h_t = self.gate(z[..., 3 * f_:]) * self.act(c_t)
        return [h_t.reshape(batch, -1), c_t.reshape(batch, -1)]


def output_spatial(config: Mapping[str, Any], spatial: tuple[int, ...]) -> tuple[int, ...]:
    """The states' spatial size for inputs of spatial size ``spatial``."""
    rank = len(spatial)
    kernel = _per_axis(config["kernel_size"], rank)
    strides = _per_axis(config.get("strides", 1), rank)
    dilation = _per_axis(config.get("dilation_rate", 1), rank)
    padding = str(config.get("padding", "valid")).lower()
    return tuple(_windows(size, k, s, d, padding)[0].shape[0]
                 for size, k, s, d in zip(spatial, kernel, strides, dilation, strict=True))


def conv_lstm(layer: Mapping[str, Any], source: WeightSource, arguments: list[Any],
              keywords: dict[str, Any], context: Context) -> list[Tensor]:
    """``ConvLSTM1D`` / ``ConvLSTM2D`` (module docstring)."""
    _channels_last(layer)
    config = layer["config"]
    rank = RANKS[str(layer["class_name"])]
    (x, mask), *extra = arguments
    if config.get("stateful"):
        raise _unsupported(layer, "stateful=True")
    states_given = keywords.get("initial_state") or extra or None
    if states_given is not None and context.semantics.initial_state_mask == "dropped":
        mask = None
    mask = explicit_mask(keywords, mask, context)
    x = np.asarray(x, context.dtype)
    if x.ndim != rank + 3:
        raise ValueError(f"layer {config.get('name')!r} ({layer['class_name']}) takes inputs "
                         f"(batch, steps, {'spatial, ' * rank}channels), got shape {x.shape}")
    spatial = tuple(int(size) for size in x.shape[2:-1])
    stepper = Stepper(weights(source, layer, context), config, spatial, context)
    batch, steps = x.shape[:2]
    shape = (batch, *stepper.out_spatial, stepper.filters)
    states = ([np.zeros(shape, context.dtype)] * 2 if states_given is None
              else [np.asarray(state[0], context.dtype) for state in states_given])
    mask_array = None if mask is None else np.asarray(mask, bool)
    outputs, final = loop.run(x.reshape(batch, steps, -1), stepper,
                              semantics=context.semantics,
                              go_backwards=bool(config.get("go_backwards", False)),
                              mask=mask_array,
                              states=[np.array(state.reshape(batch, -1)) for state in states],
                              zero_output_for_mask=bool(config.get("return_sequences"))
                              and bool(config.get("zero_output_for_mask", False)))
    sequences = bool(config.get("return_sequences", False))
    passes = sequences and context.semantics.sequence_mask == "passed"
    first: Tensor = ((outputs.reshape(batch, steps, *shape[1:]), mask_array if passes else None)
                     if sequences else (outputs[:, -1].reshape(shape), None))
    if config.get("return_state"):
        return [first, *((state.reshape(shape), None) for state in final)]
    return [first]
