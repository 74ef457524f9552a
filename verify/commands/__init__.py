"""The commands of ``python -m verify`` that work on a user's model file:
:mod:`~verify.commands.reading` (explain, export, predict, without TensorFlow) and
:mod:`~verify.commands.proving` (check and migrate, with Keras). What every command shares is
in :mod:`verify.terminal`; ``report`` and ``matrix`` belong to the verification machinery
(:mod:`verify.suite.report`, :mod:`verify.suite.matrix`); :mod:`verify.cli` dispatches to all
of them."""
