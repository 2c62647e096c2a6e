"""The worker task `history`: a year of trade dates, as a desk that adopts the pipeline backfills it.

In a temporary Dagster home and embedded store, through `dagster asset materialize` as a user runs it:
the reference tables, then ONE `--partition-range` run of `pivot/trades_1d` + `pivot/trades_1d_rollup`
over the calendar days that hold the first `days` NYSE sessions of 2024 (weekends and holidays load
empty) at `trades_per_day`; the next session at `day_trades` (the volume the parts are extrapolated from);
the range's last date reloaded at another volume (a second version). Then, in this process on the same
store: the active parts before and after `settle` (pipeline/pivot/settle.py) as of a week after the
range, the year's `rollup` and `top_level` range queries served from the rollup and forced on the fact
(pipeline/pivot/ranges.py: times and whether the answers agree), and the restore of the reloaded
date's first version (pipeline/jobs/pivot_history.restore_trade_date).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.measuring import REPO_ROOT, temporary_directory

YEAR_START = date(2024, 1, 2)


def trading_days(count: int) -> list[date]:
    """The first `count` NYSE sessions from YEAR_START."""
    import exchange_calendars as xcals

    sessions = xcals.get_calendar("XNYS").sessions_in_range(YEAR_START, YEAR_START + timedelta(days=2 * count + 30))
    return [session.date() for session in sessions[:count]]


def _materializer(tmp: Path, home: Path):
    env = dict(
        os.environ,
        DAGSTER_HOME=str(home),
        PIVOT_CLICKHOUSE_URL=f"chdb://{tmp / 'clickhouse'}",
        PIVOT_DATA_DIR=str(tmp / "data"),
    )
    command = [str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "pipeline.definitions"]

    def materialize(select: str, *extra: str, trades_per_day: int | None = None) -> float:
        config = ["--config-json", json.dumps({"ops": {"pivot__trades_1d": {"config": {
            "trades_per_day": trades_per_day}}}})] if trades_per_day else []
        started = time.perf_counter()
        completed = subprocess.run(
            [*command, "--select", select, *extra, *config], cwd=REPO_ROOT, env=env, capture_output=True, text=True
        )
        if completed.returncode:
            raise RuntimeError(f"{select} {extra} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}")
        return time.perf_counter() - started

    return materialize


def _parts(store, table: str, start: date, end: date) -> int:
    return int(store.query_rows(
        "SELECT count() FROM system.parts WHERE database = 'pivot' AND table = {t:String} AND active "
        "AND partition >= {a:String} AND partition <= {b:String}",
        parameters={"t": table, "a": str(start), "b": str(end)},
    )[0][0])


def _timed_answers(store, name: str, start: date, end: date, repeats: int) -> dict:
    from pipeline.pivot.ranges import answer

    result = {}
    for route, fact_only in (("rollup", False), ("fact", True)):
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            query, frame = answer(store, name, start, end, fact_only=fact_only)
            seconds.append(time.perf_counter() - started)
        result[route] = {"table": query.table, "seconds": statistics.median(seconds), "frame": frame}
    rollup, fact = result["rollup"]["frame"], result["fact"]["frame"]
    keys = [c for c, t in fact.schema.items() if not t.is_float()]
    joined = rollup.join(fact, on=keys, how="full", suffix="_fact", nulls_equal=True)
    measures = [c for c, t in fact.schema.items() if t.is_float()]
    # Sums of the same floats in another order: equal to the cent (relative 1e-9 of the largest).
    agree = joined.height == fact.height == rollup.height and all(
        (joined[m] - joined[f"{m}_fact"]).abs().max() <= 1e-9 * max(1.0, fact[m].abs().max()) for m in measures
    )
    return {
        "rows": fact.height,
        "rollup_table": result["rollup"]["table"],
        "rollup_seconds": round(result["rollup"]["seconds"], 4),
        "fact_seconds": round(result["fact"]["seconds"], 4),
        "answers_agree": bool(agree),
    }


def run(args: dict, tmp: Path) -> dict:
    from pipeline.jobs.pivot_history import restore_trade_date
    from pipeline.pivot.settle import part_budget, settle
    from pipeline.resources.clickhouse import ClickHouseResource
    from pipeline.settings import settle_after_days

    *days, extra_day = trading_days(args["days"] + 1)
    first, last = days[0], days[-1]
    home = tmp / "dagster_home"
    home.mkdir()
    materialize = _materializer(tmp, home)
    materialize("pivot/instruments,pivot/constituents,pivot/fx_rates")
    backfill = materialize(
        "pivot/trades_1d,pivot/trades_1d_rollup", "--partition-range", f"{first}...{last}",
        trades_per_day=args["trades_per_day"],
    )
    materialize("pivot/trades_1d,pivot/trades_1d_rollup", "--partition", str(extra_day),
                trades_per_day=args["day_trades"])
    materialize("pivot/trades_1d,pivot/trades_1d_rollup", "--partition", str(last),
                trades_per_day=args["trades_per_day"] + 1)

    store = ClickHouseResource(url=f"chdb://{tmp / 'clickhouse'}", database="pivot")
    parts_day = _parts(store, "trades_1d", extra_day, extra_day) + _parts(store, "trades_1d_rollup", extra_day,
                                                                           extra_day)
    before = {t: _parts(store, t, first, last) for t in ("trades_1d", "trades_1d_rollup")}
    started = time.perf_counter()
    settled = settle(store, last + timedelta(days=7), settle_after_days(), log=lambda _: None)
    settle_seconds = time.perf_counter() - started
    after = {t: _parts(store, t, first, last) for t in ("trades_1d", "trades_1d_rollup")}
    budget = part_budget(store)
    queries = {name: _timed_answers(store, name, first, last, args["query_repeats"]) for name in ("rollup",
                                                                                               "top_level")}
    started = time.perf_counter()
    live, _, _ = restore_trade_date(store, last, 1, "benchmark")
    restore_seconds = time.perf_counter() - started
    # A year at `day_trades` a day: every date keeps its load's parts until settled; settled, a date
    # holds one part per table, and only the last PIVOT_SETTLE_AFTER_DAYS dates are unsettled.
    unsettled_year = args["days"] * parts_day
    settled_year = args["days"] * 2 + settle_after_days() * parts_day
    return {
        "days": args["days"],
        "calendar_days": (last - first).days + 1,
        "first": str(first),
        "last": str(last),
        "trades_per_day": args["trades_per_day"],
        "backfill_seconds": backfill,
        "backfill_seconds_per_day": backfill / args["days"],
        "parts_before_settle": before,
        "parts_after_settle": after,
        "dates_settled": len({d.trade_date for d in settled}),
        "settle_seconds": settle_seconds,
        "day_trades": args["day_trades"],
        "parts_per_day_at_day_trades": parts_day,
        "year_parts_unsettled_at_day_trades": unsettled_year,
        "year_parts_settled_at_day_trades": settled_year,
        "max_parts_in_total": budget.max_parts_in_total,
        "parts_to_throw_insert": budget.parts_to_throw_insert,
        "queries": queries,
        "restore_seconds": restore_seconds,
        "restored_rows": live.rows,
    }


def task_history(args: dict) -> dict:
    with temporary_directory("history") as tmp:
        return run(args, tmp)
