"""The restore of a dist_perf_dw fact date's version as a Dagster job, so it is a run in the UI.

`dist_perf_dw_restore` runs one op (pool `postgres`) with run config `asset` (`dist_perf_dw/fact_aum_flows`,
…), `date` and `version`: it puts the kept version live in one transaction (the live rows kept as a
version in turn; pipeline/resources/postgres_versions.py) and records a materialization of the fact for
the date's partition, so its asset page shows the restore. `python -m pipeline.restore
dist_perf_dw/<fact> <date> --version K` does the same from a shell.
"""

from datetime import date

import dagster as dg
from pydantic import Field

from pipeline.assets.metadata import markdown_table
from pipeline.dist_perf_dw.versions import VERSIONED_ASSETS, VersionError, asset_table, listing, partition_window
from pipeline.resources.postgres import ForeignKeyViolationError, PostgresResource
from pipeline.settings import POSTGRES_POOL


class DistRestoreConfig(dg.Config):
    asset: str = Field(description=f"The fact's asset key: {', '.join(VERSIONED_ASSETS)}.")
    date: str = Field(description="The date to restore, YYYY-MM-DD (any day of a fact_wholesaler_comp month).")
    version: int = Field(ge=1, description="The kept version to put live (python -m pipeline.restore lists them).")


@dg.op(pool=POSTGRES_POOL, tags={"warehouse": "dist_perf_dw"})
def restore_fact_date_version(context: dg.OpExecutionContext, config: DistRestoreConfig, postgres: PostgresResource):
    """Put a kept version of a date of a dist_perf_dw fact live again; the live rows are kept in turn."""
    try:
        table = asset_table(config.asset)
        start, end = partition_window(table, date.fromisoformat(config.date))
        postgres.ensure_schema()
        replaced, number, rows = postgres.restore_partition_version(table, start, end, config.version, context.run_id)
    except (VersionError, ForeignKeyViolationError) as error:
        raise dg.Failure(str(error), allow_retries=False) from error
    versions = postgres.partition_versions(table, start)
    live = next(v for v in versions if v.version == number)
    context.log.info(f"{start}: version {config.version} of {config.asset} restored, live as version {number}")
    context.log_event(
        dg.AssetMaterialization(
            asset_key=["dist_perf_dw", table],
            partition=start.isoformat(),
            description=f"restored version {config.version}; the replaced live version {replaced} kept",
            metadata={
                "dagster/partition_row_count": dg.MetadataValue.int(rows),
                "amount_usd": dg.MetadataValue.float(live.amount_usd),
                "dist_perf_dw/source": live.source,
                "dist_perf_dw/version": dg.MetadataValue.int(number),
                "dist_perf_dw/versions": markdown_table(listing(versions).fill_null(""), limit=50),
            },
        )
    )


@dg.job(
    name="dist_perf_dw_restore",
    description="Restore a kept version of a date of a dist_perf_dw fact (run config: asset, date, version); the "
    "live rows are kept as a version in turn.",
    tags={"warehouse": "dist_perf_dw"},
)
def dist_perf_dw_restore_job():
    restore_fact_date_version()
