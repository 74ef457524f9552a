"""Bad input to every public function: the exact error type, and a message that names the
argument, shows the value and says what was expected."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verify import activations, convert, explain, gates, reference, shapes
from verify import model as verify_model
from verify.config import BidirectionalConfig, DenseConfig, LSTMConfig, SequentialConfig
from verify.suite import properties

LSTM = LSTMConfig(units=2, input_dim=3, timesteps=4)
GATED = LSTMConfig(units=2, input_dim=3, timesteps=4, return_sequences=True, return_state=True)

CASES: list[tuple[str, Any, type[Exception], str]] = [
    # (case id, call, error type, text the message must contain)
    ("units zero", lambda: LSTMConfig(units=0, input_dim=3), ValueError, "units.*>= 1.*0"),
    ("units float", lambda: LSTMConfig(units=2.0, input_dim=3), TypeError, "units.*2.0"),
    ("units bool", lambda: LSTMConfig(units=True, input_dim=3), TypeError, "units.*True"),
    ("input_dim str", lambda: LSTMConfig(units=2, input_dim="3"), TypeError, "input_dim.*'3'"),
    ("timesteps negative", lambda: LSTMConfig(units=2, input_dim=3, timesteps=-1), ValueError,
     "timesteps.*-1"),
    ("flag not bool", lambda: LSTMConfig(units=2, input_dim=3, return_state=1), TypeError,
     "return_state.*1"),
    ("unknown activation", lambda: LSTMConfig(units=2, input_dim=3, activation="tahn"),
     ValueError, "activation='tahn'.*expected one of"),
    ("activation not str", lambda: LSTMConfig(units=2, input_dim=3, recurrent_activation=None),
     TypeError, "recurrent_activation.*None"),
    ("unroll without timesteps", lambda: LSTMConfig(units=2, input_dim=3, unroll=True),
     ValueError, "unroll=True.*timesteps=None"),
    ("merge mode", lambda: BidirectionalConfig(LSTM, merge_mode="max"), ValueError,
     "merge_mode.*'concat'.*'max'"),
    ("bidirectional layer", lambda: BidirectionalConfig("lstm"), TypeError, "layer.*'lstm'"),
    ("dense units", lambda: DenseConfig(units=-2, input_dim=3), ValueError, "units.*-2"),
    ("sequential empty", lambda: SequentialConfig(()), ValueError, "layers.*non-empty"),
    ("sequential list", lambda: SequentialConfig([LSTM]), ValueError, "layers.*tuple"),
    ("sequential dense first", lambda: SequentialConfig((DenseConfig(units=1, input_dim=3),)),
     ValueError, r"layers\[0\] must be recurrent"),
    ("sequential mismatch", lambda: SequentialConfig((LSTM, DenseConfig(units=1, input_dim=5))),
     ValueError, r"layers\[1\].input_dim=5.*2 features"),
    ("sequential no sequences",
     lambda: SequentialConfig((LSTM, LSTMConfig(units=1, input_dim=2, timesteps=4))),
     ValueError, r"layers\[0\].*return_sequences=True"),
    ("sequential state",
     lambda: SequentialConfig((LSTMConfig(units=1, input_dim=2, return_state=True),)),
     ValueError, "return_state"),
    ("from_keras_config not dict", lambda: LSTMConfig.from_keras_config([1], input_dim=2),
     TypeError, "config.*get_config"),
    ("lstm_weight_shapes units", lambda: shapes.lstm_weight_shapes(3, 0), ValueError,
     "units.*0"),
    ("lstm_weight_shapes input_dim", lambda: shapes.lstm_weight_shapes(3.5, 2), TypeError,
     "input_dim.*3.5"),
    ("lstm_param_count use_bias", lambda: shapes.lstm_param_count(3, 2, use_bias="no"),
     TypeError, "use_bias.*'no'"),
    ("dense_param_count units", lambda: shapes.dense_param_count(3, None), TypeError,
     "units.*None"),
    ("dense_weight_shapes input_dim", lambda: shapes.dense_weight_shapes(-1, 2), ValueError,
     "input_dim.*-1"),
    ("weight_shapes config", lambda: shapes.weight_shapes({"units": 2}), TypeError, "config"),
    ("param_count config", lambda: shapes.param_count(None), TypeError, "config.*None"),
    ("output_shapes batch", lambda: shapes.output_shapes(LSTM, batch=0), ValueError,
     "batch.*0"),
    ("output_shapes dense", lambda: shapes.output_shapes(DenseConfig(units=1, input_dim=2)),
     TypeError, "DenseConfig"),
    ("split scalar", lambda: gates.split(np.float32(1.0)), ValueError,
     "array.*at least 1 axis"),
    ("split not multiple of 4", lambda: gates.split(np.zeros((3, 10))), ValueError,
     r"multiple of 4.*\(3, 10\)"),
    ("split empty", lambda: gates.split(np.zeros((3, 0))), ValueError, "multiple of 4"),
    ("split strings", lambda: gates.split(np.array(["a"] * 4)), TypeError, "array.*real numbers"),
    ("split bool", lambda: gates.split(np.ones(4, bool)), TypeError, "array.*bool"),
    ("join not mapping", lambda: gates.join([1, 2, 3, 4]), TypeError, "parts.*mapping"),
    ("join missing gate", lambda: gates.join({"i": [1], "f": [1], "c": [1]}), ValueError,
     r"missing \['o'\]"),
    ("join extra gate", lambda: gates.join({"i": [1], "f": [1], "c": [1], "o": [1], "g": [1]}),
     ValueError, r"unexpected \['g'\]"),
    ("join shapes differ", lambda: gates.join({"i": [1], "f": [1], "c": [1], "o": [1, 2]}),
     ValueError, "same shape"),
    ("block gate", lambda: gates.block("g", 3), ValueError, "gate.*'g'"),
    ("gate check config", lambda: properties.check_gate_block(LSTM, [], np.zeros((1, 4, 3)), "i"),
     ValueError, "check_gate_block needs.*return_sequences"),
    ("gate check gate", lambda: properties.check_gate_block(GATED, [], np.zeros((1, 4, 3)), "g"),
     ValueError, "gate.*'g'"),
    ("block units", lambda: gates.block("i", 0), ValueError, "units.*0"),
]


ADAPTER_CASES: list[tuple[str, str, dict[str, Any], type[Exception], str]] = [
    ("weights count", "set_weights", {"weights": [np.zeros((3, 8))]}, ValueError,
     "3 arrays.*got 1"),
    ("weights shape", "set_weights",
     {"weights": [np.zeros((3, 8)), np.zeros((2, 8)), np.zeros(9)]}, ValueError,
     r"weights\[2\].*\(8,\).*\(9,\)"),
    ("weights array", "set_weights", {"weights": np.zeros((3, 8))}, TypeError, "weights.*list"),
    ("x rank", "__call__", {"x": np.zeros((4, 3))}, ValueError, r"x.*\(batch, timesteps, 3\)"),
    ("x features", "__call__", {"x": np.zeros((1, 4, 5))}, ValueError, r"x.*\(1, 4, 5\)"),
    ("x dtype", "__call__", {"x": np.full((1, 4, 3), "a")}, TypeError, "x.*real numbers"),
    ("mask dtype", "__call__", {"x": np.zeros((1, 4, 3)), "mask": np.ones((1, 4))}, ValueError,
     "mask.*bool"),
    ("mask shape", "__call__", {"x": np.zeros((1, 4, 3)), "mask": np.ones((1, 3), bool)},
     ValueError, r"mask.*\(1, 4\)"),
    ("state count", "__call__", {"x": np.zeros((1, 4, 3)), "initial_state": [np.zeros((1, 2))]},
     ValueError, "initial_state.*2 arrays"),
    ("state shape", "__call__",
     {"x": np.zeros((1, 4, 3)), "initial_state": [np.zeros((1, 2)), np.zeros((2, 2))]},
     ValueError, r"initial_state\[1\].*\(1, 2\).*\(2, 2\)"),
]


@pytest.mark.parametrize(("method", "arguments", "error", "message"),
                         [case[1:] for case in ADAPTER_CASES],
                         ids=[case[0] for case in ADAPTER_CASES])
def test_adapter_refuses_bad_input_clearly(adapter: Any, method: str, arguments: dict[str, Any],
                                           error: type[Exception], message: str) -> None:
    layer = adapter.built(LSTM)
    with pytest.raises(error, match=message):
        if method == "__call__":
            layer(**arguments)
        else:
            getattr(layer, method)(**arguments)


def test_built_refuses_what_it_cannot_build(adapter: Any) -> None:
    with pytest.raises(TypeError, match=r"config.*DenseConfig"):
        adapter.built(DenseConfig(units=1, input_dim=2))


def test_call_model_refuses_a_bad_dtype(adapter: Any) -> None:
    with pytest.raises(TypeError, match=r"dtype must be a NumPy dtype or None, got 'float33'"):
        adapter.call_model(adapter.built(LSTM).layer, np.zeros((1, 4, 3)), dtype="float33")


K = np.zeros((3, 8))
R = np.zeros((2, 8))
B = np.zeros(8)
X = np.zeros((1, 4, 3))

REFERENCE_CASES: list[tuple[str, Any, type[Exception], str]] = [
    ("x rank", lambda: reference.lstm(np.zeros((4, 3)), K, R, B), ValueError,
     r"x must have shape \(batch, timesteps, features\).*\(4, 3\)"),
    ("x empty", lambda: reference.lstm(np.zeros((0, 4, 3)), K, R, B), ValueError, "x.*>= 1"),
    ("x strings", lambda: reference.lstm(np.full((1, 4, 3), "a"), K, R, B), TypeError,
     "x must be an array of real numbers"),
    ("x nan", lambda: reference.lstm(np.full((1, 4, 3), np.nan), K, R, B), ValueError,
     r"x contains nan at index \(0, 0, 0\).*finite"),
    ("x inf", lambda: reference.lstm(np.full((1, 4, 3), np.inf), K, R, B), ValueError,
     "x contains inf"),
    ("kernel features", lambda: reference.lstm(X, np.zeros((5, 8)), R, B), ValueError,
     r"kernel must have shape \(input_dim, 4 \* units\) = \(3, 8\).*\(5, 8\)"),
    ("kernel gates", lambda: reference.lstm(X, np.zeros((3, 6)), R, B), ValueError,
     r"kernel.*\(3, 8\).*\(3, 6\)"),
    ("recurrent kernel", lambda: reference.lstm(X, K, np.zeros((2, 7)), B), ValueError,
     r"recurrent_kernel must have shape \(units, 4 \* units\).*\(2, 7\)"),
    ("bias", lambda: reference.lstm(X, K, R, np.zeros(9)), ValueError,
     r"bias must have shape \(4 \* units,\) = \(8,\).*\(9,\)"),
    ("bias nan", lambda: reference.lstm(X, K, R, np.full(8, np.nan)), ValueError,
     "bias contains nan"),
    ("mask shape", lambda: reference.lstm(X, K, R, B, mask=np.ones((1, 3), bool)), ValueError,
     r"mask must be a bool array of shape \(batch, timesteps\) = \(1, 4\)"),
    ("mask dtype", lambda: reference.lstm(X, K, R, B, mask=np.ones((1, 4))), ValueError,
     "mask must be a bool array"),
    ("state count", lambda: reference.lstm(X, K, R, B, initial_state=[np.zeros((1, 2))]),
     ValueError, "initial_state must be a list of 2 arrays"),
    ("state shape",
     lambda: reference.lstm(X, K, R, B, initial_state=[np.zeros((1, 2)), np.zeros((1, 3))]),
     ValueError, r"initial_state\[1\] must have shape \(batch, units\) = \(1, 2\).*\(1, 3\)"),
    ("state inf",
     lambda: reference.lstm(X, K, R, B, initial_state=[np.zeros((1, 2)), np.full((1, 2), np.inf)]),
     ValueError, r"initial_state\[1\] contains inf"),
    ("activation unknown", lambda: reference.lstm(X, K, R, B, activation="tahn"), ValueError,
     "activation: unknown activation 'tahn'"),
    ("activation type", lambda: reference.lstm(X, K, R, B, recurrent_activation=None), TypeError,
     "recurrent_activation must be an activation name"),
    ("flag type", lambda: reference.lstm(X, K, R, B, return_state="yes"), TypeError,
     "return_state must be a bool"),
    ("semantics", lambda: reference.lstm(X, K, R, B, semantics="keras4"), ValueError,
     "semantics must be None, a Semantics or one of keras2, keras3, keras3-jax"),
    ("dtype", lambda: reference.lstm(X, K, R, B, dtype=np.int32), TypeError,
     "dtype must be a NumPy float dtype"),
    ("gru bias rows", lambda: reference.gru(X, np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6)),
     ValueError, r"bias must have shape \(2, 3 \* units\) = \(2, 6\) for a GRU with "
     r"reset_after=True, got \(6,\)"),
    ("gru bias one row", lambda: reference.gru(X, np.zeros((3, 6)), np.zeros((2, 6)),
                                               np.zeros((2, 6)), reset_after=False),
     ValueError, r"bias must have shape \(3 \* units,\) = \(6,\) for a GRU with "
     r"reset_after=False"),
    ("gru lstm-sized kernel", lambda: reference.gru(X, K, R), ValueError,
     r"recurrent_kernel must have shape \(units, 3 \* units\) for a GRU, got \(2, 8\)"),
    ("gru reset_after type", lambda: reference.gru(X, np.zeros((3, 6)), np.zeros((2, 6)),
                                                   reset_after="yes"),
     TypeError, "reset_after must be a bool"),
    ("gru one state", lambda: reference.gru(X, np.zeros((3, 6)), np.zeros((2, 6)),
                                            initial_state=[np.zeros((1, 2))] * 2),
     ValueError, "initial_state must be a list of 1 arrays"),
    ("simple_rnn kernel", lambda: reference.simple_rnn(X, np.zeros((3, 4)), np.zeros((2, 2))),
     ValueError, r"kernel must have shape \(input_dim, units\) = \(3, 2\)"),
    ("simple_rnn option", lambda: reference.simple_rnn(X, np.zeros((3, 2)), np.zeros((2, 2)),
                                                       recurrent_activation="sigmoid"),
     TypeError, r"SimpleRNN has no options \['recurrent_activation'\]"),
    ("rnn cell", lambda: reference.rnn("LSTM2", X, K, R), ValueError,
     "cell must be one of 'LSTM', 'GRU', 'SimpleRNN'"),
    ("outputs config", lambda: reference.outputs(DenseConfig(units=1, input_dim=3), [], X),
     TypeError, "config must be a recurrent layer config"),
    ("bidirectional weights count", lambda: BidirectionalConfig(LSTM).direction_weights([K]),
     ValueError, r"has 6 weight arrays \(3 per direction\), got 1"),
    ("bidirectional merge", lambda: reference.bidirectional(X, [K, R, B], [K, R, B],
                                                            merge_mode="max"),
     ValueError, "merge_mode"),
    ("bidirectional option", lambda: reference.bidirectional(X, [K, R, B], [K, R, B],
                                                             go_backwards=True),
     TypeError, r"unexpected options \['go_backwards'\]"),
    ("bidirectional halves", lambda: reference.bidirectional(X, [K], [K, R, B]), ValueError,
     r"forward_weights must be \[kernel, recurrent_kernel\]"),
    ("bidirectional units", lambda: reference.bidirectional(
        X, [K, R, B], [np.zeros((3, 12)), np.zeros((3, 12))]), ValueError, "same units"),
    ("bidirectional states", lambda: reference.bidirectional(
        X, [K, R, B], [K, R, B], initial_state=[np.zeros((1, 2))] * 2), ValueError,
     "initial_state must be a list of 4 arrays"),
    ("stateful batch", lambda: reference.StatefulLSTM(K, R, B, batch_size=0), ValueError,
     "batch_size"),
    ("stateful kernel rank", lambda: reference.StatefulLSTM(B, R, B, batch_size=1), ValueError,
     r"kernel must have shape \(input_dim, 4 \* units\)"),
    ("stateful x", lambda: reference.StatefulLSTM(K, R, B, batch_size=2)(X), ValueError,
     r"x must have shape \(batch_size, timesteps, input_dim\) = \(2, timesteps, 3\)"),
    ("forward config", lambda: verify_model.forward([], {}, X), TypeError,
     "config must be a Keras model's get_config"),
    ("forward weights", lambda: verify_model.forward(
        {"layers": [{"class_name": "LSTM", "config": {"name": "lstm", "units": 2}}]}, {}, X),
     ValueError, "weights has no entry for layer 'lstm'"),
    ("activations get", lambda: activations.get("softmax", hard_sigmoid=np.tanh), ValueError,
     "unknown activation 'softmax'"),
    ("property stratum", lambda: properties.PROPERTIES["lstm_forward"].strategy("padded"),
     ValueError, "stratum.*'no_mask'.*got 'padded'"),
    ("property runs", lambda: properties.runs("lstm_forwards"), ValueError,
     "property.*'lstm_forward'.*got 'lstm_forwards'"),
]


CONVERT_CASES: list[tuple[str, Any, type[Exception], str]] = [
    ("to_torch recurrent", lambda: convert.to_torch(K, np.zeros((2, 7))), ValueError,
     r"recurrent_kernel must have shape \(units, 4 \* units\) for an LSTM, got \(2, 7\)"),
    ("to_torch kernel", lambda: convert.to_torch(np.zeros((3, 4)), R), ValueError,
     r"kernel must have shape \(input_dim, 4 \* units\) = \(3, 8\).*got \(3, 4\)"),
    ("to_torch bias", lambda: convert.to_torch(K, R, np.zeros(5)), ValueError,
     r"bias must have shape \(4 \* units,\) = \(8,\) for an LSTM, got \(5,\)"),
    ("to_torch reverse", lambda: convert.to_torch(K, R, reverse=1), TypeError, "reverse"),
    ("from_torch type", lambda: convert.from_torch([K]), TypeError, "state_dict must be a mapping"),
    ("from_torch missing", lambda: convert.from_torch({"weight_ih_l0": K.T}), ValueError,
     r"no \['weight_hh_l0'\]"),
    ("from_torch reverse missing", lambda: convert.from_torch(
        convert.to_torch(K, R), reverse=True), ValueError, "weight_ih_l0_reverse"),
    ("to_onnx count", lambda: convert.to_onnx([]), ValueError,
     "directions must be a list of 1 or 2"),
    ("to_onnx direction", lambda: convert.to_onnx([[K]]), ValueError, "each direction must be"),
    ("from_onnx shapes", lambda: convert.from_onnx(np.zeros((1, 8, 3)), np.zeros((1, 8, 3))),
     ValueError, r"W must be \[dirs, 4u, d\] and R \[dirs, 4u, u\]"),
    ("to_torch gru reset_before", lambda: convert.to_torch(
        np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6), cell="GRU", reset_after=False),
     ValueError, "reset_after=False has no torch.nn.GRU equivalent"),
    ("to_torch gru bias rows", lambda: convert.to_torch(
        np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6), cell="GRU"),
     ValueError, r"bias must have shape \(2, 3 \* units\) = \(2, 6\) for a GRU with "
     r"reset_after=True, got \(6,\)"),
    ("to_named cell", lambda: convert.to_named(K, R, cell="LSTM2"), ValueError,
     "cell must be one of 'LSTM', 'GRU', 'SimpleRNN'"),
    ("to_named option", lambda: convert.to_named(K, R, reset_after=True), TypeError,
     r"LSTM has no options \['reset_after'\]"),
    ("from_onnx gru", lambda: convert.from_onnx(np.zeros((1, 8, 3)), np.zeros((1, 8, 2)),
                                                cell="GRU"),
     ValueError, r"W must be \[dirs, 3u, d\] and R \[dirs, 3u, u\].*ONNX GRU"),
    ("from_onnx bias", lambda: convert.from_onnx(np.zeros((1, 8, 3)), np.zeros((1, 8, 2)),
                                                 np.zeros((1, 8))), ValueError,
     r"B must have shape \[dirs, 8u\] = \(1, 16\)"),
    ("export layout", lambda: explain.export_arrays([], "tf"), ValueError, "layout must be one of"),
]


@pytest.mark.parametrize(("call", "error", "message"),
                         [case[1:] for case in (*CASES, *REFERENCE_CASES, *CONVERT_CASES)],
                         ids=[case[0] for case in (*CASES, *REFERENCE_CASES, *CONVERT_CASES)])
def test_bad_input_is_refused_clearly(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()
