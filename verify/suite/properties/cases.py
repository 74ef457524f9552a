"""The Hypothesis strategies that draw one property case: a configuration with its arrays.

A case is a dict of keyword arguments for a check (``config``, ``weights``, ``x``, and
optionally ``initial_state`` and ``mask``). Strata (see :class:`verify.suite.properties.Property`)
are partial applications of these functions that fix one categorical choice.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

import strategies
from strategies.families import FAMILIES
from strategies.sizes import size_in
from verify import cells
from verify.config import MERGE_MODES
from verify.suite.plans import Row

Case = dict[str, Any]
Strata = dict[str, Callable[[], st.SearchStrategy[Case]]]


def with_arrays(configs: st.SearchStrategy[Any], *, states: bool = False,
                masks: Sequence[str] = (), allow_no_mask: bool = True,
                state: bool | None = None, mask: str | None = None) -> st.SearchStrategy[Case]:
    """Cases ``{config, weights, x[, initial_state][, mask]}`` for configurations from
    ``configs``; states may be drawn as ``None``; masks of the given ``strategies.masks``
    kinds, or ``None`` if ``allow_no_mask`` (no ``mask`` key when ``masks`` is empty).

    A plan row fixes the rest: ``state=True``/``False`` draws an initial state always/never
    (``states`` implied), ``mask="none"`` or a mask kind draws no mask or one of that kind.
    The kind of a drawn mask is recorded in ``case["_drawn"]`` when only one kind could be
    drawn (coverage counts it; checks never see ``_`` keys)."""
    if mask is not None:
        masks, allow_no_mask = ((), True) if mask == "none" else ((mask,), False)
    mask_key = mask is not None or bool(masks)

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        config = draw(configs, label="config")
        batch = draw(size_in(1, 3), label="batch")
        case = {
            "config": config,
            "weights": draw(strategies.weights(config), label="weights"),
            "x": draw(strategies.inputs(config, batch_size=batch), label="x"),
        }
        if states or state is not None:
            case["initial_state"] = None if state is False else draw(
                strategies.initial_states(config, batch_size=batch, allow_none=state is None),
                label="initial_state")
        if mask_key:
            case["mask"] = draw(strategies.masks(config, batch_size=batch, kinds=tuple(masks),
                                                 allow_none=allow_no_mask), label="mask") \
                if masks else None
            if case["mask"] is not None and len(masks) == 1:
                case["_drawn"] = {"mask": masks[0]}
        return case

    return draw_case()


def layer_cases(cell: str = "LSTM", **options: Any) -> st.SearchStrategy[Case]:
    """A single recurrent layer of kind ``cell`` from the default strategy, with its arrays."""
    return with_arrays(strategies.rnn_configs(cells=(cell,), **options))


def bidirectional_cases(merge_modes: Sequence[str | None] = MERGE_MODES
                        ) -> st.SearchStrategy[Case]:
    """Bidirectional layers of every cell kind."""
    return with_arrays(strategies.bidirectional_configs(merge_modes=merge_modes,
                                                        cells=strategies.CELL_KINDS))


def model_cases() -> st.SearchStrategy[Case]:
    """Stacked models mixing LSTM, GRU and SimpleRNN layers (plain or Bidirectional) with Dense
    heads."""
    return with_arrays(strategies.sequential_configs())


def family_cases(families: Sequence[str] = FAMILIES, sizes: Sequence[str] = ("small",),
                 fixed: Row | None = None) -> st.SearchStrategy[Case]:
    """A model of the real-model families (:mod:`strategies.families`), the seed of its weights
    and its inputs; ``fixed`` fixes categorical options (:func:`strategies.model_specs`)."""

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        spec = draw(strategies.model_specs(families=families, sizes=sizes, fixed=fixed),
                    label="config")
        batch = draw(size_in(1, 3), label="batch")
        return {"config": spec,
                "weights_seed": draw(st.integers(0, 2**32 - 1), label="weights_seed"),
                "x": draw(strategies.model_inputs(spec, batch_size=batch), label="x")}

    return draw_case()


def all_model_cases() -> st.SearchStrategy[Case]:
    """``model_forward``'s cases: stacked layers, every family at the small sizes, and now
    and then (one case in six) one at real sizes."""
    return st.one_of(model_cases(), family_cases(), family_cases(sizes=("small", "real")))


def model_strata() -> Strata:
    """``model_forward``'s strata: the stacked layers, one per family, and real sizes."""
    strata: Strata = {"stacked": model_cases}
    for family in FAMILIES:
        strata[family] = functools.partial(family_cases, families=(family,))
    strata["real_size"] = functools.partial(family_cases, sizes=("real",))
    return strata


def forward_cases(configs: st.SearchStrategy[Any], *,
                  mask_kinds: Sequence[str] = strategies.MASK_KINDS,
                  allow_no_mask: bool = True) -> st.SearchStrategy[Case]:
    """A layer from ``configs`` with weights, inputs, a mask (right/left-padded, random,
    all-masked rows, or none) and an initial state (or none)."""
    if not mask_kinds:  # the no-mask stratum
        return with_arrays(configs, states=True)
    return with_arrays(configs, states=True, masks=mask_kinds, allow_no_mask=allow_no_mask)


def cell_forward_configs(cell: str, **options: Any) -> st.SearchStrategy[Any]:
    """Layers of kind ``cell`` for the forward properties: with masks drawn,
    ``zero_output_for_mask`` matters, so it is drawn too."""
    options.setdefault("zero_output_for_mask", None)
    options.setdefault("unroll", None)
    return strategies.rnn_configs(cells=(cell,), **options)


def bidirectional_forward_cases(merge_modes: Sequence[str | None] = MERGE_MODES
                                ) -> st.SearchStrategy[Case]:
    return forward_cases(strategies.bidirectional_configs(merge_modes=merge_modes,
                                                          cells=strategies.CELL_KINDS,
                                                          unroll=None))


def mask_strata(cases: Callable[..., st.SearchStrategy[Case]]) -> Strata:
    """A forward property's strata by mask: no mask, then one per mask kind."""
    strata: Strata = {"no_mask": functools.partial(cases, mask_kinds=())}
    for kind in strategies.MASK_KINDS:
        strata[kind] = functools.partial(cases, mask_kinds=(kind,), allow_no_mask=False)
    return strata


def cell_forward_cases(cell: str, *, mask_kinds: Sequence[str] = strategies.MASK_KINDS,
                       allow_no_mask: bool = True, **options: Any) -> st.SearchStrategy[Case]:
    """:func:`forward_cases` for layers of kind ``cell`` (``options`` fix cell options, e.g.
    ``reset_after``)."""
    return forward_cases(cell_forward_configs(cell, **options), mask_kinds=mask_kinds,
                         allow_no_mask=allow_no_mask)


def merge_strata(cases: Callable[..., st.SearchStrategy[Case]]) -> Strata:
    """One stratum per Bidirectional merge mode."""
    return {str(mode).lower(): functools.partial(cases, merge_modes=(mode,))
            for mode in MERGE_MODES}


def stateful_cases(cells: Sequence[str] = strategies.CELL_KINDS, *, masked: bool | None = None,
                   **options: Any) -> st.SearchStrategy[Case]:
    """A recurrent layer and two to three consecutive batches (same rows), each with a mask or
    none (``masked=True``: the first batch has one; ``False``: none has). ``options`` fix
    layer options (:func:`strategies.rnn_configs`)."""
    options.setdefault("zero_output_for_mask", None)

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        config = draw(strategies.rnn_configs(cells=cells, **options), label="config")
        batch = draw(size_in(1, 3), label="batch")
        count = draw(st.integers(2, 3), label="batches")
        return {
            "config": config,
            "weights": draw(strategies.weights(config), label="weights"),
            "batches": [draw(strategies.inputs(config, batch_size=batch), label=f"x[{n}]")
                        for n in range(count)],
            "masks": [None if masked is False else draw(strategies.masks(
                config, batch_size=batch, allow_none=not (masked and n == 0)),
                label=f"mask[{n}]") for n in range(count)],
        }

    return draw_case()


def cell_strata(cases: Callable[..., st.SearchStrategy[Case]]) -> Strata:
    """One stratum per cell kind."""
    return {cells.get(kind).key: functools.partial(cases, cells=(kind,))
            for kind in strategies.CELL_KINDS}


def gate_cases(cell: str = "LSTM", *, state: bool | None = None,
               **options: Any) -> st.SearchStrategy[Case]:
    """Layers of kind ``cell`` whose gates saturate (sigmoid gates, tanh candidate), returning
    every ``h`` and the final states, so that one perturbed gate block has an exact, observable
    effect. ``state`` fixes whether an initial state is drawn (``None``: either)."""
    configs = strategies.rnn_configs(
        cells=(cell,), use_bias=True, activations=("tanh",), recurrent_activations=("sigmoid",),
        return_sequences=True, return_state=True, **options,
    )
    return with_arrays(configs, states=True, state=state)



def kernel_cases(cells: Sequence[str] = strategies.CELL_KINDS, *,
                 use_cudnn: bool = True) -> st.SearchStrategy[Case]:
    """One LSTM/GRU/SimpleRNN layer as :func:`cell_forward_cases` draws it (every activation,
    ``use_bias``, ``unroll``, GRU's ``reset_after``, masks of every kind, initial states) and,
    with ``use_cudnn``, Keras 3's ``use_cudnn`` option (``"auto"``, ``True``, ``False``). An
    unrolled layer gets no mask: unrolled masked calls are the forward properties' (their
    named divergences), and no kernel but the generic loop unrolls."""

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        cell = draw(st.sampled_from(tuple(cells)), label="cell")
        case = draw(cell_forward_cases(cell), label="case")
        if case["config"].unroll and case.get("mask") is not None:
            case["mask"] = None
            case.pop("_drawn", None)
        if use_cudnn and cell != "SimpleRNN":
            case["use_cudnn"] = draw(st.sampled_from(("auto", True, False)), label="use_cudnn")
        return case

    return draw_case()
