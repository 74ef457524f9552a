"""Named, realistic faults the suite must catch, each injected at run time by a small patch.

A *code fault* is a literal edit of one function's source (``old`` -> ``new``, where ``old``
must occur exactly once, so a refactoring that moves the code breaks the catalogue loudly
instead of silently injecting nothing). A *Keras fault* wraps Keras's own ``LSTM.call`` to
simulate a regression in the framework; the suite must then report Keras as wrong.

``targets`` are the properties tried, in order, until one fails: the properties that cover
the faulty code's area (a formula fault is a shape property's business, a merge fault a
Bidirectional one's). They say where to look, not what to find: no property knows of faults.
"""

from __future__ import annotations
import __future__

import functools
import importlib
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

Patch = Callable[[pytest.MonkeyPatch], None]

LSTM_TARGETS = ("lstm_forward", "model_forward", "stateful_forward")
GRU_TARGETS = ("gru_forward", "model_forward", "stateful_forward")
SIMPLE_RNN_TARGETS = ("simple_rnn_forward", "model_forward", "stateful_forward")
MASK_TARGETS = ("lstm_forward", "stateful_forward")
BIDI_TARGETS = ("bidirectional_forward", "model_forward")
MODEL_TARGETS = ("model_forward",)


def _merged_masks(*rules: str) -> None:
    """Skip, saying why, unless the running Keras merges masks by one of ``rules``
    (verify.semantics.Semantics.mask_merge): elsewhere the fault computes what that Keras
    computes (Keras 2 and Keras 3.0-3.3 never mask the values of a Maximum; Keras 3.0-3.3
    drops merged masks whatever the rule), so no check could tell them apart."""
    from verify import keras_adapter

    rule = keras_adapter.running_semantics().mask_merge
    if rule not in rules:
        pytest.skip(f"this Keras merges masks by the rule {rule!r}, under which the fault "
                    "changes nothing observable (merge-mask-and-dropped-or)")


def _excluded_padding() -> None:
    """Skip, saying why, where AveragePooling1D 'same' repeats the last step instead of
    padding on the right (torch, verify.semantics.Semantics.pool_padding): there only a
    window of 3 at the left edge counts padding, which the report's one draw per plan row
    reaches by chance (pool sizes 2-3 are drawn, not declared), so the catch is not
    reproducible there."""
    from verify import keras_adapter

    if keras_adapter.running_semantics().pool_padding != "excluded":
        pytest.skip("this Keras pads AveragePooling1D 'same' by repeating the last step; the "
                    "fault shows only in windows of 3 the covering plan does not declare")


def _layer_norm_axes() -> None:
    """Skip, saying why, where LayerNormalization(axis=1) raises (layer-norm-axis-1-raises-
    torch): the last axis is then the only one a model can normalize, where the fault changes
    nothing."""
    from verify import environment

    if environment.layer_norm_axis_1_raises():
        pytest.skip("LayerNormalization(axis=1) raises on this Keras "
                    "(layer-norm-axis-1-raises-torch): only the last axis runs, which the "
                    "fault leaves as it is")


def _concatenate_drawn() -> None:
    """Skip, saying why, where the siamese_merge family leaves Concatenate out
    (strategies.models.merge_kinds: Keras 3.4-3.11 cannot run a Concatenate of masked inputs,
    concatenate-masked-inputs-fail-keras-3.4-3.11)."""
    from strategies.models import merge_kinds

    if "Concatenate" not in merge_kinds():
        pytest.skip("no Concatenate is drawn on this Keras "
                    "(concatenate-masked-inputs-fail-keras-3.4-3.11)")


def _attention_after_multi_head_drawn() -> None:
    """Skip, saying why, where no model reads a MultiHeadAttention's inputs again after it
    (``multi_head_then_dot`` is not drawn on Keras 3.0-3.3:
    attention-mixed-masks-raise-keras-3.0-3.3): whether the masks were kept is invisible."""
    from strategies.models import attention_kinds

    if "multi_head_then_dot" not in attention_kinds():
        pytest.skip("no layer reads a MultiHeadAttention's inputs after it on this Keras "
                    "(multi_head_then_dot is left out: attention-mixed-masks-raise-keras-3.0-"
                    "3.3)")


def _masked_queries_run() -> None:
    """Skip, saying why, where an Attention with a masked query raises
    (attention-masked-query-raises-keras-3.4-3.6): no model with a masked query runs there,
    so zeroing its masked steps or not is invisible."""
    from verify import environment

    if environment.attention_masked_query_raises():
        pytest.skip("an Attention with a masked query raises on this Keras "
                    "(attention-masked-query-raises-keras-3.4-3.6): nothing to zero")


def _families(*names: str) -> tuple[str, ...]:
    """The model_forward strata of the real-model families whose models use the faulty layer
    (strategies.families), where the hunt looks first."""
    return tuple(f"model_forward[{name}]" for name in names)


TOKEN_TARGETS = _families("text_classifier", "siamese_merge")
MASKING_TARGETS = _families("masked_sequence", "normalized_stack")
POOLED_TARGETS = _families("text_classifier", "masked_sequence")
NORM_TARGETS = _families("normalized_stack")
CONV_TARGETS = _families("conv_front")
MERGE_TARGETS = _families("siamese_merge")
STATE_TARGETS = _families("encoder_decoder")
ATTENTION_TARGETS = _families("attention_decoder")
CELL_FORM_TARGETS = _families("masked_sequence", "text_classifier")
NESTED_TARGETS = _families("nested_sequence")
ATTENTION = "verify.layers.attention"
def LAYERS(function: str) -> str:
    """``module:function`` of a function of the layer handlers (:mod:`verify.layers`)."""
    import verify.layers.core
    import verify.layers.sequence

    for module in (verify.layers.core, verify.layers.sequence):
        if hasattr(module, function):
            return f"{module.__name__}:{function}"
    raise LookupError(f"no layer function {function!r} in verify.layers")
SHAPE_TARGETS = ("lstm_shapes", "bidirectional_shapes", "sequential_shapes")


@dataclass(frozen=True)
class Fault:
    name: str
    where: str  # "reference", "model", "formula", "convert" or "keras"
    description: str
    targets: tuple[str, ...]
    apply: Patch
    #: Raises ``pytest.skip.Exception`` (with the reason) where the targets cannot run here,
    #: e.g. a conversion proof without torch: the fault is then skipped, never counted as
    #: caught because the environment made the check error out.
    requires: Callable[[], Any] | None = None
    #: For a fault no property can see (a tolerance, a coverage count): the test-suite check
    #: that must fail under it (raise), run instead of the target properties.
    test: Callable[[], Any] | None = None

    @property
    def patches_keras(self) -> bool:
        """Keras faults change how layers trace: cached layers must be rebuilt around them."""
        return self.where == "keras"


def edit(target: str, old: str, new: str, *more: tuple[str, str]) -> Patch:
    """Replace ``old`` by ``new`` (and each further ``(old, new)`` pair) in the source of
    ``target`` (``module:function`` or ``module:Class.method``) and install the edited
    function in its place."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        module_name, qualified = target.split(":")
        owner: Any = importlib.import_module(module_name)
        *classes, name = qualified.split(".")
        for class_name in classes:
            owner = getattr(owner, class_name)
        function = inspect.unwrap(getattr(owner, name))
        source = textwrap.dedent(inspect.getsource(function))
        for before, after in ((old, new), *more):
            if source.count(before) != 1:
                raise LookupError(f"fault patch for {target}: expected {before!r} exactly once "
                                  f"in its source, found it {source.count(before)} times (the "
                                  "code changed: update tests/power/catalogue.py)")
            source = source.replace(before, after)
        namespace: dict[str, Any] = {}
        code = compile(source, f"<fault in {target}>", "exec",
                       flags=__future__.annotations.compiler_flag, dont_inherit=True)
        exec(code, function.__globals__, namespace)
        original = getattr(owner, name)
        monkeypatch.setattr(owner, name, namespace[name])
        # A layer handler runs through the one registry of layer kinds: patch it there too.
        from verify import layers

        for kind, handler in list(layers.HANDLERS.items()):
            if handler is original:
                monkeypatch.setitem(layers.HANDLERS, kind, namespace[name])

    return apply


def set_item(module_name: str, mapping: str, key: str, value: Callable[..., Any]) -> Patch:
    """Replace ``module.mapping[key]`` (a table of functions) by ``value``."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        table = getattr(importlib.import_module(module_name), mapping)
        monkeypatch.setitem(table, key, value)

    return apply


def set_attribute(module_name: str, name: str, value: Any) -> Patch:
    """Replace a module-level constant (a gate table read by several functions)."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(importlib.import_module(module_name), name, value)

    return apply


def _sharpness_holds() -> None:
    from .test_sharpness import test_a_relative_defect_of_1e4_in_one_gate_block_is_caught

    test_a_relative_defect_of_1e4_in_one_gate_block_is_caught("LSTM", _keras())


def _coverage_is_counted_by_hand() -> None:
    from tests.test_coverage import test_coverage_equals_a_hand_count

    test_coverage_equals_a_hand_count()


def _artifact_tests(name: str) -> None:
    """Run every parametrization of one test of tests/test_artifacts.py in-process."""
    from tests import test_artifacts

    test = getattr(test_artifacts, name)
    marks = [mark for mark in getattr(test, "pytestmark", []) if mark.name == "parametrize"]
    (_, values), = [mark.args for mark in marks]
    for value in values:
        test(value)


def _reader_test() -> None:
    import tempfile
    from pathlib import Path

    from tests.test_files import test_nested_and_shared_layers_read_in_get_weights_order

    with tempfile.TemporaryDirectory() as folder:
        test_nested_and_shared_layers_read_in_get_weights_order(_keras(), Path(folder))


def _cudnn_test() -> None:
    from tests.test_files import test_cudnn_weights_convert_as_keras2_converts_them

    test_cudnn_weights_convert_as_keras2_converts_them()


def _needs_torch() -> Any:
    from tests.test_convert import _torch

    return _torch()


def _needs_onnx() -> Any:
    from tests.test_convert import onnx_or_skip

    return onnx_or_skip()


def _keras() -> Any:
    from verify import keras_adapter

    return keras_adapter


def _concat(parts: list[Any], axis: int) -> Any:
    adapter = _keras()
    if adapter.KERAS_MAJOR >= 3:
        return adapter.keras.ops.concatenate(parts, axis=axis)
    return adapter.tf.concat(parts, axis=axis)


def wrap_keras_lstm_call(change: Callable[[Any, tuple[Any, ...], dict[str, Any],
                                           Callable[..., Any]], Any],
                         layer_class: str = "LSTM") -> Patch:
    """Replace ``keras.layers.<layer_class>.call`` by ``change(layer, args, kwargs,
    original_call)``."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        lstm = getattr(_keras().keras.layers, layer_class)
        original = lstm.call

        # functools.wraps keeps call's signature visible (inspect follows __wrapped__): Keras 3
        # reads it to build a layer inside a functional model, and a bare (*args, **kwargs)
        # makes that build fail, which a check would count as a catch.
        @functools.wraps(original)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            return change(self, args, kwargs, lambda *a, **k: original(self, *a, **k))

        monkeypatch.setattr(lstm, "call", call)

    return apply


def with_cell_weight(name: str, transform: Callable[[Any, int], Any],
                     layer_class: str = "LSTM") -> Patch:
    """Keras computes with ``transform(cell.<name>, units)`` instead of the weight itself."""

    def change(layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
               original: Callable[..., Any]) -> Any:
        cell = layer.cell
        weight = getattr(cell, name)
        if weight is None:
            return original(*args, **kwargs)
        # object.__setattr__: Keras's own __setattr__ would track the tensor as a new weight.
        object.__setattr__(cell, name, transform(weight, cell.units))
        try:
            return original(*args, **kwargs)
        finally:
            object.__setattr__(cell, name, weight)

    return wrap_keras_lstm_call(change, layer_class)


def _swap_input_forget(weight: Any, units: int) -> Any:
    return _concat([weight[:, units:2 * units], weight[:, :units], weight[:, 2 * units:]], 1)


def _swap_update_reset(weight: Any, units: int) -> Any:
    return _concat([weight[:, units:2 * units], weight[:, :units], weight[:, 2 * units:]], 1)


def _zeros_like(weight: Any, units: int) -> Any:
    return weight * 0.0


def _forget_bias_plus_one(bias: Any, units: int) -> Any:
    return _concat([bias[:units], bias[units:2 * units] + 1.0, bias[2 * units:]], 0)


def _drop_keyword(keyword: str) -> Patch:
    def change(layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
               original: Callable[..., Any]) -> Any:
        kwargs.pop(keyword, None)
        return original(*args, **kwargs)

    return wrap_keras_lstm_call(change)


def _backwards_sequence_in_time_order(layer: Any, args: tuple[Any, ...],
                                      kwargs: dict[str, Any],
                                      original: Callable[..., Any]) -> Any:
    result = original(*args, **kwargs)
    if not (layer.go_backwards and layer.return_sequences):
        return result
    adapter = _keras()
    reverse = (adapter.keras.ops.flip if adapter.KERAS_MAJOR >= 3
               else lambda t, axis: adapter.tf.reverse(t, [axis]))
    if isinstance(result, list | tuple):
        return type(result)([reverse(result[0], axis=1), *result[1:]])
    return reverse(result, axis=1)


RUN = "verify.loop:run"
RNN = "verify.reference:rnn"
OPTIONS = "verify.loop:Options.__init__"
BIDI = "verify.reference:bidirectional"
MERGE = "verify.reference:merge"
LSTM_ORDER = "verify.cells.lstm:_Stepper.__init__"
LSTM_STEP = "verify.cells.lstm:_Stepper.step"
GATE_ORDER = '("i", "f", "o", "c")'
GRU_STEP = "verify.cells.gru:_Stepper.step"
GRU_INIT = "verify.cells.gru:_Stepper.__init__"
RNN_STEP = "verify.cells.simple_rnn:_Stepper.step"
RESET_AFTER = "(r * inner[:, 2 * units:] if self.reset_after"
RESET_BEFORE = "else (r * h) @ self.recurrent_h)"
CANDIDATE = "c_t += i * self.act(z[..., 3 * units:])"

CATALOGUE: tuple[Fault, ...] = (
    # --- the reference LSTM step ------------------------------------------------------------
    Fault("gate_order_i_f", "reference", "input and forget gate blocks swapped",
          LSTM_TARGETS, edit(LSTM_ORDER, GATE_ORDER, '("f", "i", "o", "c")')),
    Fault("gate_order_c_o", "reference", "cell candidate and output gate blocks swapped",
          LSTM_TARGETS, edit(LSTM_ORDER, GATE_ORDER, '("i", "f", "c", "o")')),
    Fault("gate_order_i_o", "reference", "input and output gate blocks swapped",
          LSTM_TARGETS, edit(LSTM_ORDER, GATE_ORDER, '("o", "f", "i", "c")')),
    Fault("forget_gate_on_candidate", "reference",
          "the forget gate (not the input gate) scales the new candidate",
          LSTM_TARGETS, edit(LSTM_STEP, CANDIDATE, "c_t += f * self.act(z[..., 3 * units:])")),
    Fault("missing_bias", "reference", "the bias is never added",
          LSTM_TARGETS, edit("verify.cells.lstm:_Stepper.project", "projected += self.bias",
                             "pass")),
    Fault("sigmoid_candidate", "reference",
          "the candidate uses the recurrent activation (sigmoid) instead of the activation",
          LSTM_TARGETS, edit(LSTM_STEP, CANDIDATE, "c_t += i * self.gate(z[..., 3 * units:])")),
    Fault("h_without_activation", "reference", "h = o * c, without the activation of c",
          LSTM_TARGETS, edit(LSTM_STEP, "h_t = o * self.act(c_t)", "h_t = o * c_t")),
    Fault("input_one_step_late", "reference",
          "off by one in the time loop: step t reads x_{t-1}",
          LSTM_TARGETS, edit(RUN, "stepper.step(projected[t], states)",
                             "stepper.step(projected[max(t - 1, 0)], states)")),
    Fault("recurrent_activation_ignored", "reference", "the gates always use sigmoid",
          LSTM_TARGETS, edit(OPTIONS, 'names["recurrent_activation"] = self.options[',
                             'names["recurrent_activation"] = "sigmoid" or self.options[')),
    Fault("activation_ignored", "reference", "the candidate and output always use tanh",
          LSTM_TARGETS, edit(OPTIONS, 'names = {"activation": activation}',
                             'names = {"activation": "tanh"}')),
    Fault("go_backwards_output_flipped_back", "reference",
          "go_backwards outputs returned in time order instead of processing order",
          LSTM_TARGETS, edit(RNN, "    output = outputs if",
                             "    outputs = outputs[:, ::-1] if go_backwards else outputs\n"
                             "    output = outputs if")),
    Fault("initial_state_order_c_h", "reference", "initial_state read in reverse ([c, h])",
          LSTM_TARGETS, edit("verify.reference:_states",
                             "enumerate(_validate.state_list(initial_state, count, batch, units))]",
                             "enumerate(_validate.state_list(initial_state, count, batch, "
                             "units))][::-1]")),
    Fault("final_h_from_output", "reference", "return_state's h is the last output",
          MASK_TARGETS, edit(RUN, "    return outputs, states",
                             "    return outputs, [output, *states[1:]]")),
    Fault("wrong_hard_sigmoid", "reference",
          "the other Keras version's hard_sigmoid (0.2x + 0.5 vs x/6 + 0.5)",
          LSTM_TARGETS, edit("verify.semantics:Semantics.hard_sigmoid_function",
                             'if self.hard_sigmoid == "keras2":',
                             'if self.hard_sigmoid != "keras2":')),
    # --- masks ----------------------------------------------------------------------------
    Fault("masked_steps_update_state", "reference", "masked steps still update h and c",
          MASK_TARGETS, edit(RUN, "states = [np.where(keep, value, old) for value, old in "
                             "zip(new, states, strict=True)]", "states = new")),
    Fault("masked_output_rule_swapped", "reference",
          "a masked step outputs by the other backends' rule (carried h <-> previous output)",
          MASK_TARGETS, edit(RUN, 'elif semantics.masked_output == "previous_output":',
                             'elif semantics.masked_output != "previous_output":',
                             ('h0 if semantics.masked_output == "carried_state"',
                              'h0 if semantics.masked_output != "carried_state"'))),
    Fault("zero_output_for_mask_ignored", "reference",
          "masked steps output the previous output even with zero_output_for_mask",
          (*MASK_TARGETS, "bidirectional_forward"),
          edit(RUN, "if zero_output_for_mask:", "if False:")),
    Fault("mask_not_reversed_with_go_backwards", "reference",
          "go_backwards reverses the inputs but not the mask",
          MASK_TARGETS, edit(RUN, "mask[..., order]", "mask")),
    # --- Bidirectional -------------------------------------------------------------------------
    Fault("concat_order_swapped", "reference", "concat merges [backward, forward]",
          BIDI_TARGETS, edit(MERGE, "[forward, backward], axis=-1",
                             "[backward, forward], axis=-1")),
    Fault("ave_as_sum", "reference", "merge_mode='ave' adds without halving",
          ("bidirectional_forward[ave]", *BIDI_TARGETS),
          edit(MERGE, "np.asarray((forward + backward) / 2)", "np.asarray(forward + backward)")),
    Fault("backward_output_not_reflipped", "reference",
          "the backward sequence is merged in processing order (not flipped back)",
          BIDI_TARGETS, edit(BIDI, "in_time_order = outputs[:, ::-1] if go_backwards else outputs",
                             "in_time_order = outputs")),
    Fault("bidirectional_state_order", "reference",
          "return_state gives the backward direction's states first",
          BIDI_TARGETS, edit(BIDI, "[*merged, *forward_states, *backward_states]",
                             "[*merged, *backward_states, *forward_states]")),
    Fault("backward_initial_state_swapped", "reference",
          "initial_state halves swapped between the directions",
          BIDI_TARGETS, edit(BIDI, "initial = [states[:count], states[count:]]",
                             "initial = [states[count:], states[:count]]")),
    # --- stateful and whole models ----------------------------------------------------------
    Fault("stateful_state_not_carried", "reference",
          "StatefulLSTM starts every batch from the initial state",
          ("stateful_forward",), edit("verify.reference:Stateful.__call__",
                                      "self.states = states", "pass")),
    Fault("dense_activation_skipped", "model", "verify.predict skips a Dense activation",
          MODEL_TARGETS, edit(LAYERS("dense_forward"), "return activation(output)",
                              "return output")),
    Fault("dense_bias_skipped", "model", "verify.predict skips a Dense bias",
          MODEL_TARGETS, edit(LAYERS("dense_forward"),
                              "output = output + kernel_and_bias[1]", "pass")),
    # --- the layers around the recurrent ones (verify.layers) ---------------------------------
    Fault("embedding_mask_on_wrong_id", "model", "Embedding(mask_zero=True) masks token id 1, "
          "not 0", TOKEN_TARGETS, edit(LAYERS("embedding"), "ids != 0 if", "ids != 1 if")),
    Fault("embedding_mask_zero_ignored", "model", "Embedding never makes a mask",
          TOKEN_TARGETS, edit(LAYERS("embedding"), 'layer["config"].get("mask_zero", False)',
                              "False")),
    Fault("masking_any_feature", "model", "Masking masks a step when any (not every) feature "
          "equals the mask value", MASKING_TARGETS,
          edit(LAYERS("masking"), "np.any(x != layer", "np.all(x != layer")),
    Fault("mask_dropped_by_dropout", "model", "the dropout layers (identity at inference) do "
          "not pass the mask on", POOLED_TARGETS,
          edit(LAYERS("identity"), "return [_one(arguments)]",
               "return [(_one(arguments)[0], None)]")),
    Fault("mask_dropped_by_layer_norm", "model", "LayerNormalization does not pass the mask on",
          NORM_TARGETS, edit(LAYERS("layer_normalization"), "return [(normalized * gamma + "
                              "beta, mask)]", "return [(normalized * gamma + beta, None)]")),
    Fault("mask_dropped_by_batch_norm", "model", "BatchNormalization does not pass the mask on",
          NORM_TARGETS, edit(LAYERS("batch_normalization"), "return [(normalized * gamma + "
                              "beta, mask)]", "return [(normalized * gamma + beta, None)]")),
    Fault("global_average_ignores_mask", "model", "GlobalAveragePooling1D averages every step, "
          "masked ones too", POOLED_TARGETS,
          edit(LAYERS("global_pooling1d"), "if mask is None:", "if True:")),
    Fault("global_max_reads_mask", "model", "GlobalMaxPooling1D takes the max over kept steps "
          "(Keras ignores the mask there)", POOLED_TARGETS,
          edit(LAYERS("global_pooling1d"), "return [(x.max(axis=1, keepdims=keepdims), None)]",
               "return [(np.where(np.asarray(mask, bool)[..., None], x, -np.inf).max(axis=1, "
               "keepdims=keepdims) if mask is not None else x.max(axis=1, keepdims=keepdims), "
               "None)]")),
    Fault("layer_norm_epsilon_1e5", "model", "LayerNormalization uses epsilon 1e-5 whatever the "
          "config says (Keras's default is 1e-3)", NORM_TARGETS,
          edit(LAYERS("layer_normalization"), 'float(config.get("epsilon", 1e-3))', "1e-5")),
    Fault("batch_norm_variance_as_std", "model", "BatchNormalization divides by the moving "
          "variance, not its square root", NORM_TARGETS,
          edit(LAYERS("batch_normalization"), "np.sqrt(\n        _broadcast(variance, axes, "
               "x.ndim) + epsilon)", "(\n        _broadcast(variance, axes, x.ndim) + epsilon)")),
    Fault("conv_same_padding_left_heavy", "model", "Conv1D/pooling 'same' padding puts the odd "
          "element on the left (TensorFlow puts it on the right)", CONV_TARGETS,
          edit(LAYERS("_windows"), "left, right = total // 2, total - total // 2",
               "left, right = total - total // 2, total // 2")),
    Fault("conv_causal_pads_right", "model", "Conv1D 'causal' pads after the sequence",
          CONV_TARGETS, edit(LAYERS("_windows"), "left, right = span - 1, 0",
                              "left, right = 0, span - 1")),
    Fault("conv_dilation_ignored", "model", "Conv1D reads adjacent steps whatever "
          "dilation_rate says", CONV_TARGETS,
          edit(LAYERS("conv1d"), 'dilation, = _ints(config.get("dilation_rate", 1))',
               "dilation = 1")),
    Fault("average_pool_counts_padding", "model", "AveragePooling1D 'same' divides by the "
          "window size, padding included", CONV_TARGETS,
          edit(LAYERS("pooling1d"), "windows.sum(axis=2) / real.sum(axis=1)[None, :, None]",
               "windows.sum(axis=2) / size"), requires=_excluded_padding),
    Fault("pool_stride_one", "model", "pooling strides default to 1 (Keras: the pool size)",
          CONV_TARGETS, edit(LAYERS("pooling1d"), 'config.get("strides") or size', "1")),
    Fault("merge_mask_rule_swapped", "model", "merge layers combine masks by the other Keras "
          "line's rule (OR under Keras 2, AND under Keras >= 3.4)", MERGE_TARGETS,
          edit(LAYERS("merge_masks"), 'if semantics.mask_merge == "and":',
               'if semantics.mask_merge != "and":'),
          requires=lambda: _merged_masks("and", "or")),
    Fault("masked_maximum_plain", "model", "Maximum/Minimum ignore their inputs' masks "
          "(Keras >= 3.4 takes the extremum over the inputs that keep a step)", MERGE_TARGETS,
          edit(LAYERS("merge"), 'elif kind in ("Maximum", "Minimum"):',
               'elif kind in ("no such merge",):'),
          requires=lambda: _merged_masks("or")),
    Fault("encoder_states_not_passed", "model", "a decoder's initial_state from the encoder "
          "is ignored", STATE_TARGETS,
          edit("verify.model:_recurrent_inputs", "None if states is None else flat(states))",
               "None)")),
    Fault("initial_state_mask_rule_swapped", "model", "a recurrent layer called with "
          "initial_state takes its input's mask by the other Keras line's rule (kept under "
          "Keras 3, dropped under Keras 2)", STATE_TARGETS,
          edit("verify.model:_recurrent_inputs",
               'context.semantics.initial_state_mask == "dropped"',
               'context.semantics.initial_state_mask != "dropped"')),
    # --- options of the layers around the recurrent ones (the report's covering plan) -------
    Fault("conv_groups_ignored", "model", "Conv1D computes as one group whatever groups says "
          "(the first group's channels and filters only)", CONV_TARGETS,
          edit(LAYERS("conv1d"), 'groups = int(config.get("groups", 1) or 1)', "groups = 1")),
    Fault("conv_strides_ignored", "model", "Conv1D steps one by one whatever strides says",
          CONV_TARGETS, edit(LAYERS("conv1d"), 'stride, = _ints(config.get("strides", 1))',
                             "stride = 1")),
    Fault("pool_padding_always_same", "model", "pooling pads as 'same' whatever padding says",
          CONV_TARGETS, edit(LAYERS("pooling1d"), 'config.get("padding", "valid"))',
                             '"same")')),
    Fault("layer_norm_last_axis", "model", "LayerNormalization normalizes the last axis "
          "whatever axis says", NORM_TARGETS,
          edit(LAYERS("layer_normalization"), "axes = _axes(layer, x.ndim)",
               "axes = [x.ndim - 1]"), requires=_layer_norm_axes),
    Fault("batch_norm_last_axis", "model", "BatchNormalization broadcasts its statistics over "
          "the last axis whatever axis says", NORM_TARGETS,
          edit(LAYERS("batch_normalization"), "axes = _axes(layer, x.ndim)",
               "axes = [x.ndim - 1]")),
    Fault("subtract_operands_swapped", "model", "Subtract computes second - first",
          MERGE_TARGETS, set_item("verify.layers.sequence", "_MERGES", "Subtract",
                                  lambda values: values[1] - values[0])),
    Fault("minimum_as_maximum", "model", "Minimum takes the maximum (unmasked inputs)",
          MERGE_TARGETS, set_item("verify.layers.sequence", "_MERGES", "Minimum",
                                  lambda values: np.max(values, axis=0))),
    Fault("concatenate_inputs_reversed", "model", "Concatenate joins its inputs last first",
          MERGE_TARGETS, edit(LAYERS("merge"), "output = np.concatenate(values, axis=",
                              "output = np.concatenate(values[::-1], axis="),
          requires=_concatenate_drawn),
    # --- the harness ---------------------------------------------------------------------------
    Fault("harness_cached_model_keeps_old_weights", "harness", "a cached family model gets "
          "its weights only when first built: later examples run with an earlier example's "
          "weights on both sides of the comparison", ("harness",),
          edit("verify.suite.properties.forward:check_model_forward",
               "family_model.set_weights(drawn)",
               "if not getattr(family_model, '_weights_set', False):\n"
               "            family_model.set_weights(drawn)\n"
               "            family_model._weights_set = True")),
    Fault("harness_cached_layer_keeps_old_weights", "harness", "a cached layer is given "
          "weights on its first run only", ("harness",),
          edit("verify.keras_adapter:BuiltLayer.run",
               "return self._run(self._checked_weights(weights), x, mask, initial_state)",
               "if getattr(self, '_ran', False):\n"
               "        return self._run([], x, mask, initial_state)\n"
               "    self._ran = True\n"
               "    return self._run(self._checked_weights(weights), x, mask, "
               "initial_state)")),
    # --- artifacts: exported arrays checked by value in torch.nn / ONNX's evaluator ----------
    Fault("gru_torch_gate_table_both_ways", "convert", "the torch gate table says z, r, h in "
          "both directions of the conversion (a round trip still agrees)", ("torch_export",),
          set_attribute("verify.cells.gru", "TORCH_GATES", ("z", "r", "h")), _needs_torch),
    Fault("lstm_onnx_gate_table_both_ways", "convert", "the ONNX gate table says i, f, o, c "
          "in both directions of the conversion", ("onnx_export",),
          set_attribute("verify.cells.lstm", "ONNX_GATES", ("i", "f", "o", "c")), _needs_onnx),
    Fault("torch_square_recurrent_block_untransposed", "convert", "weight_hh exported without "
          "the transpose (a SimpleRNN's is square: the shape still fits)", ("torch_export",),
          edit("verify.cells.base:Cell.to_torch",
               "np.ascontiguousarray(weights.recurrent_kernel.T)",
               "np.ascontiguousarray(weights.recurrent_kernel.T if "
               "weights.recurrent_kernel.shape[0] != weights.recurrent_kernel.shape[1] "
               "else weights.recurrent_kernel)"), _needs_torch),
    Fault("gru_torch_bias_rows_swapped", "convert", "GRU bias rows exported as bias_ih = "
          "recurrent row, bias_hh = input row", ("torch_export",),
          edit("verify.cells.gru:GRUCell.to_torch",
               'f"bias_ih_l0{suffix}": reorder(bias[0]',
               'f"bias_ih_l0{suffix}": reorder(bias[1]',
               ('f"bias_hh_l0{suffix}": reorder(bias[1]',
                'f"bias_hh_l0{suffix}": reorder(bias[0]')),
          _needs_torch),
    Fault("bidirectional_export_backward_from_forward", "convert", "both directions of a "
          "Bidirectional torch export are built from the forward weights", ("torch_export",),
          edit("verify.explain:export_arrays", "to_torch(*weights, reverse=index == 1,",
               "to_torch(*directions[0][1], reverse=index == 1,"), _needs_torch),
    # --- artifacts: what the commands print and what the readers and migrate give -----------
    Fault("explain_text_ranges_shuffled", "convert", "explain's text prints each gate with the "
          "next gate's range (the JSON stays right)", (),
          edit("verify.explain:format_text", 'for block in row["gates"]:',
               'for block, shown in zip(row["gates"], row["gates"][1:] + row["gates"][:1]):',
               ("{block['slice']:<30}", "{shown['slice']:<30}")),
          test=lambda: _artifact_tests("test_explain_prints_each_block_whole_on_one_line")),
    Fault("explain_parameter_check_always_passes", "convert", "explain prints ✓ whatever "
          "count the arrays hold", (),
          edit("verify.explain:format_text",
               'check = "✓" if layer.param_count == layer.expected_params else "✗ MISMATCH"',
               'check = "✓"'),
          test=lambda: _artifact_tests("test_explain_parameter_check_flags_a_disagreeing_count")),
    Fault("onnx_notes_drop_linear_before_reset", "convert", "export's ONNX notes leave out the "
          "GRU's linear_before_reset attribute", (),
          edit("verify.explain:export_notes",
               'f"{name}={value!r}" for name, value in attributes.items())',
               'f"{name}={value!r}" for name, value in attributes.items() '
               'if name != "linear_before_reset")'),
          _needs_onnx,
          test=lambda: _artifact_tests(
              "test_export_notes_build_the_onnx_operator_that_computes_the_layer")),
    Fault("reader_bidirectional_directions_swapped", "convert", "the .keras reader takes a "
          "Bidirectional's backward layer's arrays first", (),
          set_item("verify.files.keras_zip", "_WRAPPERS", "Bidirectional",
                   ("backward_layer", "forward_layer")),
          test=lambda: _reader_test()),
    Fault("migrate_cudnn_gru_bias_rows_swapped", "convert", "migrate reads a CuDNNGRU's bias "
          "as [recurrent, input] rows", (),
          edit("verify.migrate.rewrite:_Rewriter.cudnn_layer",
               "else bias.reshape(2, gates * units)]",
               "else bias.reshape(2, gates * units)[::-1]]"),
          test=lambda: _cudnn_test()),
    # --- the suite's own measures -----------------------------------------------------------
    Fault("tolerance_1000x_looser", "suite", "the data-scaled tolerance is 1000 times looser",
          (), edit("verify.compare:forward_tolerance",
                   "return factor * sensitivity + floor * eps(precision) * scale",
                   "return 1000 * (factor * sensitivity + floor * eps(precision) * scale)"),
          test=_sharpness_holds),
    Fault("coverage_counts_rejected_cases", "suite", "coverage counts a case before it is "
          "checked (an ill-conditioned, rejected case counts as covered)", (),
          edit("verify.suite.properties:Property._test",
               "        tally[\"examples\"] += 1\n",
               "        tally[\"examples\"] += 1\n"
               "        if coverage is not None:\n"
               "            coverage.add(case)\n"),
          test=_coverage_is_counted_by_hand),
    Fault("coverage_pairs_across_groups", "suite", "pairwise coverage declares the pairs of "
          "options of different groups too", (),
          edit("verify.suite.plans:Plan.pairs", "found |= _pairs(group, self.one_wise)",
               "found |= _pairs(tuple(item for every in self.groups for item in every), "
               "self.one_wise)"),
          test=_coverage_is_counted_by_hand),
    # --- the documented formulas ------------------------------------------------------------
    Fault("param_count_without_bias", "formula", "parameters counted as 4u(d + u) (3u(d + u), "
          "u(d + u)) even with a bias", SHAPE_TARGETS,
          edit("verify.cells.base:Cell.param_count", "input_dim, units, use_bias=use_bias,",
               "input_dim, units, use_bias=False,")),
    Fault("bidirectional_params_not_doubled", "formula",
          "Bidirectional parameter count not doubled",
          SHAPE_TARGETS[1:], edit("verify.shapes:param_count", "return 2 * param_count(",
                                  "return param_count(")),
    Fault("bidirectional_weights_not_doubled", "formula",
          "Bidirectional get_weights() shapes list one direction only",
          SHAPE_TARGETS[1:], edit("verify.shapes:weight_shapes", "return 2 * weight_shapes(",
                                  "return weight_shapes(")),
    Fault("merge_none_single_output", "formula",
          "merge_mode=None output shapes: one output instead of one per direction",
          ("bidirectional_shapes[none]", *SHAPE_TARGETS[1:]), edit("verify.shapes:output_shapes",
                                  "outputs = [direction, direction]", "outputs = [direction]")),
    # --- attention, cells of RNN, TimeDistributed(LSTM) (verify.layers.attention, model) -----
    Fault("attention_scale_ignored", "model", "Attention(use_scale=True): the learned scale is "
          "never applied to the dot scores", ATTENTION_TARGETS,
          edit(f"{ATTENTION}:scores", "return found if scale is None else "
               "np.asarray(found * scale)", "return found")),
    Fault("attention_scale_inside_tanh_additive", "model", "AdditiveAttention applies its scale "
          "inside the tanh (w tanh(q + k) read as tanh(w (q + k)))", ATTENTION_TARGETS,
          edit(f"{ATTENTION}:scores", "summed = np.tanh(query[:, :, None, :] + key[:, None, :, :])"
               "\n        return np.asarray(np.sum(weight * summed, axis=-1))",
               "summed = np.tanh(weight * (query[:, :, None, :] + key[:, None, :, :]))"
               "\n        return np.asarray(np.sum(summed, axis=-1))")),
    Fault("attention_masked_scores_zeroed", "model", "masked value steps get the score 0 "
          "instead of score - 1e9 (they still take part in the softmax)", ATTENTION_TARGETS,
          edit(f"{ATTENTION}:attention", "found = np.where(keep, found, found - "
               "np.asarray(MASKED_SCORE, found.dtype))", "found = np.where(keep, found, 0.0)")),
    Fault("attention_query_mask_not_applied", "model", "the output at masked query steps is "
          "not zeroed", ATTENTION_TARGETS,
          edit(f"{ATTENTION}:attention", "output = np.where(out_mask[:, :, None], output, 0)",
               "pass"), requires=_masked_queries_run),
    Fault("attention_causal_mask_transposed", "model", "use_causal_mask keeps the scores above "
          "the diagonal (the future) instead of below it", ATTENTION_TARGETS,
          edit(f"{ATTENTION}:attention", "np.tril(", "np.triu(")),
    Fault("mha_scaled_by_key_dim", "model", "MultiHeadAttention divides the query by key_dim, "
          "not its square root", ATTENTION_TARGETS,
          edit(f"{ATTENTION}:multi_head_attention", "q = q / np.sqrt(float(q.shape[-1]))",
               "q = q / float(q.shape[-1])")),
    Fault("mha_value_mask_on_query_axis", "model", "MultiHeadAttention applies the value's "
          "mask along the query axis", ATTENTION_TARGETS,
          edit(f"{ATTENTION}:multi_head_attention", "for mask, axis in ((query_mask, -1), "
               "(value_mask, -2), (key_mask, -2)):", "for mask, axis in ((query_mask, -1), "
               "(value_mask if value_mask is None or value_mask.shape[-1] != keep.shape[1] "
               "else None, -2), (value_mask if value_mask is not None and "
               "value_mask.shape[-1] == keep.shape[1] else None, -1), (key_mask, -2)):")),
    Fault("mha_input_masks_rule_swapped", "model", "a MultiHeadAttention's inputs keep or lose "
          "their masks by the other Keras line's rule (mha-clears-input-masks-keras-3.8)",
          ATTENTION_TARGETS, edit("verify.model:_Functional.run",
                                  'self.context.semantics.mha_input_masks == "cleared"',
                                  'self.context.semantics.mha_input_masks != "cleared"'),
          requires=_attention_after_multi_head_drawn),
    Fault("stacked_cells_mask_first_cell_only", "model", "RNN(StackedRNNCells): only the first "
          "cell skips masked steps; the next ones run over them", CELL_FORM_TARGETS,
          edit("verify.model:_rnn", "sequence, mask=mask_array,",
               "sequence, mask=mask_array if sequence is x else None,")),
    Fault("stacked_cells_states_in_reverse", "model", "RNN(StackedRNNCells): the initial states "
          "handed to the cells last cell first", STATE_TARGETS,
          edit("verify.model:_rnn", "mine = None if initial_state is None else "
               "initial_state[:held]", "mine = None if initial_state is None else "
               "initial_state[::-1][:held]")),
    Fault("time_distributed_folds_time_major", "model", "TimeDistributed folds the batch and "
          "time axes time-major (a transpose missing), so rows meet other rows' steps",
          NESTED_TARGETS, edit("verify.model:_time_distributed", "folded = x.reshape(",
                               "folded = np.swapaxes(x, 0, 1).reshape(")),
    Fault("padded_batch_output_not_updated", "reference", "a padded batch's rows (run as "
          "sorted prefixes) keep their first output: the previous-output rule reads a stale "
          "value", MASK_TARGETS + BIDI_TARGETS,
          edit("verify.loop:_run_prefixes", "                output[:count] = new[0]",
               "                pass")),
    Fault("conv_lstm_gate_order_i_f", "model", "ConvLSTM input and forget gate blocks "
          "swapped", _families("conv_lstm"),
          edit("verify.layers.conv_lstm:Stepper.step", "i = self.gate(z[..., :f_])\n"
               "    f = self.gate(z[..., f_:2 * f_])", "f = self.gate(z[..., :f_])\n"
               "    i = self.gate(z[..., f_:2 * f_])")),
    Fault("conv_lstm_recurrent_conv_dilated", "model", "ConvLSTM's recurrent convolution "
          "dilated like the input one (Keras dilates only the input convolution)",
          _families("conv_lstm"),
          edit("verify.layers.conv_lstm:Stepper.step", "h, self.recurrent, strides=self.unit, "
               "dilation=self.unit,", "h, self.recurrent, strides=self.unit, "
               "dilation=self.dilation,")),
    # --- GRU -----------------------------------------------------------------------------
    Fault("gru_update_reset_swapped", "reference", "GRU z and r blocks swapped",
          GRU_TARGETS, edit(GRU_STEP, "z, r = zr[:, :units], zr[:, units:]",
                            "r, z = zr[:, :units], zr[:, units:]")),
    Fault("gru_one_minus_z_on_wrong_term", "reference",
          "h_t = (1 - z) h_{t-1} + z hh (the update gate on the other term)",
          GRU_TARGETS, edit(GRU_STEP, "return [z * h + (1 - z) * hh]",
                            "return [(1 - z) * h + z * hh]")),
    Fault("gru_reset_before_instead_of_after", "reference",
          "reset_after=True computed as r * h before the matmul (bias kept outside)",
          GRU_TARGETS, edit(GRU_STEP, RESET_AFTER, "((r * h) @ self.recurrent_h + "
                            "inner[:, 2 * units:] - h @ self.recurrent_h if self.reset_after")),
    Fault("gru_reset_after_instead_of_before", "reference",
          "reset_after=False computed as r * (h @ U_h), after the matmul",
          GRU_TARGETS, edit(GRU_STEP, RESET_BEFORE, "else r * (h @ self.recurrent_h))")),
    Fault("gru_bias_rows_swapped", "reference",
          "the (2, 3u) bias read as [recurrent, input] instead of [input, recurrent]",
          GRU_TARGETS, edit(GRU_INIT, "weights.bias[0], weights.bias[1]",
                            "weights.bias[1], weights.bias[0]")),
    Fault("gru_recurrent_bias_dropped", "reference", "the recurrent bias row is never added",
          GRU_TARGETS, edit(GRU_STEP, "inner += self.recurrent_bias", "pass")),
    Fault("gru_recurrent_bias_outside_reset", "reference",
          "reset_after=True: b_rec_h added after the reset gate instead of inside it",
          GRU_TARGETS, edit(GRU_STEP, RESET_AFTER, "(r * (h @ self.recurrent_h) + "
                            "inner[:, 2 * units:] - h @ self.recurrent_h if self.reset_after")),
    Fault("gru_candidate_uses_gate_activation", "reference",
          "the candidate uses the recurrent activation instead of the activation",
          GRU_TARGETS, edit(GRU_STEP, "hh = self.act(", "hh = self.gate(")),
    Fault("gru_bias_shape_ignores_reset_after", "formula",
          "GRU bias always (2, 3u), also with reset_after=False",
          ("gru_shapes",), edit("verify.cells.gru:GRUCell.bias_shape",
                                "return (2, 3 * units) if reset_after else (3 * units,)",
                                "return (2, 3 * units)")),
    Fault("gru_torch_gate_order_z_r", "convert",
          "--layout torch keeps Keras's z, r, h order (nn.GRU expects r, z, n)",
          ("torch_export",), edit("verify.cells.gru:GRUCell.to_torch",
                                  "    bias = self.full_bias(weights, options)",
                                  "    bias = self.full_bias(weights, options)\n"
                                  "    TORCH_GATES = ('z', 'r', 'h')"), _needs_torch),
    Fault("gru_onnx_linear_before_reset_flipped", "convert",
          "ONNX GRU told linear_before_reset=0 for reset_after=True (and 1 for False)",
          ("onnx_export",), edit("verify.cells.gru:GRUCell.onnx_attributes",
                                 '{"linear_before_reset": int(bool(',
                                 '{"linear_before_reset": int(not bool('), _needs_onnx),
    # --- SimpleRNN ---------------------------------------------------------------------------
    Fault("simple_rnn_recurrent_transposed", "reference", "h_{t-1} @ recurrent_kernel.T",
          SIMPLE_RNN_TARGETS, edit(RNN_STEP, "states[0] @ self.recurrent",
                                   "states[0] @ self.recurrent.T")),
    Fault("simple_rnn_bias_missing", "reference", "the SimpleRNN bias is never added",
          SIMPLE_RNN_TARGETS, edit("verify.cells.simple_rnn:_Stepper.project",
                                   "projected += self.bias", "pass")),
    Fault("simple_rnn_activation_before_recurrence", "reference",
          "h_t = act(x W + b) + h U (the recurrent term outside the activation)",
          SIMPLE_RNN_TARGETS, edit(RNN_STEP, "return [self.act(projected + states[0] @ "
                                   "self.recurrent)]",
                                   "return [self.act(projected) + states[0] @ self.recurrent]")),
    # --- simulated Keras regressions (the suite must say Keras is wrong) ----------------------
    Fault("keras_kernel_gate_blocks_permuted", "keras",
          "Keras computes with the kernel's input and forget blocks swapped",
          LSTM_TARGETS, with_cell_weight("kernel", _swap_input_forget)),
    Fault("keras_recurrent_gate_blocks_permuted", "keras",
          "Keras computes with the recurrent kernel's input and forget blocks swapped",
          LSTM_TARGETS, with_cell_weight("recurrent_kernel", _swap_input_forget)),
    Fault("keras_forget_bias_plus_one", "keras",
          "Keras adds unit_forget_bias's 1 at call time, not only at initialisation",
          LSTM_TARGETS, with_cell_weight("bias", _forget_bias_plus_one)),
    Fault("keras_ignores_initial_state", "keras", "Keras's LSTM drops initial_state",
          LSTM_TARGETS, _drop_keyword("initial_state")),
    Fault("keras_ignores_mask", "keras", "Keras's LSTM drops the mask",
          MASK_TARGETS, _drop_keyword("mask")),
    Fault("keras_backward_sequence_in_time_order", "keras",
          "Keras returns a go_backwards sequence in time order (Bidirectional then flips it "
          "a second time)", (*LSTM_TARGETS, "bidirectional_forward"),
          wrap_keras_lstm_call(_backwards_sequence_in_time_order)),
    Fault("keras_gru_kernel_update_reset_swapped", "keras",
          "Keras's GRU computes with the kernel's z and r blocks swapped",
          GRU_TARGETS, with_cell_weight("kernel", _swap_update_reset, "GRU")),
    Fault("keras_simple_rnn_drops_bias", "keras", "Keras's SimpleRNN ignores its bias",
          SIMPLE_RNN_TARGETS, with_cell_weight("bias", _zeros_like, "SimpleRNN")),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in CATALOGUE}
assert len(FAULTS) == len(CATALOGUE), "fault names must be unique"
