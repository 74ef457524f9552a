"""The verification machinery: what checks Keras against the library, never imported by it.

:mod:`~verify.suite.properties` (the checks, shared by the tests and the report),
:mod:`~strategies.families` and :mod:`~verify.suite.keras_families` (the real-model
families the properties draw), :mod:`~verify.suite.coverage` (distinct configurations and
pairwise coverage), :mod:`~verify.suite.profiles` (Hypothesis budgets),
:mod:`~verify.suite.divergences` (named differences between Keras versions, with probes),
:mod:`~verify.suite.report` (``python -m verify report``), :mod:`~verify.suite.matrix` (the
tox environments' merged table) and :mod:`~verify.suite.benchmark`. It imports the library
(:mod:`verify`) and the strategies; the library imports nothing from here.
"""
