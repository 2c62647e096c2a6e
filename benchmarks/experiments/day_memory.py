"""Where the memory of a day load goes: one synthetic day loaded as `pivot/trades_1d` loads it, in a fresh
store, with the process's RSS split by phase and against the engine's own accounting (issue 18, item 6).

    python -m benchmarks.experiments.day_memory [--trades-per-day N] [--chunk-rows N] [--mode M]

Modes (each a fresh process: run them one after the other):
- `load` (default): the day through `load_trade_date`, then the rollup rebuild;
- `producer`: the chunks generated and exploded (through the prefetch thread) and dropped, no engine;
- `limit`: the day's chunks held in Arrow, then one INSERT of them (the harness's `limit` task).

Prints one JSON object: RSS (anonymous and file-backed, from /proc/self/status, sampled every 10 ms)
at start, after the imports, after the store is open, before and at the peak of each phase, VmHWM; and
the engine's own accounting, polled on a second chDB handle (chDB keeps no system.query_log and no
system.asynchronous_metrics): the peak of MemoryTracking and of each running statement's
`peak_memory_usage` (system.processes); at the end the RSS before and after `SYSTEM JEMALLOC PURGE`.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from contextlib import contextmanager
from datetime import date

MB = 1024 * 1024
_STATUS = re.compile(r"^(VmRSS|RssAnon|RssFile|VmHWM):\s+(\d+) kB", re.M)


def status_mb() -> dict[str, float]:
    with open("/proc/self/status") as f:
        return {k: round(int(v) / 1024, 1) for k, v in _STATUS.findall(f.read())}


class Sampler:
    def __init__(self):
        self.peak: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.01):
            self.sample()

    def sample(self):
        now = status_mb()
        if now["VmRSS"] > self.peak.get("VmRSS", 0):
            self.peak = now
        return now

    @contextmanager
    def phase(self, out: dict, name: str):
        before = self.sample()
        self.peak = dict(before)
        started = time.perf_counter()
        yield
        self.sample()
        out[name] = {"seconds": round(time.perf_counter() - started, 2), "before": before, "peak": self.peak}

    def close(self):
        self._stop.set()
        self._thread.join()


class EngineSampler:
    """The engine's own accounting, polled every 50 ms on a second chDB handle (chDB has no system.query_log
    and no system.asynchronous_metrics): MemoryTracking (everything the engine's allocator tracks) and the
    running INSERT's `peak_memory_usage` in system.processes."""

    def __init__(self, url: str):
        import clickhouse_connect

        self._client = clickhouse_connect.get_client(dsn=url)
        self.peak_tracking = 0
        self.peak_query: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.05):
            try:
                tracking = self._client.query(
                    "SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'"
                ).result_rows[0][0]
                self.peak_tracking = max(self.peak_tracking, tracking)
                for kind, peak in self._client.query(
                    "SELECT substring(query, 1, 40), peak_memory_usage FROM system.processes "
                    "WHERE query NOT LIKE '%system.processes%'"
                ).result_rows:
                    self.peak_query[kind] = max(self.peak_query.get(kind, 0), peak)
            except Exception:  # noqa: BLE001 - a poll between two statements may fail; the next one counts
                continue

    def reset(self):
        self.peak_tracking, self.peak_query = 0, {}

    def report(self) -> dict:
        return {
            "peak_memory_tracking_mb": round(self.peak_tracking / MB, 1),
            "peak_per_query_mb": {k: round(v / MB, 1) for k, v in self.peak_query.items() if v > 10 * MB},
        }

    def close(self):
        self._stop.set()
        self._thread.join()
        self._client.close()


def engine_memory(clickhouse) -> dict:
    tracking = clickhouse.query_rows("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'")
    return {"memory_tracking_mb": round(tracking[0][0] / MB, 1) if tracking else None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.experiments.day_memory", description=__doc__)
    parser.add_argument("--trades-per-day", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=None)
    parser.add_argument("--mode", choices=["load", "producer", "limit"], default="load")
    parser.add_argument("--date", default="2024-01-16")
    parser.add_argument("--seed", type=int, default=20240101)
    args = parser.parse_args(argv)
    out: dict = {"mode": args.mode, "start": status_mb()}
    sampler = Sampler()
    import polars as pl  # noqa: F401
    import pyarrow  # noqa: F401

    from benchmarks.measuring import temporary_directory
    from benchmarks.pivot_tasks import store_with_reference_data
    from pipeline.pivot.explosion import DEFAULT_CHUNK_ROWS, streamed_day
    from pipeline.pivot.prefetch import Prefetched
    from pipeline.pivot.trade_generation import generate_trade_chunks

    out["imported"] = status_mb()
    day, n, seed = date.fromisoformat(args.date), args.trades_per_day, args.seed
    chunk_rows = args.chunk_rows or DEFAULT_CHUNK_ROWS
    with temporary_directory("day-memory") as store:
        clickhouse, instruments, constituents = store_with_reference_data(store, seed)
        out["store_open"] = status_mb()
        engine = EngineSampler(f"chdb://{store}")
        if args.mode == "producer":
            with sampler.phase(out, "produce"):
                rows = 0
                for chunk in Prefetched(
                    streamed_day(
                        generate_trade_chunks(day, n, instruments, seed),
                        constituents,
                        instruments,
                        day,
                        chunk_rows=chunk_rows,
                    )
                ):
                    rows += chunk.height
                    clickhouse.to_arrow(chunk)
                del chunk
            out["rows"] = rows
        elif args.mode == "limit":
            import pyarrow as pa

            from benchmarks.pivot_tasks import _converting_table
            from pipeline.pivot.trade_generation import generate_trades
            from pipeline.resources.clickhouse import INSERT_SETTINGS

            with sampler.phase(out, "build_arrow"):
                trades = generate_trades(day, n, instruments, seed)
                arrow_table = pa.concat_tables(
                    [
                        clickhouse.to_arrow(c)
                        for c in streamed_day([trades], constituents, instruments, day, chunk_rows=chunk_rows)
                    ]
                )
                del trades
            _converting_table(clickhouse, "trades_1d_limit", day, seed)
            columns = ", ".join(arrow_table.column_names)
            out["arrow_mb"] = round(arrow_table.nbytes / MB, 1)
            engine.reset()
            with sampler.phase(out, "insert"):
                clickhouse.command(
                    f"INSERT INTO pivot.trades_1d_limit ({columns}) SELECT {columns} FROM Python(arrow_table)",
                    settings=INSERT_SETTINGS,
                )
            out["insert"]["engine"] = engine.report()
        else:
            from pipeline.pivot.day_load import load_trade_date, read_reference_data
            from pipeline.pivot.queries import ROLLUP_REBUILD

            reference = read_reference_data(clickhouse)
            engine.reset()
            with sampler.phase(out, "load"):
                loaded = load_trade_date(clickhouse, day, reference, trades_per_day=n, seed=seed, chunk_rows=chunk_rows)
            out["load"]["engine"] = engine.report()
            out["rows"] = loaded.rows
            engine.reset()
            with sampler.phase(out, "rollup"):
                clickhouse.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
            out["rollup"]["engine"] = engine.report()
        engine.close()
        out["engine_after"] = engine_memory(clickhouse)
        out["end"] = status_mb()
        clickhouse.command("SYSTEM JEMALLOC PURGE")
        out["after_purge"] = status_mb()
    sampler.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
