"""Evaluates the facts' freshness checks (pipeline/assets/freshness.py) as time passes.

Freshness depends on the clock, not on a run: without this sensor a date that
never loaded would only be flagged the next time someone ran the check. Each
tick works out, per check, the partition due now and whether it is
materialized; a check whose answer changed since the last tick (a new due date,
or the due partition landed) is evaluated in one check-only run. It reads the
Dagster instance only, never a store.
"""

import datetime as dt
import json

import dagster as dg

# Dagster's clock (its own freshness builders read it), so dagster's freeze_time moves it in tests.
from dagster._time import get_current_datetime

from pipeline.assets.freshness import due_partition, freshness_checks

CHECK_KEYS = sorted(
    (key for check in freshness_checks for key in check.check_keys), key=lambda key: key.to_user_string()
)


def freshness_state(instance: dg.DagsterInstance, now: dt.datetime) -> dict[str, str]:
    """Per check: the due partition and whether it is materialized, e.g. "2024-03-01 missing"."""
    state = {}
    for check_key in CHECK_KEYS:
        due = due_partition(check_key.asset_key, now)
        if due is None:
            state[check_key.to_user_string()] = "nothing due"
            continue
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=check_key.asset_key, asset_partitions=[due]), limit=1
        ).records
        state[check_key.to_user_string()] = f"{due} {'materialized' if records else 'missing'}"
    return state


@dg.sensor(
    name="facts_freshness",
    minimum_interval_seconds=300,
    asset_selection=dg.AssetSelection.checks(*freshness_checks),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Evaluates each fact's freshness check when its due partition or its presence changes.",
)
def facts_freshness_sensor(context: dg.SensorEvaluationContext):
    state = freshness_state(context.instance, get_current_datetime())
    seen = json.loads(context.cursor) if context.cursor else {}
    changed = [key for key in CHECK_KEYS if seen.get(key.to_user_string()) != state[key.to_user_string()]]
    context.update_cursor(json.dumps(state, sort_keys=True))
    if not changed:
        return dg.SkipReason("no due partition or its presence changed since the last tick")
    return dg.RunRequest(asset_check_keys=changed)
