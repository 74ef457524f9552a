"""Strategies for whole models that look like the ones people train
(:class:`strategies.families.ModelSpec`), and for their inputs.

``size="small"`` draws the fast cases (at most 8 units, features and steps); ``size="real"``
the sizes real models use (16-256 units, 8-128 features or embedding sizes, 16-64 steps,
vocabularies up to 2,000 tokens). Inputs probe the edges of the layers around the recurrent
stack: padding at the end, at the start and inside, and near misses (steps where only some
features equal the Masking value; token id 0 next to ids 1 and 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from strategies.arrays import float32_arrays
from strategies.families import (
    ATTENTIONS,
    CELL_FORM_FAMILIES,
    CELL_FORMS,
    FAMILIES,
    MERGE_MODES,
    MERGES,
    NORM_AXES,
    NORMS,
    PADDING_KINDS,
    PADDINGS,
    POOLS,
    SIZES,
    Conv,
    ModelSpec,
)
from strategies.layers import CELL_KINDS, _check_choices
from strategies.sizes import size_in
from verify import environment

_BOUNDS = {  # size -> (units, features, steps, vocab)
    "small": ((1, 8), (1, 8), (1, 8), (2, 20)),
    "real": ((16, 256), (8, 128), (16, 64), (50, 2000)),
}
OUTPUT_ACTIVATIONS = ("linear", "sigmoid", "softmax", "tanh")


#: The options :func:`model_specs` accepts in ``fixed`` (the names of
#: :meth:`ModelSpec.categories`).
FIXABLE: tuple[str, ...] = (
    "family", "size", "first_cell", "depth", "bidirectional", "tokens", "mask", "mask_value",
    "head", "padding", "output_activation", "dropout", "norm", "merge", "merge_order",
    "conv_padding", "conv_step", "conv_groups", "conv_activation", "permute", "pool",
    "cell_form", "attention", "causal", "conv_lstm", "go_backwards")


def model_specs(*, families: Sequence[str] = FAMILIES, sizes: Sequence[str] = ("small",),
                fixed: Mapping[str, Any] | None = None) -> st.SearchStrategy[ModelSpec]:
    """Models of the given ``families`` (see :data:`strategies.families.FAMILIES`) and ``sizes``
    (``"small"``, ``"real"``); each shrinks towards one small LSTM. ``fixed`` fixes categorical
    options by the names of :meth:`ModelSpec.categories` (e.g. ``{"conv_step": "strided"}``),
    where the family has them; the rest is drawn."""
    kinds = _check_choices("families", families, FAMILIES)
    sizes = _check_choices("sizes", sizes, SIZES)
    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(FIXABLE))
    if unknown:
        raise InvalidArgument(f"fixed: unknown options {unknown}; expected some of {FIXABLE}")

    @st.composite
    def draw_spec(draw: st.DrawFn) -> ModelSpec:
        def choose(name: str, values: Sequence[Any]) -> Any:
            if name in fixed:
                return fixed[name]
            return draw(st.sampled_from(tuple(values)), label=name)

        family = choose("family", kinds)
        size = choose("size", sizes)
        cell_form = "layer"
        if family in CELL_FORM_FAMILIES and fixed.get("bidirectional", "no") == "no":
            cell_form = choose("cell_form", CELL_FORMS)
        (units_low, units_high), features, steps, vocab = _BOUNDS[size]
        depth_high = {"encoder_decoder": 2 if cell_form == "stacked_cells" else 1,
                      "conv_lstm": 2,
                      "repeat_decoder": 2, "normalized_stack": 2,
                      "siamese_merge": 2, "attention_decoder": 1,
                      "nested_sequence": 2}.get(family, 2 if size == "real" else 3)
        # Two layers where the family is about what passes between them (normalization, a
        # RepeatVector, merged sequences and their merged masks, the inner and outer layer).
        depth_low = 2 if family in ("repeat_decoder", "normalized_stack", "siamese_merge",
                                    "nested_sequence") else 1
        depth = int(choose("depth", range(depth_low, depth_high + 1)))
        cells = tuple(choose("first_cell", CELL_KINDS) if index == 0 else
                      draw(st.sampled_from(CELL_KINDS), label=f"cells[{index}]")
                      for index in range(depth))
        units = tuple(draw(size_in(units_low, units_high), label=f"units[{index}]")
                      for index in range(depth))
        wrap = family not in ("encoder_decoder", "conv_lstm")
        merge_mode = choose("bidirectional", ("no", *MERGE_MODES)) \
            if wrap and cell_form == "layer" else "no"
        bidirectional = tuple(
            False if merge_mode == "no" else True if index == 0
            else draw(st.booleans(), label=f"bidirectional[{index}]") for index in range(depth))
        options: dict[str, Any] = {
            "cell_form": cell_form,
            "merge_mode": "concat" if merge_mode == "no" else merge_mode,
            "steps": draw(size_in(*steps), label="steps"),
            "features": draw(size_in(*features), label="features"),
            "outputs": draw(size_in(1, 4), label="outputs"),
            "output_activation": choose("output_activation", OUTPUT_ACTIVATIONS),
            "dropout": bool(choose("dropout", (False, True))),
        }
        if family in ("text_classifier",) or (
                family == "siamese_merge" and choose("tokens", (False, True))):
            options["vocab"] = draw(size_in(*vocab), label="vocab")
        if family in ("masked_sequence", "normalized_stack") or (
                family == "siamese_merge" and "vocab" not in options):
            options["mask"] = True  # a Masking layer on the float inputs
        elif family not in ("conv_front", "nested_sequence", "conv_lstm"):
            options["mask"] = bool(choose("mask", (False, True)))
        if options.get("mask") and "vocab" not in options:
            options["mask_value"] = float(choose("mask_value", (0.0, -1.0)))
        heads = {"text_classifier": ("last", "global_max", "global_average"),
                 "masked_sequence": ("last", "time_distributed", "global_average"),
                 "conv_front": ("last", "flatten", "global_max"),
                 "normalized_stack": ("last", "time_distributed"),
                 "attention_decoder": ("time_distributed", "global_max"),
                 "conv_lstm": ("flatten",)}.get(family, ("last",))
        options["head"] = choose("head", heads)
        if family == "normalized_stack":
            norm, _, axis = str(choose("norm", norm_choices())).partition("/")
            options.update(norm=norm, norm_axis=int(axis))
        if family in ("encoder_decoder", "repeat_decoder", "attention_decoder"):
            # Keras 3.0-3.11 broadcast an attention's one-query scores over the batch
            # (attention-value-mask-misbroadcast-keras-3.0-3.11): two queries at least there.
            low = 2 if family == "attention_decoder" and \
                environment.attention_value_mask_misbroadcast() else steps[0]
            options["decoder_steps"] = draw(size_in(max(low, steps[0]), max(low, steps[1])),
                                            label="decoder steps")
        if family == "attention_decoder":
            options["attention"] = choose("attention", attention_kinds())
            options["causal"] = bool(choose("causal", (False, True)))
        if family == "nested_sequence":
            options["outer_steps"] = draw(size_in(1, 4 if size == "small" else 8),
                                          label="outer steps")
        if family == "siamese_merge":
            options["merge"] = choose("merge", merge_kinds())
            options["merge_swapped"] = choose("merge_order", MERGE_ORDERS) == "swapped"
        if family == "conv_front":
            options.update(_conv(draw, choose, options, size))
        if family == "conv_lstm":
            options.update(_conv_lstm(draw, choose, options, size))
        options["padding"] = choose("padding", PADDING_KINDS) \
            if options.get("mask") or "vocab" in options else "none"
        return ModelSpec(family=family, cells=cells, units=units,
                         bidirectional=bidirectional, size=size, **options)

    return draw_spec()


#: ``norm`` options: the layer kind and the axis it normalizes, ``"layer/-1"``.
NORM_CHOICES: tuple[str, ...] = tuple(f"{norm}/{axis}" for norm in NORMS for axis in NORM_AXES)


def attention_kinds() -> tuple[str, ...]:
    """The attentions drawn here: Keras 3.0-3.3 cannot build an Attention whose query is
    unmasked and whose value is masked (the named divergence
    attention-mixed-masks-raise-keras-3.0-3.3, asserted by its probe), which
    ``multi_head_then_dot`` builds, so there it is left out."""
    return tuple(kind for kind in ATTENTIONS if kind != "multi_head_then_dot"
                 or not environment.attention_mixed_masks_raise())


def norm_choices() -> tuple[str, ...]:
    """The normalizations drawn here: Keras 3 on torch cannot normalize a LayerNormalization
    over the steps (axis 1) of a non-square input and normalizes the features of a square one
    (the named divergence layer-norm-axis-1-raises-torch, asserted by its probe), so there
    ``layer/1`` is left out."""
    return tuple(choice for choice in NORM_CHOICES if choice != "layer/1"
                 or not environment.layer_norm_axis_1_raises())
MERGE_ORDERS: tuple[str, ...] = ("in_order", "swapped")
CONV_STEPS: tuple[str, ...] = ("plain", "strided", "dilated")
CONV_ACTIVATIONS: tuple[str, ...] = ("relu", "linear", "tanh")
#: ``pool`` options: none, or the kind and its padding, ``"max/same"``.
POOL_CHOICES: tuple[str, ...] = ("none", *(f"{pool}/{padding}" for pool in POOLS
                                          for padding in PADDINGS[:2]))


def merge_kinds() -> tuple[str, ...]:
    """The merge layers drawn here: Keras 3.4 cannot run a Concatenate of masked inputs (a
    named divergence), so there it is left out."""
    return tuple(merge for merge in MERGES if merge != "Concatenate"
                 or not environment.masked_concatenate_fails())


def _conv(draw: st.DrawFn, choose: Any, options: dict[str, Any], size: str) -> dict[str, Any]:
    """A Conv1D (and maybe pooling, maybe a Permute before it) that fits the input."""
    permute = bool(choose("permute", (False, True)))
    padding = choose("conv_padding", PADDINGS)
    step = choose("conv_step", CONV_STEPS)
    groups = int(choose("conv_groups", (1, 2)))
    if groups > 1 and permute:  # the channels are the steps: make them divisible
        options["steps"] += options["steps"] % groups
    elif groups > 1:
        options["features"] += options["features"] % groups
    length = options["features"] if permute else options["steps"]
    kernel = draw(st.integers(1, 5), label="conv kernel")
    dilation = 2 if step == "dilated" else 1
    if padding == "valid":  # the window must fit: dilation * (kernel - 1) + 1 <= length
        kernel = min(kernel, (length - 1) // dilation + 1)
    filters = groups * draw(size_in(1, 4) if size == "small" else size_in(4, 32),
                            label="conv filters")
    conv = Conv(filters=filters, kernel=kernel, dilation=dilation, padding=padding,
                strides=2 if step == "strided" else 1, groups=groups,
                activation=choose("conv_activation", CONV_ACTIVATIONS))
    pool, _, pool_padding = str(choose("pool", POOL_CHOICES)).partition("/")
    pool_size = draw(st.integers(2, 3), label="pool size") if pool != "none" else 2
    if pool_padding == "valid":  # the window must fit the convolution's output
        span = dilation * (kernel - 1) + 1 if padding == "valid" else 1
        pool_size = max(1, min(pool_size, -(-(length - span + 1) // conv.strides)))
    return {"conv": conv, "permute": permute, "pool": None if pool == "none" else pool,
            "pool_padding": pool_padding or "same", "pool_size": pool_size}


def _conv_lstm(draw: st.DrawFn, choose: Any, options: dict[str, Any], size: str
               ) -> dict[str, Any]:
    """A ConvLSTM1D/2D stack over frames of ``features`` pixels: its padding, a stride or a
    dilation, go_backwards; the kernel fits the frame."""
    rank = 1 if choose("conv_lstm", ("1d", "2d")) == "1d" else 2
    padding = choose("conv_padding", PADDINGS[:2])
    step = choose("conv_step", CONV_STEPS)
    if size == "real":  # a frame of a real clip is larger than a feature vector, not huge
        options["features"] = min(options["features"], 16 if rank == 2 else 64)
        options["steps"] = min(options["steps"], 24)
    dilation = 2 if step == "dilated" else 1
    # A dilated kernel has at least two taps, and the frame room for them to matter.
    kernel = draw(st.integers(dilation, 3), label="conv_lstm kernel")
    span = dilation * (kernel - 1) + 1
    if padding == "valid" or dilation > 1:
        options["features"] = max(options["features"], span + dilation - 1)
    filters = draw(size_in(1, 4) if size == "small" else size_in(4, 16),
                   label="conv_lstm filters")
    conv = Conv(filters=filters, kernel=kernel, dilation=dilation, padding=padding,
                strides=2 if step == "strided" else 1)
    return {"conv": conv, "conv_lstm_rank": rank,
            "backwards": bool(choose("go_backwards", (False, True)))}


def model_inputs(spec: ModelSpec, *, batch_size: int) -> st.SearchStrategy[Any]:
    """Inputs for ``spec``'s model: one array, or a list for two-input models. Padding is
    drawn as ``spec.padding`` says (token 0, or steps equal to ``spec.mask_value``)."""
    if not isinstance(spec, ModelSpec):
        raise InvalidArgument(f"spec must be a ModelSpec, got {spec!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgument(f"batch_size must be an int >= 1, got {batch_size!r}")

    @st.composite
    def draw_inputs(draw: st.DrawFn) -> Any:
        arrays = []
        for index, shape in enumerate(spec.input_shapes()):
            full = (batch_size, *shape)
            if len(shape) == 1:  # token ids
                array = _tokens(draw, spec, full, index)
            else:
                array = draw(float32_arrays(full), label=f"x[{index}]")
                if spec.mask and (index == 0 or spec.family in (
                        "siamese_merge", "encoder_decoder", "attention_decoder")):
                    array = _pad_floats(draw, spec, array, index)
            arrays.append(array)
        return arrays if len(arrays) > 1 else arrays[0]

    return draw_inputs()


def _padded_steps(draw: st.DrawFn, spec: ModelSpec, batch: int, steps: int, index: int
                  ) -> np.ndarray:
    """Which steps are padding, ``(batch, steps)``, as ``spec.padding`` says."""
    kind = spec.padding
    if kind in ("none", "near_miss"):
        return np.zeros((batch, steps), bool)
    if kind == "inside":
        return _seeded_booleans(draw, (batch, steps), f"x[{index}] padded steps")
    lengths = np.asarray(draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch),
                              label=f"x[{index}] padded lengths"))[:, None]
    position = np.arange(steps)[None, :]
    return position >= steps - lengths if kind == "right" else position < lengths


def _seeded_booleans(draw: st.DrawFn, shape: tuple[int, ...], label: str) -> np.ndarray:
    """Booleans of ``shape`` (any size) from a drawn seed and a drawn density."""
    seed = draw(st.integers(0, 2**32 - 1), label=f"{label} seed")
    density = draw(st.sampled_from((0.5, 0.2, 0.8)), label=f"{label} density")
    return np.random.default_rng(seed).random(shape) < density


def _keep_one(padded: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """GlobalAveragePooling1D of a row with every step masked is 0/0 = NaN in Keras: keep one
    step in such rows (the all-masked rows are drawn for the other models). A
    MultiHeadAttention query step with no key step to attend to differs between Keras lines:
    there the first step is always kept (a causal query attends it too)."""
    if str(spec.attention).startswith("multi_head"):  # every query step attends step 0
        padded = padded.copy()
        padded[:, 0] = False
    elif spec.head == "global_average":
        padded = padded.copy()
        padded[padded.all(axis=1), 0] = False
    return padded


def _tokens(draw: st.DrawFn, spec: ModelSpec, shape: tuple[int, ...], index: int
            ) -> np.ndarray:
    batch, steps = shape
    low = 1 if spec.padding != "near_miss" else 0
    high = min(spec.vocab - 1, 2) if spec.padding == "near_miss" else spec.vocab - 1
    seed = draw(st.integers(0, 2**32 - 1), label=f"x[{index}] token seed")
    ids = np.random.default_rng(seed).integers(low, max(low, high) + 1, size=shape)
    padded = _keep_one(_padded_steps(draw, spec, batch, steps, index), spec)
    ids[padded] = 0
    if spec.head == "global_average" and spec.mask:
        empty = (ids == 0).all(axis=1)
        ids[empty, 0] = 1
    return ids.astype(np.int32)


def _pad_floats(draw: st.DrawFn, spec: ModelSpec, array: np.ndarray, index: int
                ) -> np.ndarray:
    batch, steps, features = array.shape
    array = array.copy()
    if spec.padding == "near_miss":  # some but not all features of some steps equal the value
        hits = _seeded_booleans(draw, array.shape, f"x[{index}] near misses")
        hits[..., -1] &= ~hits[..., :-1].all(axis=-1)  # never every feature of a step
        if features == 1:
            hits[:] = False
        array[hits] = spec.mask_value
    else:
        padded = _keep_one(_padded_steps(draw, spec, batch, steps, index), spec)
        array[padded] = spec.mask_value
    if spec.head == "global_average":  # drawn values may equal the mask value everywhere too
        empty = (array == spec.mask_value).all(axis=(1, 2))
        array[empty, 0, 0] = np.float32(spec.mask_value + 0.5)
    if str(spec.attention).startswith("multi_head"):  # nor may the first step (kept above)
        first = (array[:, 0] == spec.mask_value).all(axis=-1)
        array[first, 0, 0] = np.float32(spec.mask_value + 0.5)
    return array
