"""Named divergences between Keras versions and backends (``divergences.toml`` beside this
module), and the probes that observe each one on the running Keras.

>>> [entry.name for entry in load()][:2]
['hard-sigmoid-keras2', 'masked-output-carried-state-jax']
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verify.environment import major_minor

DATA = Path(__file__).with_name("divergences.toml")
_CONDITIONS = frozenset({"keras", "backend", "legacy", "tensorflow_below", "keras_below",
                         "keras_from", "gpu"})
_FIELDS = ("name", "what", "applies", "probe", "observed", "otherwise", "reason", "source")
#: Optional fields: ``needs = "gpu"`` (the entry can apply only on a GPU: elsewhere its probe
#: still runs and must observe ``otherwise``, and the matrix of CPU environments does not call
#: it stale); ``unmeasured`` (why no environment of ours has seen it apply: written from the
#: sources it cites).
_OPTIONAL = ("needs", "unmeasured")


@dataclass(frozen=True)
class Environment:
    """What a condition is matched against (from :func:`verify.keras_adapter.info`)."""

    keras_major: int
    backend: str
    legacy_keras: bool
    tensorflow_version: str | None
    keras_version: str = ""
    #: Whether the backend computes on a GPU (:func:`verify.keras_adapter.device`).
    gpu: bool = False


@dataclass(frozen=True)
class Divergence:
    name: str
    what: str
    applies: Mapping[str, Any]
    probe: str
    observed: str
    otherwise: str | tuple[tuple[Mapping[str, Any], str], ...]
    reason: str
    source: str
    needs: str | None = None
    unmeasured: str | None = None

    def applies_to(self, environment: Environment) -> bool:
        return matches(self.applies, environment)

    def expected(self, environment: Environment) -> str:
        """What the probe must observe on ``environment``."""
        if self.applies_to(environment):
            return self.observed
        if isinstance(self.otherwise, str):
            return self.otherwise
        for when, observed in self.otherwise:
            if matches(when, environment):
                return observed
        raise ValueError(f"divergence {self.name!r}: no 'otherwise' rule matches {environment}")


def matches(condition: Mapping[str, Any], environment: Environment) -> bool:
    """Whether every key of ``condition`` holds for ``environment`` (``{}`` always does)."""
    unknown = set(condition) - _CONDITIONS
    if unknown:
        raise ValueError(f"unknown condition keys {sorted(unknown)}; "
                         f"expected some of {sorted(_CONDITIONS)}")
    if "keras" in condition and environment.keras_major not in condition["keras"]:
        return False
    if "backend" in condition and environment.backend not in condition["backend"]:
        return False
    if "legacy" in condition and environment.legacy_keras != condition["legacy"]:
        return False
    if "gpu" in condition and environment.gpu != condition["gpu"]:
        return False
    if "keras_below" in condition and (not environment.keras_version or major_minor(
            environment.keras_version) >= major_minor(condition["keras_below"])):
        return False
    if "keras_from" in condition and (not environment.keras_version or major_minor(
            environment.keras_version) < major_minor(condition["keras_from"])):
        return False
    if "tensorflow_below" in condition:
        version = environment.tensorflow_version
        if version is None or major_minor(version) >= major_minor(
                condition["tensorflow_below"]):
            return False
    return True


def load(path: Path = DATA) -> list[Divergence]:
    """Every entry of the data file, validated (``ValueError`` names the entry and field)."""
    try:
        document = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"cannot read divergences from {str(path)!r}: {error}") from error
    entries = []
    for index, raw in enumerate(document.get("divergence", [])):
        label = raw.get("name", f"#{index}")
        missing = [name for name in _FIELDS if name not in raw]
        unknown = sorted(set(raw) - set(_FIELDS) - set(_OPTIONAL))
        if missing or unknown:
            raise ValueError(f"divergence {label!r}: missing {missing}, unknown {unknown}; "
                             f"fields are {list(_FIELDS)}, optionally {list(_OPTIONAL)}")
        if raw.get("needs", "gpu") != "gpu":
            raise ValueError(f"divergence {label!r}: needs must be 'gpu', got {raw['needs']!r}")
        if raw["probe"] not in PROBES:
            raise ValueError(f"divergence {label!r}: unknown probe {raw['probe']!r}; "
                             f"expected one of {sorted(PROBES)}")
        otherwise = raw["otherwise"]
        if not isinstance(otherwise, str):
            otherwise = tuple((rule["when"], rule["observed"]) for rule in otherwise)
        entries.append(Divergence(**{**raw, "otherwise": otherwise}))
    names = [entry.name for entry in entries]
    if len(set(names)) != len(names):
        raise ValueError(f"divergence names must be unique, got {names}")
    return entries


def environment() -> Environment:
    """The running Keras (imports it)."""
    from verify import keras_adapter

    info = keras_adapter.info()
    return Environment(info.keras_major, info.backend, info.legacy_keras,
                       info.tensorflow_version, info.keras_version,
                       gpu=keras_adapter.device().accelerator is not None)


# --- probes: each observes one behaviour on the running Keras and names it ----------------------


def _adapter() -> Any:
    from verify import keras_adapter

    return keras_adapter


def probe_hard_sigmoid() -> str:
    value = float(_adapter().activation("hard_sigmoid", np.array([1.0]))[0])
    names = {0.7: "0.2x+0.5", 2 / 3: "x/6+0.5"}
    return next((name for target, name in names.items() if abs(value - target) < 1e-6),
                f"hard_sigmoid(1) = {value}")


def _lstm(adapter: Any, **options: Any) -> Any:
    from verify.config import LSTMConfig

    config = LSTMConfig(units=2, input_dim=1, timesteps=3, **options)
    layer = adapter.built(config)
    layer.set_weights([np.full((1, 8), 0.5, np.float32), np.full((2, 8), 0.25, np.float32),
                       np.zeros(8, np.float32)])
    return layer


def probe_masked_output() -> str:
    """Row 0's first step is masked and h0 is non-zero: output 0 or h0 there?"""
    adapter = _adapter()
    h0 = np.array([[0.5, -0.25]], np.float32)
    output = _lstm(adapter, return_sequences=True)(
        np.ones((1, 3, 1), np.float32), mask=np.array([[False, True, True]]),
                            initial_state=[h0, np.zeros_like(h0)])[0][0, 0]
    if np.allclose(output, 0.0):
        return "previous_output"
    return "carried_state" if np.allclose(output, h0[0]) else f"other: {output}"


def probe_zero_output_last_step() -> str:
    """The last step is masked: is the returned (last) output zeros or the last real one?"""
    layer = _lstm(_adapter(), zero_output_for_mask=True)
    output = layer(np.ones((1, 3, 1), np.float32), mask=np.array([[True, True, False]]))[0]
    return "zeroed" if np.all(output == 0.0) else "last_real_output"


def probe_unrolled_zero_output() -> str:
    """An unrolled go_backwards layer with zero_output_for_mask; the first step (in time) is
    masked, so the last *processed* output should be zeros: which output is?"""
    layer = _lstm(_adapter(), return_sequences=True, go_backwards=True,
                  zero_output_for_mask=True, unroll=True)
    try:
        outputs = layer(np.ones((1, 3, 1), np.float32),
                        mask=np.array([[False, True, True]]))[0][0]
    except AttributeError:  # unrolled-backwards-mask-raises-torch
        return "raises"
    zeroed = [bool(np.all(step == 0.0)) for step in outputs]
    rules = {"time_order": [True, False, False], "processing_order": [False, False, True],
             "ignored": [False, False, False]}
    return next((rule for rule, pattern in rules.items() if pattern == zeroed),
                f"other: zeroed {zeroed}")


def _masked_unrolled_call(error: type[Exception], **options: Any) -> str:
    """``"raises"`` when an unrolled LSTM with ``options``, called on three steps with the
    last one masked, raises ``error``; ``"runs"`` otherwise."""
    layer = _lstm(_adapter(), unroll=True, **options)
    try:
        layer(np.ones((1, 3, 1), np.float32), mask=np.array([[True, True, False]]))
    except error:
        return "raises"
    return "runs"


def probe_unrolled_masked_last_output() -> str:
    """An unrolled layer returning its last output only, with zero_output_for_mask and a mask
    over three steps: does Keras run it?"""
    return _masked_unrolled_call(ValueError, zero_output_for_mask=True)


def probe_unrolled_backwards_mask() -> str:
    """An unrolled go_backwards layer called with a mask: does Keras run it?"""
    return _masked_unrolled_call(AttributeError, return_sequences=True, go_backwards=True)


def probe_initial_state_mask() -> str:
    """Embedding(mask_zero=True) -> LSTM(initial_state=[h0, c0]) in a functional model, the
    last step padded: is the output there the last real step's (the mask was used) or not?"""
    adapter = _adapter()
    keras = adapter.keras
    tokens = keras.Input((3,), dtype="int32")
    h0, c0 = keras.Input((2,)), keras.Input((2,))
    embedded = keras.layers.Embedding(5, 1, mask_zero=True)(tokens)
    lstm = keras.layers.LSTM(2, return_sequences=True)
    model = keras.Model([tokens, h0, c0], lstm(embedded, initial_state=[h0, c0]))
    model.set_weights([np.array([[0.0], [1.0], [-1.0], [0.5], [2.0]], np.float32),
                       np.full((1, 8), 0.5, np.float32), np.full((2, 8), 0.25, np.float32),
                       np.zeros(8, np.float32)])
    state = np.zeros((1, 2), np.float32)
    output = adapter.call_model(model, [np.array([[1, 2, 0]], np.int32), state, state])[0][0]
    return "kept" if np.allclose(output[2], output[1]) else "dropped"


def probe_stacked_single_cell_mask() -> str:
    """RNN(StackedRNNCells([LSTMCell(1)])) called with a mask: does Keras run it?"""
    keras = _adapter().keras
    layer = keras.layers.RNN(keras.layers.StackedRNNCells([keras.layers.LSTMCell(1)]))
    try:
        layer(np.ones((1, 3, 1), np.float32), mask=np.array([[True, True, False]]))
    except (ValueError, IndexError):
        return "raises"
    return "runs"


def probe_mha_value_dim() -> str:
    """MultiHeadAttention(num_heads=1, key_dim=2, value_dim=1) on one step: does Keras run
    it?"""
    keras = _adapter().keras
    layer = keras.layers.MultiHeadAttention(num_heads=1, key_dim=2, value_dim=1)
    x = np.ones((1, 2, 2), np.float32)
    try:
        layer(x, x)
    except TypeError:
        return "raises"
    return "runs"


def probe_mha_input_masks() -> str:
    """A masked sequence read by a MultiHeadAttention and then by an Attention (whose query
    is the MultiHeadAttention's output, so it runs after): does the Attention still mask the
    padded step?"""
    keras = _adapter().keras
    layers = keras.layers
    sequence = keras.Input((2, 1))
    masked = layers.Masking(0.0)(sequence)
    # The MultiHeadAttention's query carries the mask (its output then does) except on Keras
    # 3.4-3.6, which cannot build an Attention over a masked query.
    query = _attention_query(layers, sequence)
    attended = layers.MultiHeadAttention(num_heads=1, key_dim=1)(query, masked)
    model = keras.Model(sequence, layers.Attention()([attended, masked]))
    model.set_weights([np.ones(w.shape, np.float32) for w in model.get_weights()])
    x = np.array([[[1.0], [0.0]]], np.float32)  # the second step is padding
    output = _adapter().call_model(model, x)[0]
    return "kept" if np.allclose(output[0, 0], 1.0) else "cleared"


def probe_attention_mixed_masks() -> str:
    """Attention([unmasked query, masked value]) in a functional model: does Keras build it?"""
    keras = _adapter().keras
    layers = keras.layers
    query, value = keras.Input((2, 1)), keras.Input((2, 1))
    try:
        keras.Model([query, value], layers.Attention()([query, layers.Masking(0.0)(value)]))
    except ValueError:
        return "raises"
    return "runs"


def probe_layer_norm_axis_1() -> str:
    """LayerNormalization(axis=1) on (1, 2, 3): does Keras run it?"""
    keras = _adapter().keras
    layer = keras.layers.LayerNormalization(axis=1)
    try:
        _adapter().call_model(layer, np.ones((1, 2, 3), np.float32))
    except RuntimeError:
        return "raises"
    return "runs"


def probe_attention_value_mask() -> str:
    """Attention over a value whose second row masks its second step, two queries per row:
    does each row's own mask apply (the first row attends both value steps)?"""
    keras = _adapter().keras
    layers = keras.layers
    query, value = keras.Input((2, 1)), keras.Input((2, 1))
    # Keras 3.0-3.3 cannot build an unmasked query over a masked value, 3.4-3.6 a masked
    # query: the query is masked (keeping every step) except on 3.4-3.6.
    masked_query = _attention_query(layers, query)
    model = keras.Model([query, value], layers.Attention()(
        [masked_query, layers.Masking(0.0)(value)]))
    q = np.ones((2, 2, 1), np.float32)
    v = np.array([[[1.0], [3.0]], [[1.0], [0.0]]], np.float32)
    output = _adapter().call_model(model, [q, v])[0]
    return "expanded" if output[0, 1, 0] > 1.5 else "misbroadcast"


def _attention_query(layers: Any, query: Any) -> Any:
    """A query an Attention over a masked value can be built with on this Keras: masked (every
    step kept) unless Keras 3.4-3.6 (attention-masked-query-raises-keras-3.4-3.6)."""
    from verify import environment

    return query if environment.attention_masked_query_raises() else layers.Masking(0.0)(query)


def probe_attention_masked_query() -> str:
    """Attention([masked query, masked value]) in a functional model: does Keras build it?"""
    keras = _adapter().keras
    layers = keras.layers
    query, value = keras.Input((2, 1)), keras.Input((2, 1))
    try:
        keras.Model([query, value], layers.Attention()(
            [layers.Masking(0.0)(query), layers.Masking(0.0)(value)]))
    except ValueError:
        return "raises"
    return "runs"


def _compat_v1_layer(name: str) -> Any:
    """``tf.compat.v1.keras.layers.<name>(2)``, or ``None`` without TensorFlow."""
    adapter = _adapter()
    if adapter.BACKEND != "tensorflow":
        return None
    return getattr(adapter.tf.compat.v1.keras.layers, name)(2)


def _name(activation: Any) -> str:
    return str(getattr(activation, "__name__", activation))


def probe_compat_v1_lstm_default() -> str:
    layer = _compat_v1_layer("LSTM")
    return "unavailable" if layer is None else _name(layer.recurrent_activation)


def probe_compat_v1_gru_defaults() -> str:
    layer = _compat_v1_layer("GRU")
    if layer is None:
        return "unavailable"
    return f"reset_after={layer.reset_after}, {_name(layer.recurrent_activation)}"


def probe_bidirectional_go_backwards() -> str:
    from verify.config import BidirectionalConfig, LSTMConfig

    adapter = _adapter()
    try:
        layer = adapter.built(BidirectionalConfig(
            LSTMConfig(units=2, input_dim=1, go_backwards=True))).layer
    except ValueError:
        return "refused"
    if layer.forward_layer.go_backwards and not layer.backward_layer.go_backwards:
        return "flipped"
    return "other"


def probe_swish_config_name() -> str:
    layer = _adapter().keras.layers.LSTM(2, activation="swish")
    return str(layer.get_config()["activation"])


def probe_mish_known() -> str:
    try:
        _adapter().keras.activations.get("mish")
    except ValueError:
        return "unknown"
    return "known"


def probe_compiled_lstm_matches_eager() -> str:
    """LSTM, GRU and SimpleRNN with activation 'linear' and 'gelu': eager call vs the same
    call in a tf.function. ``"same"``, or ``"differs: "`` and the layer classes that do."""
    adapter = _adapter()
    if adapter.BACKEND != "tensorflow":
        return "not applicable"
    tf = adapter.tf
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3, 1)
    wrong = []
    for name in ("LSTM", "GRU", "SimpleRNN"):
        for activation in ("linear", "gelu"):
            layer = getattr(adapter.keras.layers, name)(2, activation=activation,
                                                        return_sequences=True)
            layer.build((None, 3, 1))
            layer.set_weights([np.linspace(-1, 1, w.size, dtype=np.float32).reshape(w.shape)
                               for w in layer.get_weights()])
            eager = np.asarray(layer(x))
            compiled = np.asarray(tf.function(lambda t, layer=layer: layer(t))(tf.constant(x)))
            if np.abs(eager - compiled).max() > 1e-5:
                wrong.append(name)
                break
    return "differs: " + ", ".join(wrong) if wrong else "same"


def probe_merge_mask() -> str:
    """Two token inputs with ``Embedding(mask_zero=True)``, merged by ``Add``, into an LSTM:
    which mask the LSTM was given ("and", "or" or "dropped", found by running the same LSTM on
    the merged sequence with each candidate mask); with "or", also whether ``Maximum`` reads
    the masked elements (``", maximum reads masked"``)."""
    import numpy as np

    adapter = _adapter()
    keras = adapter.keras
    layers = keras.layers
    first, second = (keras.Input((4,), dtype="int32") for _ in range(2))
    tables = [layers.Embedding(5, 2, mask_zero=True) for _ in range(2)]
    embedded = [table(tokens) for table, tokens in zip(tables, (first, second), strict=True)]
    merged = layers.Add()(embedded)
    lstm = layers.LSTM(2)
    model = keras.Model([first, second], [lstm(merged), merged,
                                          layers.Maximum()(embedded)])
    rows = np.arange(10, dtype=np.float32).reshape(5, 2) / 10
    rows[0] = 5.0  # the padding row: larger than every real row
    for table in tables:
        table.set_weights([rows])
    lstm.set_weights([np.full(w.shape, 0.3, np.float32) for w in lstm.get_weights()])
    a = np.array([[1, 2, 0, 0]], np.int32)
    b = np.array([[1, 0, 3, 0]], np.int32)
    output, sequence, maximum = adapter.call_model(model, [a, b])
    candidates = {"and": (a != 0) & (b != 0), "or": (a != 0) | (b != 0), "dropped": None}
    seen = [name for name, mask in candidates.items()
            if np.allclose(_lstm_with_mask(adapter, lstm, sequence, mask), output, atol=1e-6)]
    if len(seen) != 1:
        return f"unknown ({seen or 'no candidate matches'})"
    if seen[0] != "or":
        return seen[0]
    return "or" if maximum[0, 1, 0] != 5.0 else "or, maximum reads masked"


def _lstm_with_mask(adapter: Any, lstm: Any, sequence: Any, mask: Any) -> Any:

    keywords = {} if mask is None else {"mask": mask}
    return adapter.call_model(lstm, sequence, **keywords)[0]


def probe_sequence_mask() -> str:
    """``Masking -> LSTM(return_sequences=True) -> LSTM``: whether the second LSTM was given
    the mask ("passed") or ran over the padded steps ("dropped"), found by running it on the
    first one's output with and without the mask."""
    import numpy as np

    adapter = _adapter()
    keras = adapter.keras
    layers = keras.layers
    inputs = keras.Input((3, 2))
    first, second = layers.LSTM(2, return_sequences=True), layers.LSTM(2)
    sequence = first(layers.Masking(0.0)(inputs))
    model = keras.Model(inputs, [second(sequence), sequence])
    for layer in (first, second):
        layer.set_weights([np.full(w.shape, 0.3, np.float32) for w in layer.get_weights()])
    x = np.array([[[0.5, -0.2], [0.1, 0.4], [0.0, 0.0]]], np.float32)
    output, hidden = adapter.call_model(model, x)
    masked = adapter.call_model(second, hidden, mask=np.array([[True, True, False]]))[0]
    unmasked = adapter.call_model(second, hidden)[0]
    if np.allclose(output, masked, atol=1e-6):
        return "passed"
    return "dropped" if np.allclose(output, unmasked, atol=1e-6) else "unknown"


def probe_masked_concatenate() -> str:
    """Two masked token inputs concatenated into an LSTM: "runs", or "fails" (with the
    exception's type) when Keras cannot compute the model."""
    import numpy as np

    adapter = _adapter()
    keras = adapter.keras
    layers = keras.layers
    inputs = [keras.Input((3,), dtype="int32") for _ in range(2)]
    table = layers.Embedding(5, 2, mask_zero=True)
    merged = layers.Concatenate()([table(item) for item in inputs])
    model = keras.Model(inputs, layers.LSTM(2)(merged))
    tokens = np.array([[1, 2, 0]], np.int32)
    try:
        model.predict([tokens, tokens], verbose=0)
    except Exception:
        return "fails"
    return "runs"


def probe_average_pool_same() -> str:
    """``AveragePooling1D(3, padding="same")`` of ``0..7``: the last window holds 6, 7 and the
    odd padding element; "excluded" (6.5) or "replicated" (6.667, the 7 repeated)."""
    import numpy as np

    adapter = _adapter()
    layer = adapter.keras.layers.AveragePooling1D(3, padding="same")
    last = float(adapter.call_model(layer, np.arange(8.0).reshape(1, 8, 1))[0].ravel()[-1])
    return {6.5: "excluded", round(20 / 3, 4): "replicated"}.get(round(last, 4),
                                                                 f"unknown ({last})")


def probe_legacy_h5_masked_round_trip() -> str:
    """A functional ``Input -> Masking -> LSTM`` saved as a legacy ``.h5`` and loaded back by
    the same Keras: "loads", or "fails" (Keras 3 records the mask's ``NotEqual``/``Any``
    operations in the config, without a module, and its legacy loader cannot find them)."""
    import tempfile
    import warnings
    from pathlib import Path

    adapter = _adapter()
    keras = adapter.keras
    inputs = keras.Input((3, 2))
    model = keras.Model(inputs, keras.layers.LSTM(2)(keras.layers.Masking(0.0)(inputs)))
    with tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras 3 calls the .h5 format legacy
        path = Path(directory) / "masked.h5"
        model.save(path)
        try:
            keras.models.load_model(path, compile=False)
        except Exception:
            return "fails"
    return "loads"


def _default_precision(cell: str, **options: Any) -> str:
    """``"float32"``, ``"tf32"`` or ``"beyond tf32 (...)"``: where the error of one real-size
    layer (batch 32 x 50 steps x 16 features, 64 units, weights uniform in +-1/sqrt(fan-in))
    at the device's default precision falls: within float32's bound, within TF32's, or
    beyond both."""
    from verify.suite.properties.kernels import error_at_default, real_size_case

    config, weights, x = real_size_case(cell, **options)
    kernel, error, float32_bound, tf32_bound = error_at_default(config, weights, x)
    if error <= float32_bound:
        return "float32"
    return "tf32" if error <= tf32_bound else f"beyond tf32 ({kernel}: {error:.3g})"


def probe_default_precision_lstm() -> str:
    """An LSTM at the default precision: cuDNN's kernel where Keras takes it."""
    return _default_precision("LSTM")


def probe_default_precision_gru_reset_before() -> str:
    """A GRU with reset_after=False: the generic loop on every backend (cuBLAS/XLA matmuls)."""
    return _default_precision("GRU", reset_after=False)


def probe_ops_add_bias() -> str:
    """``keras.ops.add`` of a (1, 2, 2, 1) tensor of zeros and a (2, 1) bias [[10], [20]]:
    NumPy broadcasting adds 10 to head 0 and 20 to head 1 at every step; along axis 1 each
    step gets one value. A MultiHeadAttention projection with key_dim=1 is this addition."""
    adapter = _adapter()
    if adapter.KERAS_MAJOR < 3:
        return "broadcast"  # Keras 2's EinsumDense adds with TensorFlow's own broadcasting
    added = np.asarray(adapter.keras.ops.convert_to_numpy(adapter.keras.ops.add(
        np.zeros((1, 2, 2, 1), np.float32), np.array([[10.0], [20.0]], np.float32))))
    found = added[0, :, :, 0]
    if np.array_equal(found, [[10, 20], [10, 20]]):
        return "broadcast"
    if np.array_equal(found, [[10, 10], [20, 20]]):
        return "channel_axis_1"
    return f"other: {found.tolist()}"


PROBES: dict[str, Callable[[], str]] = {
    "ops_add_bias": probe_ops_add_bias,
    "default_precision_lstm": probe_default_precision_lstm,
    "default_precision_gru_reset_before": probe_default_precision_gru_reset_before,
    "legacy_h5_masked_round_trip": probe_legacy_h5_masked_round_trip,
    "average_pool_same": probe_average_pool_same,
    "masked_concatenate": probe_masked_concatenate,
    "sequence_mask": probe_sequence_mask,
    "merge_mask": probe_merge_mask,
    "compiled_lstm_matches_eager": probe_compiled_lstm_matches_eager,
    "mish_known": probe_mish_known,
    "hard_sigmoid": probe_hard_sigmoid,
    "masked_output": probe_masked_output,
    "zero_output_last_step": probe_zero_output_last_step,
    "unrolled_zero_output": probe_unrolled_zero_output,
    "unrolled_masked_last_output": probe_unrolled_masked_last_output,
    "unrolled_backwards_mask": probe_unrolled_backwards_mask,
    "initial_state_mask": probe_initial_state_mask,
    "stacked_single_cell_mask": probe_stacked_single_cell_mask,
    "mha_value_dim": probe_mha_value_dim,
    "mha_input_masks": probe_mha_input_masks,
    "attention_mixed_masks": probe_attention_mixed_masks,
    "layer_norm_axis_1": probe_layer_norm_axis_1,
    "attention_value_mask": probe_attention_value_mask,
    "attention_masked_query": probe_attention_masked_query,
    "compat_v1_lstm_default": probe_compat_v1_lstm_default,
    "compat_v1_gru_defaults": probe_compat_v1_gru_defaults,
    "bidirectional_go_backwards": probe_bidirectional_go_backwards,
    "swish_config_name": probe_swish_config_name,
}
