"""verify.convert and ``export``: round trips, and proof against the real thing — the exported
weights loaded into torch.nn.LSTM/GRU/RNN, into ONNX's reference LSTM/GRU/RNN and into
onnxruntime give Keras's outputs. The arrays come from ``explain.export_arrays`` (what the
``export`` command writes), and one test per cell kind runs the command itself on a saved file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies
from verify import cells, convert, explain, gates
from verify.config import BidirectionalConfig
from verify.environment import major_minor
from verify.records import LayerRecord
from verify.suite.properties import compare_to_reference


@pytest.mark.parametrize("cell", list(cells.CELLS))
@given(data=st.data())
def test_round_trips(cell: str, data: st.DataObject) -> None:
    config = data.draw(strategies.rnn_configs(cells=(cell,)))
    weights = data.draw(strategies.weights(config))
    options = dict(config.cell_options)
    options.pop("recurrent_activation", None)
    kind = config.cell
    bias = weights[2] if config.use_bias else np.zeros(kind.bias_shape(config.units, **options))
    backs = [convert.from_onnx(**convert.to_onnx([weights], cell=cell, **options), cell=cell,
                               **options)[0]]
    if options.get("reset_after", True):
        backs.append(convert.from_torch(convert.to_torch(*weights, cell=cell, **options),
                                        cell=cell, **options))
    for back in backs:
        for got, want in zip(back, [weights[0], weights[1], bias], strict=True):
            np.testing.assert_array_equal(got, want)
    named = convert.to_named(*weights, cell=cell, **options)
    for gate in kind.gates:
        np.testing.assert_array_equal(named[f"W_{gate}"], gates.split(weights[0], cell=cell)[gate])


def cases(configs: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def draw(draw: st.DrawFn) -> dict[str, Any]:
        config = draw(configs, label="config")
        batch = draw(st.integers(1, 3), label="batch")
        return {"config": config, "weights": draw(strategies.weights(config), label="weights"),
                "x": draw(strategies.inputs(config, batch_size=batch), label="x"),
                "state": draw(strategies.initial_states(config, batch_size=batch),
                              label="initial_state")}

    return draw()


def _record(adapter: Any, config: Any, weights: list[np.ndarray]) -> LayerRecord:
    """The layer as the CLI sees it in a saved model: Keras's own get_config() and weights."""
    layer = adapter.built(config).layer
    bidirectional = isinstance(config, BidirectionalConfig)
    return LayerRecord(path="rnn", class_name="Bidirectional" if bidirectional else config.CELL,
                       config=layer.get_config(), weights=weights,
                       wrapped=config.recurrent.CELL if bidirectional else None)


def _exported(adapter: Any, config: Any, weights: list[np.ndarray],
              layout: str) -> dict[str, np.ndarray]:
    arrays = explain.export_arrays(explain.explain([_record(adapter, config, weights)]), layout)
    return {name.removeprefix("rnn/"): value for name, value in arrays.items()}


def _keras(adapter: Any, config: Any, weights: list[np.ndarray], x: np.ndarray,
           state: list[np.ndarray] | None) -> list[np.ndarray]:
    layer = adapter.built(config)
    layer.set_weights(weights)
    return layer(x, initial_state=state)


def _torch_outputs(torch: Any, config: Any, entries: dict[str, np.ndarray], x: np.ndarray,
                   state: list[np.ndarray] | None) -> list[np.ndarray]:
    layer = config.recurrent
    bidirectional = isinstance(config, BidirectionalConfig)
    options: dict[str, Any] = {"batch_first": True, "bidirectional": bidirectional,
                               **layer.cell.torch_arguments(layer.activation)}
    module = getattr(torch.nn, layer.cell.torch_module.removeprefix("nn."))(
        config.input_dim, config.units, **options)
    module.load_state_dict({name: torch.from_numpy(np.array(value, copy=True))
                            for name, value in entries.items()})
    # PyTorch has no go_backwards: feed the reversed sequence; outputs then come in
    # processing order, as Keras returns them.
    backwards = not bidirectional and layer.go_backwards
    inputs = torch.from_numpy((x[:, ::-1] if backwards else x).copy())
    count = layer.state_count  # states per direction, Keras order [h(, c)] per direction
    initial = None
    if state is not None:
        per_state = [np.stack(state[index::count]) for index in range(count)]
        tensors = [torch.from_numpy(array) for array in per_state]
        initial = tuple(tensors) if count == 2 else tensors[0]
    with torch.no_grad():
        sequence, final = module(inputs, initial)
    finals = [tensor.numpy() for tensor in (final if isinstance(final, tuple) else (final,))]
    directions = 2 if bidirectional else 1
    states = [finals[index][direction] for direction in range(directions)
              for index in range(count)]
    return [sequence.numpy(), *states]


def export_configs(cell: str, *, bidirectional: bool, layout: str,
                   runtime: str = "onnxruntime") -> st.SearchStrategy[Any]:
    """Layers (or Bidirectional layers, concat) of ``cell`` that ``layout`` can compute: the
    activations the target's operator has, with sigmoid gates. Masks are not compared (PyTorch
    needs packed sequences, ONNX's evaluator ignores sequence_lens)."""
    kind = cells.get(cell)
    options: dict[str, Any] = {"activations": kind.target_activations,
                               "return_sequences": True, "return_state": True}
    if "recurrent_activation" in kind.option_defaults:
        options["recurrent_activations"] = ("sigmoid",)
    if layout == "torch" and "reset_after" in kind.option_defaults:
        options["reset_after"] = True  # reset_after=False has no nn.GRU (see test_errors)
    if runtime == "reference" and cell == "SimpleRNN":
        # onnx's evaluator knows only the Tanh and Affine activations for RNN (op_rnn.py's
        # choose_act raises on Relu); onnxruntime proves the relu export.
        options["activations"] = ("tanh",)
    if bidirectional:
        return strategies.bidirectional_configs(merge_modes=("concat",), cells=(cell,),
                                                **options)
    return strategies.rnn_configs(cells=(cell,), **options)


def check_torch_export(adapter: Any, torch: Any, case: dict[str, Any]) -> float:
    """The ``--layout torch`` arrays of the case's layer, loaded into the torch module, equal
    the reference (and Keras equals the reference on the same case)."""
    config, weights, x, state = case["config"], case["weights"], case["x"], case["state"]
    entries = _exported(adapter, config, weights, "torch")
    outputs = _torch_outputs(torch, config, entries, x, state)
    what = (f"torch.{config.cell.torch_module} with the exported (--layout torch) weights "
            "vs reference")
    return max(compare_to_reference(outputs, config, weights, x, initial_state=state, what=what),
               compare_to_reference(_keras(adapter, config, weights, x, state), config, weights,
                                    x, initial_state=state, what="Keras vs reference"))


def _torch() -> Any:
    return pytest.importorskip("torch", reason="torch is optional: pip install "
                               "'lstm-verify[convert]' to prove the PyTorch export (tox's "
                               "tf213 cannot: TensorFlow 2.13 pins typing-extensions < 4.6, "
                               "torch 2.13 needs >= 4.10)")


@pytest.mark.parametrize("bidirectional", [False, True], ids=["layer", "bidirectional"])
@pytest.mark.parametrize("cell", list(cells.CELLS))
def test_torch_module_with_exported_weights_equals_keras(adapter: Any, cell: str,
                                                         bidirectional: bool) -> None:
    torch = _torch()

    @given(case=cases(export_configs(cell, bidirectional=bidirectional, layout="torch")))
    def check(case: dict[str, Any]) -> None:
        check_torch_export(adapter, torch, case)

    check()


def _onnx_model(onnx: Any, config: Any, with_state: bool) -> Any:
    from onnx import TensorProto, helper

    layer = config.recurrent
    cell = layer.cell
    bidirectional = isinstance(config, BidirectionalConfig)
    direction = "bidirectional" if bidirectional else (
        "reverse" if layer.go_backwards else "forward")
    lstm = cell.name == "LSTM"
    names = ["X", "W", "R", "B"]
    if with_state:
        names += ["", "initial_h"] + (["initial_c"] if lstm else [])
    outputs = ["Y", "Y_h"] + (["Y_c"] if lstm else [])
    attributes = convert.onnx_attributes(cell=cell.name, activation=layer.activation,
                                         directions=2 if bidirectional else 1,
                                         **layer.cell_options)
    node = helper.make_node(cell.onnx_operator, names, outputs, hidden_size=config.units,
                            direction=direction, **attributes)
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)
              for name in names if name]
    values = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in outputs]
    model = helper.make_model(helper.make_graph([node], "rnn", inputs, values),
                              opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    return model


def onnx_or_skip() -> Any:
    """onnx, when this environment can run its reference operators; else a skip that says why."""
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


def onnxruntime_or_skip() -> Any:
    return pytest.importorskip("onnxruntime", reason="onnxruntime is optional (it does not "
                               "install next to every TensorFlow of the matrix); onnx's "
                               "reference evaluator proves the export without it")


def _run_onnx(runtime: str, model: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    if runtime == "reference":
        from onnx.reference import ReferenceEvaluator

        return list(ReferenceEvaluator(model).run(None, feeds))
    ort = onnxruntime_or_skip()
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return list(session.run(None, feeds))


def check_onnx_export(adapter: Any, onnx: Any, runtime: str, case: dict[str, Any]) -> float:
    """The ``--layout onnx`` arrays, fed to the ONNX operator (with the attributes
    :func:`verify.convert.onnx_attributes` names) in ``runtime``, equal the reference."""
    config, weights, x, state = case["config"], case["weights"], case["x"], case["state"]
    layer = config.recurrent
    feeds = {name: value.astype(np.float32)
             for name, value in _exported(adapter, config, weights, "onnx").items()}
    feeds["X"] = np.ascontiguousarray(x.transpose(1, 0, 2))  # ONNX layout 0: [T, B, d]
    count = layer.state_count
    if state is not None:
        feeds["initial_h"] = np.stack(state[0::count])
        if count == 2:
            feeds["initial_c"] = np.stack(state[1::count])
    y, *finals = _run_onnx(runtime, _onnx_model(onnx, config, state is not None), feeds)
    sequence = y.transpose(2, 0, 1, 3)  # [B, T, dirs, u]
    if isinstance(config, BidirectionalConfig):
        sequence = sequence.reshape(*sequence.shape[:2], -1)  # forward then backward
    else:
        sequence = sequence[:, :, 0]
        if layer.go_backwards:  # ONNX returns Y in time order, Keras in processing order
            sequence = sequence[:, ::-1]
    states = [final[direction] for direction in range(finals[0].shape[0]) for final in finals]
    what = f"ONNX {layer.cell.onnx_operator} ({runtime}) with the exported weights vs reference"
    return max(compare_to_reference([sequence, *states], config, weights, x,
                                    initial_state=state, what=what),
               compare_to_reference(_keras(adapter, config, weights, x, state), config, weights,
                                    x, initial_state=state, what="Keras vs reference"))


@pytest.mark.parametrize("runtime", ["reference", "onnxruntime"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["layer", "bidirectional"])
@pytest.mark.parametrize("cell", list(cells.CELLS))
def test_onnx_operator_with_exported_weights_equals_keras(adapter: Any, cell: str,
                                                          bidirectional: bool,
                                                          runtime: str) -> None:
    onnx = onnx_or_skip()
    if runtime == "onnxruntime":
        onnxruntime_or_skip()

    @settings(max_examples=30)
    @given(case=cases(export_configs(cell, bidirectional=bidirectional, layout="onnx",
                                     runtime=runtime)))
    def check(case: dict[str, Any]) -> None:
        check_onnx_export(adapter, onnx, runtime, case)

    check()


@pytest.mark.parametrize("cell", list(cells.CELLS))
def test_the_export_command_output_loads_into_torch(adapter: Any, cell: str,
                                                    tmp_path: Path) -> None:
    """End to end: a saved model, ``python -m verify export --layout torch``, the .npz loaded
    into the torch module the command names, equal to Keras on random inputs."""
    torch = _torch()
    from tests.test_cli import run

    keras = adapter.keras
    layer = getattr(keras.layers, cell)(3, return_sequences=True, name="rnn")
    model = keras.Sequential([keras.Input((5, 2)),
                              keras.layers.Bidirectional(layer, name="bidi")])
    rng = np.random.default_rng(4)
    model.set_weights([rng.uniform(-1, 1, w.shape).astype("float32")
                       for w in model.get_weights()])
    model.save(tmp_path / "model.keras")
    result = run("export", str(tmp_path / "model.keras"), str(tmp_path / "out.npz"),
                 "--layout", "torch")
    assert result.returncode == 0, result.stderr
    assert f"torch.{cells.get(cell).torch_module}(2, 3, batch_first=True, bidirectional=True" \
        in result.stdout
    module = getattr(torch.nn, cells.get(cell).torch_module.removeprefix("nn."))(
        2, 3, batch_first=True, bidirectional=True)
    with np.load(tmp_path / "out.npz") as arrays:
        module.load_state_dict({name.removeprefix("bidi/"): torch.from_numpy(arrays[name])
                                for name in arrays.files})
    x = rng.uniform(-1, 1, (4, 5, 2)).astype("float32")
    with torch.no_grad():
        ours = module(torch.from_numpy(x))[0].numpy()
    theirs = adapter.call_model(model, x)[0]
    np.testing.assert_allclose(ours, theirs, atol=2e-5)
