"""What the engine's INSERT of a day costs in memory and time under different insert settings (issue 18, item 6).

    python -m benchmarks.experiments.insert_memory [--trades-per-day N] [--rounds R] [--variants a,b,...]

The day is built once, in Arrow, in this process (as the harness's `limit` task does), then streamed into a fresh
table shaped like the staging table (USD computed on insert) by one INSERT per variant, as
`ClickHouseResource.insert_stream` streams it; variants alternate over `--rounds`. Per INSERT: seconds, the
engine's peak MemoryTracking (polled every 20 ms on a second chDB handle), the process's peak RSS above
its RSS before the INSERT (10 ms samples; the allocator purged before each), and the parts written.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from datetime import date

MB = 1024 * 1024
VARIANTS = {
    "now": {},
    "block64": {"min_insert_block_size_bytes": 64 * MB},
    "block48": {"min_insert_block_size_bytes": 48 * MB},
    "compress256k": {"max_compress_block_size": 256 * 1024},
    "threads1": {"max_threads": 1},
    "insert_threads1": {"max_insert_threads": 1},
    "block_size16k": {"max_block_size": 16384},
    "null": {"engine": "Null"},
    "table_compress256k": {"table:max_compress_block_size": 262144, "table:min_compress_block_size": 65536},
    "rows128k": {"min_insert_block_size_rows": 131072},
}


def main(argv: list[str] | None = None) -> None:
    import clickhouse_connect
    import psutil
    import pyarrow as pa

    from benchmarks.measuring import temporary_directory
    from benchmarks.pivot_tasks import _converting_table, store_with_reference_data
    from pipeline.pivot.explosion import DEFAULT_CHUNK_ROWS, streamed_day
    from pipeline.pivot.trade_generation import generate_trade_chunks
    from pipeline.resources.clickhouse import INSERT_SETTINGS

    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.insert_memory", description=__doc__)
    parser.add_argument("--trades-per-day", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--extra", default="{}", help="JSON: more variants, name -> settings")
    args = parser.parse_args(argv)
    variants = {**VARIANTS, **json.loads(args.extra)}
    names = [v for v in args.variants.split(",") if v]
    day, seed = date(2024, 1, 16), 20240101
    with temporary_directory("insert-memory") as store:
        clickhouse, instruments, constituents = store_with_reference_data(store, seed)
        batches = [
            b
            for chunk in streamed_day(
                generate_trade_chunks(day, args.trades_per_day, instruments, seed),
                constituents,
                instruments,
                day,
                chunk_rows=DEFAULT_CHUNK_ROWS,
            )
            for b in clickhouse.to_arrow(chunk).to_batches()
        ]
        schema = batches[0].schema
        batches = [b if b.schema == schema else b.cast(schema) for b in batches]
        columns = ", ".join(schema.names)
        probe = clickhouse_connect.get_client(dsn=f"chdb://{store}")
        process = psutil.Process()
        results: dict[str, list[dict]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            for name in names:
                table = f"t_{name}_{round_}"
                _converting_table(clickhouse, table, day, seed)
                settings = dict(variants[name])
                table_settings = {k[6:]: settings.pop(k) for k in list(settings) if k.startswith("table:")}
                if table_settings:
                    changes = ", ".join(f"{k} = {v}" for k, v in table_settings.items())
                    clickhouse.command(f"ALTER TABLE pivot.{table} MODIFY SETTING {changes}")
                if settings.pop("engine", None) == "Null":
                    clickhouse.command(f"DROP TABLE pivot.{table}")
                    clickhouse.command(f"CREATE TABLE pivot.{table} AS pivot.trades_1d ENGINE = Null")
                clickhouse.command("SYSTEM JEMALLOC PURGE")
                time.sleep(0.2)
                before = process.memory_info().rss
                peaks = {"tracking": 0, "rss": before}
                stop = threading.Event()

                def poll(peaks=peaks, stop=stop):
                    while not stop.wait(0.02):
                        peaks["rss"] = max(peaks["rss"], process.memory_info().rss)
                        try:
                            value = probe.query(
                                "SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'"
                            ).result_rows[0][0]
                        except Exception:  # noqa: BLE001
                            continue
                        peaks["tracking"] = max(peaks["tracking"], value)

                poller = threading.Thread(target=poll, daemon=True)
                poller.start()
                arrow_stream = pa.RecordBatchReader.from_batches(schema, iter(batches))  # noqa: F841
                started = time.perf_counter()
                clickhouse.command(
                    f"INSERT INTO pivot.{table} ({columns}) SELECT {columns} FROM Python(arrow_stream)",
                    settings={**INSERT_SETTINGS, **settings},
                )
                seconds = time.perf_counter() - started
                stop.set()
                poller.join()
                parts = (
                    0
                    if "Null" in str(variants[name])
                    else clickhouse.query_rows(
                        "SELECT count() FROM system.parts WHERE database = 'pivot' AND table = {t:String} AND active",
                        {"t": table},
                    )[0][0]
                )
                results[name].append(
                    {
                        "seconds": round(seconds, 2),
                        "engine_peak_mb": round(peaks["tracking"] / MB),
                        "rss_above_before_mb": round((peaks["rss"] - before) / MB),
                        "parts": parts,
                    }
                )
                print(json.dumps({"variant": name, "round": round_, **results[name][-1]}), flush=True)
                clickhouse.command(f"DROP TABLE pivot.{table} SYNC")
        for name, runs in results.items():
            print(
                json.dumps(
                    {
                        "variant": name,
                        "settings": variants[name],
                        "seconds_median": statistics.median(r["seconds"] for r in runs),
                        "engine_peak_mb_median": statistics.median(r["engine_peak_mb"] for r in runs),
                        "rss_above_before_mb_median": statistics.median(r["rss_above_before_mb"] for r in runs),
                        "parts": runs[-1]["parts"],
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
