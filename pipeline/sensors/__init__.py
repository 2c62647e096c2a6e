"""Sensors of the code location, merged into one Definitions for definitions.py."""

import dagster as dg

from pipeline.sensors.freshness import facts_freshness_sensor
from pipeline.sensors.landed_compositions import pivot_landed_constituents
from pipeline.sensors.landed_dist_perf_dw import dist_perf_dw_landed_feeds
from pipeline.sensors.landed_fx import pivot_landed_fx_rates
from pipeline.sensors.landed_trades import pivot_landed_trades
from pipeline.sensors.run_failure import record_run_failures

defs = dg.Definitions(
    sensors=[
        pivot_landed_constituents,
        pivot_landed_fx_rates,
        pivot_landed_trades,
        record_run_failures,
        facts_freshness_sensor,
        dist_perf_dw_landed_feeds,
    ]
)
