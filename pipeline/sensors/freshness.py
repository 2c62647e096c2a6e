"""Evaluates the facts' freshness checks (pipeline/assets/freshness.py) as time passes.

Freshness depends on the clock, not on a run: without this sensor a date that
never loaded would only be flagged the next time someone ran the check. It
reads the Dagster instance only, never a store.
"""

import dagster as dg

from pipeline.assets.freshness import freshness_checks

facts_freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks,
    name="facts_freshness",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
