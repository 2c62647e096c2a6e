"""Versions and settling of pivot's trade dates as Dagster jobs, so every restore and compaction is a run in the UI.

`pivot_restore` runs one op (pool `clickhouse`) with run config `trade_date` and `version`: it puts the
version live (pipeline/pivot/versions.py: atomic, the live day kept as a version in turn), rebuilds the
date's rollup, and records a materialization of `pivot/trades_1d` and `pivot/trades_1d_rollup` for the
date, so their asset pages show the restore. `python -m pipeline.restore` does the same from a shell.

`pivot_settle` (schedule daily at 05:00 New York, before the 06:00 load) compacts every settled trade date
(older than PIVOT_SETTLE_AFTER_DAYS, more than 2 parts) to one part, fact and rollup (pipeline/pivot/settle.py),
in pool `clickhouse`; a date with a change under way is left for the next day; a killed run is simply run
again. `dagster job execute -m pipeline.definitions -j pivot_settle`.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.assets.metadata import markdown_table
from pipeline.pivot.queries import ROLLUP_REBUILD
from pipeline.pivot.retention import archived
from pipeline.pivot.settle import part_budget, settle
from pipeline.pivot.versions import DayVersions, VersionError, versions_frame
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import CLICKHOUSE_POOL, TRADING_TIMEZONE, settle_after_days, versions_kept


class RestoreConfig(dg.Config):
    trade_date: str = Field(description="The trade date to restore, YYYY-MM-DD.")
    version: int = Field(ge=1, description="The kept version to put live (python -m pipeline.restore lists them).")


def restore_trade_date(clickhouse: ClickHouseResource, day: date, version: int, run_id: str):
    """Put `version` of `day` live, rebuild the day's rollup; the versions the date then holds."""
    versions = DayVersions(clickhouse, day, kept=versions_kept(), run_id=run_id)
    rollup_rows = []

    def rebuild(trade_date: date) -> int:
        rollup_rows.append(
            clickhouse.rebuild_partition("trades_1d_rollup", trade_date, ROLLUP_REBUILD, {"day": trade_date})
        )
        return rollup_rows[-1]

    gone = archived(clickhouse, day)
    if gone is not None:
        # Its versions went with it (pipeline/pivot/retention.py): only the archived day can come back.
        raise VersionError(
            f"{day} is archived ({gone.file} under PIVOT_ARCHIVE_DIR) and holds no version to restore, nothing "
            f"changed; bring it back with python -m pipeline.restore pivot/trades_1d {day} --from-archive"
        )
    live = versions.restore(version, rebuild)
    return live, rollup_rows[0], versions.held()


@dg.op(pool=CLICKHOUSE_POOL, tags={"warehouse": "pivot"})
def restore_trade_date_version(context: dg.OpExecutionContext, config: RestoreConfig, clickhouse: ClickHouseResource):
    """Put a kept version of a trade date of pivot.trades_1d live again and rebuild the date's rollup."""
    day = date.fromisoformat(config.trade_date)
    try:
        live, rollup_rows, held = restore_trade_date(clickhouse, day, config.version, context.run_id)
    except VersionError as error:
        raise dg.Failure(str(error), allow_retries=False) from error
    context.log.info(f"{day}: version {config.version} restored, live as version {live.version} ({live.rows:,} rows)")
    listing = markdown_table(versions_frame(held).fill_null(""))
    context.log_event(
        dg.AssetMaterialization(
            asset_key=["pivot", "trades_1d"],
            partition=config.trade_date,
            description=f"restored version {config.version}",
            metadata={
                "dagster/partition_row_count": dg.MetadataValue.int(live.rows),
                "notional_usd": dg.MetadataValue.float(live.notional_usd),
                "pivot/source": live.source,
                "pivot/version": dg.MetadataValue.int(live.version),
                "pivot/versions": listing,
            },
        )
    )
    context.log_event(
        dg.AssetMaterialization(
            asset_key=["pivot", "trades_1d_rollup"],
            partition=config.trade_date,
            description=f"rebuilt after the restore of version {config.version} of pivot/trades_1d",
            metadata={"dagster/partition_row_count": dg.MetadataValue.int(rollup_rows)},
        )
    )


@dg.job(
    name="pivot_restore",
    description="Restore a kept version of a trade date of pivot.trades_1d (run config: trade_date, version) and "
    "rebuild its rollup; the live day is kept as a version in turn.",
    tags={"warehouse": "pivot"},
)
def pivot_restore_job():
    restore_trade_date_version()


class SettleConfig(dg.Config):
    today: str = Field(
        default="", description="The day to settle as of, YYYY-MM-DD (empty: today in New York, the trading timezone)."
    )


@dg.op(pool=CLICKHOUSE_POOL, tags={"warehouse": "pivot"})
def settle_trade_dates(context: dg.OpExecutionContext, config: SettleConfig, clickhouse: ClickHouseResource):
    """Compact every settled trade date of pivot.trades_1d and its rollup to one part (OPTIMIZE … FINAL)."""
    if clickhouse.cluster:
        raise dg.Failure(
            "pivot_settle does not run on a cluster (PIVOT_CLICKHOUSE_CLUSTER is set): there each date is a "
            "partition per load_version on every shard; nothing changed",
            allow_retries=False,
        )
    today = date.fromisoformat(config.today) if config.today else datetime.now(ZoneInfo(TRADING_TIMEZONE)).date()
    after = settle_after_days()
    before = part_budget(clickhouse)
    done = settle(clickhouse, today, after, log=context.log.info)
    budget = part_budget(clickhouse)
    frame = pl.DataFrame(
        [
            {
                "table": d.table,
                "trade_date": str(d.trade_date),
                "parts_before": d.parts_before,
                "parts_after": d.parts_after,
                "seconds": round(d.seconds, 2),
            }
            for d in done
        ],
        schema={
            "table": pl.String,
            "trade_date": pl.String,
            "parts_before": pl.Int64,
            "parts_after": pl.Int64,
            "seconds": pl.Float64,
        },
    )
    context.add_output_metadata(
        {
            "settled_dates_before": str(today - timedelta(days=after)),
            "dates_settled": dg.MetadataValue.int(len(done)),
            "seconds_merging": dg.MetadataValue.float(round(sum(d.seconds for d in done), 2) if done else 0.0),
            "active_parts_before": dg.MetadataValue.int(before.total_parts),
            "active_parts_after": dg.MetadataValue.int(budget.total_parts),
            "worst_date_parts_after": dg.MetadataValue.int(budget.worst_date_parts),
            "settled": markdown_table(frame, limit=50),
        }
    )


@dg.job(
    name="pivot_settle",
    description="Compact the settled trade dates of pivot.trades_1d and its rollup (older than "
    "PIVOT_SETTLE_AFTER_DAYS, default 5, with more than 2 parts) to one part each; restartable.",
    tags={"warehouse": "pivot"},
)
def pivot_settle_job():
    settle_trade_dates()


# 05:00 New York: after the night, before the 06:00 load of the previous trade date (pivot_daily's schedule).
pivot_settle_schedule = dg.ScheduleDefinition(
    job=pivot_settle_job, cron_schedule="0 5 * * *", execution_timezone=TRADING_TIMEZONE
)

defs = dg.Definitions(jobs=[pivot_restore_job, pivot_settle_job], schedules=[pivot_settle_schedule])
