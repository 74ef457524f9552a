"""What the commands print and write, checked whole and by value, in-process (so the fault
catalogue can seed faults into them): explain's lines, its parameter check fed a disagreeing
count, and the operator attributes `export` prints, used to build the ONNX operator that must
then compute the layer."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from verify import explain, files
from verify.config import BidirectionalConfig, GRUConfig, LSTMConfig, SimpleRNNConfig
from verify.reference import outputs as reference_outputs
from verify.semantics import KERAS3

DATA = Path(__file__).parent / "data"
#: Fixtures read without Keras: Bidirectional LSTM, GRU both ways, SimpleRNN, nested models.
FIXTURES = ["keras2_bilstm.h5", "keras2_gru.h5", "keras2_nested.h5", "keras3_bilstm.keras",
            "keras3_gru.keras", "keras3_stacked_simple.keras"]


def _explained(name: str) -> list[explain.Explained]:
    return explain.explain(files.read(DATA / name).records())


@pytest.mark.parametrize("name", FIXTURES)
def test_explain_prints_each_block_whole_on_one_line(name: str) -> None:
    """Every gate block of ``--json`` (whose ranges test_cli proves by saturating them in
    Keras) appears in the text as one whole line: its slice, its symbol and its meaning
    together, and nowhere else with another symbol (a text whose ranges were shuffled while
    the JSON stayed right fails)."""
    layers = _explained(name)
    text = explain.format_text(layers)
    lines = [line.strip() for line in text.splitlines()]
    for layer in layers:
        for array in layer.arrays():
            for block in array["gates"]:
                whole = re.compile(rf"{re.escape(block['slice'])}\s+→ "
                                   rf"{re.escape(block['symbol'])} "
                                   rf"\({re.escape(block['meaning'])}\)")
                assert any(whole.fullmatch(line) for line in lines), (name, block)
                # The slice names the columns the JSON gives (the JSON is what is proven).
                start, stop = map(int, re.findall(r"(\d+):(\d+)", block["slice"])[-1])
                assert [start, stop] == block["columns"], (name, block)


@pytest.mark.parametrize("name", FIXTURES[:3])
def test_explain_parameter_check_flags_a_disagreeing_count(name: str) -> None:
    """Fed a layer whose arrays hold one parameter more than the formula says, explain must
    say MISMATCH (text) and ``matches: false`` (JSON); fed the true count, ✓ and true."""
    for layer in _explained(name):
        wrong = dataclasses.replace(layer, param_count=layer.expected_params + 1)
        assert "✗ MISMATCH" in explain.format_text([wrong])
        assert wrong.as_dict()["parameters"]["matches"] is False
        assert "✓" in explain.format_text([layer])
        assert layer.as_dict()["parameters"]["matches"] is True


def _attributes(note: str) -> tuple[str, dict[str, Any]]:
    """``"path: ONNX GRU with hidden_size=3, direction='forward', ..."`` -> the operator and
    its attributes, parsed from the printed text."""
    match = re.fullmatch(r"[^:]+: ONNX (\w+) with (.*)", note)
    assert match, note
    operator, listed = match.groups()
    call = ast.parse(f"f({listed})", mode="eval").body
    assert isinstance(call, ast.Call)
    return operator, {keyword.arg: ast.literal_eval(keyword.value)
                      for keyword in call.keywords if keyword.arg is not None}


_ONNX_CONFIGS = [
    LSTMConfig(units=3, input_dim=2, timesteps=4, return_sequences=True),
    GRUConfig(units=3, input_dim=2, timesteps=4, return_sequences=True, reset_after=True),
    GRUConfig(units=3, input_dim=2, timesteps=4, return_sequences=True, reset_after=False),
    SimpleRNNConfig(units=3, input_dim=2, timesteps=4, return_sequences=True),
    BidirectionalConfig(GRUConfig(units=2, input_dim=2, timesteps=4, return_sequences=True),
                        merge_mode="concat"),
    LSTMConfig(units=2, input_dim=2, timesteps=4, return_sequences=True, go_backwards=True),
]


@pytest.mark.parametrize("config", _ONNX_CONFIGS, ids=repr)
def test_export_notes_build_the_onnx_operator_that_computes_the_layer(config: Any) -> None:
    """The attributes ``export --layout onnx`` prints are all an ONNX user has besides the
    arrays: an operator built from the printed line alone (parsed, not taken from the
    library), fed the exported arrays, must give the reference's outputs. A dropped or wrong
    attribute (linear_before_reset, direction, activations) changes the function."""
    from tests.test_convert import onnx_or_skip

    onnx = onnx_or_skip()  # skips where onnx cannot be imported (TF <= 2.15's ml_dtypes)
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    from verify.records import LayerRecord

    rng = np.random.default_rng(7)
    from verify import shapes

    weights = [rng.uniform(-1, 1, shape).astype(np.float32)
               for shape in shapes.weight_shapes(config)]
    record = LayerRecord(path="rnn", class_name="Bidirectional" if isinstance(
        config, BidirectionalConfig) else config.CELL, config=_keras_config(config),
        weights=weights, wrapped=config.recurrent.CELL if isinstance(
            config, BidirectionalConfig) else None)
    layers = explain.explain([record])
    operator, attributes = _attributes(explain.export_notes(layers, "onnx")[0])
    arrays = {name.removeprefix("rnn/"): value.astype(np.float32)
              for name, value in explain.export_arrays(layers, "onnx").items()}
    node = helper.make_node(operator, ["X", "W", "R", "B"], ["Y", "Y_h"], **attributes)
    graph = helper.make_graph([node], "g", [
        helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
        for name in ("X", "W", "R", "B")], [
        helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
        for name in ("Y", "Y_h")])
    x = rng.uniform(-1, 1, (2, config.timesteps, config.input_dim)).astype(np.float32)
    y, _ = ReferenceEvaluator(helper.make_model(graph)).run(
        None, {"X": np.ascontiguousarray(x.transpose(1, 0, 2)), **arrays})
    sequence = y.transpose(2, 0, 1, 3)  # [B, T, dirs, u]
    layer = config.recurrent
    if isinstance(config, BidirectionalConfig):
        sequence = sequence.reshape(*sequence.shape[:2], -1)
    else:
        sequence = sequence[:, :, 0]
        if layer.go_backwards:  # ONNX returns Y in time order, Keras in processing order
            sequence = sequence[:, ::-1]
    expected = reference_outputs(config, weights, x, semantics=KERAS3)[0]
    np.testing.assert_allclose(sequence, expected, atol=1e-5, rtol=1e-5)


def _keras_config(config: Any) -> dict[str, Any]:
    """The ``get_config()`` dict Keras writes for ``config`` (the fields Keras reads)."""
    layer = config.recurrent
    inner = {field.name: getattr(layer, field.name) for field in dataclasses.fields(layer)
             if field.name not in ("input_dim", "timesteps", "CELL")}
    inner["name"] = "rnn"
    if isinstance(config, BidirectionalConfig):
        return {"name": "rnn", "merge_mode": config.merge_mode,
                "layer": {"class_name": layer.CELL, "config": inner}}
    return inner


def test_explain_json_to_stdout_is_json_alone() -> None:
    """`explain --json -` is for pipes: standard output must parse as JSON, nothing else."""
    import json

    from tests.test_files import run

    code, out, err = run("explain", str(DATA / "keras3_gru.keras"), "--json", "-")
    assert code == 0, err
    document = json.loads(out)
    assert document["layers"] and document["layers"][0]["arrays"]
