"""verify.convert: round trips, and proof against the real thing — the exported weights loaded
into torch.nn.LSTM and into ONNX's reference LSTM give Keras's outputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies
from verify import convert, gates
from verify.config import BidirectionalConfig, LSTMConfig
from verify.properties import compare_to_reference
from verify.semantics import major_minor

# The other frameworks implement the default LSTM only (tanh, sigmoid); masks are not
# compared (PyTorch needs packed sequences, ONNX's evaluator ignores sequence_lens).
DEFAULT_LSTMS = strategies.lstm_configs(activations=("tanh",),
                                        recurrent_activations=("sigmoid",),
                                        return_sequences=True, return_state=True)
DEFAULT_BIDIRECTIONAL = strategies.bidirectional_configs(
    merge_modes=("concat",), activations=("tanh",), recurrent_activations=("sigmoid",),
    return_sequences=True, return_state=True)


@given(strategies.lstm_configs(), st.data())
def test_round_trips(config: LSTMConfig, data: st.DataObject) -> None:
    weights = data.draw(strategies.weights(config))
    bias = weights[2] if config.use_bias else np.zeros(4 * config.units, np.float32)
    for back in (convert.from_torch(convert.to_torch(*weights)),
                 convert.from_onnx(**convert.to_onnx([weights]))[0]):
        for got, want in zip(back, [weights[0], weights[1], bias], strict=True):
            np.testing.assert_array_equal(got, want)
    named = convert.to_named(*weights)
    for gate in gates.GATES:
        np.testing.assert_array_equal(named[f"W_{gate}"], gates.split(weights[0])[gate])


def _keras(adapter: Any, config: Any, weights: list[np.ndarray], x: np.ndarray,
           state: list[np.ndarray] | None) -> list[np.ndarray]:
    layer = adapter.built(config)
    layer.set_weights(weights)
    return layer(x, initial_state=state)


def _cases(configs: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def draw(draw: st.DrawFn) -> dict[str, Any]:
        config = draw(configs, label="config")
        batch = draw(st.integers(1, 3), label="batch")
        return {"config": config, "weights": draw(strategies.weights(config), label="weights"),
                "x": draw(strategies.inputs(config, batch_size=batch), label="x"),
                "state": draw(strategies.initial_states(config, batch_size=batch),
                              label="initial_state")}

    return draw()


def _halves(config: Any, weights: list[np.ndarray]) -> list[list[np.ndarray]]:
    if isinstance(config, BidirectionalConfig):
        return [weights[:len(weights) // 2], weights[len(weights) // 2:]]
    return [weights]


@given(case=_cases(DEFAULT_LSTMS | DEFAULT_BIDIRECTIONAL))
def test_torch_lstm_with_exported_weights_equals_keras(adapter: Any,
                                                       case: dict[str, Any]) -> None:
    torch = pytest.importorskip("torch", reason="torch is optional: pip install "
                                "'lstm-verify[convert]' to prove the PyTorch export (tox's "
                                "tf213 cannot: TensorFlow 2.13 pins typing-extensions < 4.6, "
                                "torch 2.13 needs >= 4.10)")
    config, weights, x, state = case["config"], case["weights"], case["x"], case["state"]
    bidirectional = isinstance(config, BidirectionalConfig)
    module = torch.nn.LSTM(config.input_dim, config.units, batch_first=True,
                           bidirectional=bidirectional)
    entries: dict[str, Any] = {}
    for index, half in enumerate(_halves(config, weights)):
        entries |= convert.to_torch(*half, reverse=index == 1)
    module.load_state_dict({name: torch.from_numpy(value.copy())
                            for name, value in entries.items()})
    # PyTorch has no go_backwards: feed the reversed sequence; outputs then come in
    # processing order, as Keras returns them.
    backwards = not bidirectional and config.go_backwards
    inputs = torch.from_numpy((x[:, ::-1] if backwards else x).copy())
    directions = 2 if bidirectional else 1
    h0 = c0 = None
    if state is not None:
        h0 = torch.from_numpy(np.stack(state[0::2][:directions]))
        c0 = torch.from_numpy(np.stack(state[1::2][:directions]))
    with torch.no_grad():
        sequence, (h_n, c_n) = module(inputs, None if state is None else (h0, c0))
    states = [array for pair in zip(h_n.numpy(), c_n.numpy(), strict=True) for array in pair]
    torch_outputs = [sequence.numpy(), *states]
    compare_to_reference(torch_outputs, config, weights, x, initial_state=state,
                         what="torch.nn.LSTM with verify.convert.to_torch weights vs reference")
    compare_to_reference(_keras(adapter, config, weights, x, state), config, weights, x,
                         initial_state=state, what="Keras vs reference")


def _onnx_lstm(units: int, direction: str, with_state: bool) -> Any:
    from onnx import TensorProto, helper

    names = ["X", "W", "R", "B", "", "initial_h", "initial_c"] if with_state else \
        ["X", "W", "R", "B"]
    node = helper.make_node("LSTM", names, ["Y", "Y_h", "Y_c"], hidden_size=units,
                            direction=direction)
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
              for name in names if name]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
               for name in ("Y", "Y_h", "Y_c")]
    return helper.make_model(helper.make_graph([node], "lstm", inputs, outputs))


def _onnx() -> Any:
    """onnx, when this environment can run its reference LSTM; else a skip that says why."""
    try:
        import onnx
    except (ImportError, AttributeError) as error:
        if isinstance(error, ModuleNotFoundError) and error.name == "onnx":
            pytest.skip(reason="onnx is optional: pip install 'lstm-verify[convert]' to prove "
                        "the ONNX export")
        import ml_dtypes  # onnx >= 1.19 against the older ml_dtypes TensorFlow 2.14-2.17 pin

        pytest.skip(reason=f"onnx cannot be imported next to ml_dtypes "
                    f"{ml_dtypes.__version__}, which this TensorFlow pins ({error})")
    if major_minor(onnx.__version__) < (1, 23):
        pytest.skip(reason=f"onnx {onnx.__version__}'s ReferenceEvaluator LSTM returns no Y_c "
                    "and has no bidirectional direction (both added in onnx 1.23, whose "
                    "protobuf and ml_dtypes requirements this TensorFlow's pins exclude)")
    return onnx


@given(case=_cases(DEFAULT_LSTMS))
def test_onnx_lstm_with_exported_weights_equals_keras(adapter: Any,
                                                      case: dict[str, Any]) -> None:
    _onnx()
    _check_onnx(adapter, case)


def test_onnx_bidirectional_lstm_with_exported_weights_equals_keras(adapter: Any) -> None:
    _onnx()

    @given(case=_cases(DEFAULT_BIDIRECTIONAL))
    def check(case: dict[str, Any]) -> None:
        _check_onnx(adapter, case)

    check()


def _check_onnx(adapter: Any, case: dict[str, Any]) -> None:
    from onnx.reference import ReferenceEvaluator

    config, weights, x, state = case["config"], case["weights"], case["x"], case["state"]
    bidirectional = isinstance(config, BidirectionalConfig)
    direction = "bidirectional" if bidirectional else (
        "reverse" if config.go_backwards else "forward")
    feeds = {name: value.astype(np.float32)
             for name, value in convert.to_onnx(_halves(config, weights)).items()}
    feeds["X"] = x.transpose(1, 0, 2).copy()  # ONNX layout 0: [T, B, d]
    if state is not None:
        directions = 2 if bidirectional else 1
        feeds["initial_h"] = np.stack(state[0::2][:directions])
        feeds["initial_c"] = np.stack(state[1::2][:directions])
    y, y_h, y_c = ReferenceEvaluator(_onnx_lstm(config.units, direction, state is not None)).run(
        None, feeds)
    sequence = y.transpose(2, 0, 1, 3)  # [B, T, dirs, u]
    if bidirectional:
        sequence = sequence.reshape(*sequence.shape[:2], -1)  # forward then backward, as concat
    else:
        sequence = sequence[:, :, 0]
        if config.go_backwards:  # ONNX returns Y in time order, Keras in processing order
            sequence = sequence[:, ::-1]
    states = [array for pair in zip(y_h, y_c, strict=True) for array in pair]
    compare_to_reference([sequence, *states], config, weights, x, initial_state=state,
                         what="ONNX LSTM with verify.convert.to_onnx weights vs reference")
    compare_to_reference(_keras(adapter, config, weights, x, state), config, weights, x,
                         initial_state=state, what="Keras vs reference")
