"""When each daily (and monthly) fact is due, as Dagster freshness checks.

The schedules load a trade date at 06:00 (pivot) and 06:30 (dist_perf_dw) New
York time the next morning; by 07:00 the previous trade date must be there.
Compensation runs on the 2nd at 07:00 for the previous month, due by 08:00.
A check fails (warning severity) when the last complete partition did not
land by its deadline, and the UI flags the asset; the freshness sensor in
`pipeline.sensors` evaluates the checks continuously.

Dagster 1.13 also offers `FreshnessPolicy` on the asset, but it judges the asset's
latest materialization of any partition: a backfill of last year after 07:00 would
read as "fresh" while yesterday is missing. These checks ask for the partition that
is due, which is what a desk means by "yesterday's trades are in".
"""

import dagster as dg

from pipeline.settings import TRADING_TIMEZONE

DAILY_FACTS = [
    ["pivot", "trades_1d"],
    ["pivot", "trades_1d_rollup"],
    ["dist_perf_dw", "fact_aum_flows"],
    ["dist_perf_dw", "fact_revenue"],
    ["dist_perf_dw", "fact_retention_snapshots"],
    ["dist_perf_dw", "fact_distribution_expense"],
]
MONTHLY_FACTS = [["dist_perf_dw", "fact_wholesaler_comp"]]

DAILY_DEADLINE_CRON = "0 7 * * *"
MONTHLY_DEADLINE_CRON = "0 8 2 * *"

freshness_checks = [
    *dg.build_time_partition_freshness_checks(
        assets=[dg.AssetKey(key) for key in DAILY_FACTS], deadline_cron=DAILY_DEADLINE_CRON, timezone=TRADING_TIMEZONE
    ),
    *dg.build_time_partition_freshness_checks(
        assets=[dg.AssetKey(key) for key in MONTHLY_FACTS],
        deadline_cron=MONTHLY_DEADLINE_CRON,
        timezone=TRADING_TIMEZONE,
    ),
]

defs = dg.Definitions(asset_checks=freshness_checks)
