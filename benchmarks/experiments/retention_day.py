"""What retention costs: trade dates loaded as the pipeline loads them, then `pipeline.pivot.retention.retain`
(the `pivot_retention` job's work: export to Parquet, read back, drop) timed per date, the file's size
against the date's bytes in the store, then one date brought back (`restore_from_archive`, the
`--from-archive` CLI's work: check, stage, verify, swap, rollup rebuilt) timed. Fresh store and archive
folder under /tmp, removed afterwards.

    python -m benchmarks.experiments.retention_day [--trades-per-day N] [--days D]
"""

import argparse
import json
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.pivot_tasks import store_with_reference_data
from pipeline.pivot.day_load import load_trade_date, read_reference_data
from pipeline.pivot.queries import ROLLUP_REBUILD
from pipeline.pivot.retention import restore_from_archive, retain
from pipeline.resources.clickhouse import close_all_clients
from pipeline.settings import DEFAULT_SEED

FIRST = date(2024, 1, 16)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.retention_day")
    parser.add_argument("--trades-per-day", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=2)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pivot-retention-", dir="/tmp"))
    try:
        clickhouse, _, _ = store_with_reference_data(root / "clickhouse", DEFAULT_SEED)
        reference = read_reference_data(clickhouse)
        days = [FIRST + timedelta(days=i) for i in range(args.days)]
        for day in days:
            load_trade_date(clickhouse, day, reference, trades_per_day=args.trades_per_day, seed=DEFAULT_SEED)
            clickhouse.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
        store_bytes = dict(
            clickhouse.query_rows(
                "SELECT partition, sum(bytes_on_disk) FROM system.parts WHERE database = 'pivot' "
                "AND table = 'trades_1d' AND active GROUP BY partition"
            )
        )
        archive = root / "archive"
        run = retain(clickhouse, days[-1] + timedelta(days=30), 5, archive, log=lambda line: None)
        print(
            json.dumps(
                {
                    "trades_per_day": args.trades_per_day,
                    "archived": [
                        {
                            "trade_date": str(d.trade_date),
                            "rows": d.rows,
                            "seconds": round(d.seconds, 2),
                            "file_bytes": d.bytes,
                            "store_bytes": int(store_bytes[str(d.trade_date)]),
                        }
                        for d in run.retained
                    ],
                }
            ),
            flush=True,
        )

        def rebuild(d: date) -> int:
            return clickhouse.rebuild_partition("trades_1d_rollup", d, ROLLUP_REBUILD, {"day": d})

        started = time.perf_counter()
        live = restore_from_archive(clickhouse, days[0], archive, kept=3, rebuild_rollup=rebuild)
        seconds = round(time.perf_counter() - started, 2)
        print(json.dumps({"brought_back": str(days[0]), "rows": live.rows, "seconds": seconds}), flush=True)
    finally:
        close_all_clients()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
