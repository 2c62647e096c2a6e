"""How a day's chunks should enter ClickHouse: one streamed INSERT or one INSERT per chunk, with
background merges on or off. One 1M-trade day (19.8M rows) per variant, each in a fresh store.

    python -m benchmarks.experiments.insert_paths [--trades-per-day N] [--chunk-rows N] [--per-chunk-rows N]

The per-chunk variant is the pipeline before the streamed load: an INSERT per 500k-row chunk.

Prints one JSON line per variant: seconds, rows/s, peak RSS (10 ms samples) and the parts left.
"""

import argparse
import json
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psutil

from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.explosion import streamed_day
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.prefetch import Prefetched
from pipeline.pivot.trade_generation import generate_trade_chunks
from pipeline.resources.clickhouse import ClickHouseResource, close_all_clients
from pipeline.settings import DEFAULT_SEED

DAY = date(2024, 1, 15)
VARIANTS = [("stream", "merges_off"), ("stream", "merges_on"), ("per_chunk", "merges_off"), ("per_chunk", "merges_on")]


def run(path: str, merges: str, trades_per_day: int, chunk_rows: int) -> dict:
    """One variant in a fresh store: the day generated, exploded and inserted into pivot.trades_1d."""
    store = Path(tempfile.mkdtemp(prefix="pivot-insert-paths-", dir="/tmp"))
    try:
        clickhouse = ClickHouseResource(url=f"chdb://{store}")
        clickhouse.apply_ddl()
        if merges == "merges_on":
            clickhouse.command(
                "ALTER TABLE pivot.trades_1d MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 161061273600"
            )
        instruments, constituents = build_instruments(DEFAULT_SEED), build_constituents(DEFAULT_SEED)
        peak, stop = [0], threading.Event()

        def sample():
            process = psutil.Process()
            while not stop.wait(0.01):
                peak[0] = max(peak[0], process.memory_info().rss)

        threading.Thread(target=sample, daemon=True).start()
        started = time.perf_counter()
        chunks = Prefetched(
            streamed_day(
                generate_trade_chunks(DAY, trades_per_day, instruments, DEFAULT_SEED),
                constituents,
                instruments,
                DAY,
                chunk_rows=chunk_rows,
            )
        )
        if path == "stream":
            rows = clickhouse.insert_stream("trades_1d", chunks)
        else:
            rows = sum(clickhouse.insert_stream("trades_1d", [chunk]) for chunk in chunks)
        seconds = time.perf_counter() - started
        stop.set()
        parts = clickhouse.query_rows(
            "SELECT count() FROM system.parts WHERE database = 'pivot' AND table = 'trades_1d' AND active"
        )[0][0]
        return {
            "path": path,
            "merges": merges,
            "rows": rows,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "peak_rss_mb": peak[0] >> 20,
            "parts": parts,
        }
    finally:
        close_all_clients()
        shutil.rmtree(store, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.experiments.insert_paths", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--trades-per-day", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=100_000, help="chunk size of the streamed variant")
    parser.add_argument("--per-chunk-rows", type=int, default=500_000, help="rows per INSERT of the per-chunk variant")
    args = parser.parse_args()
    for path, merges in VARIANTS:
        chunk_rows = args.chunk_rows if path == "stream" else args.per_chunk_rows
        print(json.dumps(run(path, merges, args.trades_per_day, chunk_rows)), flush=True)


if __name__ == "__main__":
    main()
