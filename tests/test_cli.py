"""The command line, checked by exit code and output.

Most cases call :func:`verify.cli.main` in this process (each subprocess would pay a
TensorFlow import, which dominated the suite's wall time); a few run ``python -m verify`` as a
user does, so the module entry point and argparse's exit path are covered too."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from strategies.families import EXAMPLES
from verify import cli

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(*arguments: str) -> Result:
    """``python -m verify ARGUMENTS`` in this process: same exit code, stdout and stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(list(arguments))
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code if isinstance(exit_.code, int) else 2
    return Result(code, stdout.getvalue(), stderr.getvalue())


def run_subprocess(*arguments: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "verify", *arguments], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600, check=False)


@pytest.mark.keras
def test_report_passes_and_writes_json(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    result = run_subprocess("report", "--examples", "3", "--seed", "1", "--property",
                            "lstm_shapes", "--property", "gate_f", "--json", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all properties hold" in result.stdout
    assert "lstm_shapes" in result.stdout and "gate_f" in result.stdout
    document = json.loads(target.read_text())
    assert document["passed"] is True and document["seed"] == 1
    assert [p["name"] for p in document["properties"]] == ["lstm_shapes", "gate_f"]
    assert all(p["examples"] >= 3 and p["passed"] for p in document["properties"])
    assert all(0 <= p["rejected"] <= p["examples"] for p in document["properties"])
    assert "ill-cond." in result.stdout and "rejected as ill-conditioned" in result.stdout
    assert document["versions"]["keras_version"]
    # The device, the strict settings the properties ran under, the device table and the
    # default-precision divergences that applied (none without an accelerator).
    lines = result.stdout.splitlines()
    assert lines[1].startswith("device: ") and lines[2].startswith("precision: properties run")
    assert document["device"]["accelerator"] and document["strict_settings"]
    table = document["device_table"]
    assert {row["precision"] for row in table} >= {"default", "tf32 (emulated)"}
    assert all(row["within"] in ("float32", "tf32") for row in table)
    assert "device table (batch 32 x 50 steps" in result.stdout
    if document["device"]["accelerator"] == "cpu":
        assert document["default_precision_divergences"] == []
        assert "default-precision divergences here: none" in result.stdout


@pytest.mark.keras
def test_report_exits_1_with_a_reproducer_when_keras_disagrees(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately wrong formula (4u(d+u) with bias) must be caught against real Keras."""
    from verify import cells

    monkeypatch.setattr(cells.LSTM, "param_count",
                        lambda d, u, *, use_bias=True, **options: 4 * u * (d + u))
    result = run("report", "--examples", "5", "--property", "lstm_shapes")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISMATCH" in result.stdout
    assert "count_params() differs from the formula" in result.stdout
    assert "layer = keras_adapter.built(LSTMConfig(" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["report", "--examples", "0"], "--examples: expected a positive integer"),
        (["report", "--seed", "x"], "--seed: expected an integer seed >= 0"),
        (["report", "--profile", "fast"], "--profile: invalid choice"),
        (["report", "--property", "nope"], "--property: unknown 'nope'"),
        (["report", "--json", "/proc/no/such/dir/out.json"], "cannot write --json"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
        (["report", "--json"], "expected one argument"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_line(arguments: list[str], message: str) -> None:
    result = run(*arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("arguments", "message"), [
    ([], "required"), (["report", "--examples", "0"], "--examples: expected a positive integer"),
    (["explain", "/no/such/model.keras"], "no such file or directory")])
def test_bad_usage_exits_2_from_the_module_entry_point(arguments: list[str],
                                                       message: str) -> None:
    result = run_subprocess(*arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="session")
def saved(adapter: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Models saved by the running Keras, plus files that are not (usable) models."""
    import numpy as np

    keras = adapter.keras
    layers = keras.layers
    directory = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(0)
    models = {
        "lstm": keras.Sequential([
            keras.Input((5, 3)), layers.Masking(0.0),
            layers.LSTM(4, return_sequences=True, name="encoder"),
            layers.Bidirectional(layers.LSTM(3), merge_mode="sum", name="bidi"),
            layers.Dense(2)]),
        "gru": keras.Sequential([keras.Input((4, 3)), layers.GRU(2, name="my_gru")]),
        "gru_before": keras.Sequential([keras.Input((4, 3)),
                                        layers.GRU(2, reset_after=False, name="old_gru")]),
        "relu_lstm": keras.Sequential([keras.Input((4, 3)),
                                       layers.LSTM(2, activation="relu", name="relu_lstm")]),
        "dense": keras.Sequential([keras.Input((3,)), layers.Dense(2)]),
        "family": keras.Sequential([
            keras.Input((5, 3)), layers.GRU(2, return_sequences=True, name="gru"),
            layers.GRU(2, reset_after=False, return_sequences=True, name="old"),
            layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True), name="rnn"),
            layers.LSTM(2, name="lstm"), layers.Dense(1)]),
    }
    paths = {}
    for name, model in models.items():
        model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                           for w in model.get_weights()])
        paths[name] = directory / f"{name}.keras"
        model.save(paths[name])
    paths["text"] = directory / "notes.keras"
    paths["text"].write_text("not a model\n")
    paths["keras2"] = ROOT / "tests" / "data" / "keras2_bilstm.h5"
    return paths


def test_explain_decodes_every_lstm(saved: dict[str, Path], tmp_path: Path) -> None:
    result = run("explain", str(saved["lstm"]), "--json", str(tmp_path / "e.json"))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "encoder: LSTM, units u=4, input features d=3" in text
    assert "kernel[:, 0:4]" in text and "→ W_i (input gate)" in text
    assert "recurrent_kernel[:, 8:12]" in text and "→ U_c (cell candidate)" in text
    assert "parameters: 128 = 4u(d + u + 1) = 4*4*(3 + 4 + 1) = 128 ✓" in text
    assert "bidi: Bidirectional(LSTM), units u=3, input features d=4" in text
    assert "merge_mode='sum'" in text and "backward kernel" in text
    assert "parameters: 192 = 2 * 4u(d + u + 1) = 2 * 4*3*(4 + 3 + 1) = 192 ✓" in text
    document = json.loads((tmp_path / "e.json").read_text())
    encoder, bidi = document["layers"]
    assert encoder["arrays"][0]["shape"] == [3, 16]
    assert encoder["arrays"][0]["gates"][1]["columns"] == [4, 8]
    assert bidi["parameters"] == {"count": 192, "formula": "2 * 4u(d + u + 1) = "
                                  "2 * 4*3*(4 + 3 + 1) = 192", "expected": 192, "matches": True}


def test_explain_decodes_gru_and_simple_rnn(saved: dict[str, Path]) -> None:
    result = run("explain", str(saved["family"]))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert ("gru: GRU, units u=2, input features d=3, activation='tanh', "
            "recurrent_activation='sigmoid', reset_after=True") in text
    assert "  bias                        (2, 6)       = (2, 3u)" in text
    assert "bias[0, 0:2]                   → b_z (update gate, input bias)" in text
    assert "bias[1, 4:6]                   → rb_h (candidate, recurrent bias)" in text
    assert "parameters: 42 = 3u(d + u + 2) = 3*2*(3 + 2 + 2) = 42 ✓" in text
    assert "old: GRU, units u=2, input features d=2" in text and "reset_after=False" in text
    assert "parameters: 30 = 3u(d + u + 1) = 3*2*(2 + 2 + 1) = 30 ✓" in text
    assert "rnn: Bidirectional(SimpleRNN), units u=3, input features d=2" in text
    assert "backward recurrent_kernel   (3, 3)       = (u, u)" in text
    assert "parameters: 36 = 2 * u(d + u + 1) = 2 * 3*(2 + 3 + 1) = 36 ✓" in text


#: Per cell, a block of the input bias that, saturated, has an exact effect from zero states:
#: LSTM output gate closed -> h = 0; GRU update gate saturated -> h stays h0 = 0; SimpleRNN
#: pre-activation saturated -> h = 1.
_SATURATE = {"LSTM": ("o", -1e4, 0.0), "GRU": ("z", 1e4, 0.0), "SimpleRNN": ("h", 1e4, 1.0)}


def test_explain_json_is_proven_by_using_it(saved: dict[str, Path], adapter: Any,
                                            tmp_path: Path) -> None:
    """What ``explain --json`` prints is used, not compared with itself: the printed column
    range (and bias row) of one gate is saturated in the real model's weights, and Keras's
    outputs then do exactly what that gate means; the printed parameter count equals Keras's
    count_params() of the layer, and the formula's numbers multiply out to it."""
    import numpy as np

    result = run("explain", str(saved["family"]), "--json", str(tmp_path / "e.json"))
    assert result.returncode == 0, result.stderr
    layers = json.loads((tmp_path / "e.json").read_text())["layers"]
    model = adapter.load_model(saved["family"])
    assert [layer["cell"] for layer in layers] == ["GRU", "GRU", "SimpleRNN", "LSTM"]
    for entry in layers:
        layer = model.get_layer(entry["path"])
        assert entry["parameters"]["count"] == layer.count_params()
        formula = entry["parameters"]["formula"].split(" = ")
        assert eval(formula[2]) == entry["parameters"]["expected"] == layer.count_params()
        gate, amount, value = _SATURATE[entry["cell"]]
        weights = layer.get_weights()
        for index, array in enumerate(entry["arrays"]):
            if not array["name"].endswith("bias"):
                continue
            block = next(b for b in array["gates"] if b["gate"] == gate and b["row"] in (None, 0))
            start, stop = block["columns"]
            bias = weights[index]
            target = bias[0] if block["row"] == 0 else bias
            target[start:stop] += amount
        probe = adapter.keras.Sequential([adapter.keras.Input(layer.input.shape[1:]),
                                          _clone(layer)])
        probe.layers[-1].set_weights(weights)
        x = np.random.default_rng(0).uniform(-1, 1, (2, *layer.input.shape[1:]))
        outputs = adapter.call_model(probe, x.astype("float32"))[0]
        np.testing.assert_array_equal(outputs, value, err_msg=f"{entry['path']}: saturating "
                                      f"the printed {gate!r} block did not act as {gate!r}")


def _clone(layer: Any) -> Any:
    return layer.__class__.from_config(layer.get_config())


def test_explain_plot(saved: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "gates.png"
    result = run("explain", str(saved["lstm"]), "--plot", str(target))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert result.returncode == 2 and "--plot needs matplotlib" in result.stderr
    else:
        assert result.returncode == 0, result.stderr
        assert target.read_bytes()[:4] == b"\x89PNG"


def test_check_reproduces_the_model(saved: dict[str, Path]) -> None:
    result = run("check", str(saved["lstm"]), "--samples", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify.predict reproduces the model on 3 random batches" in result.stdout


@pytest.mark.parametrize("precision", ["strict", "default"])
def test_check_says_device_precision_and_kernels(saved: dict[str, Path], adapter: Any,
                                                 precision: str) -> None:
    """The device, the precision Keras ran at (strict: the settings set for the run), the
    kernel each recurrent layer ran, and the bound the outputs were held to (float32 here:
    no accelerator; TF32 only where a GPU's defaults allow it)."""
    result = run("check", str(saved["lstm"]), "--samples", "2", "--precision", precision)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"device: {adapter.device().describe()}"
    assert lines[1].startswith("precision: strict float32 (" if precision == "strict"
                               else "precision: the device's defaults")
    assert lines[2].startswith("kernels: ")
    if adapter.KERAS_MAJOR >= 3 and adapter.device().accelerator is None:
        assert "lstm" in lines[2] and "cudnn" not in lines[2]
    bound = "float32" if adapter.device().float32 == "float32" or precision == "strict" \
        else "tf32"
    assert f"of the {bound} bound" in lines[3]


def test_check_refuses_an_unknown_precision(saved: dict[str, Path]) -> None:
    result = run("check", str(saved["lstm"]), "--precision", "fast")
    assert result.returncode == 2
    assert "invalid choice: 'fast'" in result.stderr


def test_check_reproduces_gru_and_simple_rnn_models(saved: dict[str, Path]) -> None:
    result = run("check", str(saved["family"]), "--samples", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify.predict reproduces the model on 2 random batches" in result.stdout


@pytest.mark.parametrize("family", list(EXAMPLES))
def test_check_reproduces_each_real_model_family(adapter: Any, family: str,
                                                 tmp_path: Path) -> None:
    """The architectures people train (strategies.families.EXAMPLES), saved by this Keras and
    checked from the file: token inputs, masks, Conv1D, normalization, state passing, merges."""
    from verify.suite import keras_families

    model = keras_families.build(EXAMPLES[family])
    model.set_weights(keras_families.seeded_weights(model, seed=7))
    path = tmp_path / f"{family}.keras"
    model.save(path)
    result = run("check", str(path), "--samples", "2")
    from verify import environment

    if family == "attention_decoder" and environment.attention_value_mask_misbroadcast():
        # Keras 3.0-3.11 cannot run it on check's batches of 4 rows (5 decoder steps): exit 2,
        # Keras's error and verify.predict's reason, which names the divergence.
        assert result.returncode == 2, result.stdout + result.stderr
        assert "Keras cannot run the model on sampled batch 0" in result.stderr
        assert "attention-value-mask-misbroadcast-keras-3.0-3.11" in result.stderr
        return
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verify.predict reproduces the model on 2 random batches" in result.stdout


def test_check_exits_1_when_predict_is_wrong(saved: dict[str, Path],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A reference with its input and forget gates swapped must be caught on a real model."""
    from verify import cells

    monkeypatch.setattr(cells.LSTM, "gates", ("f", "i", "c", "o"))
    result = run("check", str(saved["lstm"]), "--samples", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISMATCH" in result.stdout and "verify.predict(model" in result.stdout


@pytest.mark.parametrize(
    ("layout", "expected"),
    [("keras", {"encoder/W_i": (3, 4), "encoder/U_o": (4, 4), "encoder/b_f": (4,),
                "bidi/forward/W_c": (4, 3), "bidi/backward/U_i": (3, 3)}),
     ("torch", {"encoder/weight_ih_l0": (16, 3), "encoder/weight_hh_l0": (16, 4),
                "encoder/bias_hh_l0": (16,), "bidi/weight_ih_l0_reverse": (12, 4)}),
     ("onnx", {"encoder/W": (1, 16, 3), "encoder/R": (1, 16, 4), "encoder/B": (1, 32),
               "bidi/W": (2, 12, 4)})],
)
def test_export_layouts(saved: dict[str, Path], tmp_path: Path, layout: str,
                        expected: dict[str, tuple[int, ...]]) -> None:
    import numpy as np

    target = tmp_path / f"{layout}.npz"
    result = run("export", str(saved["lstm"]), str(target), "--layout", layout)
    assert result.returncode == 0, result.stderr
    with np.load(target) as arrays:
        for name, shape in expected.items():
            assert arrays[name].shape == shape, name


def test_keras2_file(saved: dict[str, Path], adapter: Any) -> None:
    """tests/data/keras2_bilstm.h5 was saved by Keras 2.15. ``explain`` reads it as data under
    any Keras; loading it is what Keras 3 cannot do (its LSTM config carries Keras 2's
    time_major), so ``check`` says so in one line there."""
    result = run("explain", str(saved["keras2"]))
    assert result.returncode == 0, result.stderr
    assert "Bidirectional(LSTM)" in result.stdout
    checked = run("check", str(saved["keras2"]), "--samples", "1")
    if adapter.info().keras_major < 3:
        assert checked.returncode == 0, checked.stderr
    else:
        assert checked.returncode == 2
        assert "cannot load" in checked.stderr
        # Keras >= 3.4 stops at the LSTM's time_major; Keras 3.3 earlier, at the initializer
        # config Keras 2 wrote (no 'module' key).
        assert "time_major" in checked.stderr \
            or "Could not interpret initializer" in checked.stderr
        assert "Traceback" not in checked.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["explain", "{missing}"], "no such file or directory"),
        (["explain", "{text}"], "neither a .keras archive (zip) nor an HDF5"),
        (["explain", "{dense}"], "has no LSTM, GRU or SimpleRNN layer"),
        (["export", "{gru_before}", "{tmp}/out.npz", "--layout", "torch"],
         "reset_after=False has no torch.nn.GRU equivalent"),
        (["export", "{relu_lstm}", "{tmp}/out.npz", "--layout", "torch"],
         "cannot be exported to torch: torch.nn.LSTM computes activation in ['tanh']"),
        (["export", "{lstm}", "/proc/no/such/dir/out.npz"], "cannot write OUT"),
        (["export", "{lstm}", "{tmp}/out.txt"], "OUT must end in .npz"),
        (["export", "{lstm}", "{tmp}/out.npz", "--layout", "tf"], "--layout: invalid choice"),
        (["explain", "{lstm}", "--json", "{tmp}"], "it is a directory"),
        (["check", "{lstm}", "--samples", "0"], "--samples: expected a positive integer"),
    ],
)
def test_bad_model_input_exits_2_with_one_line(saved: dict[str, Path], tmp_path: Path,
                                               arguments: list[str], message: str) -> None:
    places = {**{name: str(path) for name, path in saved.items()},
              "missing": str(tmp_path / "missing.keras"), "tmp": str(tmp_path)}
    result = run(*(argument.format(**places) for argument in arguments))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="{failures}" skipped="0" tests="3"
 time="12.5">
<testcase classname="tests.test_divergences" name="test_environment_is_recorded">
 <properties><property name="environment" value="Keras 9.9 on tensorflow"/></properties>
</testcase>
<testcase classname="tests.test_divergences" name="test_divergence_is_exactly_as_named[x]">
 <properties><property name="divergence" value="hard-sigmoid-keras2"/>
 <property name="divergence_applies" value="True"/></properties>
</testcase>
<testcase classname="tests.test_forward" name="test_reference_equals_keras[lstm_forward]">
 <properties><property name="property" value="lstm_forward"/>
 <property name="examples" value="60"/><property name="rejected" value="2"/>
 <property name="worst" value="0.05"/></properties>{failure}
</testcase></testsuite></testsuites>
"""


def test_matrix_merges_environment_reports(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "tf215.xml").write_text(JUNIT.format(failures=0, failure=""))
    (reports / "jax.xml").write_text(JUNIT.format(failures=1, failure="<failure message='x'/>"))
    result = run("matrix", str(reports), "--markdown", str(tmp_path / "matrix.md"))
    assert result.returncode == 1, result.stdout + result.stderr  # jax failed
    assert "✓ 60 / 0.05" in result.stdout and "✗ 60 / 0.05" in result.stdout
    assert "1/2 environments green" in result.stdout and "jax: 1 failed of 3" in result.stdout
    assert "Keras 9.9 on tensorflow" in result.stdout
    assert "stale divergences (applied in no environment): masked-output" in result.stdout
    markdown = (tmp_path / "matrix.md").read_text()
    assert markdown.startswith("| environment | Keras | tests | lstm_forward |")
    assert "| tf215 | Keras 9.9 on tensorflow | ✓ 3 passed, 0 failed, 0 skipped |" in markdown


@pytest.mark.parametrize(("setup", "message"), [
    ("missing", "is not a directory"), ("empty", "no *.xml reports"),
    ("garbage", "cannot read"), ("notjunit", "has no <testsuite>")])
def test_matrix_refuses_unreadable_reports(tmp_path: Path, setup: str, message: str) -> None:
    reports = tmp_path / "reports"
    if setup != "missing":
        reports.mkdir()
    if setup == "garbage":
        (reports / "a.xml").write_text("<not xml")
    if setup == "notjunit":
        (reports / "a.xml").write_text("<html/>")
    result = run("matrix", str(reports))
    assert result.returncode == 2 and message in result.stderr, result.stderr
