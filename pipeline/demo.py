"""`make demo`: load both warehouses for a few recent trade dates and print the answers.

Runs on the embedded defaults (chDB under .data/clickhouse, the project's own
PostgreSQL under .data/postgres) unless PIVOT_CLICKHOUSE_URL / PIVOT_POSTGRES_URL
say otherwise. Runs are recorded in the Dagster instance of DAGSTER_HOME when it
is set (the Makefile sets it), so they show up in `make ui` afterwards.
"""

import argparse
import os
import sys
import time

import dagster as dg
import polars as pl

from pipeline.definitions import defs
from pipeline.partitions import month_partitions, trade_date_partitions
from pipeline.pivot.queries import ROLLUP, SPEC_QUERIES, for_date

DEMO_DAYS = 3


def recent_trade_dates(count: int) -> list[str]:
    """The last `count` complete trade dates (yesterday and before, in the partitions' timezone)."""
    return trade_date_partitions.get_partition_keys()[-count:]


def _assets_partitioned_by(partitions_def) -> list[dg.AssetsDefinition]:
    return [asset for asset in defs.assets
            if isinstance(asset, dg.AssetsDefinition) and asset.partitions_def == partitions_def]


def _materialize(assets: list[dg.AssetsDefinition], instance: dg.DagsterInstance, **kwargs) -> None:
    if not assets:
        return
    result = dg.materialize(assets, resources=defs.resources, instance=instance, **kwargs)
    if not result.success:
        raise SystemExit("A demo step failed; the log above says why.")


def _print_frame(title: str, frame: pl.DataFrame, rows: int = 8) -> None:
    print(f"\n=== {title} ({frame.height:,} rows; first {min(rows, frame.height)})")
    with pl.Config(tbl_rows=rows, tbl_cols=-1, tbl_width_chars=160, float_precision=2,
                   thousands_separator=True, tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(frame.head(rows))


def print_pivot_answers(clickhouse, trade_date: str) -> None:
    for name, sql in SPEC_QUERIES.items():
        _print_frame(f"pivot: {name.replace('_', ' ')} on {trade_date}",
                     clickhouse.query_polars(for_date(sql, trade_date)))
    _print_frame("pivot: rollup (the spec's query, every loaded date), largest notional first",
                 clickhouse.query_polars(ROLLUP + "ORDER BY total_notional DESC"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load both warehouses for recent dates and print the answers.")
    parser.add_argument("--days", type=int, default=DEMO_DAYS, help="how many recent trade dates to load")
    parser.add_argument("--trades-per-day", type=int, default=20_000, help="base trades per date")
    args = parser.parse_args(argv)

    dates = recent_trade_dates(args.days)
    started = time.perf_counter()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        print("Reference data and dimensions ...")
        _materialize(_assets_partitioned_by(None), instance)
        for day in dates:
            print(f"Trade date {day} ...")
            _materialize(_assets_partitioned_by(trade_date_partitions), instance, partition_key=day,
                         run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": args.trades_per_day}}}})
        # Compensation is monthly and a month is a partition only once it is over: load the
        # months of the demo dates that are complete, or else the last complete month.
        complete_months = month_partitions.get_partition_keys()
        months = sorted({day[:8] + "01" for day in dates} & set(complete_months)) or complete_months[-1:]
        for month in months:
            print(f"Month {month} ...")
            _materialize(_assets_partitioned_by(month_partitions), instance, partition_key=month)

    clickhouse = defs.resources["clickhouse"]
    print_pivot_answers(clickhouse, dates[-1])
    if "postgres" in defs.resources:
        from pipeline.dist_perf_dw.report import print_dist_perf_dw_report

        print_dist_perf_dw_report(defs.resources["postgres"].get_engine(), dates)
    print(f"\nLoaded {len(dates)} trade dates into both warehouses in {time.perf_counter() - started:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
