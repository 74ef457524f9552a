"""The one module that imports Keras (and TensorFlow where it is the backend): which Keras
runs, on which backend, and the calls that need nothing cached — a whole model called on
arrays, Keras's own activations, a model file loaded by Keras, a model's layers as records.

Works on Keras 3 (``tensorflow>=2.16``, or ``keras`` 3 on the jax/torch backends) and on
Keras 2 (``tensorflow<=2.15``, or the ``tf-keras`` package with ``TF_USE_LEGACY_KERAS=1``).
TensorFlow is kept to one intra-op and one inter-op thread (unless the environment already
says otherwise) so that pytest-xdist workers do not fight over the cores.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Must happen before TensorFlow starts: thread pools are sized once, at the first op.
for _variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from verify import environment, semantics  # noqa: E402
from verify.config import (  # noqa: E402
    BidirectionalConfig,
    LayerConfig,
    RNNConfig,
    SequentialConfig,
)
from verify.errors import ModelFileError  # noqa: E402  (one error type for model files)
from verify.records import LayerRecord  # noqa: E402

LEGACY_KERAS = environment.legacy_keras_requested()

if LEGACY_KERAS:
    import tf_keras as keras
else:
    import keras

KERAS_MAJOR = int(keras.__version__.split(".")[0])
BACKEND: str = keras.backend.backend() if KERAS_MAJOR >= 3 else "tensorflow"

if BACKEND == "tensorflow":
    import tensorflow as tf  # re-exported: keras_adapter calls it

    for _setter in (tf.config.threading.set_intra_op_parallelism_threads,
                    tf.config.threading.set_inter_op_parallelism_threads):
        # RuntimeError: TensorFlow already ran an op before us, so its pools stay as they are.
        with contextlib.suppress(RuntimeError, ValueError):
            _setter(int(os.environ["TF_NUM_INTRAOP_THREADS"]))


#: What :func:`make` builds: one recurrent layer, a Bidirectional one, or a stack.
BuildableConfig = RNNConfig | BidirectionalConfig | SequentialConfig


def make_rnn(config: RNNConfig, **extra: Any) -> Any:
    """``keras.layers.LSTM`` / ``GRU`` / ``SimpleRNN`` (or what the cell names) for ``config``."""
    return config.cell.keras_layer(keras, **config.to_keras_config(), **extra)


def make_layer(config: LayerConfig) -> Any:
    if isinstance(config, RNNConfig):
        return make_rnn(config)
    if isinstance(config, BidirectionalConfig):
        return keras.layers.Bidirectional(make_rnn(config.layer), merge_mode=config.merge_mode)
    return keras.layers.Dense(**config.to_keras_config())


def make(config: BuildableConfig, stateful_batch_size: int | None = None) -> Any:
    """A built Keras layer, or a built ``Sequential`` model, for ``config``."""
    if stateful_batch_size is not None:
        if not isinstance(config, RNNConfig):
            raise TypeError(f"only a single recurrent layer (an RNNConfig) can be made "
                            f"stateful, got {config!r}")
        layer = make_rnn(config, stateful=True)
        layer.build((stateful_batch_size, config.timesteps, config.input_dim))
        return layer
    if isinstance(config, SequentialConfig):
        return keras.Sequential(
            [keras.Input(shape=(config.timesteps, config.input_dim))]
            + [make_layer(layer) for layer in config.layers]
        )
    layer = make_layer(config)
    layer.build((None, config.timesteps, config.input_dim))
    return layer


@dataclass(frozen=True)
class KerasInfo:
    """Which Keras is running, on which backend, with which versions."""

    keras_version: str
    backend: str
    backend_version: str
    tensorflow_version: str | None
    numpy_version: str
    python_version: str
    legacy_keras: bool

    @property
    def keras_major(self) -> int:
        return int(self.keras_version.split(".")[0])

    def describe(self) -> str:
        """One line, e.g. ``Keras 3.15.1 on tensorflow 2.21.0, NumPy 2.4.6, Python 3.11.7``."""
        package = " (tf-keras, TF_USE_LEGACY_KERAS=1)" if self.legacy_keras else ""
        return (f"Keras {self.keras_version}{package} on {self.backend} {self.backend_version}, "
                f"NumPy {self.numpy_version}, Python {self.python_version}")


def info() -> KerasInfo:
    """Versions of the running Keras, its backend, TensorFlow (if imported), NumPy and Python."""
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(BACKEND)
    backend_version = "unknown"
    if backend_module is not None:
        backend_version = __import__(backend_module).__version__
    tf_version = backend_version if BACKEND == "tensorflow" else None
    return KerasInfo(
        keras_version=keras.__version__,
        backend=BACKEND,
        backend_version=backend_version,
        tensorflow_version=tf_version,
        numpy_version=np.__version__,
        python_version=platform.python_version(),
        legacy_keras=LEGACY_KERAS,
    )


def device() -> Any:
    """The device and float32 precision the running backend computes with
    (:class:`verify.devices.DeviceInfo`); settings that cannot be read are left out."""
    from verify import devices

    reader = {"tensorflow": _tensorflow_device, "torch": _torch_device,
              "jax": _jax_device}.get(BACKEND)
    accelerator, settings = reader() if reader is not None else (None, {})
    return devices.summarize(BACKEND, accelerator, settings)


def _tensorflow_device() -> tuple[str | None, dict[str, str]]:
    gpus = tf.config.list_physical_devices("GPU")
    enabled = tf.config.experimental.tensor_float_32_execution_enabled()
    return (f"gpu ({gpus[0].name})" if gpus else None), {"tensor_float_32": str(bool(enabled))}


def _torch_device() -> tuple[str | None, dict[str, str]]:
    import torch

    settings: dict[str, str] = {}
    if _torch_new_precision_api(torch):  # torch refuses a mix with the legacy flags
        for name, holder in _torch_precision_holders(torch).items():
            settings[f"{name}.fp32_precision"] = str(holder.fp32_precision)
    else:
        settings["cudnn.allow_tf32"] = str(bool(torch.backends.cudnn.allow_tf32))
        settings["cuda.matmul.allow_tf32"] = str(bool(torch.backends.cuda.matmul.allow_tf32))
        settings["float32_matmul_precision"] = str(torch.get_float32_matmul_precision())
    accelerator = f"gpu ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() \
        else None
    return accelerator, settings


def _torch_new_precision_api(torch: Any) -> bool:
    return getattr(getattr(torch.backends.cudnn, "rnn", None), "fp32_precision", None) \
        is not None


def _torch_precision_holders(torch: Any) -> dict[str, Any]:
    """torch's ``fp32_precision`` settings that decide a recurrent model's float32 work on a
    GPU: cuDNN's RNN kernels, cuBLAS matmuls (the generic loop, Dense) and cuDNN
    convolutions (ConvLSTM)."""
    return {"cudnn.rnn": torch.backends.cudnn.rnn, "cuda.matmul": torch.backends.cuda.matmul,
            "cudnn.conv": torch.backends.cudnn.conv}


#: What :func:`strict_precision` sets, per backend, as :func:`device` reads it back.
STRICT_SETTINGS: dict[str, dict[str, str]] = {
    "tensorflow": {"tensor_float_32": "False"},
    "torch": {"cudnn.rnn.fp32_precision": "ieee", "cuda.matmul.fp32_precision": "ieee",
              "cudnn.conv.fp32_precision": "ieee"},
    "torch (legacy flags)": {"cudnn.allow_tf32": "False", "cuda.matmul.allow_tf32": "False",
                             "float32_matmul_precision": "highest"},
    "jax": {"jax_default_matmul_precision": "highest"},
}


@contextlib.contextmanager
def strict_precision() -> Any:
    """Inside the block the backend computes float32 matmuls in float32 on any device (no
    TF32, no reduced-precision passes): TensorFlow's ``tensor_float_32_execution`` off;
    torch's ``fp32_precision`` settings (or, in older torch, ``allow_tf32`` and the matmul
    precision) at IEEE float32; jax's default matmul precision ``"highest"``. Every setting
    is restored on exit, whatever happened inside."""
    if BACKEND == "tensorflow":
        previous = bool(tf.config.experimental.tensor_float_32_execution_enabled())
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            yield
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(previous)
    elif BACKEND == "torch":
        import torch

        if _torch_new_precision_api(torch):
            holders = _torch_precision_holders(torch)
            saved = {name: holder.fp32_precision for name, holder in holders.items()}
            try:
                for holder in holders.values():
                    holder.fp32_precision = "ieee"
                yield
            finally:
                for name, holder in holders.items():
                    holder.fp32_precision = saved[name]
        else:
            flags = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32,
                     torch.get_float32_matmul_precision())
            try:
                torch.backends.cudnn.allow_tf32 = False
                torch.backends.cuda.matmul.allow_tf32 = False
                torch.set_float32_matmul_precision("highest")
                yield
            finally:
                torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = \
                    flags[:2]
                torch.set_float32_matmul_precision(flags[2])
    elif BACKEND == "jax":
        import jax

        previous_precision = jax.config.jax_default_matmul_precision
        jax.config.update("jax_default_matmul_precision", "highest")
        try:
            yield
        finally:
            jax.config.update("jax_default_matmul_precision", previous_precision)
    else:  # numpy: float32 is all there is
        yield


@contextlib.contextmanager
def watched_kernels() -> Any:
    """For the block, which kernel (:data:`verify.devices.KERNELS`) each LSTM/GRU call ran,
    by the path of its kernel variable (``"lstm/lstm_cell/kernel"``): Keras 3's layers hand
    the step to ``keras.src.backend.lstm``/``gru``, which either runs a kernel of the backend
    or raises ``NotImplementedError`` (then the layer runs the generic loop); on torch,
    whether that kernel was cuDNN's is whether its ``_cudnn_lstm``/``_cudnn_gru`` returned.
    The functions are wrapped for the block and put back after; Keras 2 has none of them
    (nothing is recorded: :func:`kernel_run` reads its ``return_runtime`` instead)."""
    seen: dict[str, str] = {}
    if KERAS_MAJOR < 3:
        yield seen
        return
    import importlib

    from keras.src import backend as keras_src_backend

    module = importlib.import_module(f"keras.src.backend.{BACKEND}.rnn") \
        if BACKEND == "torch" else None
    cudnn_ran: list[bool] = []
    saved: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, wrapper: Any) -> None:
        original = getattr(owner, name, None)
        if original is not None:
            saved.append((owner, name, original))
            setattr(owner, name, wrapper(original))

    def kernel_of(original: Any) -> Any:
        def watched(*args: Any, **kwargs: Any) -> Any:
            variable = kwargs.get("kernel")
            key = str(getattr(variable, "path", None) or f"{original.__name__} {len(seen)}")
            cudnn_ran.clear()
            try:
                result = original(*args, **kwargs)
            except NotImplementedError:
                seen[key] = "generic loop"
                raise
            fused = cudnn_ran if BACKEND == "torch" else (
                BACKEND == "tensorflow" or original.__name__ == "lstm")  # jax's GRU: a scan
            seen[key] = "cudnn" if fused else "backend loop"
            return result
        return watched

    def cudnn_of(original: Any) -> Any:
        def watched(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            cudnn_ran.append(True)
            return result
        return watched

    try:
        for name in ("lstm", "gru"):
            wrap(keras_src_backend, name, kernel_of)
            if module is not None:
                wrap(module, f"_cudnn_{name}", cudnn_of)
        yield seen
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def kernel_run(config: RNNConfig, weights: Any, x: np.ndarray, *, mask: Any = None,
               initial_state: Any = None, use_cudnn: bool | str = "auto"
               ) -> tuple[list[np.ndarray], str]:
    """A fresh Keras layer for ``config`` (with ``use_cudnn`` on Keras 3), called eagerly:
    its outputs and the kernel it ran (:data:`verify.devices.KERNELS`; SimpleRNN, and a layer
    whose call never reached a backend kernel, ran the generic loop). ``use_cudnn=True``
    where Keras has no kernel for the case raises Keras's ``ValueError``."""
    extra = {} if KERAS_MAJOR < 3 or config.CELL == "SimpleRNN" else {"use_cudnn": use_cudnn}
    layer = make_rnn(config, **extra)
    layer.build((None, config.timesteps, config.input_dim))
    layer.set_weights([np.asarray(weight, np.float32) for weight in weights])
    convert = keras.ops.convert_to_tensor if KERAS_MAJOR >= 3 else tf.convert_to_tensor
    arguments: dict[str, Any] = {}
    if mask is not None:
        arguments["mask"] = convert(np.asarray(mask, bool))
    if initial_state is not None:
        arguments["initial_state"] = [convert(np.asarray(state, np.float32))
                                      for state in initial_state]
    inputs = convert(np.asarray(x, np.float32))
    with watched_kernels() as seen:
        outputs = [_to_numpy(output) for output in _flatten(layer(inputs, **arguments))]
    if KERAS_MAJOR < 3:
        return outputs, _keras2_runtime(config, layer, inputs, arguments)
    return outputs, next(iter(seen.values()), "generic loop")


def _keras2_runtime(config: RNNConfig, layer: Any, inputs: Any, arguments: dict[str, Any]
                    ) -> str:
    """Keras 2's own answer (its ``return_runtime`` testing flag: 2 cuDNN, 1 the standard
    loop, 0 a layer that never considered cuDNN and runs the standard RNN loop), from a twin
    layer without ``return_state``."""
    if config.CELL == "SimpleRNN":
        return "generic loop"
    twin = make_rnn(dataclasses.replace(config, return_state=False), return_runtime=True)
    twin.build((None, config.timesteps, config.input_dim))
    twin.set_weights(layer.get_weights())
    runtime = int(_to_numpy(twin(inputs, **arguments)[1]))
    return {0: "generic loop", 1: "generic loop", 2: "cudnn"}.get(runtime,
                                                                  f"unknown runtime {runtime}")


def reuse_compilations() -> str | None:
    """On the jax backend, keep XLA's compiled programs in jax's persistent compilation cache
    so that a later run reuses them: every new shape and every eager recurrent loop compiles
    (~35 ms each on a CPU), and a derandomized report draws the same cases each run. The
    directory is ``$LSTM_VERIFY_JAX_CACHE``, else ``$XDG_CACHE_HOME/lstm-verify/jax`` (default
    ``~/.cache``); ``LSTM_VERIFY_JAX_CACHE=0`` turns it off, and a cache the user configured
    for jax is left as it is. Returns the directory in use (``None``: none set here). Called
    by ``python -m verify report`` and the test suite, not on import: jax's configuration is
    the user's in their own programs."""
    if BACKEND != "jax":
        return None
    import jax

    setting = os.environ.get("LSTM_VERIFY_JAX_CACHE", "")
    if setting == "0":
        return None
    configured = jax.config.jax_compilation_cache_dir
    if configured:
        return str(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    directory = Path(setting) if setting else base / "lstm-verify" / "jax"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # an unwritable cache is no reason to fail: compile every time
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(directory)


def _jax_device() -> tuple[str | None, dict[str, str]]:
    import jax

    platform = jax.default_backend()
    precision = jax.config.jax_default_matmul_precision
    settings = {"jax_default_matmul_precision": "default" if precision is None
                else str(precision)}
    return (None if platform == "cpu" else f"{platform} ({jax.devices()[0].device_kind})"), \
        settings


def running_semantics() -> semantics.Semantics:
    """The :class:`verify.semantics.Semantics` of the Keras this module imported: what the
    checks compare Keras with (Keras 2; Keras 3 on jax/numpy; Keras 3 on tensorflow/torch)."""
    return semantics.of_keras(keras.__version__, BACKEND)


def _flatten(outputs: Any) -> list[Any]:
    if isinstance(outputs, list | tuple):
        return [item for output in outputs for item in _flatten(output)]
    return [outputs]


def _to_numpy(tensor: Any) -> np.ndarray:
    if KERAS_MAJOR >= 3:
        return np.asarray(keras.ops.convert_to_numpy(tensor))
    return np.asarray(tensor.numpy())


def _shape_tuple(shape: Any) -> tuple[int | None, ...]:
    if hasattr(shape, "as_list"):  # a TensorFlow TensorShape (Keras 2)
        shape = shape.as_list()
    return tuple(None if dim is None else int(dim) for dim in shape)


@contextlib.contextmanager
def dropped_mask_warnings_silenced() -> Any:
    """Keras 3 warns whenever a layer that does not support masking drops a mask (Conv1D,
    GlobalMaxPooling1D, ...): for this project that is the behaviour being checked, not news."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*does not support masking.*")
        yield


def call_model(model: Any, x: Any, *, dtype: Any = np.float32, mask: Any = None,
               predict: bool = False) -> list[np.ndarray]:
    """Call any Keras model (or layer) of the user's on ``x`` with ``training=False``; every
    output as a NumPy array (one eager call, no caching). ``x`` is converted to ``dtype``
    first; ``dtype=None`` hands Keras the arrays in their own dtype (to see how Keras treats,
    say, float64 input to a float32 layer). ``mask`` (optional) is passed to the call, for a
    single layer called with an explicit mask. ``predict=True``: through ``model.predict``
    (the compiled function users call) instead of one eager call."""
    if dtype is not None:
        try:
            dtype = np.dtype(dtype)
        except TypeError as error:
            raise TypeError(f"dtype must be a NumPy dtype or None, got {dtype!r}") from error
    def converted(item: Any) -> np.ndarray:
        array = np.asarray(item)
        # Token ids stay integers (an Embedding reads them); the rest becomes ``dtype``.
        return array if dtype is None or array.dtype.kind in "iu" else array.astype(dtype)

    inputs: Any = [converted(item) for item in x] if isinstance(x, list | tuple) \
        else converted(x)
    if not isinstance(inputs, list) and isinstance(getattr(model, "inputs", None), list) \
            and len(model.inputs) == 1:
        inputs = [inputs]  # the structure a functional model was built with (no warning)
    keywords: dict[str, Any] = {"training": False}
    if mask is not None:  # a layer called with an explicit mask
        keywords["mask"] = tf.convert_to_tensor(mask) if BACKEND == "tensorflow" \
            else keras.ops.convert_to_tensor(mask)
    with dropped_mask_warnings_silenced():
        outputs = (model.predict(inputs, verbose=0) if predict and mask is None
                   else model(inputs, **keywords))
    return [_to_numpy(output) for output in _flatten(outputs)]


def activation(name: str, x: Any) -> np.ndarray:
    """Keras's own activation ``name`` applied to ``x`` (float32), as a NumPy array."""
    function = keras.activations.get(name)
    tensor = tf.constant(np.asarray(x, np.float32)) if BACKEND == "tensorflow" \
        else keras.ops.convert_to_tensor(np.asarray(x, np.float32))
    return _to_numpy(function(tensor))


def load_model(path: str | os.PathLike[str]) -> Any:
    """Load a ``.keras``, ``.h5`` or SavedModel directory with this Keras (``compile=False``).

    Raises :class:`ModelFileError` with one line saying what went wrong: no such file, a
    SavedModel directory Keras 3 cannot load, or Keras's own reason for refusing the file.
    """
    file = Path(path)
    if not file.exists():
        raise ModelFileError(f"{path}: no such file or directory")
    if file.is_dir() and KERAS_MAJOR >= 3:
        raise ModelFileError(
            f"{path} is a directory (a TensorFlow SavedModel?): Keras 3 cannot load SavedModels "
            "with load_model; use Keras 2 (tensorflow<=2.15, or tf-keras with "
            "TF_USE_LEGACY_KERAS=1) or re-save the model as .keras")
    try:
        model = keras.models.load_model(file, compile=False)
    except Exception as error:  # Keras raises many types for a file it cannot read
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ModelFileError(f"cannot load {path} as a Keras model: "
                             f"{type(error).__name__}: {reason[:300]}"
                             f"{_keras2_way_out(file)}") from error
    if not hasattr(model, "layers"):
        raise ModelFileError(f"{path} holds a {type(model).__name__}, not a Keras model")
    return model


def _keras2_way_out(file: Path) -> str:
    """Under Keras 3, for a file Keras 2 wrote: how to read it after all (empty otherwise)."""
    if KERAS_MAJOR < 3:
        return ""
    from verify import files

    try:
        version = files.read(file).keras_version
    except Exception:  # the reader's own refusal is not this message's business
        return ""
    if version is None or not version.startswith("2."):
        return ""
    return (f" (the file was written by Keras {version}: load it with Keras 2 — "
            "tensorflow<=2.15, or tf-keras with TF_USE_LEGACY_KERAS=1 — or convert it with "
            f"`python -m verify migrate {file} NEW.keras`)")


def layer_records(model: Any) -> list[LayerRecord]:
    """Every layer of ``model``, nested models' layers included (path ``outer/inner``), as the
    plain records :mod:`verify.explain` reads."""
    records = []

    def walk(container: Any, prefix: str) -> None:
        for layer in container.layers:
            path = f"{prefix}{layer.name}"
            if hasattr(layer, "layers") and not hasattr(layer, "forward_layer"):
                walk(layer, f"{path}/")
                continue
            inner = getattr(layer, "forward_layer", None) or getattr(layer, "layer", None)
            records.append(LayerRecord(
                path=path, class_name=type(layer).__name__, config=layer.get_config(),
                weights=[np.asarray(w) for w in layer.get_weights()],
                wrapped=type(inner).__name__ if inner is not None else None))

    walk(model, "")
    return records


__all__ = [
    "BACKEND",
    "KERAS_MAJOR",
    "LEGACY_KERAS",
    "BuildableConfig",
    "KerasInfo",
    "ModelFileError",
    "activation",
    "call_model",
    "device",
    "dropped_mask_warnings_silenced",
    "info",
    "keras",
    "layer_records",
    "load_model",
    "make",
    "running_semantics",
]
