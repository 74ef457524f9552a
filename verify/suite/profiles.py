"""Hypothesis profiles shared by ``conftest.py`` and ``python -m verify report``.

* ``dev`` (default locally): a quick, randomised run with the example database on.
* ``ci`` (default when ``CI`` is set): derandomised, so every run checks the same examples;
  no database; failures print the reproduction blob.
* ``thorough``: ten times ``ci``'s budget, randomised, for nightly runs and upgrades.

``dev`` and ``thorough`` keep Hypothesis's example database in ``.hypothesis/examples``
(the GitHub workflow caches it between runs and uploads it as the artifact
``hypothesis-example-db``). With ``LSTM_VERIFY_SHARED_EXAMPLES=owner/repo`` they also replay,
read-only, the counterexamples CI found (Hypothesis's ``GitHubArtifactDatabase``; a private
repository needs ``GITHUB_TOKEN``).

``deadline=None`` everywhere: building a Keras layer takes tens of milliseconds and varies
with the cache, which Hypothesis would misread as flaky timing.
"""

from __future__ import annotations

import os
from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {"max_examples": 25},
    "ci": {"max_examples": 60, "derandomize": True, "database": None, "print_blob": True},
    "thorough": {"max_examples": 600},
}


def register() -> None:
    """Register every profile with Hypothesis (safe to call more than once). Hypothesis is
    imported here, not with this module: the command line names the profiles without it."""
    from hypothesis import HealthCheck, settings

    common: dict[str, Any] = {
        "deadline": None,
        # Cases build real Keras layers; a slow first build is expected, not a strategy problem.
        "suppress_health_check": [HealthCheck.too_slow],
    }
    shared = os.environ.get("LSTM_VERIFY_SHARED_EXAMPLES")
    for name, options in PROFILES.items():
        if shared and "database" not in options:
            options = {**options, "database": shared_database(shared)}
        settings.register_profile(name, **common, **options)


def shared_database(repository: str) -> Any:
    """The local example database, plus CI's (read-only) from the latest
    ``hypothesis-example-db`` artifact of GitHub repository ``owner/repo``."""
    from hypothesis.database import (
        DirectoryBasedExampleDatabase,
        GitHubArtifactDatabase,
        MultiplexedDatabase,
        ReadOnlyDatabase,
    )

    owner, _, repo = repository.partition("/")
    if not owner or not repo or "/" in repo:
        raise ValueError(f"LSTM_VERIFY_SHARED_EXAMPLES={repository!r}: expected owner/repo")
    return MultiplexedDatabase(DirectoryBasedExampleDatabase(".hypothesis/examples"),
                               ReadOnlyDatabase(GitHubArtifactDatabase(owner, repo)))


def default_profile() -> str:
    """``$HYPOTHESIS_PROFILE`` if set, else ``ci`` under CI (``$CI`` set), else ``dev``."""
    name = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
    if name not in PROFILES:
        raise ValueError(f"HYPOTHESIS_PROFILE={name!r} is not a profile; "
                         f"expected one of {', '.join(PROFILES)}")
    return name
