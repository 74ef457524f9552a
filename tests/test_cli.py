"""``python -m verify report`` run as a user runs it: a subprocess, checked by exit code and
output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*arguments: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", code, *arguments] if code else [
        sys.executable, "-m", "verify", *arguments]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=600, check=False)


def test_report_passes_and_writes_json(tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.json"
    result = run("report", "--examples", "3", "--seed", "1", "--property", "lstm_shapes",
                 "--property", "gate_f", "--json", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all properties hold" in result.stdout
    assert "lstm_shapes" in result.stdout and "gate_f" in result.stdout
    document = json.loads(target.read_text())
    assert document["passed"] is True and document["seed"] == 1
    assert [p["name"] for p in document["properties"]] == ["lstm_shapes", "gate_f"]
    assert all(p["examples"] >= 3 and p["passed"] for p in document["properties"])
    assert document["versions"]["keras_version"]


def test_report_exits_1_with_a_reproducer_when_keras_disagrees() -> None:
    """A deliberately wrong formula (4u(d+u) with bias) must be caught against real Keras."""
    code = (
        "import sys; from verify import shapes\n"
        "shapes.lstm_param_count = lambda d, u, *, use_bias=True: 4 * u * (d + u)\n"
        "from verify.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    result = run("report", "--examples", "5", "--property", "lstm_shapes", code=code)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISMATCH" in result.stdout
    assert "count_params() differs from the formula" in result.stdout
    assert "layer = keras_adapter.built(LSTMConfig(" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["report", "--examples", "0"], "--examples: expected a positive integer"),
        (["report", "--seed", "x"], "--seed: expected an integer seed >= 0"),
        (["report", "--profile", "fast"], "--profile: invalid choice"),
        (["report", "--property", "nope"], "--property: invalid choice"),
        (["report", "--json", "/proc/no/such/dir/out.json"], "cannot write --json"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_usage_exits_2_with_one_clear_line(arguments: list[str], message: str) -> None:
    result = run(*arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
