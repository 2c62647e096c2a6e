"""Shared fixtures. Each warehouse keeps its fixtures in its own plugin module."""

import pytest

from pipeline.settings import ENV_LANDING_DIR

pytest_plugins = ["tests.fixtures_clickhouse", "tests.fixtures_postgres"]


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
