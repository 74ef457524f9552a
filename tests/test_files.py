"""Model files read as data (verify.files), the file commands without TensorFlow, hostile files,
and ``migrate`` (Keras 2 .h5 → Keras 3 .keras, proven).

The fixtures in tests/data were written by real Keras (tests/data/make_fixtures.py: Keras 2.15
for ``keras2_*.h5``, Keras 3.15 for ``keras3_*.keras``) together with the outputs Keras's own
``model.predict`` gave, so the tests without the ``adapter`` fixture check the NumPy forward
against Keras without importing it; they are what the TF-free tox environment runs
(``pytest -m "not keras" tests/test_files.py``).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import marshal
import os
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import verify
from verify import cli, files, migrate, terminal
from verify.semantics import KERAS2

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parent.parent
FIXTURES = sorted(path for path in DATA.iterdir()
                  if path.suffix in (".h5", ".keras") and path.stem != "keras2_lambda")
WITH_OUTPUTS = [path for path in FIXTURES
                if any(key.startswith("y") for key in np.load(f"{path}.npz").files)
                and path.stem != "keras2_cudnn"]
#: Keras 2 files: from TensorFlow 2.15's Keras (keras2_*) and from tf-keras 2.21 (tfkeras_*).
KERAS2_FIXTURES = sorted([*DATA.glob("keras2_*.h5"), *DATA.glob("tfkeras_*.h5")])


def run(*arguments: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = cli.main(list(arguments))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, stdout.getvalue(), stderr.getvalue()


def fixture_io(path: Path) -> tuple[Any, list[np.ndarray]]:
    with np.load(f"{path}.npz") as stored:
        xs = [stored[key] for key in sorted(stored.files) if key.startswith("x")]
        ys = [stored[key] for key in sorted(stored.files) if key.startswith("y")]
    return (xs[0] if len(xs) == 1 else xs), ys


# --- reading, against outputs real Keras gave ------------------------------------------


@pytest.mark.parametrize("path", WITH_OUTPUTS, ids=lambda path: path.name)
def test_predict_file_gives_what_keras_gave(path: Path) -> None:
    """Each fixture's outputs from model.predict under the Keras that wrote it (2.15 or 3.15)
    are reproduced from the file alone, in the writer's semantics."""
    x, expected = fixture_io(path)
    read = files.read(path)
    # A Keras 3 file (written by Keras >= 3.7, read for TensorFlow, its backend when the file
    # does not name one) carries ops-add-bias-channel-axis-1-tensorflow-keras-3.7.
    assert read.semantics.name == ("keras3-tf-bias-add" if path.name.startswith("keras3")
                                   else "keras2")
    actual = verify.predict_file(path, x)
    outputs = actual if isinstance(actual, list) else [actual]
    for index, (got, want) in enumerate(zip(outputs, expected, strict=True)):
        error = float(np.max(np.abs(got - want)))
        assert error <= 1e-5 * (1 + float(np.max(np.abs(want)))), (
            f"{path.name} output {index}: worst error {error:.3g}\n"
            f"verify.predict_file: {got.ravel()[:6]}\nKeras: {want.ravel()[:6]}")


def test_cudnn_weights_convert_as_keras2_converts_them() -> None:
    """keras2_cudnn.h5's outputs are those of its LSTM/GRU twin after Keras 2's own loader
    converted the CuDNN weights; migrate's conversion must give the same function."""
    path = DATA / "keras2_cudnn.h5"
    x, (expected,) = fixture_io(path)
    plan = migrate.plan(files.read(path))
    actual = verify.model.forward(plan.reference_config, plan.reference_weights, x,
                                  semantics=KERAS2)
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(NotImplementedError, match="CuDNNLSTM"):  # read, but not run as is
        verify.predict_file(path, x)


def test_reader_reports_what_the_file_says() -> None:
    path = DATA / "keras2_bilstm.h5"
    read = files.read(path)
    assert (read.format, read.keras_version, read.backend) == ("h5", "2.15.0", "tensorflow")
    assert [path for path, _ in read.layers()] == ["input_1", "masking", "bidirectional",
                                                    "lstm_1", "dense"]
    assert [w.shape for w in read.weights["bidirectional"]] == [(3, 16), (4, 16), (16,)] * 2
    assert read.inputs() == [((None, 5, 3), "float32")]


# --- the file commands, without TensorFlow ---------------------------------------------

NO_TENSORFLOW = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras", "tf_keras", "jax", "torch"):
            raise ImportError(f"{name} is not installed here (the test refuses it)")
sys.meta_path.insert(0, Refuse())
from verify import cli
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("path", [DATA / "keras2_text.h5", DATA / "keras3_text.keras"],
                         ids=lambda path: path.name)
def test_file_commands_work_where_tensorflow_cannot_be_imported(path: Path,
                                                                tmp_path: Path) -> None:
    x, expected = fixture_io(path)
    np.save(tmp_path / "x.npy", x)
    for arguments in (["explain", str(path)],
                      ["export", str(path), str(tmp_path / "w.npz"), "--layout", "torch"],
                      ["predict", str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")]):
        done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW, *arguments], cwd=ROOT,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr  # quiet: nothing but our own output
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected[0], atol=1e-5)
    with np.load(tmp_path / "w.npz") as exported:
        assert any(name.endswith("weight_ih_l0") for name in exported.files)


@pytest.mark.parametrize("arguments", [
    ["report", "--examples", "1"], ["check", str(DATA / "keras3_gru.keras")],
    ["migrate", str(DATA / "keras2_gru.h5"), "{tmp}/new.keras"]], ids=lambda a: a[0])
def test_keras_commands_without_keras_say_how_to_install_it(arguments: list[str],
                                                           tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW,
                           *(argument.format(tmp=tmp_path) for argument in arguments)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"error: {arguments[0]} runs Keras, which cannot be imported here" in done.stderr
    assert "pip install 'lstm-verify[tf]'" in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "new.keras").exists()


def test_predict_command_checks_its_arguments(tmp_path: Path) -> None:
    path = DATA / "keras2_bilstm.h5"
    np.save(tmp_path / "bad.npy", np.zeros((2, 5, 4), np.float32))
    code, _, err = run("predict", str(path), str(tmp_path / "bad.npy"), str(tmp_path / "y.npy"))
    assert code == 2 and "for x's 4 features" in err and err.count("\n") == 1, err
    (tmp_path / "y.npy").write_bytes(b"keep")
    np.save(tmp_path / "x.npy", np.zeros((2, 5, 3), np.float32))
    code, _, err = run("predict", str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"))
    assert code == 2 and "exists: pass --force" in err, err
    assert (tmp_path / "y.npy").read_bytes() == b"keep"
    code, out, err = run("predict", str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"),
                         "--force", "--semantics", "keras3")
    assert code == 0, err
    assert "keras3 semantics" in out and np.load(tmp_path / "y.npy").shape == (2, 2)


# --- bad and hostile files -------------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _keras_members() -> dict[str, bytes]:
    with zipfile.ZipFile(DATA / "keras3_bilstm.keras") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _hostile(tmp_path: Path, kind: str) -> Path:
    """One bad file of each kind the reader must refuse."""
    target = tmp_path / f"{kind}.keras"
    members = _keras_members()
    if kind == "empty":
        target.write_bytes(b"")
    elif kind == "text":
        target.write_text("not a model\n")
    elif kind == "truncated_keras":
        target.write_bytes((DATA / "keras3_bilstm.keras").read_bytes()[:3000])
    elif kind == "truncated_h5":
        target = tmp_path / "truncated.h5"
        target.write_bytes((DATA / "keras2_bilstm.h5").read_bytes()[:4000])
    elif kind == "no_config":
        del members["config.json"]
        _zip(target, members)
    elif kind == "sharded":
        del members["model.weights.h5"]
        _zip(target, {**members, "model.weights.json": b"{}", "model_00000.weights.h5": b""})
    elif kind == "traversal":
        _zip(target, {**members, "../../escaped.txt": b"x"})
    elif kind == "bomb":
        _zip(target, {**members, "model.weights.h5": b"\0" * (3 << 20)})
    elif kind == "bad_json":
        _zip(target, {**members, "config.json": b"{not json"})
    elif kind == "unknown_class":
        config = json.loads(members["config.json"])
        config["config"]["layers"][2]["class_name"] = "Conv2D"
        _zip(target, {**members, "config.json": json.dumps(config).encode()})
    elif kind == "custom_class":
        config = json.loads(members["config.json"])
        config["config"]["layers"][2].update(module="my_project.layers",
                                             registered_name="my_project>Attention")
        _zip(target, {**members, "config.json": json.dumps(config).encode()})
    elif kind == "extra_layer_keras":
        import h5py

        weights = io.BytesIO(members["model.weights.h5"])
        with h5py.File(weights, "r+") as store:
            store["layers/conv2d/vars/0"] = np.zeros((3, 3), np.float32)
        _zip(target, {**members, "model.weights.h5": weights.getvalue()})
    elif kind in ("wrong_shape", "missing_weight", "external_link", "extra_layer_h5",
                  "text_array"):
        import h5py

        target = tmp_path / f"{kind}.h5"
        shutil.copy(DATA / "keras2_bilstm.h5", target)
        with h5py.File(target, "r+") as store:
            group = store["model_weights/lstm_1/lstm_1/lstm_cell"]
            if kind == "wrong_shape":
                del group["bias:0"]
                group["bias:0"] = np.zeros(13, np.float32)
            elif kind == "missing_weight":
                names = store["model_weights/lstm_1"].attrs["weight_names"]
                store["model_weights/lstm_1"].attrs["weight_names"] = names[:2]
            elif kind == "extra_layer_h5":
                store["model_weights"].attrs["layer_names"] = [
                    *(str(name).encode() for name in
                      store["model_weights"].attrs["layer_names"]), b"sneaky"]
                store["model_weights/sneaky/k:0"] = np.zeros(2, np.float32)
                store["model_weights/sneaky"].attrs["weight_names"] = [b"k:0"]
            elif kind == "text_array":
                del group["bias:0"]
                group["bias:0"] = np.array([b"rm -rf /"] * 12)
            else:
                del group["bias:0"]
                group["bias:0"] = h5py.ExternalLink("/etc/passwd", "/secret")
    return target


HOSTILE = {
    "empty": "is empty",
    "text": "neither a .keras archive (zip) nor an HDF5",
    "truncated_keras": "not a readable zip archive",
    "truncated_h5": "not a readable HDF5 file",
    "no_config": "no config.json in it",
    "sharded": "its weights are sharded",
    "traversal": "points outside the archive",
    "bomb": "over the 1000000-byte limit",
    "bad_json": "config.json is not valid JSON",
    "unknown_class": "is a 'Conv2D', which lstm-verify does not read",
    "custom_class": "custom class 'my_project>Attention'",
    "wrong_shape": "the weights do not match the config",
    "missing_weight": "the weights do not match the config",
    "external_link": "ExternalLink (a link to other data): refused",
    "extra_layer_keras": "holds arrays for layers ['conv2d'] that the config does not have",
    "extra_layer_h5": "holds arrays for layers ['sneaky'] that the config does not have",
    "text_array": "has dtype |S8, expected numbers",
}


#: explain and export read around a layer they cannot compute (see the next test); the
#: unknown class's arrays sit where the archive does not expect them, so it stays refused.
_READ_AROUND = {"custom_class"}


@pytest.mark.parametrize(("command", "kind"), [
    (command, kind) for command in ("explain", "export", "predict", "migrate")
    for kind in HOSTILE if not (command in ("explain", "export") and kind in _READ_AROUND)])
def test_bad_files_exit_2_with_one_line_and_write_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, command: str) -> None:
    monkeypatch.setattr(files.model_file, "MAX_MEMBER_BYTES", 1_000_000)
    path = _hostile(tmp_path, kind)
    np.save(tmp_path / "x.npy", np.zeros((1, 5, 3), np.float32))
    out = tmp_path / "out"
    arguments = {"explain": ["explain", str(path), "--json", str(out / "e.json")],
                 "export": ["export", str(path), str(out / "w.npz")],
                 "predict": ["predict", str(path), str(tmp_path / "x.npy"), str(out / "y.npy")],
                 "migrate": ["migrate", str(path), str(out / "m.keras")]}[command]
    code, stdout, stderr = run(*arguments)
    assert code == 2, stdout + stderr
    assert HOSTILE[kind] in stderr, stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not out.exists() or not any(out.iterdir()), "an output was written"
    assert not (tmp_path.parent / "escaped.txt").exists()


@pytest.mark.parametrize("kind", sorted(_READ_AROUND))
def test_explain_reads_around_a_layer_it_cannot_compute(tmp_path: Path, kind: str) -> None:
    """A custom or unknown class elsewhere in the model: explain decodes the recurrent layers
    it can read, names the one it did not; predict still refuses the file (above)."""
    path = _hostile(tmp_path, kind)
    code, stdout, stderr = run("explain", str(path))
    assert (code, stderr) == (0, ""), stdout + stderr
    assert "parameters:" in stdout and "✓" in stdout
    assert "note: not read: layer 'bidirectional'" in stdout, stdout
    assert HOSTILE[kind] in stdout.split("note: not read: ", 1)[1], stdout


def test_missing_file_and_existing_output(tmp_path: Path) -> None:
    code, _, err = run("explain", str(tmp_path / "nope.keras"))
    assert (code, err) == (2, f"error: {tmp_path / 'nope.keras'}: no such file or directory\n")
    target = tmp_path / "w.npz"
    target.write_bytes(b"mine")
    code, _, err = run("export", str(DATA / "keras3_gru.keras"), str(target))
    assert code == 2 and "exists: pass --force to overwrite it" in err
    assert target.read_bytes() == b"mine"
    code, _, err = run("export", str(DATA / "keras3_gru.keras"), str(target), "--force")
    assert code == 0, err
    code, _, err = run("export", str(DATA / "keras3_gru.keras"), "/proc/nowhere/w.npz")
    assert code == 2 and "cannot write OUT" in err


def test_lambda_code_in_a_file_is_never_run(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """keras2_lambda.h5's Lambda writes $LSTM_VERIFY_MARKER when its code runs (as Keras 2's
    load_model runs it). First the payload is shown to be live, then every command meets it."""
    path = DATA / "keras2_lambda.h5"
    marker = tmp_path / "marker"
    monkeypatch.setenv("LSTM_VERIFY_MARKER", str(marker))
    import h5py

    with h5py.File(path) as store:
        config = json.loads(store.attrs["model_config"])
    stored = next(layer for layer in config["config"]["layers"]
                  if layer["class_name"] == "Lambda")["config"]["function"]
    code = marshal.loads(base64.decodebytes(stored[0].encode("ascii")))
    types.FunctionType(code, {"__builtins__": __builtins__})(np.zeros(1))
    assert marker.read_text() == "the Lambda's code ran"
    marker.unlink()
    np.save(tmp_path / "x.npy", np.zeros((1, 4, 2), np.float32))
    never_run = "is a Lambda: its Python code is stored in the file and is never run"
    for arguments in (["explain", str(path)], ["export", str(path), str(tmp_path / "w.npz")],
                      ["predict", str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                      ["migrate", str(path), str(tmp_path / "m.keras")],
                      ["check", str(path)]):
        code_, out, err = run(*arguments)
        if arguments[0] in ("explain", "export"):  # the recurrent layers around it are read
            assert code_ == 0 and f"note: not read: layer 'lambda' {never_run}" in out, out + err
        else:
            assert code_ == 2 and never_run in err, err
        assert not marker.exists(), f"{arguments[0]} ran the Lambda's code"
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / path.name).write_bytes(path.read_bytes())
    code_, out, err = run("scan", str(folder), "--check", "--migrate", str(tmp_path / "new"))
    assert code_ == 0 and never_run in out and "wrong answers: 0" in out, out + err
    assert not marker.exists(), "scan ran the Lambda's code"
    with pytest.raises(files.UnsupportedLayer, match="Lambda"):
        verify.predict_file(path, np.zeros((1, 4, 2)))
    assert not marker.exists()


# --- the reader against the running Keras ----------------------------------------------


def _flat(read: files.ModelFile) -> list[np.ndarray]:
    return [array for path, _ in read.layers() for array in read.weights.get(path, [])]


@given(data=st.data(), seed=st.integers(0, 2**31 - 1), suffix=st.sampled_from([".keras", ".h5"]))
def test_reader_gives_the_weights_and_function_keras_saved(adapter: Any, tmp_path_factory: Any,
                                                           data: Any, seed: int,
                                                           suffix: str) -> None:
    """A model of each real-model family, saved by this Keras in either format and read back
    as data: the weights in get_weights() order, and forward(config, weights) equals
    verify.predict of the model itself."""
    from strategies.models import model_inputs, model_specs
    from verify.suite import keras_families
    from verify.suite.properties.forward import listed

    spec = data.draw(model_specs(), label="spec")
    model = keras_families.build(spec)
    model.set_weights(keras_families.seeded_weights(model, seed=seed))
    path = tmp_path_factory.mktemp("saved") / f"model{suffix}"
    model.save(path)
    read = files.read(path)
    flat = _flat(read)
    expected = model.get_weights()
    assert [w.shape for w in flat] == [w.shape for w in expected], spec
    for got, want in zip(flat, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    x = data.draw(model_inputs(spec, batch_size=2), label="x")
    semantics = adapter.running_semantics()
    from_file = verify.model.forward(read.config, read.weights, x, semantics=semantics)
    from_model = verify.predict(model, x, semantics=semantics)
    for got, want in zip(listed(from_file), listed(from_model), strict=True):
        np.testing.assert_array_equal(got, want)


def test_nested_and_shared_layers_read_in_get_weights_order(adapter: Any,
                                                             tmp_path: Path) -> None:
    keras = adapter.keras
    layers = keras.layers
    rng = np.random.default_rng(3)
    inner = keras.Sequential([keras.Input((6, 3)), layers.LSTM(4, return_sequences=True),
                              layers.BatchNormalization(), layers.GRU(3)], name="encoder")
    shared = layers.Dense(2, name="shared")
    a, b = keras.Input((6, 3)), keras.Input((6, 3))
    merged = layers.Add()([shared(inner(a)), shared(inner(b))])
    model = keras.Model([a, b], layers.Bidirectional(layers.LSTM(2))(
        layers.RepeatVector(3)(merged)))
    model.set_weights([rng.uniform(0.1, 0.9, w.shape).astype("float32")
                       for w in model.get_weights()])
    x = [rng.uniform(-1, 1, (2, 6, 3)), rng.uniform(-1, 1, (2, 6, 3))]
    for suffix in (".keras", ".h5"):
        model.save(tmp_path / f"m{suffix}")
        read = files.read(tmp_path / f"m{suffix}")
        per_layer = {record.path: record.weights for record in adapter.layer_records(model)}
        for path, arrays in per_layer.items():
            assert len(read.weights[path]) == len(arrays), (suffix, path)
            for got, want in zip(read.weights[path], arrays, strict=True):
                np.testing.assert_array_equal(got, want)
        semantics = adapter.running_semantics()
        np.testing.assert_array_equal(
            verify.model.forward(read.config, read.weights, x, semantics=semantics),
            verify.predict(model, x, semantics=semantics))


# --- migrate -----------------------------------------------------------------------------

MIGRATABLE = [path for path in KERAS2_FIXTURES
              if "hard_sigmoid" not in path.name and path.stem != "keras2_lambda"]


@pytest.mark.parametrize("path", MIGRATABLE, ids=lambda path: path.name)
def test_migrate_converts_and_proves_keras2_files(adapter: Any, path: Path,
                                                  tmp_path: Path) -> None:
    target = tmp_path / "new.keras"
    code, out, err = run("migrate", str(path), str(target))
    if adapter.info().keras_major < 3:
        assert code == 2 and "the installed Keras is 2." in err, err
        return
    if _rules_change_the_function(adapter, path):
        # This Keras computes the model differently (e.g. keras-nightly 3.16 passes no mask on
        # after return_sequences): migrate must refuse, name the rule and write nothing.
        assert code == 1 and "MIGRATION NOT PROVEN" in out, out + err
        assert "computes this model differently from the Keras that wrote it" in out
        assert not target.exists()
        return
    assert code == 0, out + err
    assert "computes the original model's function on 4 random batches" in out
    loaded = adapter.load_model(target)  # this Keras loads it
    x, expected = fixture_io(path)
    if expected and path.stem != "keras2_cudnn":
        np.testing.assert_allclose(adapter.call_model(loaded, x)[0], expected[0], atol=1e-5)
    assert not list(tmp_path.glob(".*partial*"))


def _rules_change_the_function(adapter: Any, path: Path) -> bool:
    """Whether the running Keras's semantics give the fixture's stored inputs other outputs
    than those Keras 2 gave (so no Keras 3 file can compute the Keras 2 function here)."""
    x, expected = fixture_io(path)
    if not expected or path.stem == "keras2_cudnn":
        return False
    read = files.read(path)
    here = verify.model.forward(read.config, read.weights, x,
                                semantics=adapter.running_semantics())
    return not np.allclose(here, expected[0], atol=1e-4)


@pytest.mark.parametrize("path", [DATA / "keras2_hard_sigmoid.h5",
                                  DATA / "keras2_gru_hard_sigmoid.h5"], ids=lambda p: p.name)
def test_migrate_refuses_hard_sigmoid_unless_rescaled(adapter: Any, path: Path,
                                                      tmp_path: Path) -> None:
    target = tmp_path / "new.keras"
    code, _, err = run("migrate", str(path), str(target))
    assert code == 2 and "Keras 2's hard_sigmoid is clip(0.2x + 0.5, 0, 1)" in err, err
    assert "--rescale-hard-sigmoid" in err and not target.exists()
    if adapter.info().keras_major < 3:
        return
    code, out, err = run("migrate", str(path), str(target), "--rescale-hard-sigmoid")
    assert code == 0, out + err
    x, expected = fixture_io(path)
    np.testing.assert_allclose(adapter.call_model(adapter.load_model(target), x)[0],
                               expected[0], atol=1e-5)


def test_migrate_proof_fails_when_the_function_changes(adapter: Any, tmp_path: Path) -> None:
    """The proof is not a formality: without the 1.2 scaling (the hard_sigmoid mapping undone)
    the migrated model computes another function, and migrate says so and writes nothing."""
    if adapter.info().keras_major < 3:
        pytest.skip("migrate builds with Keras 3; this Keras is 2 (refusal tested above)")
    plan = migrate.plan(files.read(DATA / "keras2_hard_sigmoid.h5"), rescale_hard_sigmoid=True)
    plan.weights = {path: [np.array(a) for a in arrays]
                    for path, arrays in plan.source.weights.items()}
    result = migrate.run(plan, tmp_path / "new.keras")
    assert not result.proven and "mismatch on sample 0" in result.failure
    assert not (tmp_path / "new.keras").exists()


def test_lstm_activation_hard_sigmoid_has_no_mapping() -> None:
    read = files.read(DATA / "keras2_hard_sigmoid.h5")
    config = json.loads(json.dumps(read.config))
    lstm = next(layer for layer in config["layers"] if layer["class_name"] == "LSTM")
    lstm["config"]["activation"] = "hard_sigmoid"
    changed = files.ModelFile(read.path, read.format, read.keras_version, read.backend, config,
                              read.weights, read.model_class)
    with pytest.raises(migrate.CannotMigrate, match="no exact mapping exists here"):
        migrate.plan(changed, rescale_hard_sigmoid=True)


def test_keras_commands_are_quiet_unless_verbose(adapter: Any, tmp_path: Path) -> None:
    """TensorFlow prints oneDNN/absl lines on file descriptor 2 at start-up; check hides them
    (and library warnings) unless --verbose."""
    keras = adapter.keras
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.GRU(2)])
    path = tmp_path / ("model.keras" if adapter.info().keras_major >= 3 else "model.h5")
    model.save(path)  # a file the running Keras can load (Keras 3.3 cannot read 3.15's)
    arguments = [sys.executable, "-m", "verify", "check", str(path), "--samples", "1"]
    # TensorFlow's own log level at its most talkative: what --verbose shows, the default hides.
    loud_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}
    quiet = subprocess.run(arguments, cwd=ROOT, capture_output=True, text=True, timeout=300,
                           check=False, env=loud_env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    assert "verify.predict reproduces the model" in quiet.stdout
    if adapter.BACKEND == "tensorflow":
        loud = subprocess.run([*arguments, "--verbose"], cwd=ROOT, capture_output=True,
                              text=True, timeout=300, check=False, env=loud_env)
        assert loud.returncode == 0 and loud.stderr != "", loud.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    for out, shown in ((_Terminal(), True), (io.StringIO(), False)):
        with terminal.Progress(out, "migrate", 3) as progress:
            progress.step(0, "building")
            progress.step(1)
        text = out.getvalue()
        assert ("\rmigrate: 1/3 building" in text and "\rmigrate: 2/3" in text) is shown
        assert text.endswith("\r") if shown else text == ""
