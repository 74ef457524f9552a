"""Build a :class:`strategies.families.ModelSpec` with the running Keras (through
:mod:`verify.keras_adapter`, the module that imports it), and give it weights from a seed.

Built models are cached by specification (least recently used dropped), so examples that
differ only in weights and inputs reuse one model.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from strategies.families import ModelSpec
from verify import environment, keras_adapter

keras = keras_adapter.keras
layers = keras.layers

_cache: OrderedDict[ModelSpec, Any] = OrderedDict()
CACHE_SIZE = 32


def _recurrent(spec: ModelSpec, index: int, *, sequences: bool, state: bool = False) -> Any:
    layer = getattr(layers, spec.cells[index])(spec.units[index], return_sequences=sequences,
                                               return_state=state)
    if spec.is_bidirectional(index):
        return layers.Bidirectional(layer, merge_mode=spec.merge_mode)
    return layer


def _cell(spec: ModelSpec, index: int) -> Any:
    return getattr(layers, f"{spec.cells[index]}Cell")(spec.units[index])


def _cells_rnn(spec: ModelSpec, *, sequences: bool, state: bool = False) -> Any:
    """One ``RNN`` over the spec's first cell (``rnn_cell``) or all its cells stacked."""
    cell = (layers.StackedRNNCells([_cell(spec, index) for index in range(len(spec.cells))])
            if spec.cell_form == "stacked_cells" else _cell(spec, 0))
    return layers.RNN(cell, return_sequences=sequences, return_state=state)


def _stack(spec: ModelSpec, tensor: Any, *, last_sequences: bool) -> Any:
    """The recurrent layers in order; all but the last return sequences. ``cell_form``:
    layers, ``RNN(<kind>Cell)`` layers, or one ``RNN(StackedRNNCells)``."""
    if spec.cell_form == "stacked_cells":
        return _cells_rnn(spec, sequences=last_sequences)(tensor)
    if spec.cell_form == "rnn_cell":
        for index in range(len(spec.cells)):
            last = index == len(spec.cells) - 1
            tensor = layers.RNN(_cell(spec, index),
                                return_sequences=last_sequences or not last)(tensor)
        return tensor
    for index in range(len(spec.cells)):
        last = index == len(spec.cells) - 1
        tensor = _recurrent(spec, index, sequences=last_sequences or not last)(tensor)
        if spec.norm is not None and not last:
            tensor = _norm(spec)(tensor)
    return tensor


def _norm(spec: ModelSpec) -> Any:
    if spec.norm == "layer":
        return layers.LayerNormalization(axis=spec.norm_axis)
    return layers.BatchNormalization(axis=spec.norm_axis)


def _head(spec: ModelSpec, tensor: Any) -> Any:
    """Pooling/flatten of a sequence, or a Dense on every step; then the Dense output."""
    if spec.head == "global_max":
        tensor = layers.GlobalMaxPooling1D()(tensor)
    elif spec.head == "global_average":
        tensor = layers.GlobalAveragePooling1D()(tensor)
    elif spec.head == "flatten":
        tensor = layers.Flatten()(tensor)
    if spec.dropout:
        tensor = layers.Dropout(0.5)(tensor)
    dense = layers.Dense(spec.outputs, activation=spec.output_activation)
    if spec.head == "time_distributed":
        return layers.TimeDistributed(dense)(tensor)
    return dense(tensor)


def _sequence_head(spec: ModelSpec) -> bool:
    return spec.head != "last"


def _front(spec: ModelSpec, inputs: Any) -> Any:
    """Embedding for tokens, Masking for masked floats, optional dropout."""
    if spec.tokens:
        tensor = layers.Embedding(spec.vocab, spec.features, mask_zero=spec.mask)(inputs)
    elif spec.mask:
        tensor = layers.Masking(mask_value=spec.mask_value)(inputs)
    else:
        tensor = inputs
    if spec.dropout:
        tensor = layers.SpatialDropout1D(0.2)(tensor)
    return tensor


def _inputs(spec: ModelSpec) -> list[Any]:
    dtype = "int32" if spec.tokens else "float32"
    return [keras.Input(shape, dtype=dtype if len(shape) == 1 else "float32")
            for shape in spec.input_shapes()]


def _model(spec: ModelSpec) -> Any:
    inputs = _inputs(spec)
    family = spec.family
    if family in ("text_classifier", "masked_sequence", "normalized_stack"):
        tensor = _stack(spec, _front(spec, inputs[0]), last_sequences=_sequence_head(spec))
        return keras.Model(inputs, _head(spec, tensor))
    if family == "conv_front":
        tensor = layers.Permute((2, 1))(inputs[0]) if spec.permute else inputs[0]
        conv = spec.conv
        assert conv is not None
        tensor = layers.Conv1D(conv.filters, conv.kernel, strides=conv.strides,
                               dilation_rate=conv.dilation, padding=conv.padding,
                               activation=conv.activation, groups=conv.groups)(tensor)
        if spec.pool == "max":
            tensor = layers.MaxPooling1D(spec.pool_size, padding=spec.pool_padding)(tensor)
        elif spec.pool == "average":
            tensor = layers.AveragePooling1D(spec.pool_size, padding=spec.pool_padding)(tensor)
        tensor = _stack(spec, tensor, last_sequences=_sequence_head(spec))
        return keras.Model(inputs, _head(spec, tensor))
    if family == "encoder_decoder":
        encoded = _front(spec, inputs[0])
        if spec.cell_form == "layer":
            _, *states = _recurrent(spec, 0, sequences=False, state=True)(encoded)
            decoder = getattr(layers, spec.cells[0])(spec.units[0], return_sequences=True)
        else:  # the states of RNN(cell) / RNN(StackedRNNCells): one (list) per cell
            _, *states = _cells_rnn(spec, sequences=False, state=True)(encoded)
            decoder = _cells_rnn(spec, sequences=True)
        # A masked model masks the decoder's (teacher-forced) inputs too: Keras 3 does not
        # pass that mask to a layer called with initial_state (initial-state-drops-mask-keras3).
        decoder_input = (layers.Masking(mask_value=spec.mask_value)(inputs[1]) if spec.mask
                         else inputs[1])
        decoded = decoder(decoder_input, initial_state=states)
        dense = layers.Dense(spec.outputs, activation=spec.output_activation)
        return keras.Model(inputs, layers.TimeDistributed(dense)(decoded))
    if family == "repeat_decoder":
        encoded = _recurrent(spec, 0, sequences=False)(_front(spec, inputs[0]))
        repeated = layers.RepeatVector(spec.decoder_steps)(encoded)
        decoded = _recurrent(spec, 1, sequences=True)(repeated)
        dense = layers.Dense(spec.outputs, activation=spec.output_activation)
        return keras.Model(inputs, layers.TimeDistributed(dense)(decoded))
    if family == "attention_decoder":
        return _attention_decoder(spec, inputs)
    if family == "conv_lstm":
        return keras.Model(inputs, _head(spec, _conv_lstm_stack(spec, inputs[0])))
    if family == "nested_sequence":  # sequences of sequences: TimeDistributed(LSTM), then one
        inner = layers.TimeDistributed(_recurrent(spec, 0, sequences=False))(inputs[0])
        return keras.Model(inputs, _head(spec, _recurrent(spec, 1, sequences=False)(inner)))
    # siamese_merge: one Embedding (or Masking) and one recurrent layer shared by both inputs;
    # merged sequences (masks merged too) go through a second recurrent layer.
    front = (layers.Embedding(spec.vocab, spec.features, mask_zero=spec.mask) if spec.tokens
             else layers.Masking(mask_value=spec.mask_value))
    shared = _recurrent(spec, 0, sequences=len(spec.cells) > 1)
    branches = [shared(front(item)) for item in inputs]
    merged = getattr(layers, spec.merge or "Concatenate")()(
        branches[::-1] if spec.merge_swapped else branches)
    if len(spec.cells) > 1:
        merged = _recurrent(spec, 1, sequences=False)(merged)
    return keras.Model(inputs, _head(spec, merged))


def _conv_lstm_stack(spec: ModelSpec, tensor: Any) -> Any:
    """ConvLSTM layers over frames: the first as the spec's ``conv`` says (go_backwards
    too), a second one (3 x 3, 'same') on its sequences when the depth is 2."""
    conv = spec.conv
    assert conv is not None
    kind = layers.ConvLSTM1D if spec.conv_lstm_rank == 1 else layers.ConvLSTM2D
    deep = len(spec.cells) > 1
    tensor = kind(conv.filters, conv.kernel, strides=conv.strides, padding=conv.padding,
                  dilation_rate=conv.dilation, go_backwards=spec.backwards,
                  return_sequences=deep)(tensor)
    if deep:
        tensor = kind(spec.units[1], 3, padding="same")(tensor)
    return tensor


def _attention_decoder(spec: ModelSpec, inputs: list[Any]) -> Any:
    """An encoder's sequences attended by a decoder's (Luong or Bahdanau), the context joined
    to the decoder's sequence, then the head."""
    encoded = _recurrent(spec, 0, sequences=True)(_front(spec, inputs[0]))
    width = spec.units[0] * (2 if spec.is_bidirectional(0) and spec.merge_mode == "concat"
                             else 1)
    multi_head = str(spec.attention).startswith("multi_head")
    # The decoder (the attention's query) is masked with the encoder, except before a
    # MultiHeadAttention and on Keras 3.4-3.6 (attention-masked-query-raises-keras-3.4-3.6).
    decoder_input = (layers.Masking(mask_value=spec.mask_value)(inputs[1])
                     if spec.mask and not multi_head
                     and not environment.attention_masked_query_raises() else inputs[1])
    decoded = getattr(layers, spec.cells[0])(width, return_sequences=True)(decoder_input)
    if multi_head:
        context = layers.MultiHeadAttention(num_heads=2, key_dim=max(1, width // 2))(
            decoded, encoded, use_causal_mask=spec.causal)
        joined = [decoded, context]
        if spec.attention == "multi_head_then_dot":  # runs after it, on the same encoder
            joined.append(layers.Attention()([context, encoded]))
        return keras.Model(inputs, _head(spec, layers.Add()(joined)))
    attention = {"dot": lambda: layers.Attention(),
                 "scaled_dot": lambda: layers.Attention(use_scale=True),
                 "concat": lambda: layers.Attention(use_scale=True, score_mode="concat"),
                 "additive": lambda: layers.AdditiveAttention(),
                 "additive_unscaled": lambda: layers.AdditiveAttention(use_scale=False),
                 }[str(spec.attention)]()
    context = attention([decoded, encoded], use_causal_mask=spec.causal)
    join = layers.Add() if environment.masked_concatenate_fails() else layers.Concatenate()
    return keras.Model(inputs, _head(spec, join([decoded, context])))


def build(spec: ModelSpec) -> Any:
    """The Keras model for ``spec`` (cached: set its weights before each use)."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"spec must be a ModelSpec, got {type(spec).__name__}")
    key = spec
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    with keras_adapter.dropped_mask_warnings_silenced():
        model = _model(spec)
    _cache[key] = model
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return model


def seeded_weights(model: Any, *, seed: int) -> list[np.ndarray]:
    """Weights for every variable of ``model`` from ``np.random.default_rng(seed)``, scaled as
    trained models are: kernels ``±min(1, 2/sqrt(fan_in))``, embeddings, biases and
    normalization parameters ``±1``, moving variances in ``[0.25, 2]``."""
    generator = np.random.default_rng(seed)
    arrays = []
    for variable in model.weights:
        path = str(getattr(variable, "path", None) or variable.name)
        shape = tuple(int(dim) for dim in variable.shape)
        if "moving_variance" in path:
            values = generator.uniform(0.25, 2.0, shape)
        elif len(shape) >= 2 and "embeddings" not in path and "bias" not in path:
            fan_in = int(np.prod(shape[:-1]))
            bound = min(1.0, 2.0 / np.sqrt(fan_in))
            values = generator.uniform(-bound, bound, shape)
        else:
            values = generator.uniform(-1.0, 1.0, shape)
        arrays.append(values.astype(np.float32))
    return arrays
