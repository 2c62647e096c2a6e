"""List or restore the versions of a trade date.

    python -m pipeline.restore pivot/trades_1d 2024-01-16                 # the versions the date holds
    python -m pipeline.restore pivot/trades_1d 2024-01-16 --format csv    # version,replaced_at,rows,notional_usd,source
    python -m pipeline.restore pivot/trades_1d 2024-01-16 --version 2     # put version 2 live, rebuild the rollup
    python -m pipeline.restore pivot/trades_1d 2023-01-16 --from-archive  # bring an archived date back

A restore is atomic (pipeline/pivot/versions.py): the live day becomes a version in turn, the kept one
is swapped in whole, the date's rollup is rebuilt. The store is $PIVOT_CLICKHOUSE_URL (else the embedded
one); the same restore as a Dagster run, logged in the UI: job `pivot_restore` with run config
`{"ops": {"restore_trade_date_version": {"config": {"trade_date": "2024-01-16", "version": 2}}}}`.
`--from-archive` loads a date that pivot_retention archived (pipeline/pivot/retention.py) back from its
Parquet file, checked against the archive's manifest, as a new version, and rebuilds its rollup.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date

import polars as pl

from pipeline.dist_perf_dw.versions import VERSIONED_ASSETS as DIST_PERF_DW_VERSIONED
from pipeline.pivot.versions import LISTING_COLUMNS, DayVersions, VersionError, is_versioned, versions_frame
from pipeline.settings import ENV_CLICKHOUSE_CLUSTER, ENV_CLICKHOUSE_URL, default_clickhouse_url, versions_kept

VERSIONED_ASSETS = ("pivot/trades_1d", *DIST_PERF_DW_VERSIONED)  # dist_perf_dw's: pipeline/restore_dist_perf_dw.py


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.restore", description=__doc__.splitlines()[0])
    parser.add_argument("asset", help=f"the asset key: {', '.join(VERSIONED_ASSETS)}")
    parser.add_argument("trade_date", type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--version", type=int, help="restore this kept version (without: list the versions)")
    parser.add_argument("--from-archive", action="store_true", help="bring the date back from its archive")
    parser.add_argument("--format", choices=["table", "csv"], default="table")
    parser.add_argument("--database", default="pivot", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.from_archive and args.version is not None:
        parser.error("--from-archive and --version: one or the other")
    if args.from_archive and args.asset != "pivot/trades_1d":
        parser.error("--from-archive: only pivot/trades_1d has an archive (pivot_retention)")
    if args.asset not in VERSIONED_ASSETS:
        parser.error(f"{args.asset}: versions are kept for {', '.join(VERSIONED_ASSETS)} only")
    if args.asset in DIST_PERF_DW_VERSIONED:
        from pipeline.restore_dist_perf_dw import main as restore_dist_perf_dw

        return restore_dist_perf_dw(args)

    from pipeline.jobs.pivot_history import restore_trade_date
    from pipeline.jobs.pivot_retention import bring_back_trade_date
    from pipeline.pivot.retention import RetentionError, archived
    from pipeline.resources.clickhouse import ClickHouseResource, ClickHouseUnavailableError

    clickhouse = ClickHouseResource(
        url=os.environ.get(ENV_CLICKHOUSE_URL) or default_clickhouse_url(),
        database=args.database,
        cluster=os.environ.get(ENV_CLICKHOUSE_CLUSTER, ""),
    )
    try:
        if not is_versioned(clickhouse):
            from pipeline.pivot.versions import CLUSTER_REFUSAL

            raise VersionError(CLUSTER_REFUSAL)
        clickhouse.apply_ddl()
        versions = DayVersions(clickhouse, args.trade_date, kept=versions_kept(), run_id="cli")
        for line in versions.settle():
            print(f"{args.trade_date}: {line}", file=sys.stderr)
        if args.from_archive:
            live, rollup_rows = bring_back_trade_date(clickhouse, args.trade_date, "cli")
            print(
                f"{args.trade_date}: brought back from the archive, live as version {live.version} "
                f"({live.rows:,} rows, notional_usd {live.notional_usd:,.2f}); rollup rebuilt ({rollup_rows:,} rows)",
                file=sys.stderr,
            )
        if args.version is not None:
            live, rollup_rows, _ = restore_trade_date(clickhouse, args.trade_date, args.version, "cli")
            print(
                f"{args.trade_date}: version {args.version} restored, live as version {live.version} "
                f"({live.rows:,} rows, notional_usd {live.notional_usd:,.2f}); rollup rebuilt ({rollup_rows:,} rows)",
                file=sys.stderr,
            )
        gone = archived(clickhouse, args.trade_date) if args.version is None and not args.from_archive else None
        if gone is not None:
            print(
                f"{args.trade_date}: archived ({gone.file} under PIVOT_ARCHIVE_DIR, {gone.figures.rows:,} rows, sha256 "
                f"{gone.sha256}), no version held; --from-archive brings it back",
                file=sys.stderr,
            )
        frame = versions_frame(versions.held()).select(LISTING_COLUMNS)
    except (VersionError, RetentionError, ClickHouseUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print_versions(frame, f"{args.trade_date}: {frame.height} version(s); the live one has no replaced_at", args.format)
    return 0


def print_versions(frame: pl.DataFrame, heading: str, output_format: str) -> None:
    """A date's versions on stdout: CSV (the listing's columns, a header row) or a table under `heading`."""
    if output_format == "csv":
        sys.stdout.write(frame.write_csv())
        return
    with pl.Config(
        tbl_rows=-1, tbl_hide_dataframe_shape=True, fmt_str_lengths=200, tbl_width_chars=250, thousands_separator=True
    ):
        print(heading)
        print(frame.with_columns(pl.col("replaced_at").fill_null("")))


if __name__ == "__main__":
    sys.exit(main())
