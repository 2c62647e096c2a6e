"""What merging a loaded day costs and buys: the spec queries on the day as loaded (no background
merges), then `OPTIMIZE … FINAL` timed, then the same queries on the one merged part.

    python -m benchmarks.experiments.merged_day [--trades-per-day N]
"""

import argparse
import json
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.queries import ROLLUP_FROM_FACT, SPEC_QUERIES, for_date
from pipeline.resources.clickhouse import ClickHouseResource, close_all_clients
from pipeline.settings import DEFAULT_SEED

DAY = date(2024, 1, 15)


def query_seconds(clickhouse: ClickHouseResource, repeats: int = 5) -> dict:
    client = clickhouse.get_client()
    queries = {
        **{name: for_date(sql, DAY) for name, sql in SPEC_QUERIES.items()},
        "rollup_raw_group_by": ROLLUP_FROM_FACT,
    }
    out = {}
    for name, sql in queries.items():
        runs = []
        for _ in range(repeats):
            started = time.perf_counter()
            client.query_arrow(sql)
            runs.append(time.perf_counter() - started)
        out[name] = round(statistics.median(runs), 3)
    return out


def parts(clickhouse: ClickHouseResource) -> int:
    return clickhouse.query_rows(
        "SELECT count() FROM system.parts WHERE database = 'pivot' AND table = 'trades_1d' AND active"
    )[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.merged_day", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--trades-per-day", type=int, default=1_000_000)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="pivot-merged-day-", dir="/tmp"))
    try:
        clickhouse = ClickHouseResource(url=f"chdb://{store}")
        clickhouse.apply_ddl()
        clickhouse.replace_table("instruments", build_instruments(DEFAULT_SEED))
        clickhouse.replace_table("constituents", build_constituents(DEFAULT_SEED))
        started = time.perf_counter()
        load_trade_date(
            clickhouse, DAY, read_reference_data(clickhouse), trades_per_day=args.trades_per_day, seed=DEFAULT_SEED
        )
        load_seconds = time.perf_counter() - started
        print(
            json.dumps(
                {
                    "as_loaded": {
                        "parts": parts(clickhouse),
                        "load_seconds": round(load_seconds, 2),
                        "queries": query_seconds(clickhouse),
                    }
                }
            ),
            flush=True,
        )
        started = time.perf_counter()
        clickhouse.command(f"OPTIMIZE TABLE pivot.trades_1d PARTITION '{DAY.isoformat()}' FINAL")
        print(json.dumps({"optimize_final_seconds": round(time.perf_counter() - started, 2)}), flush=True)
        print(json.dumps({"merged": {"parts": parts(clickhouse), "queries": query_seconds(clickhouse)}}), flush=True)
    finally:
        close_all_clients()
        shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
