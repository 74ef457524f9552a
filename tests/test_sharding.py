"""``--shard I/N`` (conftest.py) splits the suite for the GitHub workflow's thorough job: the
shards are disjoint, together run every test and differ by one test at most; bad values are
refused as a usage error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = ["tests/test_shapes.py", "tests/test_gates.py"]


def collected(*arguments: str) -> tuple[int, list[str]]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         *FILES, *arguments],
        cwd=ROOT, capture_output=True, text=True, check=False)
    return result.returncode, [line for line in result.stdout.splitlines() if "::" in line]


def test_shards_partition_the_suite() -> None:
    code, everything = collected()
    assert code == 0 and everything
    shards = [collected("--shard", f"{index}/3")[1] for index in (1, 2, 3)]
    assert sorted(test for shard in shards for test in shard) == sorted(everything)
    sizes = [len(shard) for shard in shards]
    assert max(sizes) - min(sizes) <= 1, sizes  # dealt round-robin


def test_a_bad_shard_is_refused_as_a_usage_error() -> None:
    code, _ = collected("--shard", "5/4")
    assert code == 4  # pytest's exit code for a usage error


@pytest.mark.parametrize("value", ["0/4", "5/4", "2", "a/b", "1/2/3"])
def test_a_bad_shard_value_says_what_was_expected(value: str) -> None:
    from conftest import shard_of

    with pytest.raises(pytest.UsageError, match="--shard"):
        shard_of(value)
