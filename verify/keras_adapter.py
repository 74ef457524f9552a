"""Real Keras layers for the checks: built once per configuration, weights set, called fast.

Keras itself is imported by :mod:`verify.keras_backend` (re-exported here: ``info``,
``call_model``, ``load_model``, ``layer_records``, ``keras``, ...).

Works on Keras 3 (``tensorflow>=2.16``, or ``keras`` 3 on the jax/torch backends) and on
Keras 2 (``tensorflow<=2.15``, or the ``tf-keras`` package with ``TF_USE_LEGACY_KERAS=1``).

Built for speed, because a property suite is as strong as the examples it can afford:

* :func:`built` builds a layer once per configuration and keeps it in a bounded LRU cache;
  between examples only the weights change (``set_weights``). The number of timesteps is not
  part of the cache key (except with ``unroll=True``), so configurations that differ only in
  sequence length share one layer.
* On the TensorFlow backend a layer is called through a ``tf.function`` whose input signature
  leaves batch and time open, traced once per layer and call form, not ``model.predict``.
* TensorFlow is kept to one intra-op and one inter-op thread (unless the environment already
  says otherwise) so that pytest-xdist workers do not fight over the cores.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from verify import _validate, environment, keras_backend, shapes
from verify.config import (
    BidirectionalConfig,
    DenseConfig,
    LSTMConfig,
    RNNConfig,
    SequentialConfig,
)
from verify.keras_backend import (
    BACKEND,
    KERAS_MAJOR,
    LEGACY_KERAS,
    BuildableConfig,
    KerasInfo,
    ModelFileError,
    _flatten,
    _shape_tuple,
    _to_numpy,
    activation,
    call_model,
    device,
    dropped_mask_warnings_silenced,
    info,
    keras,
    kernel_run,
    layer_records,
    load_model,
    make,
    reuse_compilations,
    running_semantics,
    strict_precision,
    watched_kernels,
)

if BACKEND == "tensorflow":
    tf = keras_backend.tf  # type: ignore[attr-defined]  # imported there for this backend

_TF_BEFORE_2_14 = BACKEND == "tensorflow" and environment.major_minor(tf.__version__) < (2, 14)

#: How many built layers the cache keeps (least recently used are dropped first).
CACHE_SIZE = _validate.positive_int(
    "LSTM_VERIFY_CACHE_SIZE", int(os.environ.get("LSTM_VERIFY_CACHE_SIZE", "64"))
)


#: Eager calls of a cached layer before its call is traced into a ``tf.function``. A trace
#: (autograph off) costs ~70 ms, an eager call 10-30 ms; over six passes of 40 default cases
#: 1 was fastest (LSTM 1.9 s vs 2.1 s with 2, 2.4 s with 3; Bidirectional 3.2 / 3.6 / 4.5 s).
EAGER_CALLS_BEFORE_TRACING = _validate.positive_int(
    "LSTM_VERIFY_EAGER_CALLS",
    int(os.environ.get("LSTM_VERIFY_EAGER_CALLS", "1")))


class BuiltLayer:
    """A Keras layer (or Sequential model) built once for a configuration, ready to call.

    Get one with :func:`built`, which caches it. ``config.timesteps`` of a cached layer is
    ``None`` unless the layer is unrolled or a model: it accepts any sequence length.
    """

    def __init__(self, config: BuildableConfig, *, stateful_batch_size: int | None = None) -> None:
        self.config = config
        self.stateful = stateful_batch_size is not None
        self.layer = make(config, stateful_batch_size)
        self._functions: dict[tuple[bool, int, int], Callable[..., Any]] = {}
        self._eager_calls: Counter[tuple[bool, int, int]] = Counter()

    def __repr__(self) -> str:
        return f"BuiltLayer({self.config!r})"

    # --- weights -----------------------------------------------------------------------
    def set_weights(self, weights: Sequence[Any]) -> None:
        """Install ``weights`` (``get_weights()`` order) with Keras's ``set_weights``.

        Arrays are checked against the documented shapes first, so a mistake is reported by
        index and shape rather than by Keras's generic message.
        """
        self.layer.set_weights(self._checked_weights(weights))

    def _checked_weights(self, weights: Sequence[Any]) -> list[np.ndarray]:
        expected = shapes.weight_shapes(self.config)
        if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence):
            raise TypeError(f"weights must be a list of {len(expected)} arrays, "
                            f"got {_validate.describe(weights)}")
        if len(weights) != len(expected):
            raise ValueError(f"weights must be a list of {len(expected)} arrays with shapes "
                             f"{expected}, got {len(weights)} arrays")
        arrays = []
        for index, (weight, shape) in enumerate(zip(weights, expected, strict=True)):
            array = _validate.numeric_array(f"weights[{index}]", weight)
            if array.shape != shape:
                raise ValueError(f"weights[{index}] must have shape {shape}, got {array.shape}")
            arrays.append(array.astype(np.float32, copy=False))
        return arrays

    def get_weights(self) -> list[np.ndarray]:
        return [np.asarray(weight) for weight in self.layer.get_weights()]

    def count_params(self) -> int:
        return int(self.layer.count_params())

    def weight_paths(self) -> list[str]:
        """Each weight's path, e.g. ``bidirectional/forward_lstm/lstm_cell/kernel``.

        Keras 3 gives ``variable.path``; Keras 2 gives ``variable.name`` with a ``:0`` suffix,
        which is dropped here.
        """
        paths = []
        for weight in self.layer.weights:
            path = getattr(weight, "path", None) or weight.name
            paths.append(path[:-2] if path.endswith(":0") else path)
        return paths

    def symbolic_output_shapes(
        self, *, timesteps: int | None = None
    ) -> tuple[int | None, ...] | list[tuple[int | None, ...]]:
        """What Keras says it will output for a batch of unknown size (``compute_output_shape``,
        or ``model.output_shape`` for a model), in the structure of :func:`shapes.output_shapes`.
        """
        if isinstance(self.config, SequentialConfig):
            result = self.layer.output_shape
        else:
            input_shape = (None, timesteps, self.config.input_dim)
            result = self.layer.compute_output_shape(input_shape)
        if isinstance(result, list | tuple) and result and not isinstance(
            result[0], int | type(None)
        ):
            return [_shape_tuple(shape) for shape in _flatten_shapes(result)]
        return _shape_tuple(result)

    # --- calling -------------------------------------------------------------------------
    def __call__(
        self, x: Any, *, mask: Any = None, initial_state: Sequence[Any] | None = None
    ) -> list[np.ndarray]:
        """Run the layer with ``training=False``; every output as a NumPy array, in order.

        ``x`` is ``(batch, timesteps, input_dim)``; ``mask`` (optional) is a boolean
        ``(batch, timesteps)`` array; ``initial_state`` (optional) is the layer's states
        (LSTM ``[h0, c0]``, GRU/SimpleRNN ``[h0]``; both directions' for Bidirectional), each
        ``(batch, units)``.
        """
        return self._run([], x, mask, initial_state)

    def run(self, weights: Sequence[Any], x: Any, *, mask: Any = None,
            initial_state: Sequence[Any] | None = None) -> list[np.ndarray]:
        """:meth:`set_weights` then call, as one compiled TensorFlow call once warm (the
        variables are assigned inside the ``tf.function``): the fast path of the properties,
        where only the weights change between examples."""
        return self._run(self._checked_weights(weights), x, mask, initial_state)

    def _run(self, weights: list[np.ndarray], x: Any, mask: Any,
             initial_state: Sequence[Any] | None) -> list[np.ndarray]:
        x, mask, states = self._check_call(x, mask, initial_state)
        function = self._function(mask is not None, len(states), len(weights))
        arguments = weights + [x] + ([mask] if mask is not None else []) + states
        if BACKEND == "tensorflow":  # Keras 2 refuses NumPy initial states in an eager call
            arguments = [tf.convert_to_tensor(argument) for argument in arguments]
        return [_to_numpy(output) for output in _flatten(function(*arguments))]

    def _check_call(
        self, x: Any, mask: Any, initial_state: Sequence[Any] | None
    ) -> tuple[np.ndarray, np.ndarray | None, list[np.ndarray]]:
        x = _validate.numeric_array("x", x)
        if x.ndim != 3 or x.shape[-1] != self.config.input_dim or 0 in x.shape:
            raise ValueError(f"x must have shape (batch, timesteps, {self.config.input_dim}) "
                             f"with batch, timesteps >= 1, got {x.shape}")
        expected_steps = self.config.timesteps
        if expected_steps is not None and x.shape[1] != expected_steps:
            raise ValueError(f"x must have {expected_steps} timesteps (axis 1), got {x.shape}")
        batch, steps = x.shape[:2]
        if mask is not None:
            if isinstance(self.config, SequentialConfig):
                raise ValueError("mask is not accepted by a Sequential model here; "
                                 "put a Masking layer in the model instead")
            mask = _validate.mask_array(mask, batch, steps)
        states: list[np.ndarray] = []
        if initial_state is not None:
            if isinstance(self.config, SequentialConfig):
                raise ValueError("initial_state is not accepted by a Sequential model")
            states = [array.astype(np.float32, copy=False) for array in _validate.state_list(
                initial_state, self.config.state_count, batch, self.config.units)]
        return x.astype(np.float32, copy=False), mask, states

    def _function(self, has_mask: bool, state_count: int,
                  weight_count: int = 0) -> Callable[..., Any]:
        """The call for this form of arguments.

        The first :data:`EAGER_CALLS_BEFORE_TRACING` calls of a form run eagerly (10-30 ms
        each); after that the TensorFlow backend uses a ``tf.function`` traced once (~70 ms to
        trace, ~1 ms a call after): a layer used once never pays for a trace, a layer used
        often runs compiled.
        """
        key = (has_mask, state_count, weight_count)
        if key in self._functions:
            return self._functions[key]
        layer = self.layer

        def call(*arguments: Any) -> Any:
            for variable, value in zip(layer.weights, arguments[:weight_count], strict=False):
                variable.assign(value)
            x, *rest = arguments[weight_count:]
            mask = rest[0] if has_mask else None
            states = list(rest[1:] if has_mask else rest)
            keywords: dict[str, Any] = {"training": False}
            if mask is not None:
                keywords["mask"] = mask
            if states:
                keywords["initial_state"] = states
            return layer(x, **keywords)

        if BACKEND != "tensorflow" or self.stateful or _compiled_call_is_wrong(self.config):
            self._functions[key] = call  # eager: stateful layers, and see _compiled_call_is_wrong
        elif self._eager_calls[key] < EAGER_CALLS_BEFORE_TRACING:
            self._eager_calls[key] += 1
            return call
        else:
            steps = self.config.timesteps
            signature = [tf.TensorSpec(shape, tf.float32)
                         for shape in shapes.weight_shapes(self.config)[:weight_count]]
            signature.append(tf.TensorSpec((None, steps, self.config.input_dim), tf.float32))
            if has_mask:
                signature.append(tf.TensorSpec((None, steps), tf.bool))
            units = getattr(self.config, "units", None)
            signature += [tf.TensorSpec((None, units), tf.float32)] * state_count
            # autograph=False: the call has no tensor-dependent Python control flow (Keras
            # builds its own while_loop), and skipping the conversion halves the trace.
            self._functions[key] = tf.function(call, input_signature=signature,
                                               autograph=False)
        return self._functions[key]


def _compiled_call_is_wrong(config: BuildableConfig) -> bool:
    """TensorFlow 2.12-2.13 compute an LSTM with activation ``linear`` or ``gelu`` wrongly in a
    compiled call (``tf.function``, ``model.predict``) while the eager call is right: the named
    divergence ``onednn-compiled-lstm-linear-gelu`` (verify/suite/divergences.toml), asserted by
    tests/test_divergences.py, whose probe also shows GRU and SimpleRNN unaffected. Such
    LSTMs are always called eagerly here, so the properties check what Keras's LSTM computes
    rather than that bug again."""
    if KERAS_MAJOR >= 3 or BACKEND != "tensorflow" or not _TF_BEFORE_2_14:
        return False
    layers = config.layers if isinstance(config, SequentialConfig) else (config,)
    return any(isinstance(layer.recurrent, LSTMConfig)
               and layer.recurrent.activation in ("linear", "gelu")
               for layer in layers if not isinstance(layer, DenseConfig))


def _flatten_shapes(result: Any) -> list[Any]:
    """Flatten nested lists of shapes (Keras 2 Bidirectional nests ``[fwd, bwd]``)."""
    flat: list[Any] = []
    for item in result:
        is_shape = hasattr(item, "as_list") or (
            isinstance(item, tuple) and all(isinstance(dim, int | type(None)) for dim in item)
        )
        flat.extend([item] if is_shape else _flatten_shapes(item))
    return flat


_cache: OrderedDict[BuildableConfig, BuiltLayer] = OrderedDict()


_builds_since_clear = 0


def cache_key(config: BuildableConfig) -> BuildableConfig:
    """The configuration a cached layer is built for: ``timesteps`` dropped where Keras allows."""
    if isinstance(config, RNNConfig) and not config.unroll:
        return dataclasses.replace(config, timesteps=None)
    if isinstance(config, BidirectionalConfig) and not config.layer.unroll:
        return dataclasses.replace(config, layer=dataclasses.replace(config.layer, timesteps=None))
    return config


def built(config: BuildableConfig) -> BuiltLayer:
    """The Keras layer (or model) for ``config``, from the cache or built now.

    The cache keeps the :data:`CACHE_SIZE` most recently used layers. After building
    ``4 * CACHE_SIZE`` layers it is emptied and Keras's session cleared, which releases the
    traced graphs and global state that dropping a layer alone leaves behind.
    """
    global _builds_since_clear
    if not isinstance(config, RNNConfig | BidirectionalConfig | SequentialConfig):
        raise TypeError(f"config must be a recurrent layer config (LSTMConfig, GRUConfig, "
                        f"SimpleRNNConfig), a BidirectionalConfig or a SequentialConfig, "
                        f"got {_validate.describe(config)}")
    key = cache_key(config)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    if _builds_since_clear >= 4 * CACHE_SIZE:
        clear()
    layer = BuiltLayer(key)
    _builds_since_clear += 1
    _cache[key] = layer
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return layer


def stateful(config: RNNConfig, *, batch_size: int) -> BuiltLayer:
    """A fresh (uncached) recurrent layer with ``stateful=True`` for batches of ``batch_size``
    rows: each call starts from the states the previous call ended with, until
    :func:`reset_states`."""
    batch_size = _validate.positive_int("batch_size", batch_size)
    return BuiltLayer(config, stateful_batch_size=batch_size)


def reset_states(layer: BuiltLayer) -> None:
    """Zero a stateful layer's states (Keras 3 ``reset_state()``, Keras 2 ``reset_states()``)."""
    if KERAS_MAJOR >= 3:
        layer.layer.reset_state()
    else:
        layer.layer.reset_states()


def clear() -> None:
    """Drop every cached layer and clear Keras's session (``clear_session``); on jax also
    its compilation caches, which grow with every new shape (each call compiles its scan)."""
    global _builds_since_clear
    _cache.clear()
    _builds_since_clear = 0
    keras.backend.clear_session()
    if BACKEND == "jax":
        import jax

        jax.clear_caches()


def warm_up() -> None:
    """Build and call one small LSTM: the first LSTM call of a process is the slow one."""
    config = LSTMConfig(units=1, input_dim=1)
    built(config)(np.zeros((1, 1, 1), np.float32))


__all__ = [
    "BACKEND", "CACHE_SIZE", "KERAS_MAJOR", "LEGACY_KERAS", "BuiltLayer", "KerasInfo",
    "ModelFileError", "activation", "built", "cache_key", "call_model", "clear", "device",
    "dropped_mask_warnings_silenced", "info", "keras", "kernel_run", "layer_records",
    "load_model", "reset_states", "reuse_compilations", "running_semantics", "stateful",
    "strict_precision", "warm_up", "watched_kernels",
]
