"""Retention of trade dates (pipeline/pivot/retention.py) on the real engine: a date past the retention is
archived to Parquet, verified by reading it back, and only then dropped from the fact, the rollup and its
version slots; it comes back from the archive with the same rows; a missing, corrupt or stale archive
refuses the drop; a run killed mid-way leaves every table holding a date whole or not at all and the next
run converges; the pivot_retention job and the settings."""

import json
import os
import subprocess
import sys
from datetime import date

import dagster as dg
import pyarrow.parquet as pq
import pytest

from pipeline import restore as restore_cli
from pipeline.failpoints import ENV_FAILPOINT
from pipeline.jobs.pivot_history import restore_trade_date
from pipeline.jobs.pivot_retention import pivot_retention_job
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.pivot.fx import synthetic_rates
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.queries import ROLLUP_REBUILD
from pipeline.pivot.retention import (
    Archive,
    RetentionError,
    archive_date,
    drop_archived_date,
    manifest,
    record,
    relative_file,
    restore_from_archive,
    retain,
    retire_fact_partition,
    sha256_of,
)
from pipeline.pivot.versions import DayVersions, VersionError
from pipeline.settings import (
    DEFAULT_SEED,
    ENV_ARCHIVE_DIR,
    ENV_CLICKHOUSE_URL,
    ENV_DATA_DIR,
    ENV_RETENTION_DAYS,
    archive_dir,
    retention_days,
)

OLD, OLDER, FRESH = date(2024, 1, 16), date(2024, 1, 12), date(2024, 1, 24)
TODAY = date(2024, 1, 25)  # with 5 days of retention OLD and OLDER go, FRESH stays
TRADES = 120


@pytest.fixture(scope="module")
def loaded(clickhouse_module):
    """The dates loaded once per module; each test gets its own copy (`store`)."""
    store = clickhouse_module
    store.replace_table("instruments", build_instruments(DEFAULT_SEED))
    store.replace_table("constituents", build_constituents(DEFAULT_SEED))
    store.replace_table("fx_rates", synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 2, 1)))
    reference = read_reference_data(store)
    # OLD is loaded twice: its first version is kept in a slot table.
    for day, seed in ((OLD, 1), (OLD, DEFAULT_SEED), (OLDER, DEFAULT_SEED), (FRESH, DEFAULT_SEED)):
        load_trade_date(store, day, reference, trades_per_day=TRADES, seed=seed, kept_versions=3, run_id="t")
        store.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
    return store


@pytest.fixture
def store(loaded, clickhouse):
    """A copy of every table of the loaded module database (slot tables included), rows and all."""
    tables = loaded.query_rows("SELECT name FROM system.tables WHERE database = {db:String}", {"db": loaded.database})
    for (name,) in tables:
        clickhouse.command(f"CREATE TABLE IF NOT EXISTS {clickhouse.table(name)} AS {loaded.table(name)}")
        clickhouse.command(
            f"INSERT INTO {clickhouse.table(name)} SELECT * FROM {loaded.table(name)}", settings={"async_insert": 0}
        )
    return clickhouse


def _rebuild(store):
    return lambda d: store.rebuild_partition("trades_1d_rollup", d, ROLLUP_REBUILD, {"day": d})


def _rows(store, day, table="trades_1d"):
    """Rows of the date with an order-free fingerprint of every column."""
    return store.query_rows(
        f"SELECT count(), sum(cityHash64(*)) FROM pivot.{table} WHERE trade_date = {{d:Date}}", {"d": day}
    )[0]


def _rollup(store, day):
    return store.query_rows(
        "SELECT count(), sum(trade_count), round(sumMerge(notional_usd_state), 4) FROM pivot.trades_1d_rollup "
        "WHERE trade_date = {d:Date}",
        {"d": day},
    )[0]


def _slot_rows(store, day):
    tables = store.query_rows(
        "SELECT name FROM system.tables WHERE database = {db:String} AND startsWith(name, 'trades_1d_version_')",
        {"db": store.database},
    )
    return sum(_rows(store, day, name)[0] for (name,) in tables)


def _whole(store):
    return {d: (_rows(store, d), _rollup(store, d), _slot_rows(store, d)) for d in (OLDER, OLD, FRESH)}


def test_an_archived_date_is_dropped_everywhere_and_comes_back_with_the_same_rows(
    store, tmp_path, monkeypatch, capsys, clickhouse_url
):
    before = _whole(store)
    assert before[OLD][2] > 0  # a kept version in a slot
    run = retain(store, TODAY, 5, tmp_path, run_id="r1", log=lambda line: None)
    assert [d.trade_date for d in run.retained] == [OLDER, OLD] and not run.refused
    for day in (OLDER, OLD):
        assert _rows(store, day)[0] == _rollup(store, day)[0] == _slot_rows(store, day) == 0
        path = tmp_path / relative_file(store.database, day)
        assert pq.ParquetFile(path).metadata.num_rows == before[day][0][0]
        sidecar = json.loads(path.with_name(path.name + ".json").read_text())
        entry = manifest(store, day)
        assert (entry.state, sidecar["sha256"], sidecar["rows"]) == ("dropped", entry.sha256, before[day][0][0])
        assert {v.state for v in DayVersions(store, day, kept=3).versions()} == {"dropped"}
    assert _whole(store)[FRESH] == before[FRESH]
    # Restartable: nothing is left to do.
    assert retain(store, TODAY, 5, tmp_path, log=lambda line: None).retained == []

    # A version of an archived date cannot be restored: clear error, nothing changed.
    with pytest.raises(VersionError, match="2024-01-16 is archived .* nothing changed; bring it back with"):
        restore_trade_date(store, OLD, 1, "test")

    # The CLI's listing says where the date went; brought back by the CLI: the same rows, the rollup rebuilt,
    # a new version.
    monkeypatch.setenv(ENV_CLICKHOUSE_URL, clickhouse_url)
    monkeypatch.setenv(ENV_ARCHIVE_DIR, str(tmp_path))
    args = ["pivot/trades_1d", str(OLD), "--database", store.database, "--format", "csv"]
    assert restore_cli.main(args) == 0
    listed = capsys.readouterr()
    assert listed.out.splitlines() == ["version,replaced_at,rows,notional_usd,source"]
    assert f"2024-01-16: archived ({relative_file(store.database, OLD)} under PIVOT_ARCHIVE_DIR" in listed.err
    assert restore_cli.main([*args, "--from-archive"]) == 0
    captured = capsys.readouterr()
    assert "brought back from the archive, live as version 3" in captured.err
    assert captured.out.splitlines()[1].startswith("3,,")
    assert "restored from archive: " in captured.out
    assert _rows(store, OLD) == before[OLD][0] and _rollup(store, OLD) == before[OLD][1]
    assert manifest(store, OLD).state == "restored"
    # Again: the date is live already, refused, nothing changed.
    assert restore_cli.main([*args, "--from-archive"]) == 1
    assert "2024-01-16 is live already" in capsys.readouterr().err
    # The next run archives it again (the same rows, so the same figures).
    again = retain(store, TODAY, 5, tmp_path, log=lambda line: None)
    assert [(d.trade_date, d.rows) for d in again.retained] == [(OLD, before[OLD][0][0])]

    # Loaded anew (other rows) after it was archived: the next run keeps the earlier archive under its own name.
    first = manifest(store, OLD)
    load_trade_date(store, OLD, read_reference_data(store), trades_per_day=TRADES, seed=7, kept_versions=3)
    reloaded = _rows(store, OLD)
    assert retain(store, TODAY, 5, tmp_path, log=lambda line: None).retained[0].rows == reloaded[0]
    path = tmp_path / relative_file(store.database, OLD)
    kept = path.with_name(f"{OLD}.{first.sha256[:12]}.parquet")
    assert sha256_of(kept) == first.sha256 and kept.with_name(kept.name + ".json").is_file()
    assert pq.ParquetFile(path).metadata.num_rows == reloaded[0] != before[OLD][0][0]


def test_a_missing_corrupt_or_stale_archive_is_never_dropped(store, tmp_path):
    before = _whole(store)
    path = tmp_path / relative_file(store.database, OLD)

    archive_date(store, OLD, tmp_path)
    path.unlink()
    with pytest.raises(RetentionError, match=f"the archive file {path} is missing"):
        drop_archived_date(store, OLD, tmp_path)
    assert _whole(store) == before

    archive_date(store, OLD, tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the row data
    path.write_bytes(bytes(data))
    with pytest.raises(RetentionError, match="not the .* recorded \\(corrupt or replaced\\)"):
        drop_archived_date(store, OLD, tmp_path)
    assert _whole(store) == before

    # A file that is valid Parquet but not the rows recorded (one row short), under the recorded SHA-256.
    archive_date(store, OLD, tmp_path)
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)
    entry = manifest(store, OLD)
    record(store, Archive(OLD, "verified", entry.file, sha256_of(path), entry.figures, entry.version, ""))
    with pytest.raises(RetentionError, match="reads back .* rows, .* not the .* recorded"):
        drop_archived_date(store, OLD, tmp_path)
    assert _whole(store) == before

    # Reloaded between its archive and the drop: the live date is not the archived one.
    archive_date(store, OLD, tmp_path)
    load_trade_date(store, OLD, read_reference_data(store), trades_per_day=TRADES, seed=7, kept_versions=3)
    reloaded = _rows(store, OLD)
    with pytest.raises(RetentionError, match="is not the one archived .* reloaded since"):
        drop_archived_date(store, OLD, tmp_path)
    assert _rows(store, OLD) == reloaded

    # A reload landing after the last check, before the fact's partition is moved aside: the rows moved are
    # not the archived ones, so they are put back whole and the date refused.
    with pytest.raises(RetentionError, match="taken out of pivot.trades_1d .* not the ones archived .* Put back"):
        retire_fact_partition(store, OLD, manifest(store, OLD))
    assert _rows(store, OLD) == reloaded

    # The run archives the reloaded date afresh (its file rewritten from the live rows), then drops it.
    run = retain(store, TODAY, 5, tmp_path, log=lambda line: None)
    assert not run.refused and [d.trade_date for d in run.retained] == [OLDER, OLD]
    # A corrupt file is not brought back either: nothing changed.
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(RetentionError, match="corrupt or replaced\\): nothing changed"):
        restore_from_archive(store, OLD, tmp_path, kept=3, rebuild_rollup=_rebuild(store))
    assert _rows(store, OLD)[0] == 0 and manifest(store, OLD).state == "dropped"


RETAIN_SCRIPT = """
import sys
from datetime import date
from pathlib import Path
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.pivot.retention import retain
retain(ClickHouseResource(url=sys.argv[1], database=sys.argv[2]), date(2024, 1, 25), 5, Path(sys.argv[3]))
"""


@pytest.mark.faults
def test_a_retention_killed_midway_leaves_whole_dates_and_the_next_run_converges(store, tmp_path):
    if not store.is_embedded:
        pytest.skip("the child process opens the embedded store after this one hands it back")
    from pipeline.resources.clickhouse import close_all_clients

    before = _whole(store)
    env = {k: v for k, v in os.environ.items() if k != ENV_FAILPOINT}
    args = [sys.executable, "-c", RETAIN_SCRIPT, store.url, store.database, str(tmp_path)]
    older_file = tmp_path / relative_file(store.database, OLDER)

    # Killed writing the first file: a half file under a temporary name only, every date untouched.
    close_all_clients()
    killed = subprocess.run(args, env=env | {ENV_FAILPOINT: "retention.parquet.before_rename"}, timeout=120)
    assert killed.returncode == -9
    assert not older_file.exists() and list(older_file.parent.glob(".*.tmp"))
    assert _whole(store) == before

    # Killed with OLDER's fact partition moved aside (retiring), before its rows are compared and dropped: each
    # table holds the date whole (the fact none of it, the retiring table all of it, the rollup all of it),
    # its file verified; OLD and FRESH untouched.
    close_all_clients()
    killed = subprocess.run(args, env=env | {ENV_FAILPOINT: "retention.trades_1d.moved"}, timeout=120)
    assert killed.returncode == -9
    after = _whole(store)
    assert after[OLDER] == ((0, 0), before[OLDER][1], before[OLDER][2])
    assert _rows(store, OLDER, "trades_1d_retiring") == before[OLDER][0]
    assert manifest(store, OLDER).state == "verified"
    assert after[OLD] == before[OLD] and after[FRESH] == before[FRESH]
    assert not list(older_file.parent.glob(".*.tmp"))

    # The next run converges: both dates archived and dropped, no version left in a slot; they come back whole.
    run = retain(store, TODAY, 5, tmp_path, log=lambda line: None)
    assert [d.trade_date for d in run.retained] == [OLDER, OLD] and not run.refused
    assert _whole(store)[OLD] == ((0, 0), (0, 0, 0), 0)
    assert _rows(store, OLDER, "trades_1d_retiring") == (0, 0)
    for day in (OLDER, OLD):
        restore_from_archive(store, day, tmp_path, kept=3, rebuild_rollup=_rebuild(store))
        assert _rows(store, day) == before[day][0] and _rollup(store, day) == before[day][1]


def _job_metadata(result):
    output = next(e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT")
    return output.event_specific_data.metadata


def test_the_retention_job_keeps_everything_when_unset_and_archives_when_set(store, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_ARCHIVE_DIR, str(tmp_path))
    monkeypatch.delenv(ENV_RETENTION_DAYS, raising=False)
    config = {"ops": {"archive_trade_dates": {"config": {"today": str(TODAY)}}}}
    before = _whole(store)
    with dg.instance_for_test() as instance:
        kept = pivot_retention_job.execute_in_process(config, resources={"clickhouse": store}, instance=instance)
        assert kept.success and _job_metadata(kept)["dates_archived"].value == 0
        assert _whole(store) == before and not any(tmp_path.iterdir())
        monkeypatch.setenv(ENV_RETENTION_DAYS, "10")  # OLDER (13 days back) goes, OLD (9) stays
        done = pivot_retention_job.execute_in_process(config, resources={"clickhouse": store}, instance=instance)
        assert done.success
        assert _job_metadata(done)["dates_archived"].value == 1
        records = instance.fetch_observations(dg.AssetKey(["pivot", "trades_1d"]), limit=10).records
        assert [r.asset_observation.partition for r in records] == [str(OLDER)]
        assert records[0].asset_observation.metadata["pivot/archive_rows"].value == before[OLDER][0][0]
    assert _rows(store, OLDER)[0] == 0 and _whole(store)[OLD] == before[OLD]


def test_the_retention_settings(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_RETENTION_DAYS, raising=False)
    monkeypatch.delenv(ENV_ARCHIVE_DIR, raising=False)
    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path))
    assert retention_days() is None and archive_dir() == (tmp_path / "archive").resolve()
    monkeypatch.setenv(ENV_RETENTION_DAYS, "400")
    assert retention_days() == 400
    for bad in ("-1", "a year", "1.5"):
        monkeypatch.setenv(ENV_RETENTION_DAYS, bad)
        with pytest.raises(ValueError, match=f"PIVOT_RETENTION_DAYS='{bad}': write a whole number of days"):
            retention_days()


def test_a_trade_date_sent_as_days_since_1970_is_archived_as_a_date():
    """ClickHouse's older Arrow mapping sends a Date as UInt16: the file holds a date all the same."""
    import pyarrow as pa

    from pipeline.pivot.retention import _dates_as_dates

    sent = pa.record_batch({"trade_date": pa.array([(OLD - date(1970, 1, 1)).days], pa.uint16()), "pnl": [1.5]})
    written = _dates_as_dates(sent)
    assert written.schema.field("trade_date").type == pa.date32()
    assert written.column(0).to_pylist() == [OLD] and written.column(1).to_pylist() == [1.5]
