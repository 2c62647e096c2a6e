"""Retention of pivot's trade dates as a Dagster job, so every archive and drop is a run in the UI.

`pivot_retention` (schedule daily at 04:30 New York, before pivot_settle at 05:00 and the 06:00 load)
archives every trade date older than PIVOT_RETENTION_DAYS to Parquet under PIVOT_ARCHIVE_DIR, verifies
each file by reading it back and only then drops the date from pivot.trades_1d and its rollup
(pipeline/pivot/retention.py), in pool `clickhouse`; with PIVOT_RETENTION_DAYS unset it keeps everything
and says so. A date with a change under way is left for the next day; a date whose archive does not read
back equal is kept, named, and fails the run; a killed run is simply run again.
`dagster job execute -m pipeline.definitions -j pivot_retention`.

`bring_back_trade_date` is what `python -m pipeline.restore pivot/trades_1d <date> --from-archive` runs.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
from pydantic import Field

from pipeline.assets.metadata import markdown_table
from pipeline.pivot.queries import ROLLUP_REBUILD
from pipeline.pivot.retention import restore_from_archive, retain
from pipeline.pivot.versions import Version
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import (
    CLICKHOUSE_POOL,
    ENV_RETENTION_DAYS,
    TRADING_TIMEZONE,
    archive_dir,
    retention_days,
    versions_kept,
)


def bring_back_trade_date(clickhouse: ClickHouseResource, day: date, run_id: str) -> tuple[Version, int]:
    """Load an archived date back into pivot.trades_1d and rebuild its rollup: the version now live, rollup rows."""
    rollup_rows = [0]

    def rebuild(trade_date: date) -> int:
        rollup_rows[0] = clickhouse.rebuild_partition(
            "trades_1d_rollup", trade_date, ROLLUP_REBUILD, {"day": trade_date}
        )
        return rollup_rows[0]

    live = restore_from_archive(
        clickhouse, day, archive_dir(), kept=versions_kept(), run_id=run_id, rebuild_rollup=rebuild
    )
    return live, rollup_rows[0]


class RetentionConfig(dg.Config):
    today: str = Field(
        default="", description="The day to apply the retention as of, YYYY-MM-DD (empty: today in New York)."
    )


@dg.op(pool=CLICKHOUSE_POOL, tags={"warehouse": "pivot"})
def archive_trade_dates(context: dg.OpExecutionContext, config: RetentionConfig, clickhouse: ClickHouseResource):
    """Archive the trade dates of pivot.trades_1d past PIVOT_RETENTION_DAYS to Parquet, verify, then drop them."""
    days = retention_days()
    if days is None:
        context.log.info(f"{ENV_RETENTION_DAYS} is unset: every trade date is kept, nothing archived")
        context.add_output_metadata({"retention_days": "unset (keep everything)", "dates_archived": 0})
        return
    if clickhouse.cluster:
        raise dg.Failure(
            "pivot_retention does not run on a cluster (PIVOT_CLICKHOUSE_CLUSTER is set): there each date is a "
            "partition per load_version on every shard; nothing changed",
            allow_retries=False,
        )
    today = date.fromisoformat(config.today) if config.today else datetime.now(ZoneInfo(TRADING_TIMEZONE)).date()
    folder = archive_dir()
    run = retain(clickhouse, today, days, folder, run_id=context.run_id, log=context.log.info)
    for done in run.retained:
        context.log_event(
            dg.AssetObservation(
                asset_key=["pivot", "trades_1d"],
                partition=str(done.trade_date),
                description=f"archived to {done.file} and dropped from pivot.trades_1d and pivot.trades_1d_rollup",
                metadata={
                    "pivot/archive": str(folder / done.file),
                    "pivot/archive_sha256": done.sha256,
                    "pivot/archive_rows": dg.MetadataValue.int(done.rows),
                },
            )
        )
    frame = pl.DataFrame(
        [
            {"trade_date": str(d.trade_date), "rows": d.rows, "bytes": d.bytes, "seconds": round(d.seconds, 2)}
            for d in run.retained
        ],
        schema={"trade_date": pl.String, "rows": pl.Int64, "bytes": pl.Int64, "seconds": pl.Float64},
    )
    metadata = {
        "retention_days": dg.MetadataValue.int(days),
        "archived_dates_before": str(today - timedelta(days=days)),
        "archive_dir": str(folder),
        "dates_archived": dg.MetadataValue.int(len(run.retained)),
        "dates_left": ", ".join(str(d) for d in run.left),
        "archived": markdown_table(frame, limit=50),
    }
    if run.refused:
        raise dg.Failure(
            f"{len(run.refused)} trade date(s) kept, their archive not verified: " + "; ".join(run.refused.values()),
            metadata=metadata,
            allow_retries=False,
        )
    context.add_output_metadata(metadata)


@dg.job(
    name="pivot_retention",
    description="Archive the trade dates of pivot.trades_1d older than PIVOT_RETENTION_DAYS (unset: keep "
    "everything) to Parquet under PIVOT_ARCHIVE_DIR, verify each file by reading it back, then drop the date "
    "from the fact and its rollup; restartable.",
    tags={"warehouse": "pivot"},
)
def pivot_retention_job():
    archive_trade_dates()


# 04:30 New York: before pivot_settle (05:00), so no date is compacted just before it leaves.
pivot_retention_schedule = dg.ScheduleDefinition(
    job=pivot_retention_job, cron_schedule="30 4 * * *", execution_timezone=TRADING_TIMEZONE
)

defs = dg.Definitions(jobs=[pivot_retention_job], schedules=[pivot_retention_schedule])
