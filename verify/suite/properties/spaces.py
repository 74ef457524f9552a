"""The declared option space of each property (a :class:`verify.suite.plans.Plan`) and the
cases of one plan row: its options fixed, everything else drawn by the strategies of
:mod:`~verify.suite.properties.cases`. ``*_plan`` gives a property's space, ``*_row`` the cases
of a row; the option names are those :func:`verify.suite.coverage.categories` reads back from
a drawn case."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import strategies as st

import strategies
from strategies import families, models
from strategies.families import FAMILIES
from verify import cells
from verify.config import MERGE_MODES, RNN_CONFIGS
from verify.suite.plans import Plan, Row, plan
from verify.suite.properties.cases import (
    Case,
    cell_forward_configs,
    family_cases,
    gate_cases,
    layer_cases,
    stateful_cases,
    with_arrays,
)

_FLAGS = (True, False)
#: Row keys that are not options of a layer configuration.
_CASE_OPTIONS = frozenset({"cell", "mask", "initial_state", "merge_mode", "masked_batches"})


def layer_group(cell: str, *, forward: bool = False) -> dict[str, tuple[Any, ...]]:
    """The options drawn for one recurrent layer of kind ``cell`` (names as
    :func:`verify.suite.coverage.layer_options` reads them back); ``forward`` adds what only
    matters when the layer runs (``zero_output_for_mask``, masks and initial states)."""
    fields = {item.name for item in dataclasses.fields(RNN_CONFIGS[cell])}
    group: dict[str, tuple[Any, ...]] = {"cell": (cell,),
                                         "activation": strategies.DEFAULT_ACTIVATIONS}
    if "recurrent_activation" in fields:
        group["recurrent_activation"] = strategies.DEFAULT_RECURRENT_ACTIVATIONS
    for flag in ("use_bias", "return_sequences", "return_state", "go_backwards", "unroll"):
        group[flag] = _FLAGS
    for values in cells.get(cell).option_strata.values():
        for name, value in values.items():
            group[name] = (*group.get(name, ()), value)
    if forward:
        group["zero_output_for_mask"] = _FLAGS
        group["mask"] = ("none", *strategies.MASK_KINDS)
        group["initial_state"] = _FLAGS
    return group


def config_options(row: Row) -> dict[str, Any]:
    """:func:`strategies.rnn_configs` keyword arguments that fix a row's layer options."""
    options: dict[str, Any] = {}
    for name, value in row.items():
        if name == "activation":
            options["activations"] = (value,)
        elif name == "recurrent_activation":
            options["recurrent_activations"] = (value,)
        elif name not in _CASE_OPTIONS:
            options[name] = value
    return options


def _merge_mode(row: Row) -> str | None:
    return next(mode for mode in MERGE_MODES if str(mode) == row["merge_mode"])


def shapes_plan(cell: str) -> Plan:
    """Every option of the layer; activations (which change no shape) value by value."""
    return plan(layer_group(cell), one_wise=("activation",))


def shapes_row(row: Row) -> st.SearchStrategy[Case]:
    return layer_cases(str(row["cell"]), **config_options(row))


def gate_plan(cell: str) -> Plan:
    """Gate cases fix the activations, the bias and what is returned; the rest varies."""
    group = {name: values for name, values in layer_group(cell).items()
             if name in ("cell", "go_backwards", "unroll")
             or name in {flag for values in cells.get(cell).option_strata.values()
                         for flag in values}}
    return plan({**group, "initial_state": _FLAGS})


def gate_row(row: Row) -> st.SearchStrategy[Case]:
    return gate_cases(str(row["cell"]), state=bool(row["initial_state"]),
                      **config_options(row))


def forward_plan(cell: str) -> Plan:
    return plan(layer_group(cell, forward=True))


def forward_row(row: Row) -> st.SearchStrategy[Case]:
    configs = cell_forward_configs(str(row["cell"]), **config_options(row))
    return with_arrays(configs, mask=str(row["mask"]), state=bool(row["initial_state"]))


def _bidirectional_group(*, forward: bool) -> dict[str, tuple[Any, ...]]:
    group: dict[str, tuple[Any, ...]] = {
        "cell": strategies.CELL_KINDS, "merge_mode": tuple(str(mode) for mode in MERGE_MODES),
        "activation": strategies.DEFAULT_ACTIVATIONS}
    for flag in ("use_bias", "return_sequences", "return_state", "unroll"):
        group[flag] = _FLAGS
    if forward:  # (Keras forces a Bidirectional's zero_output_for_mask to return_sequences)
        group["mask"] = ("none", *strategies.MASK_KINDS)
        group["initial_state"] = _FLAGS
    return group


def bidirectional_plan() -> Plan:
    """Merge modes against the wrapped layer's kind and flags; activations value by value
    (each cell kind's own forward property pairs them with everything)."""
    return plan(_bidirectional_group(forward=False), one_wise=("activation",))


def bidirectional_forward_plan() -> Plan:
    return plan(_bidirectional_group(forward=True), one_wise=("activation",))


def _bidirectional_configs(row: Row, **options: Any) -> st.SearchStrategy[Any]:
    return strategies.bidirectional_configs(merge_modes=(_merge_mode(row),),
                                            cells=(str(row["cell"]),),
                                            **config_options(row), **options)


def bidirectional_row(row: Row) -> st.SearchStrategy[Case]:
    return with_arrays(_bidirectional_configs(row))


def bidirectional_forward_row(row: Row) -> st.SearchStrategy[Case]:
    return with_arrays(_bidirectional_configs(row), mask=str(row["mask"]),
                       state=bool(row["initial_state"]))


def _stacked_group() -> dict[str, tuple[Any, ...]]:
    return {"depth": (1, 2), "first_cell": strategies.CELL_KINDS, "bidirectional": _FLAGS,
            "dense_head": _FLAGS}


def sequential_plan() -> Plan:
    return plan(_stacked_group())


def sequential_row(row: Row) -> st.SearchStrategy[Case]:
    return model_row(row)


def stateful_plan() -> Plan:
    """What carrying states over batches meets: each cell kind, with and without masks, the
    flags; activations are the forward properties' business (each occurs here once)."""
    group: dict[str, tuple[Any, ...]] = {"cell": strategies.CELL_KINDS,
                                         "activation": strategies.DEFAULT_ACTIVATIONS}
    for flag in ("use_bias", "return_sequences", "return_state", "go_backwards",
                 "zero_output_for_mask", "masked_batches"):
        group[flag] = _FLAGS
    return plan(group, one_wise=("activation",))


def stateful_row(row: Row) -> st.SearchStrategy[Case]:
    return stateful_cases(cells=(str(row["cell"]),), masked=bool(row["masked_batches"]),
                          **config_options(row))


def model_plan() -> Plan:
    """``model_forward``'s space: the stacked layers, then each family with the options it
    has (every convolution step, padding, group count and pooling; each normalization kind on
    each axis; each merge in both operand orders; masks through Bidirectional and
    TimeDistributed), then every family once at real sizes."""
    common = {"first_cell": strategies.CELL_KINDS,
              "output_activation": models.OUTPUT_ACTIVATIONS, "dropout": _FLAGS}
    wrapped = {"bidirectional": ("no", *families.MERGE_MODES)}
    padded = {"padding": families.PADDING_KINDS}
    groups: list[dict[str, tuple[Any, ...]]] = [
        _stacked_group(),
        {"family": ("text_classifier",), **common, **wrapped, **padded, "depth": (1, 2, 3),
         "mask": _FLAGS, "head": ("last", "global_max", "global_average")},
        {"family": ("masked_sequence",), **common, **wrapped, **padded, "depth": (1, 2, 3),
         "mask_value": (0.0, -1.0), "head": ("last", "time_distributed", "global_average")},
        {"family": ("conv_front",), **common, **wrapped, "depth": (1, 2, 3),
         "head": ("last", "flatten", "global_max"), "conv_padding": families.PADDINGS,
         "conv_step": models.CONV_STEPS, "conv_groups": (1, 2),
         "conv_activation": models.CONV_ACTIVATIONS, "permute": _FLAGS,
         "pool": models.POOL_CHOICES},
        {"family": ("normalized_stack",), **common, **wrapped, **padded,
         "norm": models.norm_choices(), "mask_value": (0.0, -1.0),
         "head": ("last", "time_distributed")},
        # Float inputs are padded only where a Masking layer reads them.
        {"family": ("encoder_decoder",), **common, **padded, "mask": (True,),
         "mask_value": (0.0, -1.0), "cell_form": families.CELL_FORMS},
        {"family": ("encoder_decoder",), **common, "mask": (False,),
         "cell_form": families.CELL_FORMS},
        {"family": ("repeat_decoder",), **common, **wrapped, **padded, "mask": (True,),
         "mask_value": (0.0, -1.0)},
        {"family": ("repeat_decoder",), **common, **wrapped, "mask": (False,)},
        {"family": ("siamese_merge",), **common, **wrapped, **padded, "tokens": _FLAGS,
         "merge": models.merge_kinds(), "merge_order": models.MERGE_ORDERS},
        # The recurrent stack built from cells: RNN(<kind>Cell) layers or one
        # RNN(StackedRNNCells), under Embedding masks and Masking masks.
        {"family": ("text_classifier",), **common, **padded, "depth": (1, 2, 3),
         "cell_form": ("rnn_cell", "stacked_cells"), "mask": _FLAGS,
         "head": ("last", "global_max", "global_average")},
        {"family": ("masked_sequence",), **common, **padded, "depth": (1, 2, 3),
         "cell_form": ("rnn_cell", "stacked_cells"), "mask_value": (0.0, -1.0),
         "head": ("last", "time_distributed", "global_average")},
        {"family": ("attention_decoder",), **common, **wrapped, **padded, "mask": (True,),
         "attention": models.attention_kinds(), "causal": _FLAGS,
         "head": ("time_distributed", "global_max")},
        {"family": ("attention_decoder",), **common, **wrapped, "mask": (False,),
         "attention": models.attention_kinds(), "causal": _FLAGS},
        {"family": ("nested_sequence",), **common, **wrapped},
        {"family": ("conv_lstm",), **common, "conv_lstm": ("1d", "2d"), "depth": (1, 2),
         "conv_padding": families.PADDINGS[:2], "conv_step": models.CONV_STEPS,
         "go_backwards": _FLAGS},
        {"size": ("real",), "family": FAMILIES},
    ]
    # The Dense head's activation and the dropout layers (identities at inference) are
    # covered value by value; the pairs that matter are the layers around the recurrent ones.
    return plan(*groups, target=0.9, one_wise=("output_activation", "dropout", "first_cell"))


def model_row(row: Row) -> st.SearchStrategy[Case]:
    """One row of :func:`model_plan`: a stacked model, or a family model with the row's
    options fixed."""
    if "family" not in row:
        return with_arrays(strategies.sequential_configs(
            min_recurrent_layers=int(str(row["depth"])),
            max_recurrent_layers=int(str(row["depth"])),
            first_cells=(str(row["first_cell"]),), bidirectional=bool(row["bidirectional"]),
            min_dense_layers=1 if row["dense_head"] else 0,
            max_dense_layers=2 if row["dense_head"] else 0))
    sizes = (str(row["size"]),) if "size" in row else ("small",)
    return family_cases(families=(str(row["family"]),), sizes=sizes, fixed=row)


#: What the harness property runs twice through a cache.
HARNESS_SUBJECTS: tuple[str, ...] = ("layer", "stacked_model", "family_model")


def harness_plan() -> Plan:
    return plan({"subject": HARNESS_SUBJECTS, "cell": strategies.CELL_KINDS})


def harness_row(row: Row) -> st.SearchStrategy[Case]:
    """A case of one subject with two weight sets (or two weight seeds), recording what it
    drew in ``_drawn``."""
    subject, cell = str(row["subject"]), str(row["cell"])

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        if subject == "family_model":
            case = draw(family_cases(fixed={"first_cell": cell}), label="case")
            case["other_seed"] = draw(st.integers(0, 2**32 - 1).filter(
                lambda seed: seed != case["weights_seed"]), label="other_seed")
            first = case["config"].cells[0]
        else:
            configs = strategies.rnn_configs(cells=(cell,)) if subject == "layer" else \
                strategies.sequential_configs(first_cells=(cell,))
            case = draw(with_arrays(configs), label="case")
            case["other_weights"] = draw(strategies.weights(case["config"]), label="other")
            first = case["config"].recurrent.CELL if subject == "layer" else \
                case["config"].layers[0].recurrent.CELL
        case["_drawn"] = {"subject": subject, "cell": first}
        return case

    return draw_case()
