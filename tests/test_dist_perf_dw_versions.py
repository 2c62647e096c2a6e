"""Versions of dist_perf_dw's fact dates: a reload keeps the rows it replaces in `<fact>_history` in the
swap's transaction, `partition_versions` records each version, `python -m pipeline.restore` lists and
restores them (pipeline/dist_perf_dw/versions.py, pipeline/resources/postgres_versions.py)."""

import csv
import datetime as dt
import io
import os
import signal
import subprocess
import sys

import polars as pl
import pytest

from pipeline import restore as restore_cli
from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
from pipeline.dist_perf_dw.tables import DIMENSION_TABLES
from pipeline.dist_perf_dw.universe import generate_dimensions
from pipeline.dist_perf_dw.versions import (
    AMOUNT_COLUMNS,
    DATE_COLUMNS,
    LISTING_COLUMNS,
    PartitionVersion,
    VersionError,
    landed_source,
    listing,
    partition_window,
    plan_replacement,
    plan_restore,
)
from pipeline.failpoints import ENV_FAILPOINT
from pipeline.resources.postgres import ForeignKeyViolationError
from pipeline.settings import DEFAULT_SEED, ENV_POSTGRES_URL, ENV_VERSIONS_KEPT, REPO_ROOT

DAY = dt.date(2024, 1, 16)
END = DAY + dt.timedelta(days=1)
ASSET = "dist_perf_dw/fact_aum_flows"
SCALES = (0.05, 0.1, 0.2, 0.15, 0.08)  # a different day per reload: distinct row counts and totals


# --------------------------------------------------------------------------- the rules (pure)


def _version(number: int, state: str) -> PartitionVersion:
    at = dt.datetime(2024, 1, 16, tzinfo=dt.UTC)
    return PartitionVersion("fact_aum_flows", DAY, number, state, at, None, "", "", 10, 1.0)


def test_the_plan_numbers_keeps_the_live_one_and_drops_beyond_the_kept():
    first = plan_replacement([], live_rows_present=False, kept=3)
    assert (first.number, first.live, first.keep, first.drop) == (1, None, None, ())
    # Rows loaded before versions were kept become version 1, kept; the reload is version 2.
    before = plan_replacement([], live_rows_present=True, kept=3)
    assert (before.number, before.live, before.keep, before.drop) == (2, 1, 1, ())
    held = [_version(1, "dropped"), _version(2, "kept"), _version(3, "kept"), _version(4, "kept"), _version(5, "live")]
    reload = plan_replacement(held, live_rows_present=True, kept=3)
    assert (reload.number, reload.keep, reload.drop) == (6, 5, (2,))  # 5, 4, 3 kept
    none_kept = plan_replacement(held, live_rows_present=True, kept=0)
    assert (none_kept.number, none_kept.keep, none_kept.drop) == (6, None, (4, 3, 2))


def test_a_restore_of_a_version_not_held_is_refused_naming_what_is():
    held = [_version(1, "dropped"), _version(2, "kept"), _version(3, "live")]
    assert plan_restore(held, 2, kept=3, name=f"{ASSET} {DAY}").version == 2
    for number, why in ((9, "does not exist"), (1, "is dropped"), (3, "is live")):
        with pytest.raises(VersionError, match=f"version {number} of {ASSET} {why}, nothing changed") as refused:
            plan_restore(held, number, kept=3, name=f"{ASSET} {DAY}")
        assert "3 (live), 2 (kept)" in str(refused.value)
    with pytest.raises(VersionError, match="PIVOT_VERSIONS_KEPT is 0"):
        plan_restore(held, 2, kept=0, name=f"{ASSET} {DAY}")


def test_every_date_partitioned_fact_keeps_versions_on_its_partition():
    from pipeline.assets.dist_perf_dw import FACT_SPECS

    assert {table: spec.date_column for table, spec in FACT_SPECS.items()} == DATE_COLUMNS
    assert set(AMOUNT_COLUMNS) == set(DATE_COLUMNS)
    assert partition_window("fact_aum_flows", DAY) == (DAY, END)
    assert partition_window("fact_wholesaler_comp", dt.date(2024, 12, 16)) == (
        dt.date(2024, 12, 1),
        dt.date(2025, 1, 1),
    )
    assert landed_source([("flows_2024-01-16.csv", 1200, "a" * 64)]) == (
        f"landed: flows_2024-01-16.csv (1,200 rows, sha256 {'a' * 64})"
    )


# --------------------------------------------------------------------------- on PostgreSQL


@pytest.fixture(scope="module")
def postgres(fresh_postgres_database):
    """A database with the DDL and the generated dimensions, no fact rows."""
    resource = fresh_postgres_database("versions")
    resource.apply_ddl()
    dims = generate_dimensions(DEFAULT_SEED)
    for table in DIMENSION_TABLES:
        resource.reload_dimension(table, dims[table])
    return resource


@pytest.fixture
def day(postgres):
    """DAY emptied of rows, history and versions before each test."""
    with postgres.get_engine().begin() as connection:
        for statement in (
            "DELETE FROM dist_perf_dw.fact_aum_flows",
            "DELETE FROM dist_perf_dw.fact_aum_flows_history",
            "DELETE FROM dist_perf_dw.partition_versions",
        ):
            connection.exec_driver_sql(statement)
    return postgres


def _flows(scale: float) -> pl.DataFrame:
    return generate_aum_flows(DEFAULT_SEED, DAY, scale)


def _load(postgres, scale: float, run_id: str = "run-a"):
    return postgres.replace_partition(
        "fact_aum_flows", "flow_date", DAY, END, _flows(scale), source=f"synthetic: scale {scale}", run_id=run_id
    )


def _rows(postgres, table: str = "fact_aum_flows", version: int | None = None) -> pl.DataFrame:
    where = "" if version is None else f" AND version = {version}"
    return postgres.read_frame(
        f"SELECT flow_id, net_amount FROM dist_perf_dw.{table} WHERE flow_date = :day{where} ORDER BY flow_id",
        {"day": DAY},
    ).with_columns(pl.col("net_amount").cast(pl.Float64))


def _state(postgres) -> tuple:
    """Everything a change of DAY could touch: its live rows, its history, its catalog rows."""
    history = postgres.read_frame(
        "SELECT version, count(*) AS n, sum(net_amount) AS total FROM dist_perf_dw.fact_aum_flows_history "
        "GROUP BY version ORDER BY version"
    )
    catalog = postgres.read_frame("SELECT * FROM dist_perf_dw.partition_versions ORDER BY version")
    return _rows(postgres).rows(), history.rows(), catalog.rows()


def _versions(postgres) -> dict[int, PartitionVersion]:
    return {v.version: v for v in postgres.partition_versions("fact_aum_flows", DAY)}


def test_a_reload_keeps_the_previous_rows_in_history_with_their_version(day):
    first = _flows(SCALES[0])
    assert _load(day, SCALES[0], "run-1").rows_deleted == 0
    assert _load(day, SCALES[1], "run-2").rows_deleted == first.height
    versions = _versions(day)
    old, live = versions[1], versions[2]
    assert (old.state, old.run_id, old.source, old.rows) == (
        "kept",
        "run-1",
        f"synthetic: scale {SCALES[0]}",
        first.height,
    )
    assert old.amount_usd == pytest.approx(first["net_amount"].sum(), abs=0.01)
    # One transaction: the old version was replaced at the instant the new one went live.
    assert old.replaced_at == live.loaded_at and old.loaded_at < live.loaded_at
    assert (live.state, live.run_id, live.replaced_at, live.rows) == ("live", "run-2", None, _flows(SCALES[1]).height)
    kept = _rows(day, "fact_aum_flows_history", version=1)
    expected = first.select("flow_id", pl.col("net_amount").round(2)).sort("flow_id")
    assert kept["flow_id"].to_list() == expected["flow_id"].to_list()
    assert kept["net_amount"].to_list() == pytest.approx(expected["net_amount"].to_list())


def test_a_restore_puts_the_rows_back_and_keeps_the_replaced_live_one(day):
    _load(day, SCALES[0])
    _load(day, SCALES[1])
    version_1, version_2 = _rows(day, "fact_aum_flows_history", version=1), _rows(day)
    replaced, number, rows = day.restore_partition_version("fact_aum_flows", DAY, END, 1, "restore-run")
    assert (replaced, number, rows) == (2, 3, version_1.height)
    assert _rows(day).equals(version_1)
    assert _rows(day, "fact_aum_flows_history", version=2).equals(version_2)
    versions = _versions(day)
    assert [(n, v.state) for n, v in sorted(versions.items())] == [(1, "kept"), (2, "kept"), (3, "live")]
    assert versions[3].source == f"restored version 1: synthetic: scale {SCALES[0]}"
    assert (versions[3].run_id, versions[3].amount_usd) == ("restore-run", versions[1].amount_usd)


def test_only_the_last_n_versions_are_kept(day, monkeypatch):
    monkeypatch.setenv(ENV_VERSIONS_KEPT, "2")
    for scale in SCALES:
        _load(day, scale)
    versions = _versions(day)
    assert [(n, v.state) for n, v in sorted(versions.items())] == [
        (1, "dropped"),
        (2, "dropped"),
        (3, "kept"),
        (4, "kept"),
        (5, "live"),
    ]
    _, history, _ = _state(day)
    assert [(version, n) for version, n, _ in history] == [(3, versions[3].rows), (4, versions[4].rows)]
    monkeypatch.setenv(ENV_VERSIONS_KEPT, "0")
    _load(day, SCALES[0])
    assert _state(day)[1] == []  # none kept: the history of the date is gone, the replaced one dropped
    assert [v.state for v in _versions(day).values()] == ["dropped"] * 5 + ["live"]


def test_rows_loaded_before_versions_were_kept_become_version_1(day):
    _load(day, SCALES[0])
    with day.get_engine().begin() as connection:
        connection.exec_driver_sql("DELETE FROM dist_perf_dw.partition_versions")
    listed = _versions(day)
    assert [(n, v.state, v.source) for n, v in listed.items()] == [(1, "live", "loaded before versions were kept")]
    assert listing(list(listed.values())).row(0)[:3] == (1, None, _flows(SCALES[0]).height)
    _load(day, SCALES[1])
    versions = _versions(day)
    assert (versions[1].state, versions[1].rows, versions[1].loaded_at) == ("kept", _flows(SCALES[0]).height, None)
    assert versions[2].state == "live"


def test_a_reload_that_fails_changes_neither_rows_nor_history(day):
    _load(day, SCALES[0])
    _load(day, SCALES[1])
    before = _state(day)
    broken = _flows(SCALES[2]).with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(999_999).otherwise("advisor_id").cast(pl.Int32).alias("advisor_id")
    )
    with pytest.raises(ForeignKeyViolationError):
        day.replace_partition("fact_aum_flows", "flow_date", DAY, END, broken)
    assert _state(day) == before


def test_the_cli_lists_as_csv_refuses_an_unknown_version_and_restores(day, monkeypatch, capsys):
    monkeypatch.setenv(ENV_POSTGRES_URL, day.sqlalchemy_url().render_as_string(hide_password=False))
    _load(day, SCALES[0])
    _load(day, SCALES[1])
    args = [ASSET, str(DAY), "--format", "csv"]
    assert restore_cli.main(args) == 0
    listed = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert listed[0] == list(LISTING_COLUMNS) == ["version", "replaced_at", "rows", "notional_usd", "source"]
    versions = _versions(day)
    assert [row[0] for row in listed[1:]] == ["2", "1"]
    assert listed[1][1] == "" and listed[2][1] == versions[1].replaced_at.strftime("%Y-%m-%d %H:%M:%S")
    assert [int(row[2]) for row in listed[1:]] == [versions[2].rows, versions[1].rows]
    assert float(listed[2][3]) == pytest.approx(versions[1].amount_usd)
    assert listed[2][4] == f"synthetic: scale {SCALES[0]}"

    before = _state(day)
    assert restore_cli.main([*args, "--version", "7"]) == 1
    assert f"error: {DAY}: version 7 of {ASSET} does not exist, nothing changed" in capsys.readouterr().err
    assert _state(day) == before

    assert restore_cli.main([*args, "--version", "1"]) == 0
    captured = capsys.readouterr()
    assert "version 1 of dist_perf_dw/fact_aum_flows restored, live as version 3" in captured.err
    assert [row[:1] + row[2:3] for row in csv.reader(io.StringIO(captured.out))][1:] == [
        ["3", str(versions[1].rows)],
        ["2", str(versions[2].rows)],
        ["1", str(versions[1].rows)],
    ]
    with pytest.raises(SystemExit):  # argparse: a dimension keeps no versions
        restore_cli.main(["dist_perf_dw/dim_firms", str(DAY)])
    assert "versions are kept for pivot/trades_1d, dist_perf_dw/fact_aum_flows" in capsys.readouterr().err


RELOAD = """
import sys
from datetime import date, timedelta
from pipeline.dist_perf_dw.facts.flows import generate_aum_flows
from pipeline.resources.postgres import PostgresResource
day = date.fromisoformat(sys.argv[2])
PostgresResource(url=sys.argv[1]).replace_partition(
    "fact_aum_flows", "flow_date", day, day + timedelta(days=1), generate_aum_flows(int(sys.argv[3]), day, 0.3),
    source="killed", run_id="killed")
"""


def test_a_reload_killed_mid_copy_loses_no_version(day):
    _load(day, SCALES[0])
    _load(day, SCALES[1])
    before = _state(day)
    url = day.sqlalchemy_url().render_as_string(hide_password=False)
    killed = subprocess.run(
        [sys.executable, "-c", RELOAD, url, str(DAY), str(DEFAULT_SEED)],
        env={**os.environ, ENV_FAILPOINT: "postgres.mid_copy"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _state(day) == before
    _load(day, SCALES[2])  # the next run converges: version 3 live, 2 and 1 kept
    assert [(n, v.state) for n, v in sorted(_versions(day).items())] == [(1, "kept"), (2, "kept"), (3, "live")]


def test_the_asset_records_its_run_and_source_and_lists_the_versions(day):
    import dagster as dg

    from pipeline.assets import dist_perf_dw
    from pipeline.dist_perf_dw.versions import synthetic_source
    from pipeline.resources.generation import GenerationSettings

    _load(day, SCALES[0], "run-before")
    resources = {"postgres": day, "generation": GenerationSettings(flow_scale=0.05)}
    with dg.instance_for_test() as instance:
        run = dg.materialize(
            [dist_perf_dw.fact_aum_flows], partition_key=str(DAY), resources=resources, instance=instance
        )
    versions = _versions(day)
    assert [(v.version, v.state, v.run_id) for v in versions.values()] == [
        (1, "kept", "run-before"),
        (2, "live", run.run_id),
    ]
    assert (
        versions[2].source == synthetic_source(DEFAULT_SEED, 0.05) == f"synthetic: seed {DEFAULT_SEED}, flow scale 0.05"
    )
    (materialization,) = run.get_asset_materialization_events()
    metadata = materialization.materialization.metadata
    assert metadata["dist_perf_dw/version"].value == 2
    table = metadata["dist_perf_dw/versions"].value.splitlines()
    assert table[0] == "| version | replaced_at | rows | notional_usd | source |"
    assert [line.split(" | ")[0] for line in table[2:]] == ["| 2", "| 1"]


def test_a_restore_that_would_clash_with_another_date_is_refused_with_nothing_changed(day):
    # A landed transaction id is unique across dates: version 1 held it, the live day has it elsewhere now.
    tagged = _flows(SCALES[0]).with_columns(
        source_transaction_id=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("TA-1")).otherwise(None)
    )
    day.replace_partition("fact_aum_flows", "flow_date", DAY, END, tagged)
    _load(day, SCALES[1])
    other = DAY + dt.timedelta(days=1)
    moved = generate_aum_flows(DEFAULT_SEED, other, 0.05).head(1).with_columns(source_transaction_id=pl.lit("TA-1"))
    day.replace_partition("fact_aum_flows", "flow_date", other, other + dt.timedelta(days=1), moved)
    before = _state(day)
    with pytest.raises(VersionError, match="version 1 cannot go live again.*nothing changed"):
        day.restore_partition_version("fact_aum_flows", DAY, END, 1)
    assert _state(day) == before


RESTORE = """
import sys
from datetime import date, timedelta
from pipeline.resources.postgres import PostgresResource
day = date.fromisoformat(sys.argv[2])
PostgresResource(url=sys.argv[1]).restore_partition_version("fact_aum_flows", day, day + timedelta(days=1), 1)
"""


def test_a_restore_killed_after_copying_the_rows_back_changes_nothing_and_the_next_converges(day):
    _load(day, SCALES[0])
    _load(day, SCALES[1])
    before = _state(day)
    url = day.sqlalchemy_url().render_as_string(hide_password=False)
    killed = subprocess.run(
        [sys.executable, "-c", RESTORE, url, str(DAY)],
        env={**os.environ, ENV_FAILPOINT: "versions.dist_perf_dw.restore.copied"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _state(day) == before
    version_1 = _rows(day, "fact_aum_flows_history", version=1)
    assert day.restore_partition_version("fact_aum_flows", DAY, END, 1) == (2, 3, version_1.height)
    assert _rows(day).equals(version_1)


def test_a_date_being_loaded_is_not_restored(day):
    from pipeline.resources.postgres_load import lock_partition

    _load(day, SCALES[0])
    _load(day, SCALES[1])
    before = _state(day)
    with day.get_engine().begin() as connection:  # a load of the date holds its lock
        lock_partition(connection.connection.driver_connection.cursor(), "fact_aum_flows", DAY)
        with pytest.raises(VersionError, match="is being loaded .*nothing changed"):
            day.restore_partition_version("fact_aum_flows", DAY, END, 1)
    assert _state(day) == before


def test_the_restore_job_logs_the_restore_on_the_asset_page(day):
    import dagster as dg

    from pipeline.jobs.dist_perf_dw_history import dist_perf_dw_restore_job

    _load(day, SCALES[0])
    _load(day, SCALES[1])

    def config(version: int) -> dict:
        return {
            "ops": {"restore_fact_date_version": {"config": {"asset": ASSET, "date": str(DAY), "version": version}}}
        }

    with dg.instance_for_test() as instance:
        result = dist_perf_dw_restore_job.execute_in_process(
            run_config=config(1), resources={"postgres": day}, instance=instance
        )
        event = instance.get_latest_materialization_event(dg.AssetKey(["dist_perf_dw", "fact_aum_flows"]))
        before = _state(day)
        failed = dist_perf_dw_restore_job.execute_in_process(
            run_config=config(8), resources={"postgres": day}, instance=instance, raise_on_error=False
        )
    assert result.success and not failed.success
    assert "version 8 of dist_perf_dw/fact_aum_flows does not exist, nothing changed" in str(
        failed.get_step_failure_events()[0].event_specific_data.error
    )
    assert _state(day) == before
    metadata = event.asset_materialization.metadata
    assert (event.asset_materialization.partition, metadata["dist_perf_dw/version"].value) == (str(DAY), 3)
    assert metadata["dagster/partition_row_count"].value == _flows(SCALES[0]).height
    assert _versions(day)[3].run_id == result.run_id
