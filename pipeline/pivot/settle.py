"""Settling trade dates: a date old enough not to be reloaded any more is compacted to at most 2 parts.

`pivot.trades_1d` merges nothing in the background (ddl/clickhouse/030_trades_1d.sql: a day is written
once, whole, so merging a fresh day would rewrite it for little), so its parts only grow: ~70 per
1M-trade day, against the server's `parts_to_throw_insert` per partition and `max_parts_in_total`. A
date older than `PIVOT_SETTLE_AFTER_DAYS` (default 5) is settled: `OPTIMIZE TABLE … PARTITION <date>
FINAL` merges it into one part (the rollup too, where a date has more than 2 parts). A merge is atomic:
killed midway, the date keeps its parts (the engine discards the unfinished part when it starts
again) and the next settle merges it. A date with a change under way (a `pending` version,
pipeline/pivot/versions.py) is left for the next settle; a swap that lands during a merge drops the
parts the merge read, and the engine then discards the merged part.

Dagster-free and client-free: the store is the ClickHouse resource (or anything with `command`,
`query_rows` and `database`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, timedelta

from pipeline.failpoints import failpoint
from pipeline.pivot.versions import DayVersions

MAX_SETTLED_PARTS = 2
SETTLED_TABLES = ("trades_1d", "trades_1d_rollup")


@dataclass(frozen=True)
class SettledDay:
    trade_date: date
    table: str
    parts_before: int
    parts_after: int
    seconds: float


def parts_by_date(store, table: str = "trades_1d") -> dict[date, int]:
    """Active parts holding rows, per trade date (the empty covering parts a swap leaves hold none)."""
    rows = store.query_rows(
        "SELECT partition, count() FROM system.parts WHERE database = {db:String} AND table = {t:String} "
        "AND active AND rows > 0 GROUP BY partition",
        parameters={"db": store.database, "t": table},
    )
    return {date.fromisoformat(p): int(n) for p, n in rows}


def dates_to_settle(store, today: date, settle_after_days: int, table: str = "trades_1d") -> list[date]:
    """Dates of `table` older than `settle_after_days` before `today` with more than 2 parts, oldest first."""
    cutoff = today - timedelta(days=settle_after_days)
    return sorted(d for d, n in parts_by_date(store, table).items() if d < cutoff and n > MAX_SETTLED_PARTS)


def settle_date(store, table: str, day: date) -> SettledDay | None:
    """Merge `day` of `table` into one part; None (nothing done) while a change of the date is under way."""
    if any(v.state == "pending" for v in DayVersions(store, day, kept=0).versions()):
        return None
    before = parts_by_date(store, table).get(day, 0)
    started = time.perf_counter()
    failpoint(f"settle.{table}.before_merge")
    store.command(f"OPTIMIZE TABLE pivot.{table} PARTITION {{day:Date}} FINAL", parameters={"day": day})
    return SettledDay(day, table, before, parts_by_date(store, table).get(day, 0), time.perf_counter() - started)


def settle(store, today: date, settle_after_days: int, log=print) -> list[SettledDay]:
    """Settle every date of the fact and the rollup due on `today`; what was merged. Restartable: a date
    already at 2 parts or fewer is not touched again."""
    done = []
    for table in SETTLED_TABLES:
        for day in dates_to_settle(store, today, settle_after_days, table):
            settled = settle_date(store, table, day)
            if settled is None:
                log(f"pivot.{table} {day}: a change of the date is under way (a pending version): left for later")
                continue
            log(
                f"pivot.{table} {day}: {settled.parts_before} parts -> {settled.parts_after} in {settled.seconds:.1f} s"
            )
            done.append(settled)
    return done


# The share of a limit at which the part budget warns, and at which it fails.
WARN_SHARE, ERROR_SHARE = 0.5, 0.8


@dataclass(frozen=True)
class PartBudget:
    """Active parts of a table against the server's limits: `max_parts_in_total` (the table) and
    `parts_to_throw_insert` (one partition: the worst date)."""

    total_parts: int
    worst_date: date | None
    worst_date_parts: int
    max_parts_in_total: int
    parts_to_throw_insert: int

    @property
    def share(self) -> float:
        return max(self.total_parts / self.max_parts_in_total, self.worst_date_parts / self.parts_to_throw_insert)

    @property
    def level(self) -> str:
        return "error" if self.share >= ERROR_SHARE else "warn" if self.share >= WARN_SHARE else "ok"


def _limit(store, table: str, name: str) -> int:
    # A table's own SETTINGS override the server's default.
    engine = store.query_rows(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        parameters={"db": store.database, "t": table},
    )
    own = re.search(rf"\b{name} = (\d+)", engine[0][0]) if engine else None
    if own:
        return int(own.group(1))
    return int(
        store.query_rows(
            "SELECT value FROM system.merge_tree_settings WHERE name = {n:String}", parameters={"n": name}
        )[0][0]
    )


def part_budget(store, table: str = "trades_1d") -> PartBudget:
    """The table's active parts (all of them: the empty covering parts count against the limits too),
    in total and for its worst date, against the limits."""
    rows = store.query_rows(
        "SELECT partition, count() FROM system.parts WHERE database = {db:String} AND table = {t:String} "
        "AND active GROUP BY partition",
        parameters={"db": store.database, "t": table},
    )
    worst = max(rows, key=lambda r: r[1], default=None)
    return PartBudget(
        total_parts=sum(int(n) for _, n in rows),
        worst_date=date.fromisoformat(worst[0]) if worst else None,
        worst_date_parts=int(worst[1]) if worst else 0,
        max_parts_in_total=_limit(store, table, "max_parts_in_total"),
        parts_to_throw_insert=_limit(store, table, "parts_to_throw_insert"),
    )
