"""Which kernel Keras runs, checked against its own rules, and the default precision's bound
(verify.suite.properties.kernels), on the running Keras and device."""

from __future__ import annotations

from typing import Any

import pytest

from verify.suite.properties import run_id, runs


@pytest.mark.parametrize("run", runs("kernels", "default_precision"), ids=run_id)
def test_kernel_property(check_property: Any, run: tuple[str, str | None]) -> None:
    name, stratum = run
    check_property(name, stratum)


def test_device_table_names_where_each_error_falls(adapter: Any) -> None:
    """The report's device table on this machine: Keras at the defaults and at strict
    precision within float32's bound where the device computes float32 (a CPU), and the
    reference's TF32 emulation outside float32's bound and inside TF32's (the size of what a
    GPU's TF32 default gives)."""
    from verify.suite.properties import kernels

    rows = kernels.device_table()
    per_layer = 3 if adapter.device().accelerator is not None else 2  # strict: GPU only
    assert [row["layer"] for row in rows[::per_layer]] == \
        [label for label, *_ in kernels.DEVICE_LAYERS]
    for row in rows:
        if row["precision"] == "tf32 (emulated)":
            assert row["within"] == "tf32" and row["kernel"] == "numpy tf32 emulation", row
            assert 1e-4 < row["relative_error"] < 2e-3, row
        elif adapter.device().accelerator is None or row["precision"] == "strict":
            assert row["within"] == "float32", row
    text = kernels.format_device_table(rows)
    assert text.splitlines()[0].split() == ["layer", "precision", "kernel", "error", "float32",
                                            "bound", "tf32", "bound", "within"]


def test_a_kernel_mismatch_explains_itself(adapter: Any, monkeypatch: Any) -> None:
    """Rules that name another kernel than Keras ran: the message has the configuration, the
    versions and device, both kernels and a snippet that reruns the call."""
    import numpy as np

    from verify import compare, devices
    from verify.config import LSTMConfig
    from verify.suite.properties import kernels

    monkeypatch.setattr(kernels.devices, "expected_kernel",
                        lambda **options: devices.Kernel("cudnn", "a rule that is wrong"))
    config = LSTMConfig(units=2, input_dim=1, timesteps=3)
    weights = [np.full(shape, 0.1, np.float32) for shape in config.cell.weight_shapes(1, 2)]
    x = np.ones((1, 3, 1), np.float32)
    with pytest.raises(compare.Mismatch) as caught:
        kernels.check_kernel(config, weights, x)
    message = str(caught.value)
    assert "the kernel that ran (a rule that is wrong)" in message
    assert "formula gives 'cudnn'" in message and adapter.info().keras_version in message
    snippet = message.split("reproduce:\n", 1)[1]
    namespace: dict[str, Any] = {}
    exec("\n".join(line[4:] for line in snippet.splitlines()), namespace)
    assert namespace["kernel"] != "cudnn" and len(namespace["outputs"]) == 1
