"""The day swap on a ClickHouse cluster: a date becomes visible on every shard at once, or not at all.

On one server a day is swapped in by one `REPLACE PARTITION`, atomic by itself. On a cluster each
shard swaps its own part of the day, one after the other, and a reader between two shards would
see half a new day. So on a cluster a day's rows carry the version of the load that wrote them
(`load_version`, part of the partition key), and readers see each date at the version its
completion marker names (the views of `clickhouse_ddl.cluster_statements`). A swap of version v:

1. **recover** any earlier swap of the same table and date that never completed (below);
2. `started` marker; on every shard a staging table for v; `fill` writes the day's rows
   (`load_version` = v) into them (routed by the sharding key); `staged` marker with the rows per shard;
3. on each shard, `REPLACE PARTITION (day, v) FROM` its staging: a new partition beside the
   completed version's, invisible to readers;
4. `complete` marker: from this one row on, readers see version v on every shard;
5. clean: drop the older versions' partitions and the staging tables.

A crash (or kill) anywhere leaves markers that the next swap of the date reads first. After
`staged` every shard's rows are known: the swap is **finished** if every shard still has its
staging (or the swapped partition) with exactly the staged rows — `REPLACE` is idempotent, so shards
already done are simply done again — else **rolled back** (the version's partitions and staging are
dropped, `rolled_back` marker). Before `staged` the staging may be partial: rolled back. Either way
readers never saw version v before its `complete` marker, so nothing half-swapped was ever read.
`complete` is written only once every shard holds exactly its staged rows at version v: a staging
that vanished between `staged` and its shard's REPLACE (another initiator's recovery, a replica that
lost it) rolls the version back (`SwapIncompleteError`) instead of completing a short day.

Dagster-free and client-free: the store is anything with the methods of `ShardedStore`. In SQL
given to `shard_command`/`shard_rows`, `pivot.` names that shard's database; elsewhere the
coordinator's (any node: the markers and the views are on every node).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from pipeline.failpoints import failpoint
from pipeline.pivot.clickhouse_ddl import DAY_VERSIONS, LOCAL_SUFFIX, VERSION_COLUMN, staging_engine
from pipeline.pivot.queries import ROLLUP_REBUILD

STARTED, STAGED, COMPLETE, ROLLED_BACK = "started", "staged", "complete", "rolled_back"
# Not the resource's `__staging_` marker: those are dropped as orphans when the DDL is applied,
# and a crashed cluster swap's staging is what finishing it needs.
SWAP_MARKER = "__swap_v"
REPLACE_SETTINGS = {"allow_replace_partition_from_empty_source": 1}


class ShardedStore(Protocol):
    shard_count: int

    def shard_command(self, shard: int, sql: str, parameters: dict | None = None, settings: dict | None = None): ...

    def shard_rows(self, shard: int, sql: str, parameters: dict | None = None) -> list[tuple]: ...

    def command(self, sql: str, parameters: dict | None = None, settings: dict | None = None): ...

    def query_rows(self, sql: str, parameters: dict | None = None) -> list[tuple]: ...


@dataclass(frozen=True)
class DaySwap:
    table: str
    trade_date: date
    version: int
    shard_rows: tuple[int, ...]

    @property
    def rows(self) -> int:
        return sum(self.shard_rows)


@dataclass(frozen=True)
class Recovered:
    """What the next run did with a swap that never completed."""

    table: str
    trade_date: date
    version: int
    outcome: str  # "finished" or "rolled back"


def staging_name(table: str, version: int) -> str:
    return f"{table}{LOCAL_SUFFIX}{SWAP_MARKER}{version}"


def completed_version(store: ShardedStore, table: str, day: date) -> int | None:
    """The version readers see of `day` (None: the date was never completed)."""
    rows = store.query_rows(
        f"SELECT max(version) FROM pivot.{DAY_VERSIONS} WHERE table_name = {{t:String}} "
        "AND trade_date = {d:Date} AND state = 'complete' HAVING count() > 0",
        parameters={"t": table, "d": day},
    )
    return rows[0][0] if rows else None


def swap_day(store: ShardedStore, table: str, day: date, fill: Callable[[str, int], None]) -> DaySwap:
    """Swap a new version of `day` into `table` on every shard; `fill(staging, version)` writes the day's
    rows, `load_version` = version, into table `pivot.<staging>` of every shard."""
    recover(store, table, day)
    version = _next_version(store, table, day)
    _mark(store, table, day, version, STARTED)
    staging = staging_name(table, version)
    for shard in range(store.shard_count):
        store.shard_command(
            shard, f"CREATE TABLE pivot.{staging} AS pivot.{table}{LOCAL_SUFFIX} ENGINE = {staging_engine(table)}"
        )
    fill(staging, version)
    shard_rows = tuple(_count(store, shard, f"pivot.{staging}") for shard in range(store.shard_count))
    _mark(store, table, day, version, STAGED, shard_rows)
    _finish(store, table, day, version, shard_rows)
    return DaySwap(table, day, version, shard_rows)


def rollup_fill(
    store: ShardedStore, day: date, fact_version: int, select_sql: str = ROLLUP_REBUILD
) -> Callable[[str, int], None]:
    """`fill` for the rollup: each shard aggregates its own fact rows of `day` at the fact's completed
    version (`select_sql`, the one rollup SQL of queries.py, pointed at the shard's local table)."""
    select = select_sql.replace(
        "FROM pivot.trades_1d\nWHERE trade_date = {day:Date}",
        f"FROM pivot.trades_1d{LOCAL_SUFFIX}\nWHERE trade_date = {{day:Date}} AND {VERSION_COLUMN} = {{fact:UInt64}}",
    )
    if select == select_sql:
        raise ValueError("the rollup's SELECT no longer reads one date of pivot.trades_1d")

    def fill(staging: str, version: int) -> None:
        for shard in range(store.shard_count):
            store.shard_command(
                shard,
                f"INSERT INTO pivot.{staging} SELECT *, {{version:UInt64}} FROM ({select})",
                parameters={"day": day, "fact": fact_version, "version": version},
                settings={"async_insert": 0},
            )

    return fill


def recover(store: ShardedStore, table: str, day: date | None = None) -> list[Recovered]:
    """Finish or roll back every swap of `table` (of `day`, if given) that started and never ended."""
    day_filter = "AND trade_date = {d:Date}" if day else ""
    pending = store.query_rows(
        f"SELECT trade_date, version, groupArray(toString(state)) AS states, anyIf(shard_rows, state = 'staged') "
        f"FROM pivot.{DAY_VERSIONS} WHERE table_name = {{t:String}} {day_filter} "
        "GROUP BY trade_date, version HAVING NOT has(states, 'complete') AND NOT has(states, 'rolled_back') "
        "ORDER BY version",
        parameters={"t": table, "d": day},
    )
    outcomes = []
    for trade_date, version, states, shard_rows in pending:
        if STAGED in states and _every_shard_can_finish(store, table, trade_date, version, shard_rows):
            try:
                _finish(store, table, trade_date, version, shard_rows)
                outcomes.append(Recovered(table, trade_date, version, "finished"))
            except SwapIncompleteError:
                outcomes.append(Recovered(table, trade_date, version, "rolled back"))
        else:
            _roll_back(store, table, trade_date, version)
            outcomes.append(Recovered(table, trade_date, version, "rolled back"))
    return outcomes


class SwapIncompleteError(RuntimeError):
    """After the swap a shard did not hold the rows staged for it: the version was rolled back."""


def _finish(store: ShardedStore, table: str, day: date, version: int, shard_rows) -> None:
    staging = staging_name(table, version)
    for shard in range(store.shard_count):
        failpoint(f"cluster.{table}.before_shard_{shard + 1}")
        if _exists(store, shard, staging):
            store.shard_command(
                shard,
                f"ALTER TABLE pivot.{table}{LOCAL_SUFFIX} REPLACE PARTITION tuple({{d:Date}}, {{v:UInt64}}) "
                f"FROM pivot.{staging}",
                parameters={"d": day, "v": version},
                settings=REPLACE_SETTINGS,
            )
    # A shard whose staging vanished (another initiator rolled the version back, a replica lost it)
    # was skipped above: complete only if every shard holds exactly the rows staged for it.
    held = [_count(store, shard, f"pivot.{table}{LOCAL_SUFFIX}", day, version) for shard in range(store.shard_count)]
    if held != list(shard_rows):
        _roll_back(store, table, day, version)
        raise SwapIncompleteError(
            f"pivot.{table} of {day}, version {version}: the shards hold {held} rows after the swap, "
            f"{list(shard_rows)} were staged; rolled back, the previous version stays: load the date again."
        )
    failpoint(f"cluster.{table}.before_complete")
    _mark(store, table, day, version, COMPLETE)
    _clean(store, table, day, version)


def _roll_back(store: ShardedStore, table: str, day: date, version: int) -> None:
    for shard in range(store.shard_count):
        _drop_version(store, shard, table, day, version)
    _mark(store, table, day, version, ROLLED_BACK)


def _clean(store: ShardedStore, table: str, day: date, version: int) -> None:
    """Drop the older versions of `day` (no reader sees them any more) and this version's staging."""
    older = [
        v
        for (v,) in store.query_rows(
            f"SELECT DISTINCT version FROM pivot.{DAY_VERSIONS} WHERE table_name = {{t:String}} "
            "AND trade_date = {d:Date} AND version < {v:UInt64}",
            parameters={"t": table, "d": day, "v": version},
        )
    ]
    for shard in range(store.shard_count):
        for old in older:
            _drop_version(store, shard, table, day, old)
        store.shard_command(shard, f"DROP TABLE IF EXISTS pivot.{staging_name(table, version)}")


def _drop_version(store: ShardedStore, shard: int, table: str, day: date, version: int) -> None:
    store.shard_command(
        shard,
        f"ALTER TABLE pivot.{table}{LOCAL_SUFFIX} DROP PARTITION tuple({{d:Date}}, {{v:UInt64}})",
        parameters={"d": day, "v": version},
    )
    store.shard_command(shard, f"DROP TABLE IF EXISTS pivot.{staging_name(table, version)}")


def _every_shard_can_finish(store: ShardedStore, table: str, day: date, version: int, shard_rows) -> bool:
    if len(shard_rows) != store.shard_count:
        return False
    staging = staging_name(table, version)
    for shard, rows in enumerate(shard_rows):
        if _exists(store, shard, staging):
            if _count(store, shard, f"pivot.{staging}") != rows:
                return False
        elif _count(store, shard, f"pivot.{table}{LOCAL_SUFFIX}", day, version) != rows:
            return False
    return True


def _exists(store: ShardedStore, shard: int, table: str) -> bool:
    return bool(store.shard_rows(shard, f"EXISTS TABLE pivot.{table}")[0][0])


def _count(store: ShardedStore, shard: int, table: str, day: date | None = None, version: int | None = None) -> int:
    if day is None:
        return store.shard_rows(shard, f"SELECT count() FROM {table}")[0][0]
    where = f"trade_date = {{d:Date}} AND {VERSION_COLUMN} = {{v:UInt64}}"
    return store.shard_rows(shard, f"SELECT count() FROM {table} WHERE {where}", parameters={"d": day, "v": version})[
        0
    ][0]


def _next_version(store: ShardedStore, table: str, day: date) -> int:
    # Microseconds since 1970: increasing across runs and processes; never below a version already
    # recorded for the date (a clock set back cannot reuse one).
    last = store.query_rows(
        f"SELECT max(version) FROM pivot.{DAY_VERSIONS} WHERE table_name = {{t:String}} AND trade_date = {{d:Date}}",
        parameters={"t": table, "d": day},
    )[0][0]
    return max(time.time_ns() // 1000, (last or 0) + 1)


def _mark(
    store: ShardedStore, table: str, day: date, version: int, state: str, shard_rows: tuple[int, ...] = ()
) -> None:
    store.command(
        f"INSERT INTO pivot.{DAY_VERSIONS} (table_name, trade_date, version, state, shard_rows) "
        "SELECT {t:String}, {d:Date}, {v:UInt64}, {s:String}, {r:Array(UInt64)}",
        parameters={"t": table, "d": day, "v": version, "s": state, "r": list(shard_rows)},
        settings={"async_insert": 0, "insert_deduplicate": 0},
    )
