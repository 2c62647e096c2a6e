"""Jobs and schedules of the pivot warehouse.

The rollup rides in the same job as its fact, so a scheduled or backfilled
date always gets its rollup rebuilt right after the fact is swapped in; the
reference refresh is what the landed-composition sensor requests, the FX refresh
what the landed-FX sensor requests, and the daily job with source=landed what the
landed-trades sensor requests.
"""

import dagster as dg

from pipeline.assets import pivot
from pipeline.partitions import trade_date_partitions

pivot_reference_job = dg.define_asset_job(
    "pivot_reference_data",
    selection=[pivot.instruments, pivot.constituents, pivot.fx_rates],
    description="Reload instruments, constituent maps and FX rates.",
)
pivot_daily_job = dg.define_asset_job(
    "pivot_daily",
    selection=[pivot.trades_1d, pivot.trades_1d_rollup],
    partitions_def=trade_date_partitions,
    description="Load one trade date (generated, or landed with source=landed; the landed-trades sensor's "
    "runs), explode and swap it in, then rebuild its rollup.",
)
pivot_daily_schedule = dg.build_schedule_from_partitioned_job(pivot_daily_job, hour_of_day=6, minute_of_hour=0)

pivot_reference_refresh_job = dg.define_asset_job(
    "pivot_reference_refresh",
    selection=[pivot.instruments, pivot.constituents, pivot.trades_1d, pivot.trades_1d_rollup],
    description="Reload the instruments and the constituent map (with landed files), then re-explode and re-roll "
    "a trade-date range.",
)

pivot_fx_refresh_job = dg.define_asset_job(
    "pivot_fx_refresh",
    selection=[pivot.fx_rates, pivot.trades_1d, pivot.trades_1d_rollup],
    description="Reload the FX rates (with landed files), then reload and re-roll the trade dates they changed.",
)

defs = dg.Definitions(
    jobs=[pivot_reference_job, pivot_daily_job, pivot_reference_refresh_job, pivot_fx_refresh_job],
    schedules=[pivot_daily_schedule],
)
