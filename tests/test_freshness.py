"""Freshness on the trading calendar: a trade date that did not land by 07:00 New York the next
morning is flagged, weekends and holidays never are, and backfills of old dates leave the checks out.

The checks read the clock; the tests set it with Dagster's own `freeze_time` and record
materializations on a real (temporary) instance.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from pipeline.assets.freshness import DAILY_FACTS, MONTHLY_FACTS, due_month, due_trade_date, freshness_checks
from pipeline.definitions import defs
from pipeline.dist_perf_dw.calendar import is_business_day
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.sensors.freshness import facts_freshness_sensor
from pipeline.settings import TRADING_TIMEZONE

NEW_YORK = ZoneInfo(TRADING_TIMEZONE)
TRADES = dg.AssetKey(["pivot", "trades_1d"])
FLOWS = dg.AssetKey(["dist_perf_dw", "fact_aum_flows"])
# 2024-01-15, Monday: Martin Luther King Jr. Day, NYSE closed; London trades.
SATURDAY = datetime(2024, 1, 13, 10, 0, tzinfo=NEW_YORK)
TUESDAY_AFTER_MLK = datetime(2024, 1, 16, 7, 30, tzinfo=NEW_YORK)


def _check_key(asset_key: dg.AssetKey) -> dg.AssetCheckKey:
    return next(key for check in freshness_checks for key in check.check_keys if key.asset_key == asset_key)


def _evaluate(instance: dg.DagsterInstance, now: datetime, asset_key: dg.AssetKey = TRADES):
    # As the freshness sensor runs it: the check alone, in the job that knows every asset.
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(), asset_check_selection={_check_key(asset_key)}
    )
    with freeze_time(now):
        result = job.execute_in_process(instance=instance)
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.asset_key == asset_key]
    return evaluation


def _load(instance: dg.DagsterInstance, partition: str, at: datetime, asset_key: dg.AssetKey = TRADES) -> None:
    with freeze_time(at):
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key, partition=partition))


def test_every_daily_and_monthly_fact_has_a_freshness_check():
    checked = {key.asset_key for check in freshness_checks for key in check.check_keys}
    assert checked == {dg.AssetKey(list(key)) for key in [*DAILY_FACTS, *MONTHLY_FACTS]}
    for key in DAILY_FACTS:
        assert defs.resolve_assets_def(dg.AssetKey(list(key))).partitions_def == trade_date_partitions
    for key in MONTHLY_FACTS:
        assert defs.resolve_assets_def(dg.AssetKey(list(key))).partitions_def == month_partitions
    assert "facts_freshness" in {sensor.name for sensor in defs.sensors}


def test_due_dates_follow_each_warehouse_trading_calendar():
    pivot, business = DAILY_FACTS[("pivot", "trades_1d")], is_business_day
    # Saturday and Sunday: Friday is due, for both warehouses.
    for now in (SATURDAY, datetime(2024, 1, 14, 23, 0, tzinfo=NEW_YORK)):
        assert due_trade_date(now, pivot) == due_trade_date(now, business) == date(2024, 1, 12)
    # Friday before 07:00 on Saturday: Thursday.
    assert due_trade_date(datetime(2024, 1, 13, 6, 59, tzinfo=NEW_YORK), business) == date(2024, 1, 11)
    # After MLK day: dist_perf_dw (NYSE business days) still wants Friday; pivot wants Monday (London traded).
    assert due_trade_date(TUESDAY_AFTER_MLK, business) == date(2024, 1, 12)
    assert due_trade_date(TUESDAY_AFTER_MLK, pivot) == date(2024, 1, 15)
    # Christmas Monday 2023: NYSE, London, Frankfurt closed, Tokyo open.
    assert due_trade_date(datetime(2023, 12, 26, 8, tzinfo=NEW_YORK), business) is None  # before 2024-01-01
    assert due_trade_date(datetime(2024, 12, 26, 8, tzinfo=NEW_YORK), business) == date(2024, 12, 24)
    assert due_month(datetime(2024, 3, 2, 7, 59, tzinfo=NEW_YORK)) == date(2024, 1, 1)
    assert due_month(datetime(2024, 3, 2, 8, 0, tzinfo=NEW_YORK)) == date(2024, 2, 1)


@pytest.mark.parametrize("loaded", [False, True])
def test_yesterday_missing_at_7am_new_york_fails_and_loaded_passes(loaded):
    with dg.instance_for_test() as instance:
        _load(instance, "2024-03-03", datetime(2024, 3, 4, 6, 5, tzinfo=NEW_YORK))
        if loaded:
            _load(instance, "2024-03-04", datetime(2024, 3, 5, 6, 5, tzinfo=NEW_YORK))
        evaluation = _evaluate(instance, datetime(2024, 3, 5, 7, 30, tzinfo=NEW_YORK))
    assert evaluation.passed is loaded
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["due_partition"].value == "2024-03-04"


def test_before_the_deadline_yesterday_is_not_yet_due():
    with dg.instance_for_test() as instance:
        _load(instance, "2024-03-01", datetime(2024, 3, 2, 6, 5, tzinfo=NEW_YORK))  # Friday
        evaluation = _evaluate(instance, datetime(2024, 3, 5, 6, 30, tzinfo=NEW_YORK))  # Tuesday, before 07:00
    assert evaluation.passed


@pytest.mark.parametrize("asset_key", [TRADES, FLOWS])
def test_a_saturday_never_shows_red_when_friday_is_in(asset_key):
    with dg.instance_for_test() as instance:
        assert not _evaluate(instance, SATURDAY, asset_key).passed  # nothing loaded: Friday is missing
        _load(instance, "2024-01-12", datetime(2024, 1, 13, 6, 5, tzinfo=NEW_YORK), asset_key)
        evaluation = _evaluate(instance, SATURDAY, asset_key)
    assert evaluation.passed and evaluation.metadata["due_partition"].value == "2024-01-12"


def test_a_monday_holiday_is_not_due_for_dist_perf_dw_but_is_for_pivot():
    with dg.instance_for_test() as instance:
        for asset_key in (TRADES, FLOWS):
            _load(instance, "2024-01-12", datetime(2024, 1, 13, 6, 5, tzinfo=NEW_YORK), asset_key)
        assert _evaluate(instance, TUESDAY_AFTER_MLK, FLOWS).passed
        trades = _evaluate(instance, TUESDAY_AFTER_MLK, TRADES)
        assert not trades.passed and trades.metadata["due_partition"].value == "2024-01-15"


def test_a_backfill_of_old_dates_leaves_the_freshness_check_out():
    """A run loading 2024 dates on 2026-12-07 selects the check with its asset but yields no evaluation."""
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(), asset_check_selection={_check_key(FLOWS)}
    )
    now = datetime(2026, 12, 7, 9, tzinfo=NEW_YORK)
    with dg.instance_for_test() as instance, freeze_time(now):
        old = job.execute_in_process(instance=instance, tags={"dagster/partition": "2024-01-02"})
        assert old.success and old.get_asset_check_evaluations() == []
        current = job.execute_in_process(instance=instance, tags={"dagster/partition": "2026-12-04"})
        [evaluation] = current.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.metadata["due_partition"].value == "2026-12-04"


def test_the_sensor_evaluates_a_check_when_its_due_partition_or_its_presence_changes():
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        with freeze_time(SATURDAY):
            first = facts_freshness_sensor(context)
            assert isinstance(first, dg.RunRequest) and len(first.asset_check_keys) == 7
            context.update_cursor(context.cursor)
            assert isinstance(facts_freshness_sensor(context), dg.SkipReason)
            _load(instance, "2024-01-12", SATURDAY, FLOWS)
            again = facts_freshness_sensor(context)
        assert again.asset_check_keys == [_check_key(FLOWS)]
