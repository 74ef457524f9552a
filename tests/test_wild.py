"""Files as people wrote them: the layouts older Keras versions saved (nested wrapper configs
without ``module``, Keras 2.2's call-time ``initial_state`` inputs, ``>`` in a model name, a
GRU without ``reset_after``), weights-only files, and ``scan`` over a folder of them — and,
where the project's ``../shared/wild-models`` folder lies beside the checkout, the real files
committed to public repositories."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.test_files import DATA, fixture_io, run
from tests.test_sampling import _rewritten
from verify import files, proof

#: The real files (test data beside the project; never copied into it).
WILD = Path(os.environ.get("LSTM_VERIFY_WILD_MODELS",
                           Path(__file__).resolve().parents[2] / "shared" / "wild-models"))


def _keras3(adapter: Any) -> None:
    if adapter.info().keras_major < 3:
        pytest.skip("migrate writes Keras 3 files: it runs under Keras 3")


# --- migrate: what older Keras wrote -------------------------------------------------------

def test_migrate_nested_wrapper_configs_and_odd_model_names(adapter: Any, tmp_path: Path
                                                            ) -> None:
    """Keras < 2.13 wrote a Bidirectional's inner layer without ``module`` (Keras 3 cannot
    deserialize it), and Keras 2 allowed ``>`` in a model name (TensorFlow refuses it as a
    graph node name in Keras 3's predict). The migrated file must load, and ``model.predict``
    must give what Keras 2 gave."""
    _keras3(adapter)

    def older(document: dict[str, Any]) -> dict[str, Any]:
        document["config"]["name"] = "BiLSTM_v0.2>model>"
        for layer in document["config"]["layers"]:
            inner = layer["config"].get("layer")
            if isinstance(inner, dict):
                inner.pop("module", None)
                inner.pop("registered_name", None)
        return document

    path = _rewritten(tmp_path, "keras2_bilstm.h5", older, version="2.10.0")
    code, out, err = run("migrate", str(path), str(tmp_path / "new.keras"))
    assert code == 0, out + err
    assert "module 'keras.layers' added" in out and "name 'BiLSTM_v0.2>model>'" in out
    model = adapter.load_model(tmp_path / "new.keras")
    x, expected = fixture_io(DATA / "keras2_bilstm.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0), expected[0], atol=1e-5)


def test_migrate_writes_out_reset_after_false_for_a_keras_2_0_gru(adapter: Any,
                                                                  tmp_path: Path) -> None:
    _keras3(adapter)

    def older(document: dict[str, Any]) -> dict[str, Any]:
        for layer in document["config"]["layers"]:
            if layer["config"].get("reset_after") is False:
                del layer["config"]["reset_after"]
        return {"class_name": "Sequential", "config": document["config"]["layers"]}

    path = _rewritten(tmp_path, "keras2_gru.h5", older)
    code, out, err = run("migrate", str(path), str(tmp_path / "new.keras"))
    assert code == 0 and "reset_after=False written out" in out, out + err
    x, expected = fixture_io(DATA / "keras2_gru.h5")
    model = adapter.load_model(tmp_path / "new.keras")
    np.testing.assert_allclose(model.predict(x, verbose=0), expected[0], atol=1e-5)


def _legacy_h5(path: Path, document: dict[str, Any], weights: dict[str, list[np.ndarray]],
               *, version: str, names: dict[str, list[str]] | None = None) -> Path:
    """A legacy ``.h5`` laid out as Keras 2 writes it: ``model_config``, ``keras_version``,
    ``model_weights/<layer>`` with ``weight_names``."""
    import h5py

    with h5py.File(path, "w") as store:
        store.attrs["model_config"] = json.dumps(document)
        store.attrs["keras_version"] = version
        store.attrs["backend"] = "tensorflow"
        root = store.create_group("model_weights")
        root.attrs["layer_names"] = [name.encode() for name in weights]
        for layer, arrays in weights.items():
            group = root.create_group(layer)
            labels = (names or {}).get(layer) or [f"{layer}/w{i}:0" for i in range(len(arrays))]
            group.attrs["weight_names"] = [label.encode() for label in labels]
            for label, array in zip(labels, arrays, strict=True):
                group[label] = array
    return path


def _keras22_decoder(tmp_path: Path, *, masked: bool) -> Path:
    """A keras-io style decoder as Keras 2.2 saved it: the LSTM's ``initial_state`` recorded
    as two extra inbound tensors of its call."""
    rng = np.random.default_rng(3)

    def arrays(*shapes: tuple[int, ...]) -> list[np.ndarray]:
        return [rng.uniform(-0.6, 0.6, shape).astype(np.float32) for shape in shapes]

    def node(*names: str) -> list[list[list[Any]]]:
        return [[[name, 0, 0, {}] for name in names]]

    layers = [
        {"class_name": "InputLayer", "name": "tokens", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, None], "dtype": "float32", "name": "tokens"}},
        {"class_name": "Embedding", "name": "embedding", "inbound_nodes": node("tokens"),
         "config": {"name": "embedding", "input_dim": 12, "output_dim": 4,
                    "mask_zero": masked}},
        {"class_name": "InputLayer", "name": "h0", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 5], "dtype": "float32", "name": "h0"}},
        {"class_name": "InputLayer", "name": "c0", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 5], "dtype": "float32", "name": "c0"}},
        {"class_name": "LSTM", "name": "lstm", "inbound_nodes": node("embedding", "h0", "c0"),
         "config": {"name": "lstm", "units": 5, "return_sequences": True,
                    "return_state": True, "activation": "tanh",
                    "recurrent_activation": "sigmoid", "implementation": 1}},
        {"class_name": "Dense", "name": "dense", "inbound_nodes": node("lstm"),
         "config": {"name": "dense", "units": 3, "activation": "softmax"}},
    ]
    document = {"class_name": "Model", "config": {
        "name": "decoder", "layers": layers,
        "input_layers": [["tokens", 0, 0], ["h0", 0, 0], ["c0", 0, 0]],
        "output_layers": [["dense", 0, 0], ["lstm", 0, 1], ["lstm", 0, 2]]}}
    weights = {"tokens": [], "embedding": arrays((12, 4)), "h0": [], "c0": [],
               "lstm": arrays((4, 20), (5, 20), (20,)), "dense": arrays((5, 3), (3,))}
    return _legacy_h5(tmp_path / f"decoder{'_masked' if masked else ''}.h5", document,
                      weights, version="2.2.4")


def test_migrate_a_keras_2_2_decoder_with_call_time_states(adapter: Any,
                                                           tmp_path: Path) -> None:
    _keras3(adapter)
    path = _keras22_decoder(tmp_path, masked=False)
    read = files.read(path)
    x = proof.sample_inputs(read, np.random.default_rng(0), timesteps=6)
    before = [np.asarray(y) for y in read.forward(x)]
    code, out, err = run("migrate", str(path), str(tmp_path / "new.keras"))
    assert code == 0, out + err
    assert "initial_state from ['h0', 'c0'] written as Keras 3's initial_state keyword" in out
    model = adapter.load_model(tmp_path / "new.keras")
    after = model.predict(x, verbose=0)
    for got, want in zip(after, before, strict=True):
        np.testing.assert_allclose(got, want, atol=2e-5)


def test_migrate_refuses_a_masked_decoder_keras_3_would_compute_differently(
        adapter: Any, tmp_path: Path) -> None:
    """Keras 2 applied the input's mask to a layer called with initial_state; Keras 3 drops
    it: the rewrite would be another function, so it is refused naming the divergence."""
    _keras3(adapter)
    path = _keras22_decoder(tmp_path, masked=True)
    code, out, err = run("migrate", str(path), str(tmp_path / "new.keras"))
    assert code == 2 and "initial-state-drops-mask-keras3" in err, out + err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "new.keras").exists()


# --- weights-only files ---------------------------------------------------------------------

def _weights_only(path: Path) -> tuple[Path, dict[str, list[np.ndarray]]]:
    """A Keras 2 ``save_weights`` file: an Embedding, an LSTM(3), a GRU(2, reset_after), a
    Bidirectional(SimpleRNN(2)) and a Dense, with the weight names Keras 2 gives them."""
    import h5py

    rng = np.random.default_rng(5)

    def arrays(*shapes: tuple[int, ...]) -> list[np.ndarray]:
        return [rng.normal(size=shape).astype(np.float32) for shape in shapes]

    layers = {
        "embedding": (["embeddings"], arrays((9, 4))),
        "rnn_1": (["kernel", "recurrent_kernel", "bias"], arrays((4, 12), (3, 12), (12,))),
        "gru": (["kernel", "recurrent_kernel", "bias"], arrays((3, 6), (2, 6), (2, 6))),
        "bidirectional": (
            [f"{side}_simple_rnn/{name}" for side in ("forward", "backward")
             for name in ("kernel", "recurrent_kernel", "bias")],
            arrays((2, 2), (2, 2), (2,), (2, 2), (2, 2), (2,))),
        "output": (["kernel", "bias"], arrays((4, 9), (9,))),
    }
    with h5py.File(path, "w") as store:
        store.attrs["keras_version"] = "2.2.4"
        store.attrs["backend"] = "tensorflow"
        store.attrs["layer_names"] = [b"input", *(name.encode() for name in layers)]
        store.create_group("input").attrs["weight_names"] = np.array([], dtype=float)
        for name, (labels, values) in layers.items():
            group = store.create_group(name)
            full = [f"{name}/{label}:0" for label in labels]
            group.attrs["weight_names"] = [label.encode() for label in full]
            for label, value in zip(full, values, strict=True):
                group[label] = value
    return path, {name: values for name, (_, values) in layers.items()}


def test_a_weights_only_file_is_explained_from_its_arrays(tmp_path: Path) -> None:
    path, stored = _weights_only(tmp_path / "weights.hdf5")
    code, out, err = run("explain", str(path), "--json", "-")
    assert code == 0, out + err
    document = json.loads(out)
    found = {layer["path"]: layer for layer in document["layers"]}
    assert {path_: (layer["kind"], layer["units"], layer["input_dim"])
            for path_, layer in found.items()} == {
        "rnn_1": ("LSTM", 3, 4), "gru": ("GRU", 2, 3),
        "bidirectional": ("Bidirectional(SimpleRNN)", 2, 2)}
    assert found["gru"]["reset_after"] is True
    assert all(layer["parameters"]["matches"] for layer in found.values())
    assert any("weights only" in note for note in document["notes"])
    assert sum("not read: layer" in note for note in document["notes"]) == 2  # embedding, output
    exported = tmp_path / "w.npz"
    code, out, err = run("export", str(path), str(exported))
    assert code == 0, out + err
    with np.load(exported) as arrays:
        np.testing.assert_array_equal(arrays["rnn_1/W_f"], stored["rnn_1"][0][:, 3:6])
        np.testing.assert_array_equal(arrays["gru/rb_h"], stored["gru"][2][1, 4:6])
    np.save(tmp_path / "x.npy", np.zeros((1, 3), np.float32))
    code, _, err = run("predict", str(path), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"))
    assert code == 2 and "weights only (save_weights)" in err and "load_weights" in err, err


# --- scan -------------------------------------------------------------------------------------

def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    (folder / "old").mkdir(parents=True)
    shutil.copy(DATA / "keras3_gru.keras", folder / "gru.keras")
    shutil.copy(DATA / "keras2_text.h5", folder / "old" / "text.h5")
    _weights_only(folder / "weights.hdf5")
    _rewritten(tmp_path, "keras2_gru.h5", lambda document: document, version="1.1.1")
    shutil.copy(tmp_path / "keras2_gru.h5", folder / "old" / "keras1.h5")
    (folder / "notes.txt").write_text("not a model")
    return folder


def test_scan_reads_explains_and_predicts_every_file_without_keras(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    code, out, err = run("scan", str(folder), "--json", "-")
    assert code == 0, out + err
    document = json.loads(out)
    rows = {row["file"]: row for row in document["rows"]}
    assert sorted(rows) == ["gru.keras", "old/keras1.h5", "old/text.h5", "weights.hdf5"]
    status = {name: (row["explain"]["status"], row["predict"]["status"])
              for name, row in rows.items()}
    assert status == {"gru.keras": ("ok", "ok"), "old/text.h5": ("ok", "ok"),
                      "weights.hdf5": ("ok", "refused"),
                      "old/keras1.h5": ("refused", "refused")}
    assert "written by Keras 1.1.1" in rows["old/keras1.h5"]["explain"]["detail"]
    assert rows["old/text.h5"]["keras_version"] == "2.15.0"
    assert document["summary"] == "4 files: explained 3/4, predicted 2/4; wrong answers: 0"
    code, out, _ = run("scan", str(folder))
    assert code == 0 and "why:\n" in out and out.rstrip().endswith("wrong answers: 0")
    assert "  weights.hdf5: predict refused: weights only" in out


def test_scan_usage_errors(tmp_path: Path) -> None:
    code, _, err = run("scan", str(tmp_path / "nope"))
    assert code == 2 and "not a folder" in err
    code, _, err = run("scan", str(tmp_path))
    assert code == 2 and "no model files under it" in err


def test_scan_check_and_migrate_and_a_wrong_answer_exits_1(
        adapter: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path)
    major = adapter.info().keras_major
    keras = adapter.keras
    fresh = keras.Sequential([keras.Input((5, 2)), keras.layers.GRU(3), keras.layers.Dense(2)])
    fresh.save(folder / ("fresh.keras" if major >= 3 else "fresh.h5"))  # the running Keras's
    arguments = ["scan", str(folder), "--check", "--json", "-"]
    if major >= 3:
        arguments += ["--migrate", str(tmp_path / "new")]
    code, out, err = run(*arguments)
    assert code == 0, out + err
    rows = {row["file"]: row for row in json.loads(out)["rows"]}
    mine = "fresh.keras" if major >= 3 else "fresh.h5"
    other = "old/text.h5" if major >= 3 else "gru.keras"
    assert rows[mine]["check"]["status"] == "ok", rows[mine]
    assert rows[other]["check"]["status"] == "refused"
    assert "TF_USE_LEGACY_KERAS" in rows[other]["check"]["detail"]
    if major >= 3:
        assert rows["old/text.h5"]["migrate"]["status"] == "ok", rows["old/text.h5"]
        assert (tmp_path / "new" / "old" / "text.keras").is_file()
    # A forward that is off by a little is a wrong answer: exit 1, named in the row.
    real = proof.forward
    monkeypatch.setattr(proof, "forward", lambda *a, **k: [
        np.asarray(y) + 0.01 for y in proof.listed(real(*a, **k))])
    code, out, err = run("scan", str(folder), "--check", "--json", "-")
    assert code == 1, out + err
    rows = {row["file"]: row for row in json.loads(out)["rows"]}
    assert rows[mine]["check"]["status"] == "wrong"
    assert "MISMATCH" in rows[mine]["check"]["detail"]


# --- the real files -------------------------------------------------------------------------

@pytest.mark.skipif(not WILD.is_dir(), reason=f"{WILD} (real files, beside the project) is "
                    "not on this machine")
def test_scan_of_the_real_files_gives_no_wrong_answer() -> None:
    """24 files from 22 public repositories (Keras 1.1.1 to 3.13): read, explained and run
    without TensorFlow; only Keras 1, a custom class and a weights-only file are refused."""
    from verify import scanning

    rows = scanning.scan(WILD)
    assert not [row.file for row in rows if row.wrong]
    explained = [row.file for row in rows if row.explain.status == "ok"]
    predicted = [row.file for row in rows if row.predict.status == "ok"]
    assert len(rows) >= 24 and len(explained) >= len(rows) - 1 and len(predicted) >= len(rows) - 3
    for row in rows:
        if row.predict.status != "ok":
            assert any(reason in row.predict.detail for reason in (
                "Keras 1", "weights only", "custom class", "does not read")), row
