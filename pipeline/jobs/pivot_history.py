"""The restore of a kept version of a trade date as a Dagster job, so every restore is a run in the UI.

`pivot_restore` runs one op (pool `clickhouse`) with run config `trade_date` and `version`: it puts the
version live (pipeline/pivot/versions.py: atomic, the live day kept as a version in turn), rebuilds the
date's rollup, and records a materialization of `pivot/trades_1d` and `pivot/trades_1d_rollup` for the
date, so their asset pages show the restore. `python -m pipeline.restore` does the same from a shell.
"""

from datetime import date

import dagster as dg
from pydantic import Field

from pipeline.assets.metadata import markdown_table
from pipeline.pivot.queries import ROLLUP_REBUILD
from pipeline.pivot.versions import DayVersions, VersionError, versions_frame
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.settings import CLICKHOUSE_POOL, versions_kept


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


defs = dg.Definitions(jobs=[pivot_restore_job])
