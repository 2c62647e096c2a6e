"""Versions of a trade date (pipeline/pivot/versions.py) on the real engine: a reload keeps the day it
replaces by hard-linking its parts (never rewriting them), the last N are kept, a restore is atomic
and rebuilds the rollup, a killed change is settled, and the CLI and the Dagster job do the same."""

import csv
import io
from datetime import date

import dagster as dg
import pytest

from pipeline import restore as restore_cli
from pipeline.jobs.pivot_history import pivot_restore_job
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.pivot.fx import synthetic_rates
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.queries import ROLLUP_REBUILD
from pipeline.pivot.versions import DayVersions, VersionError, slot_table
from pipeline.settings import DEFAULT_SEED, ENV_CLICKHOUSE_URL

DAY = date(2024, 1, 16)
TRADES = 400
SEEDS = [11, 12, 13, 14, 15]


@pytest.fixture
def store(clickhouse):
    clickhouse.replace_table("instruments", build_instruments(DEFAULT_SEED))
    clickhouse.replace_table("constituents", build_constituents(DEFAULT_SEED))
    clickhouse.replace_table("fx_rates", synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 2, 1)))
    return clickhouse


def _load(store, seed, kept=3):
    return load_trade_date(
        store, DAY, read_reference_data(store), trades_per_day=TRADES, seed=seed, kept_versions=kept, run_id=f"r{seed}"
    )


def _day(store, table="pivot.trades_1d"):
    return store.query_rows(
        f"SELECT count(), round(sumIf(notional_usd, exposure_type IN ('Direct', 'ETF', 'ETC')), 4) FROM {table} "
        "WHERE trade_date = {d:Date}",
        {"d": DAY},
    )[0]


def _hashes(store, table):
    return sorted(
        h
        for (h,) in store.query_rows(
            "SELECT hash_of_all_files FROM system.parts WHERE database = {db:String} AND table = {t:String} "
            "AND partition = {p:String} AND active AND rows > 0",
            {"db": store.database, "t": table, "p": str(DAY)},
        )
    )


def test_a_reload_keeps_the_day_it_replaces_as_the_same_parts_and_keeps_the_last_n(store):
    figures = {}
    for number, seed in enumerate(SEEDS, start=1):
        before = _hashes(store, "trades_1d")
        load = _load(store, seed)
        assert load.version == number
        figures[number] = _day(store)
        if number > 1:
            # The replaced day's parts were hard-linked, not rewritten: the same files in its slot.
            kept = next(v for v in DayVersions(store, DAY, kept=3).versions() if v.version == number - 1)
            assert _hashes(store, slot_table(kept.slot).removeprefix("pivot.")) == before
    versions = DayVersions(store, DAY, kept=3)
    held = versions.held()
    assert [(v.version, v.state) for v in held] == [(5, "live"), (4, "kept"), (3, "kept"), (2, "kept")]
    assert [v.state for v in versions.versions()][:1] == ["dropped"]
    for v in held:
        table = "pivot.trades_1d" if v.state == "live" else slot_table(v.slot)
        assert _day(store, table) == figures[v.version] == (v.rows, round(v.notional_usd, 4))
        assert v.source == f"synthetic: seed {SEEDS[v.version - 1]}, {TRADES:,} trades per day"
        assert v.run_id == f"r{SEEDS[v.version - 1]}"
    assert held[1].replaced_at is not None and held[0].replaced_at is None
    # Version 1 is gone from every slot. N + 1 slots: a change copies the live day into a slot holding no
    # kept version, so a change that fails never costs a kept one.
    slots = store.query_rows(
        "SELECT count() FROM system.tables WHERE database = {db:String} AND startsWith(name, 'trades_1d_version_')",
        {"db": store.database},
    )[0][0]
    assert slots == 4
    total = sum(_day(store, slot_table(s))[0] for s in range(slots))
    assert total == sum(v.rows for v in held if v.state == "kept")


def test_a_restore_is_atomic_keeps_the_live_day_and_rebuilds_the_rollup(store):
    for seed in SEEDS[:3]:
        _load(store, seed)
    store.rebuild_partition("trades_1d_rollup", DAY, ROLLUP_REBUILD, {"day": DAY})
    versions = DayVersions(store, DAY, kept=3, run_id="test")
    v1 = next(v for v in versions.versions() if v.version == 1)
    live = versions.restore(1, lambda d: store.rebuild_partition("trades_1d_rollup", d, ROLLUP_REBUILD, {"day": d}))
    assert live.version == 4 and live.source.startswith("restored version 1: synthetic: seed 11")
    assert _day(store) == (v1.rows, round(v1.notional_usd, 4))
    rollup = store.query_rows(
        "SELECT sum(trade_count) FROM pivot.trades_1d_rollup WHERE trade_date = {d:Date}", {"d": DAY}
    )[0][0]
    assert rollup == v1.rows
    assert [(v.version, v.state) for v in versions.held()] == [(4, "live"), (3, "kept"), (2, "kept"), (1, "kept")]
    # Restoring the former live day (3) brings its rows back exactly.
    v3 = next(v for v in versions.held() if v.version == 3)
    versions.restore(3)
    assert _day(store) == (v3.rows, round(v3.notional_usd, 4))
    assert [(v.version, v.state) for v in versions.held()] == [(5, "live"), (4, "kept"), (3, "kept"), (2, "kept")]


def test_a_restore_of_a_version_not_held_changes_nothing(store):
    for seed in SEEDS[:2]:
        _load(store, seed)
    versions = DayVersions(store, DAY, kept=3)
    before, catalog = _day(store), versions.versions()
    for number in (2, 9):  # the live one, one that never existed
        with pytest.raises(VersionError, match=f"version {number} (is live|does not exist), nothing changed"):
            versions.restore(number)
    assert _day(store) == before and versions.versions() == catalog


def test_a_change_killed_before_its_swap_leaves_the_old_day_live(store):
    _load(store, SEEDS[0])
    _load(store, SEEDS[1])
    live_before = _day(store)
    # What a process killed after recording the intent and before the swap leaves behind.
    DayVersions(store, DAY, kept=3, run_id="killed").prepare("synthetic: seed 99", 123)
    versions = DayVersions(store, DAY, kept=3)
    assert [v.state for v in versions.versions()] == ["kept", "kept", "pending"]
    assert versions.settle() == ["version 3 was never swapped in: the day as it was"]
    assert [(v.version, v.state) for v in versions.versions()] == [(1, "kept"), (2, "live"), (3, "failed")]
    assert _day(store) == live_before
    # The next load converges: a new version on top, the old one kept.
    assert _load(store, SEEDS[2]).version == 4
    assert [(v.version, v.state) for v in versions.held()] == [(4, "live"), (2, "kept"), (1, "kept")]


def test_a_change_killed_after_its_swap_is_recorded_live(store):
    _load(store, SEEDS[0])
    restored_rows = _day(store)
    _load(store, SEEDS[1])
    versions = DayVersions(store, DAY, kept=3, run_id="killed")
    kept = versions.held()[1]
    # A restore killed after the swap, before the new version was recorded live.
    versions.prepare("restored version 1", kept.rows, slot_table(kept.slot))
    store.command(f"ALTER TABLE pivot.trades_1d REPLACE PARTITION {{d:Date}} FROM {slot_table(kept.slot)}", {"d": DAY})
    assert DayVersions(store, DAY, kept=3).settle() == ["version 3 was swapped in: live"]
    live = versions.held()[0]
    assert (live.version, live.state, live.rows, round(live.notional_usd, 4)) == (3, "live", *restored_rows)


def test_the_cli_lists_as_csv_and_restores(store, monkeypatch, capsys, clickhouse_url):
    for seed in SEEDS[:2]:
        _load(store, seed)
    monkeypatch.setenv(ENV_CLICKHOUSE_URL, clickhouse_url)
    args = ["pivot/trades_1d", str(DAY), "--database", store.database]
    assert restore_cli.main([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "version,replaced_at,rows,notional_usd,source"
    assert [line.split(",")[0] for line in lines[1:]] == ["2", "1"]
    assert lines[1].split(",")[1] == "" and lines[2].split(",")[1] != ""
    assert restore_cli.main([*args, "--version", "7"]) == 1
    assert "version 7 does not exist, nothing changed" in capsys.readouterr().err
    assert restore_cli.main([*args, "--version", "1", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert "version 1 restored, live as version 3" in captured.err
    assert [line.split(",")[0] for line in captured.out.splitlines()[1:]] == ["3", "2", "1"]


def test_the_restore_job_logs_the_restore_on_the_asset_pages(store):
    for seed in SEEDS[:2]:
        _load(store, seed)
    with dg.instance_for_test() as instance:
        result = pivot_restore_job.execute_in_process(
            run_config={"ops": {"restore_trade_date_version": {"config": {"trade_date": str(DAY), "version": 1}}}},
            resources={"clickhouse": store},
            instance=instance,
        )
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey(["pivot", "trades_1d"]))
        metadata = event.asset_materialization.metadata
        assert event.asset_materialization.partition == str(DAY)
        assert metadata["pivot/version"].value == 3
        assert "| 3 |" in metadata["pivot/versions"].value
        assert instance.get_latest_materialization_event(dg.AssetKey(["pivot", "trades_1d_rollup"])) is not None
        failed = pivot_restore_job.execute_in_process(
            run_config={"ops": {"restore_trade_date_version": {"config": {"trade_date": str(DAY), "version": 8}}}},
            resources={"clickhouse": store},
            instance=instance,
            raise_on_error=False,
        )
        assert not failed.success


def test_the_asset_lists_the_versions_a_date_holds(store):
    from pipeline.assets import pivot
    from pipeline.resources.generation import GenerationSettings

    with dg.instance_for_test() as instance:
        for seed in SEEDS[:2]:
            result = dg.materialize(
                [pivot.trades_1d],
                resources={"clickhouse": store, "generation": GenerationSettings(seed=seed)},
                instance=instance,
                partition_key=str(DAY),
                run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": TRADES}}}},
            )
            assert result.success
        metadata = result.asset_materializations_for_node("pivot__trades_1d")[0].metadata
    assert metadata["pivot/version"].value == 2
    listing = metadata["pivot/versions"].value.splitlines()
    assert listing[0] == "| version | replaced_at | rows | notional_usd | source |"
    assert listing[2].startswith("| 2 |  | ") and listing[3].startswith("| 1 | 20")
    assert "synthetic: seed 12" in listing[2] and "synthetic: seed 11" in listing[3]
    held = DayVersions(store, DAY, kept=3).held()
    assert held[0].run_id == result.run_id


LOAD_SCRIPT = """
import sys, dagster as dg
from pipeline.assets import pivot
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.generation import GenerationSettings
resources = {"clickhouse": ClickHouseResource(url=sys.argv[1]), "generation": GenerationSettings(seed=int(sys.argv[3]))}
with dg.instance_for_test() as instance:
    if sys.argv[4] == "reference":
        assert dg.materialize([pivot.instruments, pivot.constituents, pivot.fx_rates], resources=resources,
                              instance=instance).success
    assert dg.materialize([pivot.trades_1d], resources=resources, instance=instance, partition_key=sys.argv[2],
                          run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": 300}}}}).success
"""


@pytest.mark.faults
def test_a_reload_and_a_restore_killed_midway_leave_whole_days_and_lose_no_version(tmp_path):
    """SIGKILL after a reload's swap (before it is recorded), then a restore killed before its swap: the next
    command settles both; the day is whole throughout and every version is still held."""
    import os
    import subprocess
    import sys

    from pipeline.failpoints import ENV_FAILPOINT

    url = f"chdb://{tmp_path / 'clickhouse'}"
    env = {k: v for k, v in os.environ.items() if k != ENV_FAILPOINT} | {ENV_CLICKHOUSE_URL: url}

    def run(args, failpoint=None):
        return subprocess.run(
            [sys.executable, *args],
            env=env | ({ENV_FAILPOINT: failpoint} if failpoint else {}),
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert run(["-c", LOAD_SCRIPT, url, str(DAY), "11", "reference"]).returncode == 0
    killed = run(["-c", LOAD_SCRIPT, url, str(DAY), "12", "-"], "versions.trades_1d.swapped")
    assert killed.returncode == -9
    killed = run(
        ["-m", "pipeline.restore", "pivot/trades_1d", str(DAY), "--version", "1"],
        "versions.trades_1d.restore.before_swap",
    )
    assert killed.returncode == -9
    # The restore's first step settled the reload: version 2 (seed 12) was live when it was killed.
    assert "version 2 was swapped in: live" in killed.stderr
    listed = run(["-m", "pipeline.restore", "pivot/trades_1d", str(DAY), "--format", "csv"])
    assert listed.returncode == 0, listed.stderr
    assert "version 3 was never swapped in: the day as it was" in listed.stderr
    rows = list(csv.reader(io.StringIO(listed.stdout)))[1:]
    assert [(r[0], r[1] == "", r[4]) for r in rows] == [
        ("2", True, "synthetic: seed 12, 300 trades per day"),
        ("1", False, "synthetic: seed 11, 300 trades per day"),
    ]
    # Then the restore converges.
    done = run(["-m", "pipeline.restore", "pivot/trades_1d", str(DAY), "--version", "1", "--format", "csv"])
    assert done.returncode == 0, done.stderr
    assert "version 1 restored, live as version 4" in done.stderr
    assert [line.split(",")[0] for line in done.stdout.splitlines()[1:]] == ["4", "2", "1"]


def test_a_cluster_refuses_a_restore_with_a_clear_message(clickhouse_url):
    from pipeline.resources.clickhouse import ClickHouseResource

    on_cluster = ClickHouseResource(url=clickhouse_url, cluster="pivot_cluster")
    with pytest.raises(VersionError, match="not kept on a cluster .* nothing changed"):
        DayVersions(on_cluster, DAY, kept=3).restore(1)


def test_a_version_records_its_source_as_seed_or_files_with_their_sha256():
    from pipeline.pivot.day_load import LANDED, SYNTHETIC, LandedFile, version_source

    files = (LandedFile("trades_2024-01-16.csv", 1200, "a" * 64), LandedFile("late.parquet", 3, "b" * 64))
    assert version_source({"source": LANDED, "landed_files": files}) == (
        f"landed: trades_2024-01-16.csv (1,200 rows, sha256 {'a' * 64}); late.parquet (3 rows, sha256 {'b' * 64})"
    )
    assert version_source({"source": LANDED, "landed_files": ()}) == "landed: no file"
    assert version_source({"source": SYNTHETIC, "seed": 7, "trades_per_day": 20_000}) == (
        "synthetic: seed 7, 20,000 trades per day"
    )
