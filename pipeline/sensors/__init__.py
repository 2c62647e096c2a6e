"""Sensors and schedules of the code location, merged into one Definitions for definitions.py."""

import dagster as dg

from pipeline.sensors.reference_data import pivot_landed_constituents, pivot_reference_refresh_job
from pipeline.sensors.run_failure import record_run_failures
from pipeline.sensors.schedules import (
    dist_perf_dw_daily_job,
    dist_perf_dw_daily_schedule,
    dist_perf_dw_monthly_job,
    dist_perf_dw_monthly_schedule,
)

defs = dg.Definitions(
    jobs=[pivot_reference_refresh_job, dist_perf_dw_daily_job, dist_perf_dw_monthly_job],
    schedules=[dist_perf_dw_daily_schedule, dist_perf_dw_monthly_schedule],
    sensors=[pivot_landed_constituents, record_run_failures],
)
