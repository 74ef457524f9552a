"""The commands of ``python -m verify`` that work on a user's model file
(:mod:`~verify.commands.reading`: explain, export, predict without TensorFlow;
:mod:`~verify.commands.proving`: check and migrate with Keras), and what every command shares
(:mod:`~verify.commands.common`). ``report`` and ``matrix`` belong to the verification
machinery (:mod:`verify.suite.report`, :mod:`verify.suite.matrix`); :mod:`verify.cli`
dispatches to all of them."""
