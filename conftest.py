"""Suite configuration: Hypothesis profiles, TensorFlow threads, report header, fixtures."""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any

# One TensorFlow thread pool per xdist worker (set before TensorFlow is imported anywhere).
for _variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

from verify import environment  # noqa: E402
from verify.suite import profiles  # noqa: E402

profiles.register()
# Loaded explicitly: with $CI set, Hypothesis would otherwise load its own built-in "ci".
settings.load_profile(profiles.default_profile())


def _version(*distributions: str) -> str:
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Versions read from package metadata, so the controller process never imports TF."""
    legacy = environment.legacy_keras_requested()
    keras = f"tf-keras {_version('tf-keras')}" if legacy else f"Keras {_version('keras')}"
    backend = "tensorflow" if legacy else os.environ.get("KERAS_BACKEND", "tensorflow")
    return [
        f"lstm-verify: TensorFlow {_version('tensorflow-cpu', 'tensorflow')}, {keras}, "
        f"backend {backend}, NumPy {_version('numpy')}, Hypothesis {_version('hypothesis')}, "
        f"profile {settings.get_current_profile_name()}"
    ]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "adapter" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.keras)


@pytest.fixture(scope="session")
def adapter() -> Any:
    """The Keras adapter, imported and warmed up once per process (the first LSTM call is slow)."""
    from verify import keras_adapter

    keras_adapter.warm_up()
    return keras_adapter


@pytest.fixture
def check_property(adapter: Any, record_property: Any) -> Any:
    """Run one property (or one stratum of it) as a Hypothesis test and record its numbers in
    the JUnit report (``python -m verify matrix`` reads them)."""
    from verify.suite.properties import PROPERTIES

    def check(name: str, stratum: str | None = None) -> None:
        stats: dict[str, float] = {}
        record_property("property", name)
        try:
            PROPERTIES[name].hypothesis_test(stratum, stats)()
        finally:
            for key, value in stats.items():
                record_property(key, value)

    return check
