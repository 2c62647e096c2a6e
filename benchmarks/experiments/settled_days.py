"""What settling costs and buys: trade dates loaded as the pipeline loads them (many parts, no background
merges), the spec queries and a two-date scan timed, then `pipeline.pivot.settle.settle` (the `pivot_settle`
job's work: OPTIMIZE … FINAL per date, fact and rollup) timed, then the same queries on the settled dates.

    python -m benchmarks.experiments.settled_days [--trades-per-day N] [--days D] [--repeats R]
"""

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.pivot_tasks import store_with_reference_data
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.pivot.queries import ROLLUP_REBUILD, SPEC_QUERIES, for_date
from pipeline.pivot.settle import parts_by_date, settle
from pipeline.resources.clickhouse import close_all_clients
from pipeline.settings import DEFAULT_SEED

FIRST = date(2024, 1, 16)


def query_seconds(clickhouse, days: list[date], repeats: int) -> dict:
    client = clickhouse.get_client()
    queries = {name: for_date(sql, days[0]) for name, sql in SPEC_QUERIES.items()}
    queries["all_dates_notional_usd_by_pm"] = (
        "SELECT trade_date, portfolio_manager_id, sum(notional_usd) FROM pivot.trades_1d "
        "WHERE exposure_type IN ('Direct', 'ETF', 'ETC') GROUP BY trade_date, portfolio_manager_id"
    )
    out = {}
    for name, sql in queries.items():
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.query_arrow(sql)
            runs.append(time.perf_counter() - started)
        out[name] = round(statistics.median(runs), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.settled_days")
    parser.add_argument("--trades-per-day", type=int, default=300_000)
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="pivot-settled-", dir="/tmp"))
    try:
        clickhouse, _, _ = store_with_reference_data(store, DEFAULT_SEED)
        reference = read_reference_data(clickhouse)
        days = [FIRST + timedelta(days=i) for i in range(args.days)]
        load_seconds = []
        for day in days:
            started = time.perf_counter()
            load_trade_date(clickhouse, day, reference, trades_per_day=args.trades_per_day, seed=DEFAULT_SEED)
            load_seconds.append(round(time.perf_counter() - started, 2))
            clickhouse.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
        rows = clickhouse.query_rows("SELECT count() FROM pivot.trades_1d")[0][0]
        unsettled = {
            "parts": {str(d): n for d, n in parts_by_date(clickhouse).items()},
            "rows": rows,
            "load_seconds": load_seconds,
            "queries": query_seconds(clickhouse, days, args.repeats),
        }
        print(json.dumps({"unsettled": unsettled}), flush=True)
        started = time.perf_counter()
        done = settle(clickhouse, days[-1] + timedelta(days=30), 5, log=lambda line: None)
        settle_seconds = round(time.perf_counter() - started, 2)
        print(
            json.dumps(
                {
                    "settle_seconds": settle_seconds,
                    "per_date": [
                        (str(d.trade_date), d.table, d.parts_before, d.parts_after, round(d.seconds, 2)) for d in done
                    ],
                }
            ),
            flush=True,
        )
        settled = {
            "parts": {str(d): n for d, n in parts_by_date(clickhouse).items()},
            "queries": query_seconds(clickhouse, days, args.repeats),
        }
        print(json.dumps({"settled": settled}), flush=True)
    finally:
        close_all_clients()
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
