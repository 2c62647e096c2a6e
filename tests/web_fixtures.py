"""Fixtures of the web pages' tests: a small generated dist_perf_dw on the test server (three business
days, ~9,000 flows), a firm whose name is hostile markup, and the app reading it as the reader role."""

import datetime as dt
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from pipeline.resources.postgres import PostgresResource

DAYS = [dt.date(2025, 3, 3), dt.date(2025, 3, 4), dt.date(2025, 3, 5)]  # Monday to Wednesday, NYSE open
RANGE = {"from": DAYS[0].isoformat(), "to": DAYS[-1].isoformat()}
HOSTILE_NAME = """Fairview <script>window.__pwned = 1</script> "Bank" & 'Trust' <img src=x onerror=alert(1)>"""


@dataclass(frozen=True)
class Warehouse:
    postgres: PostgresResource
    admin_url: sa.URL
    hostile_crd: str

    def engine(self) -> sa.Engine:
        return self.postgres.get_engine()


@pytest.fixture(scope="module")
def warehouse(fresh_postgres_database) -> Warehouse:
    # Imported here: this module is a plugin of every test session (conftest), the loader imports the assets.
    from benchmarks.web_data import load_dist_perf_dw

    postgres = fresh_postgres_database("web")
    load_dist_perf_dw(postgres, DAYS)
    with postgres.get_engine().begin() as connection:
        crd = connection.execute(sa.text(
            "SELECT f.crd_number FROM dist_perf_dw.fact_aum_flows a JOIN dist_perf_dw.dim_firms f USING (firm_id) "
            "GROUP BY f.crd_number ORDER BY sum(a.net_amount) DESC LIMIT 1"
        )).scalar_one()
        connection.execute(sa.text("UPDATE dist_perf_dw.dim_firms SET firm_name = :name WHERE crd_number = :crd"),
                           {"name": HOSTILE_NAME, "crd": crd})
    return Warehouse(postgres, postgres.sqlalchemy_url(), crd)


@pytest.fixture(scope="module")
def reader(warehouse) -> sa.URL:
    from pipeline.web.database import reader_url

    return reader_url(warehouse.admin_url)


@pytest.fixture(scope="module")
def app(reader):
    from pipeline.web import create_app

    # No page cache: the tests count the statements each page issues (test_web.py tests the cache itself).
    app = create_app({"DIST_PERF_DW_URL": reader, "TESTING": True, "PAGE_CACHE_SECONDS": 0})
    yield app
    app.extensions["dist_perf_dw"].dispose()
