"""The DDL, the ORM and the local server agree with each other and with reality."""

import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pipeline.dist_perf_dw.models import SCHEMA, TABLE_TO_CLASS, Base
from pipeline.dist_perf_dw.versions import DATE_COLUMNS, history_table
from pipeline.resources.local_postgres import ensure_local_postgres_url
from pipeline.resources.postgres import PostgresResource, PostgresUnavailableError
from pipeline.settings import REPO_ROOT

pytestmark = pytest.mark.slow


# The fact versions' tables (ddl/postgres/030_fact_history.sql): shaped after the facts, not mapped.
HISTORY_TABLES = ["partition_versions", *(history_table(table) for table in DATE_COLUMNS)]


@pytest.fixture(scope="module")
def ddl_database(fresh_postgres_database) -> PostgresResource:
    return fresh_postgres_database("ddl")


def test_ddl_applies_to_an_empty_database_and_again(ddl_database):
    with ddl_database.get_engine().connect() as connection:
        assert not sa.inspect(connection).has_schema(SCHEMA)
    files = ["001_schema.sql", "010_dimensions.sql", "020_facts.sql", "030_fact_history.sql"]
    assert ddl_database.apply_ddl() == files
    ddl_database.apply_ddl()  # idempotent
    with ddl_database.get_engine().connect() as connection:
        inspector = sa.inspect(connection)
        tables = set(inspector.get_table_names(schema=SCHEMA))
        history = {table: [c["name"] for c in inspector.get_columns(table, schema=SCHEMA)] for table in HISTORY_TABLES}
    assert tables - set(HISTORY_TABLES) == set(TABLE_TO_CLASS)
    # The spec's 14 dimensions and 5 facts, and the two effective-dated assignment tables of landed data.
    assert len(tables - set(HISTORY_TABLES)) == 21
    # Not in the ORM: the versions of the facts' dates (issue 18), each history table its fact's columns
    # plus the version's number, and the versions catalog.
    assert set(HISTORY_TABLES) <= tables
    for table in DATE_COLUMNS:
        assert history[history_table(table)] == [*TABLE_TO_CLASS[table].__table__.columns.keys(), "version"]


def _orm_vs_database(resource: PostgresResource) -> list:
    def include_name(name, type_, parent_names):
        if type_ == "table":
            return name not in HISTORY_TABLES
        return type_ != "schema" or name == SCHEMA

    with resource.get_engine().connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"include_schemas": True, "include_name": include_name, "compare_type": True},
        )
        return compare_metadata(context, Base.metadata)


def test_orm_and_ddl_describe_the_same_schema(ddl_database):
    ddl_database.apply_ddl()
    assert _orm_vs_database(ddl_database) == []


def test_the_comparison_notices_a_drift(fresh_postgres_database):
    drifted = fresh_postgres_database("drift")
    drifted.apply_ddl()
    with drifted.get_engine().begin() as connection:
        connection.exec_driver_sql(f"ALTER TABLE {SCHEMA}.dim_regions ALTER COLUMN region_name DROP NOT NULL")
        connection.exec_driver_sql(f"ALTER TABLE {SCHEMA}.fact_revenue ALTER COLUMN fee_rate TYPE NUMERIC(9,6)")
        connection.exec_driver_sql(f"DROP INDEX {SCHEMA}.ix_fact_aum_flows_advisor_id")
    kinds = sorted(str(d[0][0] if isinstance(d, list) else d[0]) for d in _orm_vs_database(drifted))
    assert kinds == ["add_index", "modify_nullable", "modify_type"]


def test_orm_declares_what_the_spec_names():
    assert {cls.__name__ for cls in TABLE_TO_CLASS.values()} == {
        "DimDates", "DimRegions", "DimChannels", "DimFirms", "DimFirmTypes", "DimAdvisors", "DimProducts",
        "DimAssetClasses", "DimVehicleTypes", "DimWholesalers", "DimTerritories", "DimExpenseCategories",
        "DimExpenseTypes", "DimTransactionTypes", "FactAUMFlow", "FactRetentionSnapshots", "FactRevenue",
        "FactDistributionExpense", "FactWholesalerComp",
        # Not in the spec: the effective-dated assignments landed masters build (issue 17).
        "AdvisorAssignments", "WholesalerAssignments",
    }
    for cls in TABLE_TO_CLASS.values():
        assert cls.__table__.schema == SCHEMA
        for foreign_key in cls.__table__.foreign_keys:
            assert foreign_key.target_fullname.startswith(f"{SCHEMA}.")
        for relationship in sa.inspect(cls).relationships:
            assert relationship.back_populates is None and relationship.backref is None


def test_every_orm_column_says_what_it_holds():
    # doc=, not comment=: alembic compares SQL comments with the database's (and the DDL has none).
    for cls in TABLE_TO_CLASS.values():
        for column in cls.__table__.columns:
            assert column.doc and column.doc.endswith("."), f"{cls.__tablename__}.{column.name}"
            assert column.comment is None


def test_unreachable_database_names_host_port_and_env_var_without_the_password():
    resource = PostgresResource(url="postgresql+psycopg://analyst:s3cret-pw@127.0.0.1:1/dist_perf_dw")
    with pytest.raises(PostgresUnavailableError) as raised:
        resource.get_engine()
    message = str(raised.value)
    assert "127.0.0.1:1" in message
    assert "PIVOT_POSTGRES_URL" in message
    assert "s3cret-pw" not in message
    assert "***" in message


def test_local_server_url_and_cli():
    url = ensure_local_postgres_url("dagster")
    assert url.startswith("postgresql+psycopg://")
    with sa.create_engine(url).connect() as connection:
        assert connection.execute(sa.text("SELECT current_database()")).scalar() == "dagster"
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.resources.local_postgres", "url"],
        capture_output=True, text=True, cwd=REPO_ROOT, check=True,
    )
    assert result.stdout.strip().startswith("postgresql+psycopg://")
    assert result.stdout.strip().split("?")[0].endswith("/dist_perf_dw")
