"""Every named divergence (verify/suite/divergences.toml) is asserted on the running Keras: where
the entry applies, Keras behaves exactly as it says; elsewhere, as the entry says it does there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from verify.suite import divergences

ENTRIES = divergences.load()


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.name for entry in ENTRIES])
def test_divergence_is_exactly_as_named(adapter: Any, entry: divergences.Divergence,
                                        record_property: Any) -> None:
    environment = divergences.environment()
    applies = entry.applies_to(environment)
    record_property("divergence", entry.name)
    record_property("divergence_applies", applies)
    observed = divergences.PROBES[entry.probe]()
    expected = entry.expected(environment)
    assert observed == expected, (
        f"divergence {entry.name!r} ({entry.what}): on {adapter.info().describe()} the entry "
        f"{'applies' if applies else 'does not apply'}, so probe {entry.probe!r} should observe "
        f"{expected!r}, but Keras gave {observed!r}. Update verify/suite/divergences.toml "
        f"(source: {entry.source})")


def test_environment_is_recorded(adapter: Any, record_property: Any) -> None:
    """The matrix report reads the versions of each environment from here."""
    info = adapter.info()
    record_property("environment", info.describe())
    record_property("gpu", adapter.device().accelerator is not None)
    assert info.keras_version


GPU_ENTRIES = [entry for entry in ENTRIES if entry.needs == "gpu"]


@pytest.mark.parametrize("entry", GPU_ENTRIES, ids=[entry.name for entry in GPU_ENTRIES])
def test_gpu_divergence_applies_on_a_gpu(adapter: Any, entry: divergences.Divergence) -> None:
    """The side of a GPU entry a CPU cannot show: on a GPU of the entry's backend, the probe
    observes the divergence (test_divergence_is_exactly_as_named asserts it there too; this
    test names what a CPU run leaves unseen)."""
    environment = divergences.environment()
    if not environment.gpu:
        pytest.skip(f"{entry.name} needs a GPU; this machine computes on the cpu "
                    f"({adapter.device().describe()})")
    if not entry.applies_to(environment):
        pytest.skip(f"{entry.name} applies to {entry.applies}, not to {environment}")
    assert divergences.PROBES[entry.probe]() == entry.observed


@pytest.mark.parametrize(("text", "message"), [
    ('[[divergence]]\nname = "x"\n', r"divergence 'x': missing \['what'"),
    ("[[divergence", "cannot read divergences"),
])
def test_a_bad_data_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "divergences.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        divergences.load(path)


def test_unknown_condition_keys_are_refused() -> None:
    environment = divergences.Environment(3, "tensorflow", False, "2.21.0")
    with pytest.raises(ValueError, match=r"unknown condition keys \['kera'\]"):
        divergences.matches({"kera": [3]}, environment)
    assert divergences.matches({"tensorflow_below": "2.22"}, environment)
    assert not divergences.matches({"tensorflow_below": "2.16"}, environment)
