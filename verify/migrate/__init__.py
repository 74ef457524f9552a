"""``python -m verify migrate OLD.h5 NEW.keras``: a Keras 2 model file that Keras 3 loads, with
proof that it computes the same function.

:func:`plan` (no Keras) reads the old file as data (:mod:`verify.files`) and rewrites its
config for Keras 3: ``time_major`` dropped (``True`` refused: Keras 3 has no time-major
layers), ``batch_input_shape`` → ``batch_shape`` on the input layer and dropped elsewhere,
initializer/regularizer/constraint objects given the ``module`` Keras 3 looks them up by,
``CuDNNLSTM``/``CuDNNGRU`` → ``LSTM``/``GRU(reset_after=True)`` with their weights converted
as Keras 2's own loader converts them (exact: the same function on CPU). Keras 2's
``hard_sigmoid`` (``clip(0.2x + 0.5)``) is a different function in Keras 3 (``clip(x/6 + 0.5)``):
refused, unless ``rescale_hard_sigmoid`` and the activation reads a linear function of the
layer's own weights — then ``hs2(z) = hs3(1.2 z)`` and the columns it reads are scaled by 1.2.

:func:`run` (Keras 3) builds the rewritten model, installs the weights with ``set_weights``,
saves it next to the target, loads it back, and compares it on random inputs with
:func:`verify.model.forward` of the *original* file under the original Keras's semantics. Only
a proven file is moved to the target path.
"""

from __future__ import annotations

from verify.migrate.prove import run
from verify.migrate.rewrite import HARD_SIGMOID_SCALE, CannotMigrate, Plan, Result, plan

__all__ = ["HARD_SIGMOID_SCALE", "CannotMigrate", "Plan", "Result", "plan", "run"]
