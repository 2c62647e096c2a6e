"""The DDL in each form (pipeline/pivot/clickhouse_ddl.py): every statement parses in the engine, the
cluster form holds the embedded form's columns exactly, and the CLI prints what the resource applies."""

import re
import subprocess
import sys

import pytest

from pipeline.pivot import clickhouse_ddl
from pipeline.pivot.clickhouse_ddl import (
    DAY_VERSIONS,
    REFERENCE_TABLES,
    VERSIONED_TABLES,
    cluster_statements,
    ddl_statements,
    render,
    role_statements,
    server_statements,
)
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import REPO_ROOT
from tests.cluster_simulation import SimulatedCluster

CLUSTER = "pivot_cluster"
EVERY_FORM = {
    "server": server_statements(),
    "cluster": cluster_statements(CLUSTER),
    "roles": role_statements("pivot", None, "loader-secret", "reader-secret"),
    "cluster roles": role_statements("pivot", CLUSTER, "loader-secret", "reader-secret"),
}


@pytest.mark.parametrize("form", EVERY_FORM)
def test_every_generated_statement_parses_in_the_engine(clickhouse, form):
    for statement in EVERY_FORM[form]:
        # formatQuery parses with the server's own parser and fails on anything it cannot read.
        formatted = clickhouse.query_rows("SELECT formatQuery({sql:String})", {"sql": statement})[0][0]
        assert formatted.split()[0] == statement.split()[0], statement


def test_the_cluster_form_runs_every_statement_on_the_cluster_and_replicates_every_table():
    statements = cluster_statements(CLUSTER)
    assert all(f" ON CLUSTER {CLUSTER}" in statement for statement in statements)
    engines = dict(
        re.findall(
            r"TABLE IF NOT EXISTS pivot\.(\w+) ON CLUSTER \w+(?: AS \S+)?\s.*?ENGINE = (\w+)",
            "\n".join(statements),
            re.S,
        )
    )
    for table in REFERENCE_TABLES + (DAY_VERSIONS,):
        assert engines[table] == "ReplicatedMergeTree", table
    assert engines["trades_1d_local"] == "ReplicatedMergeTree"
    assert engines["trades_1d_rollup_local"] == "ReplicatedAggregatingMergeTree"
    assert engines["trades_1d_all"] == engines["trades_1d_rollup_all"] == "Distributed"
    text = render(statements)
    assert "ENGINE = Distributed(pivot_cluster, pivot, trades_1d_local, cityHash64(account_id))" in text
    assert text.count("'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'") == len(VERSIONED_TABLES)
    # Under the names the queries use: views that show a date at its completed version only.
    for table in VERSIONED_TABLES:
        assert f"CREATE OR REPLACE VIEW pivot.{table} ON CLUSTER {CLUSTER} AS" in text


def test_the_cluster_form_is_generated_from_the_ddl_files_not_copied(monkeypatch, tmp_path):
    """A column added to ddl/clickhouse appears in the cluster form's local table, Distributed table and view."""
    source = (REPO_ROOT / "ddl" / "clickhouse").glob("*.sql")
    for path in source:
        text = path.read_text().replace(
            "    metric_14               Float64 COMMENT 'Custom metric'\n",
            "    metric_14               Float64 COMMENT 'Custom metric',\n    metric_15 Float64\n",
        )
        (tmp_path / path.name).write_text(text)
    monkeypatch.setattr(clickhouse_ddl, "DDL_DIR", tmp_path)
    text = render(cluster_statements(CLUSTER))
    assert "metric_15 Float64,\n    load_version UInt64" in text
    assert "metric_14, metric_15\nFROM pivot.trades_1d_all" in text


def _columns(resource: ClickHouseResource, database: str, table: str) -> list[tuple[str, str]]:
    return resource.query_rows(
        "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position",
        {"db": database, "t": table},
    )


def test_the_cluster_form_has_the_embedded_forms_columns_column_by_column(clickhouse):
    """Both forms created in the engine (the cluster form with its engines simulated): the tables the
    queries read have the same columns, names and types, in the same order."""
    cluster = SimulatedCluster(ClickHouseResource(url=clickhouse.url, database=clickhouse.database + "_c"), 2)
    cluster.create()
    try:
        embedded, clustered = clickhouse.database, cluster.database
        shard = cluster.shard_database(0)
        for table in REFERENCE_TABLES:
            assert _columns(clickhouse, clustered, table) == _columns(clickhouse, embedded, table), table
        for table in VERSIONED_TABLES:
            expected = _columns(clickhouse, embedded, table)
            assert len(expected) > 10
            assert _columns(clickhouse, clustered, table) == expected, table  # the view the queries read
            assert _columns(clickhouse, clustered, table + "_all") == [*expected, ("load_version", "UInt64")]
            assert _columns(clickhouse, shard, table + "_local") == [*expected, ("load_version", "UInt64")]
    finally:
        cluster.drop()


def test_roles_hold_no_password_in_clear_and_only_the_loader_writes():
    statements = role_statements("pivot", CLUSTER, "loader-secret", "reader-secret")
    text = render(statements)
    assert "secret" not in text
    assert clickhouse_ddl.password_hash("loader-secret") in text
    reader_grants = [s for s in statements if s.startswith("GRANT") and s.endswith("TO pivot_reader")]
    assert reader_grants == [f"GRANT ON CLUSTER `{CLUSTER}` SELECT, SHOW TABLES ON `pivot`.* TO pivot_reader"]
    # Nothing beyond database pivot but the right to run ON CLUSTER DDL.
    assert [s for s in statements if "*.*" in s and "`pivot`.*" not in s] == [
        f"GRANT ON CLUSTER `{CLUSTER}` CLUSTER ON *.* TO pivot_loader"
    ]
    # Without passwords: the roles, no users.
    assert not [s for s in role_statements() if "USER" in s]


def test_the_resource_applies_roles_only_on_a_server_with_the_passwords_set(monkeypatch):
    monkeypatch.setenv(clickhouse_ddl.ENV_LOADER_PASSWORD, "x")
    server = ClickHouseResource(url="http://default:pw@localhost:8123", database="pivot", cluster=CLUSTER)
    assert server.ddl() == ddl_statements("pivot", cluster=CLUSTER, roles=True, passwords=("x", None))
    embedded = ClickHouseResource(url="chdb:///tmp/nowhere", database="pivot")
    assert embedded.ddl() == server_statements()
    monkeypatch.delenv(clickhouse_ddl.ENV_LOADER_PASSWORD)
    assert ClickHouseResource(url="http://localhost:8123").ddl() == server_statements()


def test_the_cli_prints_the_statements_semicolon_terminated():
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.resources.clickhouse", "ddl", "--cluster", CLUSTER],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", "PIVOT_CLICKHOUSE_URL": "http://localhost:8123"},
    )
    assert result.stdout == render(cluster_statements(CLUSTER))
    assert result.stdout.rstrip().endswith(";") and result.stdout.count(";\n") == len(cluster_statements(CLUSTER))
