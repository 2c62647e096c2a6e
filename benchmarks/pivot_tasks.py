"""The worker tasks on the pivot warehouse (chDB): `pivot` (each step, the partition, the queries),
`landed` (a day generated vs read from Parquet), `limit` (the engine alone), `naive` (row-wise) and
`memory` (one partition's peak RSS). Each opens its own store via benchmarks.measuring."""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psutil

from benchmarks.measuring import MB, RssSampler, peak_rss_mb, temporary_directory

# -- shared by the tasks ----------------------------------------------------------------------


def _reference_data(seed: int):
    from pipeline.pivot.constituents import build_constituents
    from pipeline.pivot.instruments import build_instruments

    return build_instruments(seed), build_constituents(seed)


def _day_args(args: dict) -> tuple[date, int, int, int]:
    """A task's day, trades per day, seed and chunk rows, from its JSON arguments."""
    return date.fromisoformat(args["date"]), args["trades_per_day"], args["seed"], args["chunk_rows"]


def store_with_reference_data(store: Path, seed: int):
    from pipeline.resources.clickhouse import ClickHouseResource

    clickhouse = ClickHouseResource(url=f"chdb://{store}")
    clickhouse.apply_ddl()
    instruments, constituents = _reference_data(seed)
    clickhouse.replace_table("instruments", instruments)
    clickhouse.replace_table("constituents", constituents)
    clickhouse.replace_table("fx_rates", _fx_rates(seed))
    return clickhouse, instruments, constituents


def _fx_rates(seed: int):
    from pipeline.pivot.fx import synthetic_rates
    from pipeline.pivot.instruments import SYNTHETIC_HORIZON_END

    return synthetic_rates(seed, date(2023, 1, 1), SYNTHETIC_HORIZON_END)


def _day_chunks(trades, constituents, instruments, day, chunk_rows):
    """The day's exposure rows exactly as the pipeline hands them to the engine: exploded (the engine
    adds the USD columns as it writes them: `_converting_table`)."""
    from pipeline.pivot.explosion import trades_with_look_through

    yield from trades_with_look_through(trades, constituents, instruments, day, chunk_rows=chunk_rows)


def _converting_table(clickhouse, table: str, day: date, seed: int) -> None:
    """`pivot.<table>` shaped like trades_1d, converting to USD on insert as the pipeline's staging does."""
    from pipeline.pivot.fx import DayRates, synthetic_rates

    clickhouse.command(f"CREATE TABLE pivot.{table} AS pivot.trades_1d")
    clickhouse.compute_on_insert(table, DayRates.of(synthetic_rates(seed, day, day), day).usd_expressions())


def _partition(clickhouse, day: date, trades_per_day: int, seed: int, chunk_rows: int, sampler=None) -> dict:
    """What Dagster runs for one partition (pivot/trades_1d, then pivot/trades_1d_rollup), timed."""
    from pipeline.pivot.day_load import load_trade_date, read_reference_data
    from pipeline.pivot.queries import ROLLUP_REBUILD

    out: dict = {"load": {}, "rollup": {}}
    started = time.perf_counter()
    with sampler.window(out["load"]) if sampler else _no_window():
        loaded = load_trade_date(
            clickhouse,
            day,
            read_reference_data(clickhouse),
            trades_per_day=trades_per_day,
            seed=seed,
            chunk_rows=chunk_rows,
        )
    with sampler.window(out["rollup"]) if sampler else _no_window():
        rollup_started = time.perf_counter()
        rollup_rows = clickhouse.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD, {"day": day})
        out["rollup"]["seconds"] = time.perf_counter() - rollup_started
    out["seconds"] = time.perf_counter() - started
    out["rows"] = loaded.rows
    out["base_rows"] = loaded.parent_rows
    out["rollup_rows"] = rollup_rows
    out["seconds_generate"] = loaded.seconds_generate
    out["seconds_explode_producer"] = loaded.seconds_explode
    out["seconds_load"] = loaded.seconds_load
    out["seconds_rollup"] = out["rollup"]["seconds"]
    return out


@contextmanager
def _no_window():
    yield


def _time_query(client, sql: str, repeats: int) -> dict:
    seconds, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        rows = client.query_arrow(sql).num_rows
        seconds.append(time.perf_counter() - started)
    return {"seconds": seconds, "result_rows": rows}


# -- tasks ----------------------------------------------------------------------------------


def task_pivot(args: dict) -> dict:
    """Each pipeline step on its own, then the partition as Dagster's assets run it, then the queries."""
    from pipeline.pivot.queries import ROLLUP, ROLLUP_FROM_FACT, SPEC_QUERIES, for_date
    from pipeline.pivot.trade_generation import generate_trades

    day, n, seed, chunk_rows = _day_args(args)
    sampler = RssSampler()
    result: dict = {"steps": {}}
    with temporary_directory("pivot") as store:
        clickhouse, instruments, constituents = store_with_reference_data(store, seed)
        result["baseline_rss_mb"] = round(psutil.Process().memory_info().rss / MB, 1)

        generate: dict = {}
        with sampler.window(generate):
            trades = generate_trades(day, n, instruments, seed)
        generate["rows"] = trades.height
        result["steps"]["generate"] = generate

        explode: dict = {"rows": 0}
        with sampler.window(explode):
            for chunk in _day_chunks(trades, constituents, instruments, day, chunk_rows):
                explode["rows"] += chunk.height
        result["steps"]["explode"] = explode
        del trades, chunk
        gc.collect()

        partition = _partition(clickhouse, day, n, seed, chunk_rows, sampler)
        result["steps"]["load_trades_1d"] = {
            **partition["load"],
            "seconds": partition["seconds_load"],
            "rows": partition["rows"],
        }
        result["steps"]["rollup"] = {
            **partition["rollup"],
            "rows": partition["rows"],
            "rollup_rows": partition["rollup_rows"],
        }
        result["partition"] = {k: v for k, v in partition.items() if k not in ("load", "rollup")}
        result["partition"]["peak_rss_mb"] = max(partition["load"]["peak_rss_mb"], partition["rollup"]["peak_rss_mb"])
        result["rows_in_table"] = clickhouse.query_rows(
            "SELECT count() FROM pivot.trades_1d WHERE trade_date = {d:Date}", {"d": day}
        )[0][0]

        client = clickhouse.get_client()
        repeats = args["query_repeats"]
        result["queries"] = {
            name: _time_query(client, for_date(sql, day), repeats) for name, sql in SPEC_QUERIES.items()
        }
        result["queries"]["rollup"] = _time_query(client, ROLLUP, repeats)
        result["queries"]["rollup_raw_group_by"] = _time_query(client, ROLLUP_FROM_FACT, repeats)
    sampler.close()
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def task_fx_day(args: dict) -> dict:
    """The day load on a fresh store, with the USD columns (`usd`, what the asset runs) or without
    them (left at their default 0): one side of the reporting currency's cost."""
    from pipeline.pivot.day_load import load_trade_date, read_reference_data

    day, n, seed, chunk_rows = _day_args(args)
    with temporary_directory("fx") as store:
        clickhouse, _, _ = store_with_reference_data(store, seed)
        reference = read_reference_data(clickhouse)
        started = time.perf_counter()
        load = load_trade_date(
            clickhouse,
            day,
            reference,
            trades_per_day=n,
            seed=seed,
            chunk_rows=chunk_rows,
            reporting_currency=args["usd"],
        )
        return {"usd": args["usd"], "seconds": time.perf_counter() - started, "rows": load.rows}


def task_limit(args: dict) -> dict:
    """The engine alone: the same rows, already in Arrow, ingested by one INSERT … SELECT FROM Python()."""
    import pyarrow as pa

    from pipeline.pivot.trade_generation import generate_trades
    from pipeline.resources.clickhouse import INSERT_SETTINGS

    day, n, seed, chunk_rows = _day_args(args)
    with temporary_directory("limit") as store:
        clickhouse, instruments, constituents = store_with_reference_data(store, seed)
        trades = generate_trades(day, n, instruments, seed)
        # Zero-copy concatenation: one table whose record batches are the pipeline's chunks,
        # in the Arrow layout the pipeline hands the engine.
        arrow_table = pa.concat_tables(  # noqa: F841 - read by name inside the SQL below
            [
                clickhouse.to_arrow(chunk)
                for chunk in _day_chunks(trades, constituents, instruments, day, chunk_rows)
            ]
        )
        del trades
        gc.collect()
        _converting_table(clickhouse, "trades_1d_limit", day, seed)
        columns = ", ".join(arrow_table.column_names)
        started = time.perf_counter()
        clickhouse.command(
            f"INSERT INTO pivot.trades_1d_limit ({columns}) SELECT {columns} FROM Python(arrow_table)",
            settings=INSERT_SETTINGS,
        )
        seconds = time.perf_counter() - started
        rows = clickhouse.query_rows("SELECT count() FROM pivot.trades_1d_limit")[0][0]
        return {
            "seconds": seconds,
            "rows": rows,
            "arrow_mb": round(arrow_table.nbytes / MB, 1),
            "peak_rss_mb": peak_rss_mb(),
        }


def task_naive(args: dict) -> dict:
    """Row-wise, the way the official dagster-clickhouse-polars IO manager writes: to_dicts() -> client.insert."""
    import polars as pl

    from pipeline.pivot.trade_generation import generate_trades
    from pipeline.resources.clickhouse import INSERT_SETTINGS

    day, n, seed, sample = date.fromisoformat(args["date"]), args["trades_per_day"], args["seed"], args["sample_rows"]
    with temporary_directory("naive") as store:
        clickhouse, instruments, constituents = store_with_reference_data(store, seed)
        trades = generate_trades(day, n, instruments, seed)
        chunks = _day_chunks(trades, constituents, instruments, day, max(sample, 10_000))
        base = next(chunks)
        exploded = next(chunks, base.clear())
        # The day's mix: base rows and look-through rows in the same proportion as a whole day.
        share = base.height / max(1, base.height + exploded.height * 20)
        frame = pl.concat([base.head(max(1, int(sample * share))), exploded.head(sample)]).head(sample)
        _converting_table(clickhouse, "trades_1d_naive", day, seed)
        client = clickhouse.get_client()
        started = time.perf_counter()
        rows = [list(row.values()) for row in frame.to_dicts()]
        client.insert("trades_1d_naive", rows, column_names=frame.columns, database="pivot", settings=INSERT_SETTINGS)
        seconds = time.perf_counter() - started
        loaded = clickhouse.query_rows("SELECT count() FROM pivot.trades_1d_naive")[0][0]
        return {"seconds": seconds, "rows": loaded, "peak_rss_mb": peak_rss_mb()}


def task_memory(args: dict) -> dict:
    """One partition exactly as the assets run it; the kernel's peak RSS of the process."""
    day, n, seed, chunk_rows = _day_args(args)
    with temporary_directory("memory") as store:
        clickhouse, _, _ = store_with_reference_data(store, seed)
        baseline = psutil.Process().memory_info().rss / MB
        partition = _partition(clickhouse, day, n, seed, chunk_rows)
    return {
        "seconds": partition["seconds"],
        "rows": partition["rows"],
        "base_rows": partition["base_rows"],
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": peak_rss_mb(),
        "seconds_generate": partition["seconds_generate"],
        "seconds_load": partition["seconds_load"],
        "seconds_rollup": partition["seconds_rollup"],
    }


# -- landed -----------------------------------------------------------------------------------


def _write_landed_day(path: Path, day: date, n: int, seed: int, instruments) -> int:
    """The synthetic day's base trades (what a desk lands: no instrument-determined column) written
    to one Parquet file chunk by chunk, so writing it costs this process no day-sized frame."""
    import pyarrow.parquet as pq

    from pipeline.pivot.landed.trade_files import BASE_TRADE_COLUMNS
    from pipeline.pivot.trade_generation import generate_trade_chunks

    rows, writer = 0, None
    try:
        for chunk in generate_trade_chunks(day, n, instruments, seed):
            table = chunk.select(BASE_TRADE_COLUMNS).to_arrow()
            writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
            rows += chunk.height
    finally:
        if writer is not None:
            writer.close()
    return rows


def task_landed(args: dict) -> dict:
    """One day loaded as the trades_1d asset loads it, from one source per process (a fresh process
    each, so peak RSS compares): `synthetic` generates the day; `landed` reads the same base trades
    from a Parquet file written beforehand (landed_days checks the file, then it streams)."""
    from pipeline.pivot.day_load import landed_days, load_landed_trade_date, load_trade_date, read_reference_data

    day, n, seed, chunk_rows = _day_args(args)
    mode = args["mode"]
    sampler = RssSampler()
    out: dict = {"mode": mode}
    with temporary_directory("landed") as tmp:
        clickhouse, instruments, _ = store_with_reference_data(tmp / "store", seed)
        trades_dir = tmp / "trades"
        trades_dir.mkdir()
        if mode == "landed":
            out["file_rows"] = _write_landed_day(trades_dir / f"trades_{day}.parquet", day, n, seed, instruments)
            out["file_mb"] = round((trades_dir / f"trades_{day}.parquet").stat().st_size / MB, 1)
        gc.collect()
        reference = read_reference_data(clickhouse)
        out["baseline_rss_mb"] = round(psutil.Process().memory_info().rss / MB, 1)
        window: dict = {}
        with sampler.window(window):
            if mode == "landed":
                checked = time.perf_counter()
                landed = landed_days(trades_dir, [day], reference.instruments)[day]
                out["seconds_check"] = time.perf_counter() - checked
                loaded = load_landed_trade_date(clickhouse, day, reference, landed, chunk_rows=chunk_rows)
            else:
                loaded = load_trade_date(clickhouse, day, reference, trades_per_day=n, seed=seed, chunk_rows=chunk_rows)
        out.update(
            seconds=window["seconds"],
            peak_rss_mb=window["peak_rss_mb"],
            rows=loaded.rows,
            base_rows=loaded.parent_rows,
            seconds_base_trades=loaded.seconds_generate,
            notional=loaded.notional,
        )
    sampler.close()
    return out
