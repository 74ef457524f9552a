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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shard", metavar="I/N", default=None,
        help="run only shard I of N (1 <= I <= N): the tests are dealt round-robin in "
             "collection order, so every shard gets a share of every file's expensive runs "
             "(the GitHub workflow runs the thorough profile as 4 shards)")


def shard_of(value: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)``, or ``pytest.UsageError`` naming what was expected."""
    try:
        index, count = (int(part) for part in value.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--shard expects I/N (e.g. 2/4), got {value!r}") from None
    if not 1 <= index <= count:
        raise pytest.UsageError(f"--shard {value}: I must be between 1 and N")
    return index, count


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "adapter" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.keras)
    if config.getoption("--shard"):
        index, count = shard_of(config.getoption("--shard"))
        kept, dropped = [], []
        for position, item in enumerate(items):
            (kept if position % count == index - 1 else dropped).append(item)
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def adapter() -> Any:
    """The Keras adapter, imported and warmed up once per process (the first LSTM call is slow)."""
    from verify import keras_adapter

    keras_adapter.reuse_compilations()  # jax: compiled programs kept between runs
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
