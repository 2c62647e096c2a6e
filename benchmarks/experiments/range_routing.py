"""What routing a date range to the rollup buys: trading days loaded as the pipeline loads them (fact, then
the rollup rebuilt per date), then every range query of `pipeline.pivot.queries` over the whole range, as
routed (`pipeline.pivot.ranges.answer`, the rollup's lag check included) and forced onto the fact, runs
alternating; the two answers' row counts compared; and the rows `EXPLAIN ESTIMATE` expects each form
to read (the routing's cost rule).

    python -m benchmarks.experiments.range_routing [--trades-per-day N] [--days D] [--repeats R]
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
from pipeline.pivot.queries import RANGE_QUERY_NAMES, ROLLUP_REBUILD, range_query
from pipeline.pivot.ranges import answer, estimated_rows, rollup_lag
from pipeline.resources.clickhouse import close_all_clients
from pipeline.settings import DEFAULT_SEED

FIRST = date(2024, 1, 2)


def trading_days(count: int) -> list[date]:
    days, day = [], FIRST
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.range_routing")
    parser.add_argument("--trades-per-day", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="pivot-ranges-", dir="/tmp"))
    try:
        clickhouse, _, _ = store_with_reference_data(store, DEFAULT_SEED)
        reference = read_reference_data(clickhouse)
        days = trading_days(args.days)
        started = time.perf_counter()
        for day in days:
            load_trade_date(clickhouse, day, reference, trades_per_day=args.trades_per_day, seed=DEFAULT_SEED)
            clickhouse.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
        fact_rows = clickhouse.query_rows("SELECT count() FROM pivot.trades_1d")[0][0]
        rollup_rows = clickhouse.query_rows("SELECT count() FROM pivot.trades_1d_rollup")[0][0]
        print(
            json.dumps(
                {
                    "days": [str(days[0]), str(days[-1]), len(days)],
                    "load_seconds": round(time.perf_counter() - started, 1),
                    "fact_rows": fact_rows,
                    "rollup_rows": rollup_rows,
                }
            ),
            flush=True,
        )
        start, end = days[0], days[-1]
        lag = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            rollup_lag(clickhouse, start, end)
            lag.append(time.perf_counter() - began)
        print(json.dumps({"lag_check_ms": round(statistics.median(lag) * 1000, 1)}), flush=True)
        for name in RANGE_QUERY_NAMES:
            runs = {"routed": [], "fact": []}
            for _ in range(args.repeats):
                for route in runs:  # alternating, so the machine's swings fall on both
                    began = time.perf_counter()
                    query, frame = answer(clickhouse, name, start, end, fact_only=route == "fact")
                    runs[route].append(time.perf_counter() - began)
                    if route == "routed":
                        table, rows = query.table, frame.height
                    else:
                        assert frame.height == rows, (name, frame.height, rows)
            medians = {route: round(statistics.median(seconds) * 1000, 1) for route, seconds in runs.items()}
            estimates = {
                "rollup_form": estimated_rows(clickhouse, range_query(name, start, end)),
                "fact_form": estimated_rows(clickhouse, range_query(name, start, end, fact_only=True)),
            }
            print(json.dumps({"query": name, "served_from": table, "rows": rows, "median_ms": medians,
                              "estimated_rows": estimates}), flush=True)
    finally:
        close_all_clients()
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
