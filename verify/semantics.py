"""Named differences between Keras versions and backends, and detection of the installed one.

Where Keras versions or backends compute different functions, the reference takes the variant
as an explicit :class:`Semantics` value instead of guessing:

* ``hard_sigmoid``: ``"keras2"`` = ``clip(0.2x + 0.5, 0, 1)``; ``"keras3"`` =
  ``clip(x/6 + 0.5, 0, 1)`` (every Keras 3 backend).
* ``masked_output``: what the output is at a masked step when ``zero_output_for_mask=False``.
  ``"previous_output"`` (TensorFlow backend, Keras 2 and 3, and torch): the previous step's
  output, zeros before the first unmasked step. ``"carried_state"`` (Keras 3 jax/numpy backends
  with ``unroll=False``): the carried ``h_{t-1}``, i.e. ``h0`` at leading masked steps. They
  differ only for rows whose first steps are masked with a non-zero initial state.
* ``mask_merge``: how ``Add``/``Subtract``/``Multiply``/``Average``/``Maximum``/``Minimum`` and
  ``Concatenate`` combine their inputs' masks. ``"and"`` (Keras 2): a step is kept where every
  masked input keeps it (unmasked inputs are ignored). ``"dropped"`` (Keras 3.0-3.3): the merged
  output has no mask. ``"or"`` (Keras >= 3.4): kept where any input keeps it; the element-wise
  merges give no mask at all when one input has none, ``Concatenate`` counts an unmasked input
  as keeping every step, and ``Maximum``/``Minimum``/``Multiply`` skip masked elements. The
  named divergence ``merge-mask-and-dropped-or`` (verify/suite/divergences.toml).
* ``sequence_mask``: whether a recurrent layer with ``return_sequences=True`` passes its input
  mask on to the next layer (``"passed"``, every release) or not (``"dropped"``: keras-nightly
  3.16.0.dev, where the next recurrent layer runs over the padded steps). The named divergence
  ``sequence-mask-dropped-keras-3.16-dev``.
* ``pool_padding``: ``AveragePooling1D(padding="same")`` with an odd amount of padding puts the
  extra element on the right; ``"excluded"`` (TensorFlow, jax): it does not count in the
  average; ``"replicated"`` (torch): the last step is repeated there and counted. The named
  divergence ``average-pooling-same-replicates-torch``.

* ``unrolled_zeroing``: a layer with ``unroll=True``, a mask and ``zero_output_for_mask``
  runs Keras's unrolled loop (masked steps output the previous output), then zeroes the output
  sequence: ``"time_order"`` (TensorFlow, Keras 2; torch too, where an unrolled
  ``go_backwards`` layer with a mask raises before: ``unrolled-backwards-mask-raises-torch``)
  by the mask in time order, although the sequence is in processing order, so with
  ``go_backwards`` it zeroes the wrong steps (the named divergence
  ``unrolled-zero-output-mask-in-time-order``); ``"ignored"`` (jax) not at all
  (``unrolled-zero-output-ignored-jax``).

* ``initial_state_mask``: a recurrent layer called with ``initial_state`` in a model, on an
  input that carries a mask (``Embedding(mask_zero=True)``, ``Masking``): ``"kept"`` (Keras 2)
  it skips the masked steps; ``"dropped"`` (Keras 3, measured 3.3 and 3.15) it is not given the
  mask and runs over the padded steps (the named divergence
  ``initial-state-drops-mask-keras3``). A mask passed explicitly (``mask=``) is used.

* ``mha_input_masks``: after a ``MultiHeadAttention`` runs, its query, value and key tensors
  keep their masks for the layers that read them afterwards (``"kept"``: Keras 2, Keras
  3.0-3.7) or have lost them (``"cleared"``, Keras >= 3.8: its call sets them to ``None`` on
  the tensors themselves, so a later ``Attention`` on the same encoder sequence runs
  unmasked). Layers that run in no fixed order relative to the MultiHeadAttention run in the
  config's layer order here. The named divergence ``mha-clears-input-masks-keras-3.8``.

* ``attention_value_mask``: an ``Attention``/``AdditiveAttention`` without
  ``use_causal_mask`` whose value carries a mask: ``"expanded"`` (Keras 2, Keras >= 3.12) the
  ``(batch, Tv)`` mask masks every query's scores; ``"misbroadcast"`` (Keras 3.0-3.11) it is
  subtracted from the ``(batch, Tq, Tv)`` scores as is, so NumPy-style broadcasting lines its
  batch axis up with the query axis: with as many queries as rows each query row gets another
  row's mask, otherwise Keras raises. The named divergence
  ``attention-value-mask-misbroadcast-keras-3.0-3.11``.

* ``bias_add``: how an ``EinsumDense`` bias (a ``MultiHeadAttention`` projection's, shape
  ``(heads, key_dim)``) is added: ``"broadcast"`` (NumPy broadcasting) or ``"channel_axis_1"``
  (Keras 3.7 and later on TensorFlow: ``keras.ops.add`` sends a bias that squeezes to one
  axis of ``n`` to ``tf.nn.bias_add``, channels last when the input's last axis is ``n``,
  else channels first, along axis 1 when that axis is ``n``: with ``key_dim=1`` and as many
  steps as heads, each step gets another head's bias). Keras decides from the static shape;
  here the array's shape decides, which is the same for a model whose inputs fix the steps.
  The named divergence ``ops-add-bias-channel-axis-1-tensorflow-keras-3.7``.

>>> KERAS2.hard_sigmoid, KERAS3.hard_sigmoid
('keras2', 'keras3')
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from verify import _validate, activations, environment

HARD_SIGMOIDS = ("keras2", "keras3")
MASKED_OUTPUTS = ("previous_output", "carried_state")
MASK_MERGES = ("and", "dropped", "or")
SEQUENCE_MASKS = ("passed", "dropped")
POOL_PADDINGS = ("excluded", "replicated")
UNROLLED_ZEROINGS = ("time_order", "ignored")
INITIAL_STATE_MASKS = ("kept", "dropped")
MHA_INPUT_MASKS = ("kept", "cleared")
ATTENTION_VALUE_MASKS = ("expanded", "misbroadcast")
BIAS_ADDS = ("broadcast", "channel_axis_1")


@dataclass(frozen=True)
class Semantics:
    """One combination of the version-dependent rules; ``name`` says where it comes from."""

    name: str
    hard_sigmoid: str
    masked_output: str
    mask_merge: str = "or"
    sequence_mask: str = "passed"
    pool_padding: str = "excluded"
    unrolled_zeroing: str = "time_order"
    initial_state_mask: str = "dropped"
    mha_input_masks: str = "cleared"
    attention_value_mask: str = "expanded"
    bias_add: str = "broadcast"

    def __post_init__(self) -> None:
        _validate.one_of("hard_sigmoid", self.hard_sigmoid, HARD_SIGMOIDS)
        _validate.one_of("masked_output", self.masked_output, MASKED_OUTPUTS)
        _validate.one_of("mask_merge", self.mask_merge, MASK_MERGES)
        _validate.one_of("sequence_mask", self.sequence_mask, SEQUENCE_MASKS)
        _validate.one_of("pool_padding", self.pool_padding, POOL_PADDINGS)
        _validate.one_of("unrolled_zeroing", self.unrolled_zeroing, UNROLLED_ZEROINGS)
        _validate.one_of("initial_state_mask", self.initial_state_mask, INITIAL_STATE_MASKS)
        _validate.one_of("mha_input_masks", self.mha_input_masks, MHA_INPUT_MASKS)
        _validate.one_of("attention_value_mask", self.attention_value_mask,
                         ATTENTION_VALUE_MASKS)
        _validate.one_of("bias_add", self.bias_add, BIAS_ADDS)

    def unrolled(self) -> Semantics:
        """These semantics inside Keras's unrolled loop (``unroll=True``): on every backend a
        masked step outputs the previous output there (jax's carried state is its scan's)."""
        return dataclasses.replace(self, masked_output="previous_output")

    def hard_sigmoid_function(self) -> activations.Activation:
        """The NumPy ``hard_sigmoid`` of this variant."""
        if self.hard_sigmoid == "keras2":
            return activations.hard_sigmoid_keras2
        return activations.hard_sigmoid_keras3

    def activation(self, name: str, *, allow_dense_only: bool = False) -> activations.Activation:
        """The NumPy function Keras uses for activation ``name`` under these semantics."""
        return activations.get(name, hard_sigmoid=self.hard_sigmoid_function(),
                               allow_dense_only=allow_dense_only)

    def masked_output_is_previous(self) -> bool:
        return self.masked_output == "previous_output"


#: Keras 2 (TensorFlow <= 2.15, or tf-keras).
KERAS2 = Semantics("keras2", hard_sigmoid="keras2", masked_output="previous_output",
                   mask_merge="and", initial_state_mask="kept", mha_input_masks="kept")
#: Keras 3 on the TensorFlow or torch backend.
KERAS3 = Semantics("keras3", hard_sigmoid="keras3", masked_output="previous_output")
#: Keras 3 on the jax or numpy backend (the ``unroll=False`` masked-output rule).
KERAS3_JAX = Semantics("keras3-jax", hard_sigmoid="keras3", masked_output="carried_state",
                       unrolled_zeroing="ignored")

#: Keras 3.0-3.3 (merge layers drop their inputs' masks), on TensorFlow/torch and on jax.
KERAS3_EARLY = Semantics("keras3.0-3.3", hard_sigmoid="keras3", masked_output="previous_output",
                         mask_merge="dropped", mha_input_masks="kept",
                         attention_value_mask="misbroadcast")
KERAS3_EARLY_JAX = Semantics("keras3.0-3.3-jax", hard_sigmoid="keras3",
                             masked_output="carried_state", mask_merge="dropped",
                             unrolled_zeroing="ignored", mha_input_masks="kept",
                             attention_value_mask="misbroadcast")

#: Keras 3.4-3.7: a MultiHeadAttention leaves its inputs' masks alone.
KERAS3_MID = Semantics("keras3.4-3.7", hard_sigmoid="keras3", masked_output="previous_output",
                       mha_input_masks="kept", attention_value_mask="misbroadcast")
KERAS3_MID_JAX = Semantics("keras3.4-3.7-jax", hard_sigmoid="keras3",
                           masked_output="carried_state", unrolled_zeroing="ignored",
                           mha_input_masks="kept", attention_value_mask="misbroadcast")
KERAS3_MID_TORCH = Semantics("keras3.4-3.7-torch", hard_sigmoid="keras3",
                             masked_output="previous_output", pool_padding="replicated",
                             mha_input_masks="kept", attention_value_mask="misbroadcast")

#: Keras 3.8-3.11: an Attention's value mask still meets the query axis.
KERAS3_LATE = Semantics("keras3.8-3.11", hard_sigmoid="keras3", masked_output="previous_output",
                        attention_value_mask="misbroadcast")
KERAS3_LATE_JAX = Semantics("keras3.8-3.11-jax", hard_sigmoid="keras3",
                            masked_output="carried_state", unrolled_zeroing="ignored",
                            attention_value_mask="misbroadcast")
KERAS3_LATE_TORCH = Semantics("keras3.8-3.11-torch", hard_sigmoid="keras3",
                              masked_output="previous_output", pool_padding="replicated",
                              attention_value_mask="misbroadcast")

#: keras-nightly 3.16.0.dev: a recurrent layer's sequence output carries no mask.
KERAS3_16 = Semantics("keras3.16", hard_sigmoid="keras3", masked_output="previous_output",
                      sequence_mask="dropped")
KERAS3_16_JAX = Semantics("keras3.16-jax", hard_sigmoid="keras3", masked_output="carried_state",
                          sequence_mask="dropped", unrolled_zeroing="ignored")

#: Keras 3 on torch: AveragePooling1D "same" pads its odd element by repeating the last step.
KERAS3_TORCH = Semantics("keras3-torch", hard_sigmoid="keras3", masked_output="previous_output",
                         pool_padding="replicated")


def _tensorflow_bias_add(base: Semantics) -> Semantics:
    """``base`` on Keras 3.7+'s TensorFlow backend (its ``ops.add`` bias shortcut)."""
    return dataclasses.replace(base, name=f"{base.name}-tf-bias-add", bias_add="channel_axis_1")


#: Keras 3.7 and later on TensorFlow: the base variant of those versions plus ``bias_add``.
KERAS3_MID_TF = _tensorflow_bias_add(KERAS3_MID)
KERAS3_LATE_TF = _tensorflow_bias_add(KERAS3_LATE)
KERAS3_TF = _tensorflow_bias_add(KERAS3)
KERAS3_16_TF = _tensorflow_bias_add(KERAS3_16)

VARIANTS: dict[str, Semantics] = {s.name: s for s in (KERAS2, KERAS3, KERAS3_JAX, KERAS3_EARLY,
                                                      KERAS3_EARLY_JAX, KERAS3_MID,
                                                      KERAS3_MID_JAX, KERAS3_MID_TORCH,
                                                      KERAS3_LATE, KERAS3_LATE_JAX,
                                                      KERAS3_LATE_TORCH,
                                                      KERAS3_16, KERAS3_16_JAX, KERAS3_TORCH,
                                                      KERAS3_MID_TF, KERAS3_LATE_TF,
                                                      KERAS3_TF, KERAS3_16_TF)}


@functools.cache
def detect() -> Semantics | None:
    """The semantics of the Keras that ``verify.keras_adapter`` would import, without
    importing it; ``None`` when no Keras is installed. Cached for the process (reading
    package metadata costs ~0.7 ms); ``detect.cache_clear()`` after changing the environment."""
    installed = environment.keras_version()
    if installed is None:
        return None
    major = int(installed.split(".")[0])
    return of_keras(installed, environment.keras3_backend() if major >= 3 else "tensorflow")


def of_keras(keras_version: str, backend: str) -> Semantics:
    """The variant of Keras ``keras_version`` (e.g. ``"3.15.1"``) on ``backend``: Keras 2;
    Keras 3 on jax/numpy (the carried-state masked output) or tensorflow/torch; before 3.4,
    with merge layers dropping masks."""
    major, minor = environment.major_minor(keras_version)
    if major < 3:
        return KERAS2
    base = _of_keras3(major, minor, backend)
    if backend == "tensorflow" and (major, minor) >= (3, 7):
        return VARIANTS[f"{base.name}-tf-bias-add"]
    return base


def _of_keras3(major: int, minor: int, backend: str) -> Semantics:
    jax = backend in ("jax", "numpy")
    if (3, 4) <= (major, minor) < (3, 8):
        return KERAS3_MID_TORCH if backend == "torch" else KERAS3_MID_JAX if jax else KERAS3_MID
    if (3, 8) <= (major, minor) < (3, 12):
        return KERAS3_LATE_TORCH if backend == "torch" else KERAS3_LATE_JAX if jax \
            else KERAS3_LATE
    if backend == "torch" and (3, 12) <= (major, minor) < (3, 16):
        return KERAS3_TORCH
    if (major, minor) < (3, 4):
        return KERAS3_EARLY_JAX if jax else KERAS3_EARLY
    if (major, minor) >= (3, 16):
        return KERAS3_16_JAX if jax else KERAS3_16
    return KERAS3_JAX if jax else KERAS3


def default() -> Semantics:
    """The installed Keras's semantics when one is installed, else Keras 3's."""
    return detect() or KERAS3


def resolve(semantics: Semantics | str | None) -> Semantics:
    """``None`` → :func:`default`; a name → that variant; a :class:`Semantics` as is."""
    if semantics is None:
        return default()
    if isinstance(semantics, Semantics):
        return semantics
    if isinstance(semantics, str) and semantics in VARIANTS:
        return VARIANTS[semantics]
    raise ValueError(f"semantics must be None, a Semantics or one of {', '.join(VARIANTS)}; "
                     f"got {semantics!r}")


__all__ = ["KERAS2", "KERAS3", "KERAS3_16", "KERAS3_16_JAX", "KERAS3_16_TF", "KERAS3_EARLY",
           "KERAS3_EARLY_JAX", "KERAS3_JAX", "KERAS3_LATE", "KERAS3_LATE_JAX",
           "KERAS3_LATE_TF", "KERAS3_LATE_TORCH", "KERAS3_MID", "KERAS3_MID_JAX",
           "KERAS3_MID_TF", "KERAS3_MID_TORCH", "KERAS3_TF", "KERAS3_TORCH", "VARIANTS",
           "Semantics", "default", "detect", "of_keras", "resolve"]
