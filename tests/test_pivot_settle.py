"""Settling trade dates (pipeline/pivot/settle.py) on the real engine: settled dates with more than 2 parts
are merged to one, rows unchanged; fresh dates, compact dates and a date with a change under way are left;
a run killed before its merge leaves the date whole and the next run settles it; the pivot_settle job and
the part-budget check."""

import os
import subprocess
import sys
from datetime import date

import dagster as dg
import pytest

from pipeline.assets.pivot_parts import active_parts_within_budget
from pipeline.failpoints import ENV_FAILPOINT
from pipeline.jobs.pivot_history import pivot_settle_job
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.pivot.fx import synthetic_rates
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.queries import ROLLUP_REBUILD
from pipeline.pivot.settle import parts_by_date, settle
from pipeline.pivot.versions import DayVersions
from pipeline.settings import DEFAULT_SEED

OLD, FRESH = date(2024, 1, 16), date(2024, 1, 24)
TODAY = date(2024, 1, 25)  # OLD is 9 days back, FRESH 1: with 5 days to settle, only OLD is due


@pytest.fixture
def store(clickhouse):
    clickhouse.replace_table("instruments", build_instruments(DEFAULT_SEED))
    clickhouse.replace_table("constituents", build_constituents(DEFAULT_SEED))
    clickhouse.replace_table("fx_rates", synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 2, 1)))
    reference = read_reference_data(clickhouse)
    for day in (OLD, FRESH):
        load_trade_date(clickhouse, day, reference, trades_per_day=400, seed=DEFAULT_SEED)
        _split_into_parts(clickhouse, day, 4)
        clickhouse.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
    return clickhouse


def _split_into_parts(store, day, parts):
    """The loaded day rewritten as `parts` inserts (parts), as a day of a few million rows is loaded: same rows."""
    store.command("CREATE TABLE pivot.split AS pivot.trades_1d")
    store.command("ALTER TABLE pivot.split REPLACE PARTITION {d:Date} FROM pivot.trades_1d", {"d": day})
    store.command("ALTER TABLE pivot.trades_1d DROP PARTITION {d:Date}", {"d": day})
    for k in range(parts):
        store.command(
            f"INSERT INTO pivot.trades_1d SELECT * FROM pivot.split WHERE trade_id % {parts} = {k}",
            settings={"async_insert": 0, "insert_deduplicate": 0},
        )
    store.command("DROP TABLE pivot.split")


def _day(store, day):
    return store.query_rows(
        "SELECT count(), round(sum(notional_usd), 4), groupBitXor(cityHash64(trade_id, symbol, notional)) "
        "FROM pivot.trades_1d WHERE trade_date = {d:Date}",
        {"d": day},
    )[0]


def test_settled_dates_are_merged_to_one_part_with_the_same_rows_and_fresh_ones_left(store):
    before = {d: _day(store, d) for d in (OLD, FRESH)}
    assert parts_by_date(store) == {OLD: 4, FRESH: 4}
    done = settle(store, TODAY, 5, log=lambda line: None)
    assert [(d.table, d.trade_date, d.parts_before, d.parts_after) for d in done] == [("trades_1d", OLD, 4, 1)]
    assert parts_by_date(store) == {OLD: 1, FRESH: 4}
    assert {d: _day(store, d) for d in (OLD, FRESH)} == before
    # Restartable and idempotent: a compact date is not merged again.
    assert settle(store, TODAY, 5, log=lambda line: None) == []
    assert settle(store, TODAY, 0, log=lambda line: None)[0].trade_date == FRESH


def test_a_date_with_a_change_under_way_is_left_for_the_next_settle(store):
    DayVersions(store, OLD, kept=3, run_id="loading").prepare("synthetic: seed 1", 10)
    lines = []
    assert settle(store, TODAY, 5, log=lines.append) == []
    assert "a change of the date is under way" in lines[0]
    assert parts_by_date(store)[OLD] == 4


SETTLE_SCRIPT = """
import sys
from datetime import date
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.pivot.settle import settle
settle(ClickHouseResource(url=sys.argv[1], database=sys.argv[2]), date(2024, 1, 25), 5)
"""


@pytest.mark.faults
def test_a_settle_killed_before_its_merge_leaves_the_date_whole_and_the_next_run_settles_it(store, tmp_path):
    if not store.is_embedded:
        pytest.skip("the child process opens the embedded store after this one hands it back")
    from pipeline.resources.clickhouse import close_all_clients

    before = _day(store, OLD)
    close_all_clients()
    env = {k: v for k, v in os.environ.items() if k != ENV_FAILPOINT}
    args = [sys.executable, "-c", SETTLE_SCRIPT, store.url, store.database]
    killed = subprocess.run(args, env=env | {ENV_FAILPOINT: "settle.trades_1d.before_merge"}, timeout=300)
    assert killed.returncode == -9
    assert parts_by_date(store)[OLD] == 4 and _day(store, OLD) == before
    close_all_clients()
    assert subprocess.run(args, env=env, timeout=300).returncode == 0
    assert parts_by_date(store)[OLD] == 1 and _day(store, OLD) == before


def test_the_settle_job_and_the_part_budget_check(store):
    with dg.instance_for_test() as instance:
        result = pivot_settle_job.execute_in_process(
            run_config={"ops": {"settle_trade_dates": {"config": {"today": str(TODAY)}}}},
            resources={"clickhouse": store},
            instance=instance,
        )
        assert result.success
        output = next(e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT")
        metadata = output.event_specific_data.metadata
        # Run again: nothing left to settle, and the run says so.
        again = pivot_settle_job.execute_in_process(
            run_config={"ops": {"settle_trade_dates": {"config": {"today": str(TODAY)}}}},
            resources={"clickhouse": store},
            instance=instance,
        )
        assert again.success
        output = next(e for e in again.all_node_events if e.event_type_value == "STEP_OUTPUT")
        assert output.event_specific_data.metadata["dates_settled"].value == 0
    assert metadata["dates_settled"].value == 1
    assert metadata["active_parts_after"].value < metadata["active_parts_before"].value
    assert parts_by_date(store) == {OLD: 1, FRESH: 4}

    def check():
        return active_parts_within_budget(clickhouse=store)

    assert check().passed
    # FRESH has 4 parts: against a per-partition limit of 7 that is 57 % (a warning), of 5 80 % (an error).
    store.command("ALTER TABLE pivot.trades_1d MODIFY SETTING parts_to_throw_insert = 7")
    warned = check()
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["worst_trade_date"].value == str(FRESH)
    store.command("ALTER TABLE pivot.trades_1d MODIFY SETTING parts_to_throw_insert = 5")
    failed = check()
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert "run pivot_settle" in failed.description
