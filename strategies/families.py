"""Architectures real recurrent models use, as plain data (no Keras import).

A :class:`ModelSpec` describes one model of a *family*: the text classifier of every tutorial
(token ids → ``Embedding`` → recurrent stack → pooling or last state → ``Dense``), masked float
sequences, convolutional front ends, normalized stacks, encoder-decoders passing states,
``RepeatVector`` decoders and two-input models with shared layers and a merge. The strategies
(:func:`strategies.model_specs`) draw them, :mod:`verify.suite.keras_families` builds them with the
running Keras, and the ``model_forward`` property checks that :func:`verify.predict` gives
what the Keras model computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from verify import _validate
from verify.compare import format_array

#: The families, in the order strata and reports list them.
FAMILIES: tuple[str, ...] = (
    "text_classifier", "masked_sequence", "conv_front", "normalized_stack",
    "encoder_decoder", "repeat_decoder", "siamese_merge", "attention_decoder",
    "nested_sequence", "conv_lstm")
#: How the recurrent stack is built: one LSTM/GRU/SimpleRNN layer per entry, each as
#: ``RNN(<kind>Cell(...))``, or all of them as one ``RNN(StackedRNNCells([...]))``.
CELL_FORMS: tuple[str, ...] = ("layer", "rnn_cell", "stacked_cells")
#: The attention of ``attention_decoder``: ``Attention`` with dot scores (plain or with the
#: learned scale) or concat scores, ``AdditiveAttention`` with or without its scale,
#: ``MultiHeadAttention`` (two heads; its query, the decoder's sequence, is never masked:
#: Keras lines differ on a masked query step), and that followed by an ``Attention`` of its
#: output over the same encoder sequences (whose mask Keras >= 3.8's MultiHeadAttention
#: clears: ``mha-clears-input-masks-keras-3.8``).
ATTENTIONS: tuple[str, ...] = ("dot", "scaled_dot", "concat", "additive", "additive_unscaled",
                               "multi_head", "multi_head_then_dot")
#: Heads after the recurrent stack: its last output, a pooling of its sequence, or a Dense
#: on every step.
HEADS: tuple[str, ...] = ("last", "global_max", "global_average", "flatten", "time_distributed")
MERGES: tuple[str, ...] = ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum",
                           "Minimum")
NORMS: tuple[str, ...] = ("layer", "batch")
#: The axis a normalization layer normalizes over: the features (Keras's default) or the steps.
NORM_AXES: tuple[int, ...] = (-1, 1)
POOLS: tuple[str, ...] = ("max", "average")
#: Bidirectional merge modes the families draw ("no": no layer is Bidirectional).
MERGE_MODES: tuple[str, ...] = ("concat", "sum", "ave", "mul")
PADDINGS: tuple[str, ...] = ("valid", "same", "causal")
SIZES: tuple[str, ...] = ("small", "real")
#: What drawn inputs look like around the mask value (padding, or Masking's value): padding at
#: the end, at the start, steps inside, and near misses (steps where only some features equal
#: the mask value; token id 0 next to small ids).
PADDING_KINDS: tuple[str, ...] = ("none", "right", "left", "inside", "near_miss")


#: The families whose recurrent stack may be built from cells (:data:`CELL_FORMS`).
CELL_FORM_FAMILIES: tuple[str, ...] = ("text_classifier", "masked_sequence", "conv_front",
                                       "encoder_decoder")


@dataclass(frozen=True)
class Conv:
    """A ``Conv1D`` front end: ``filters`` of width ``kernel``."""

    filters: int
    kernel: int
    strides: int = 1
    dilation: int = 1
    padding: str = "valid"
    activation: str = "relu"
    groups: int = 1

    @property
    def step(self) -> str:
        """``"strided"``, ``"dilated"`` or ``"plain"`` (Keras refuses both at once)."""
        return "strided" if self.strides > 1 else "dilated" if self.dilation > 1 else "plain"


@dataclass(frozen=True)
class ModelSpec:
    """One generated model. ``cells``/``units``/``bidirectional`` describe the recurrent stack
    (one entry per layer); the other fields say what is around it (see :data:`FAMILIES`)."""

    family: str
    cells: tuple[str, ...]
    units: tuple[int, ...]
    steps: int
    features: int  # input features, or the embedding size for token inputs
    bidirectional: tuple[bool, ...] = ()
    merge_mode: str = "concat"
    vocab: int = 0  # > 0: token inputs through an Embedding of this many rows
    mask: bool = False  # Embedding(mask_zero=True), or a Masking layer on float inputs
    mask_value: float = 0.0
    head: str = "last"
    conv: Conv | None = None
    pool: str | None = None
    pool_size: int = 2
    pool_padding: str = "same"
    norm: str | None = None
    norm_axis: int = -1
    merge: str | None = None
    merge_swapped: bool = False  # the merge reads [second input's branch, first's]
    permute: bool = False
    decoder_steps: int = 0
    cell_form: str = "layer"
    attention: str | None = None
    causal: bool = False  # the attention's use_causal_mask
    outer_steps: int = 0  # nested_sequence: sequences of ``steps``-step sequences
    conv_lstm_rank: int = 0  # conv_lstm: ConvLSTM1D (1) or ConvLSTM2D (2), shaped by ``conv``
    backwards: bool = False  # conv_lstm: go_backwards
    outputs: int = 1
    output_activation: str = "linear"
    dropout: bool = False
    size: str = "small"
    padding: str = field(default="none", compare=False)  # how inputs are drawn, not the model

    def __post_init__(self) -> None:
        _validate.one_of("family", self.family, FAMILIES)
        _validate.one_of("head", self.head, HEADS)
        _validate.one_of("size", self.size, SIZES)
        if not self.cells or len(self.units) != len(self.cells):
            raise ValueError(f"cells and units must be non-empty and of equal length, got "
                             f"{self.cells!r} and {self.units!r}")
        if self.bidirectional and len(self.bidirectional) != len(self.cells):
            raise ValueError("bidirectional must have one flag per recurrent layer")
        if self.merge is not None:
            _validate.one_of("merge", self.merge, MERGES)
        if self.norm is not None:
            _validate.one_of("norm", self.norm, NORMS)
        if self.pool is not None:
            _validate.one_of("pool", self.pool, POOLS)
        _validate.one_of("pool_padding", self.pool_padding, PADDINGS[:2])
        _validate.one_of("norm_axis", self.norm_axis, NORM_AXES)
        _validate.one_of("cell_form", self.cell_form, CELL_FORMS)
        if self.attention is not None:
            _validate.one_of("attention", self.attention, ATTENTIONS)
        if self.cell_form != "layer" and any(self.bidirectional):
            raise ValueError("cells of RNN (cell_form != 'layer') are not wrapped in "
                             "Bidirectional here")

    def __repr__(self) -> str:
        defaults = ModelSpec(family=self.family, cells=self.cells, units=self.units,
                             steps=self.steps, features=self.features)
        shown = [f"{item.name}={getattr(self, item.name)!r}" for item in fields(self)
                 if item.name in ("family", "cells", "units", "steps", "features")
                 or getattr(self, item.name) != getattr(defaults, item.name)]
        return f"ModelSpec({', '.join(shown)})"

    @property
    def tokens(self) -> bool:
        """Inputs are integer token ids (an ``Embedding`` reads them)."""
        return self.vocab > 0

    def is_bidirectional(self, index: int) -> bool:
        return bool(self.bidirectional) and self.bidirectional[index]

    def input_shapes(self) -> list[tuple[int, ...]]:
        """Each model input's shape without the batch axis."""
        main = (self.steps,) if self.tokens else (self.steps, self.features)
        if self.family in ("encoder_decoder", "attention_decoder"):
            return [main, (self.decoder_steps, self.features)]
        if self.family == "nested_sequence":
            return [(self.outer_steps, self.steps, self.features)]
        if self.family == "conv_lstm":  # frames: (width[, width]) pixels, 2 channels
            return [(self.steps, *(self.features,) * self.conv_lstm_rank, 2)]
        if self.family == "siamese_merge":
            return [main, main]
        return [main]

    def categories(self) -> dict[str, Any]:
        """The categorical choices of this model, for coverage counts (the names
        :func:`strategies.model_specs` accepts in ``fixed``). Options a family does not have
        are left out."""
        found: dict[str, Any] = {
            "family": self.family, "size": self.size, "first_cell": self.cells[0],
            "depth": len(self.cells),
            "bidirectional": self.merge_mode if any(self.bidirectional) else "no",
            "tokens": self.tokens, "mask": self.mask, "head": self.head,
            "padding": self.padding, "output_activation": self.output_activation,
            "dropout": self.dropout,
        }
        if self.mask and not self.tokens:
            found["mask_value"] = self.mask_value
        if self.norm is not None:
            found["norm"] = f"{self.norm}/{self.norm_axis}"
        if self.merge is not None:
            found["merge"] = self.merge
            found["merge_order"] = "swapped" if self.merge_swapped else "in_order"
        if self.family in CELL_FORM_FAMILIES:
            found["cell_form"] = self.cell_form
        if self.attention is not None:
            found.update(attention=self.attention, causal=self.causal)
        if self.family == "conv_lstm" and self.conv is not None:
            found.update(conv_lstm=f"{self.conv_lstm_rank}d", conv_padding=self.conv.padding,
                         conv_step=self.conv.step, go_backwards=self.backwards)
        elif self.conv is not None:
            found.update(conv_padding=self.conv.padding, conv_step=self.conv.step,
                         conv_groups=self.conv.groups, conv_activation=self.conv.activation,
                         permute=self.permute,
                         pool=f"{self.pool}/{self.pool_padding}" if self.pool else "none")
        return found


#: One model of each family, as users build them (the tests save each and ``check`` it).
EXAMPLES: dict[str, ModelSpec] = {
    "text_classifier": ModelSpec(
        "text_classifier", ("LSTM", "GRU"), (6, 5), steps=9, features=8, vocab=50, mask=True,
        bidirectional=(True, False), head="global_average", dropout=True, outputs=3,
        output_activation="softmax"),
    "masked_sequence": ModelSpec(
        "masked_sequence", ("GRU", "LSTM"), (5, 4), steps=7, features=3, mask=True,
        mask_value=-1.0, head="time_distributed"),
    "conv_front": ModelSpec(
        "conv_front", ("GRU",), (6,), steps=12, features=3, pool="max", head="last",
        conv=Conv(filters=4, kernel=3, dilation=2, padding="causal")),
    "normalized_stack": ModelSpec(
        "normalized_stack", ("LSTM", "SimpleRNN"), (5, 4), steps=6, features=3, mask=True,
        norm="batch", head="last"),
    "encoder_decoder": ModelSpec(
        "encoder_decoder", ("LSTM",), (5,), steps=6, features=3, mask=True, decoder_steps=4,
        outputs=3, output_activation="softmax"),
    "repeat_decoder": ModelSpec(
        "repeat_decoder", ("LSTM", "GRU"), (5, 3), steps=6, features=2, mask=True,
        decoder_steps=6, outputs=2),
    "siamese_merge": ModelSpec(
        "siamese_merge", ("GRU", "LSTM"), (4, 3), steps=7, features=5, vocab=20, mask=True,
        merge="Maximum", output_activation="sigmoid"),
    "attention_decoder": ModelSpec(
        "attention_decoder", ("GRU",), (4,), steps=6, features=3, mask=True, decoder_steps=5,
        attention="additive", head="time_distributed", outputs=3,
        output_activation="softmax"),
    "nested_sequence": ModelSpec(
        "nested_sequence", ("LSTM", "GRU"), (4, 3), steps=5, features=2, outer_steps=3),
    "conv_lstm": ModelSpec(
        "conv_lstm", ("LSTM", "LSTM"), (3, 2), steps=4, features=6, conv_lstm_rank=2,
        conv=Conv(filters=3, kernel=3, padding="same"), head="flatten"),
}


def reproducer(spec: ModelSpec, seed: int, x: Any) -> str:
    """Python that rebuilds the failing model and calls both sides."""
    shown = ("[" + ", ".join(format_array(item) for item in x) + "]") if isinstance(x, list) \
        else format_array(x)
    return (
        "import numpy as np\nimport verify\nfrom verify import keras_families\n"
        "from strategies.families import Conv, ModelSpec\n"
        f"spec = {spec!r}\n"
        f"model = keras_families.build(spec)\n"
        f"model.set_weights(keras_families.seeded_weights(model, seed={seed}))\n"
        f"x = {shown}\n"
        "print(model(x, training=False), verify.predict(model, x))"
    )


__all__ = ["ATTENTIONS", "CELL_FORMS", "CELL_FORM_FAMILIES", "EXAMPLES", "FAMILIES", "HEADS",
           "MERGES", "MERGE_MODES", "NORMS", "NORM_AXES",
           "PADDINGS", "PADDING_KINDS", "POOLS", "SIZES", "Conv", "ModelSpec", "reproducer"]
