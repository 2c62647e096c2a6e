"""PostgreSQL fixtures: a real server, a throwaway database per test session.

Without PIVOT_POSTGRES_URL the project's local server (.data/postgres) is
started if needed; with it, the databases are created on that server (the
role needs CREATEDB). Either way each session's database is dropped at the end.
"""

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from pipeline.resources.local_postgres import create_database_if_missing, drop_database, start
from pipeline.resources.postgres import PostgresResource, dispose_engines, normalize_url
from pipeline.settings import ENV_POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_admin_url() -> sa.URL:
    """A URL on the test server from which databases can be created and dropped."""
    configured = os.environ.get(ENV_POSTGRES_URL)
    return normalize_url(configured) if configured else start()


@pytest.fixture(scope="session")
def fresh_postgres_database(postgres_admin_url: sa.URL) -> Iterator[Callable[[str], PostgresResource]]:
    """A factory of PostgresResources, each on a new empty database, all dropped at session end."""
    created: list[str] = []

    def create(label: str) -> PostgresResource:
        database = f"dist_perf_dw_test_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        create_database_if_missing(postgres_admin_url, database)
        created.append(database)
        return PostgresResource(url=postgres_admin_url.set(database=database).render_as_string(hide_password=False))

    yield create
    dispose_engines()
    for database in created:
        drop_database(postgres_admin_url, database)


@pytest.fixture(scope="session")
def postgres_resource(fresh_postgres_database) -> PostgresResource:
    """The session's dist_perf_dw database, with the DDL applied."""
    resource = fresh_postgres_database("session")
    resource.apply_ddl()
    return resource
