"""Freshness: a trade date that did not land by 07:00 New York the next morning is flagged.

The checks read the clock; the test sets it with Dagster's own `freeze_time` and
records materializations on a real (temporary) instance.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from pipeline.assets.freshness import DAILY_FACTS, MONTHLY_FACTS, freshness_checks
from pipeline.definitions import defs
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.settings import TRADING_TIMEZONE

NEW_YORK = ZoneInfo(TRADING_TIMEZONE)
TRADES = dg.AssetKey(["pivot", "trades_1d"])


def _evaluate_trades_freshness(instance: dg.DagsterInstance, now: datetime) -> dg.AssetCheckEvaluation:
    [check] = [c for c in freshness_checks if TRADES in {key.asset_key for key in c.check_keys}]
    check_key = next(key for key in check.check_keys if key.asset_key == TRADES)
    # As the freshness sensor runs it: the check alone, in the job that knows every asset.
    job = defs.resolve_implicit_global_asset_job_def().get_subset(
        asset_selection=set(), asset_check_selection={check_key}
    )
    with freeze_time(now):
        result = job.execute_in_process(instance=instance)
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.asset_key == TRADES]
    return evaluation


def _load(instance: dg.DagsterInstance, partition: str, at: datetime) -> None:
    with freeze_time(at):
        instance.report_runless_asset_event(dg.AssetMaterialization(TRADES, partition=partition))


def test_every_daily_and_monthly_fact_has_a_freshness_check():
    checked = {key.asset_key for check in freshness_checks for key in check.check_keys}
    assert checked == {dg.AssetKey(key) for key in DAILY_FACTS + MONTHLY_FACTS}
    for key in DAILY_FACTS:
        assert defs.resolve_assets_def(dg.AssetKey(key)).partitions_def == trade_date_partitions
    for key in MONTHLY_FACTS:
        assert defs.resolve_assets_def(dg.AssetKey(key)).partitions_def == month_partitions
    assert "facts_freshness" in {sensor.name for sensor in defs.sensors}


@pytest.mark.parametrize("loaded", [False, True])
def test_yesterday_missing_at_7am_new_york_fails_and_loaded_passes(loaded):
    with dg.instance_for_test() as instance:
        _load(instance, "2024-03-03", datetime(2024, 3, 4, 6, 5, tzinfo=NEW_YORK))
        if loaded:
            _load(instance, "2024-03-04", datetime(2024, 3, 5, 6, 5, tzinfo=NEW_YORK))
        evaluation = _evaluate_trades_freshness(instance, datetime(2024, 3, 5, 7, 30, tzinfo=NEW_YORK))
    assert evaluation.passed is loaded
    assert evaluation.severity == dg.AssetCheckSeverity.WARN


def test_before_the_deadline_yesterday_is_not_yet_due():
    with dg.instance_for_test() as instance:
        _load(instance, "2024-03-03", datetime(2024, 3, 4, 6, 5, tzinfo=NEW_YORK))
        evaluation = _evaluate_trades_freshness(instance, datetime(2024, 3, 5, 6, 30, tzinfo=NEW_YORK))
    assert evaluation.passed
