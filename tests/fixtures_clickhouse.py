"""ClickHouse fixtures: one real chDB store per test session, one database per test.

chDB serves one data directory per process, so the session shares a single
store and tests are isolated by database name. With PIVOT_CLICKHOUSE_URL set,
the same tests run against that server instead.
"""

import itertools
import os

import pytest

from pipeline.resources.clickhouse import ClickHouseResource, close_all_clients
from pipeline.settings import ENV_CLICKHOUSE_URL

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def clickhouse_url(tmp_path_factory) -> str:
    url = os.environ.get(ENV_CLICKHOUSE_URL) or f"chdb://{tmp_path_factory.mktemp('clickhouse')}"
    yield url
    close_all_clients()


def _fresh_resource(url: str, label: str) -> ClickHouseResource:
    resource = ClickHouseResource(url=url, database=f"pivot_test_{os.getpid()}_{label}_{next(_database_numbers)}")
    resource.apply_ddl()
    return resource


@pytest.fixture
def clickhouse(clickhouse_url) -> ClickHouseResource:
    """An empty pivot database (DDL applied) for one test, dropped afterwards."""
    resource = _fresh_resource(clickhouse_url, "fn")
    yield resource
    resource.command(f"DROP DATABASE IF EXISTS {resource.database}")


@pytest.fixture(scope="module")
def clickhouse_module(clickhouse_url) -> ClickHouseResource:
    """An empty pivot database shared by the tests of one module."""
    resource = _fresh_resource(clickhouse_url, "mod")
    yield resource
    resource.command(f"DROP DATABASE IF EXISTS {resource.database}")
