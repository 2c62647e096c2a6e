"""Jobs and schedules of the dist_perf_dw warehouse.

The schedules are built from partitioned jobs, so they run in the partitions' timezone
(New York) and target the last complete partition: at 06:30 the previous
trade date, and on the 2nd of the month the previous month.

Downstream facts follow their sources by riding in the same job, not through
declarative automation or a sensor: revenue is derived from the day's flows,
so flows -> revenue (and retention) run in dependency order in one run, a
blocking check on flows skips revenue in that very run, and nothing needs the
automation daemon to notice a materialization first.
"""

import dagster as dg

from pipeline.assets import dist_perf_dw
from pipeline.jobs.dist_perf_dw_history import dist_perf_dw_restore_job

dist_perf_dw_daily_job = dg.define_asset_job(
    "dist_perf_dw_daily",
    selection=[
        dist_perf_dw.fact_aum_flows, dist_perf_dw.fact_revenue,
        dist_perf_dw.fact_retention_snapshots, dist_perf_dw.fact_distribution_expense,
    ],
    description="Load one day of flows, then the revenue and retention derived from them, and expenses.",
)
dist_perf_dw_daily_schedule = dg.build_schedule_from_partitioned_job(
    dist_perf_dw_daily_job, hour_of_day=6, minute_of_hour=30,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

# Compensation is monthly: it pays on the whole month's flows, so it runs once the
# month's last day has been loaded by the daily job (the 1st, 06:30), on the 2nd.
dist_perf_dw_monthly_job = dg.define_asset_job(
    "dist_perf_dw_monthly",
    selection=[dist_perf_dw.fact_wholesaler_comp],
    description="Compute the previous month's wholesaler compensation.",
)
dist_perf_dw_monthly_schedule = dg.build_schedule_from_partitioned_job(
    dist_perf_dw_monthly_job, day_of_month=2, hour_of_day=7, minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

defs = dg.Definitions(
    jobs=[dist_perf_dw_daily_job, dist_perf_dw_monthly_job, dist_perf_dw_restore_job],
    schedules=[dist_perf_dw_daily_schedule, dist_perf_dw_monthly_schedule],
)
