"""What the reporting currency costs a day load: the same 1M-trade day loaded by `load_trade_date`
with the USD columns computed (`reporting_currency=True`, what the asset runs: the engine converts
as it writes) and without them (the columns left at their default 0), each run in a fresh process
on a fresh store, the two variants alternating so that drift on a shared machine hits both alike.

    python -m benchmarks.experiments.fx_cost [--trades-per-day N] [--repeats N]

The in-harness figure (`pivot.fx_conversion_cost`) loads both variants in one process, one after
the other, so the second load finds a warmer engine; this experiment removes that order effect.
Prints one JSON line per run and a summary line: median seconds per variant, the added share of
those medians, and the median of the added shares of the back-to-back pairs.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DAY = date(2024, 1, 16)


def one_load(trades_per_day: int, reporting_currency: bool) -> dict:
    from benchmarks.pivot_tasks import store_with_reference_data
    from pipeline.pivot.day_load import load_trade_date, read_reference_data
    from pipeline.resources.clickhouse import close_all_clients
    from pipeline.settings import DEFAULT_SEED

    store = Path(tempfile.mkdtemp(prefix="pivot-fx-cost-", dir="/tmp"))
    try:
        clickhouse, _, _ = store_with_reference_data(store, DEFAULT_SEED)
        reference = read_reference_data(clickhouse)
        started = time.perf_counter()
        load = load_trade_date(
            clickhouse,
            DAY,
            reference,
            trades_per_day=trades_per_day,
            seed=DEFAULT_SEED,
            reporting_currency=reporting_currency,
        )
        return {"usd": reporting_currency, "seconds": round(time.perf_counter() - started, 3), "rows": load.rows}
    finally:
        close_all_clients()
        shutil.rmtree(store, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.fx_cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--trades-per-day", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=["usd", "local"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_load(args.trades_per_day, args.child == "usd")), flush=True)
        return
    seconds: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.repeats):
        for variant in ("local", "usd"):
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.experiments.fx_cost",
                    "--trades-per-day",
                    str(args.trades_per_day),
                    "--child",
                    variant,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            run = json.loads(completed.stdout.strip().splitlines()[-1])
            print(json.dumps(run), flush=True)
            seconds[run["usd"]].append(run["seconds"])
    with_usd, without = statistics.median(seconds[True]), statistics.median(seconds[False])
    # Each repeat's pair ran back to back: the median of the pairs' shares is immune to the drift
    # of a shared machine over the minutes of the whole run, which the medians of each variant are not.
    paired = [usd / local - 1 for usd, local in zip(seconds[True], seconds[False], strict=True)]
    print(
        json.dumps(
            {
                "median_seconds_with_usd": with_usd,
                "median_seconds_without_usd": without,
                "added_share": round(with_usd / without - 1, 4),
                "added_share_paired_median": round(statistics.median(paired), 4),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
