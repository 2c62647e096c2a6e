"""Shared fixtures. Each warehouse keeps its fixtures in its own plugin module."""

import os
import tempfile
from pathlib import Path

import pytest

from pipeline.settings import ENV_LANDED_SETTLE_SECONDS, ENV_LANDING_DIR

# Tests write a landed file and load it at once: the settle window (a load refuses a file changed in
# the last 10 s) is off for them, and on in the tests of that rule, which set it themselves.
os.environ.setdefault(ENV_LANDED_SETTLE_SECONDS, "0")
# Hypothesis keeps its example database (failures replayed on the next run) out of the repository,
# which the suite leaves as it found it; read when the first property test runs, after this.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "pivot-pipeline-hypothesis"))

pytest_plugins = ["tests.fixtures_clickhouse", "tests.fixtures_postgres", "tests.web_fixtures"]


@pytest.fixture(autouse=True)
def _no_inherited_defs_state_storage():
    """Each test starts with no "current" Dagster defs-state storage.

    Every DagsterInstance registers its storage in a context variable; an instance
    closed out of order by an earlier test's fixtures can leave a dead one there, and
    resolving `defs` then fails with "undefined DagsterInstance weakref"."""
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture
def landing(tmp_path, monkeypatch):
    """An empty landing folder for composition files, set as $PIVOT_LANDING_DIR."""
    directory = tmp_path / "landing"
    directory.mkdir()
    monkeypatch.setenv(ENV_LANDING_DIR, str(directory))
    return directory
