"""The pivot warehouse's loads on a ClickHouse cluster: the day swap of `pipeline/pivot/cluster_swap.py`
wired to clients. `ClickHouseResource` hands its loads here when `cluster` is set
(PIVOT_CLICKHOUSE_CLUSTER); with no cluster nothing here runs.

- **Shards**: one replica per shard, read from `system.clusters` on the node the resource connects
  to (the coordinator): on the coordinator's own shard the coordinator itself, on every other shard
  the replica a Distributed read with `load_balancing = 'in_order'` picks (fewest errors, then the
  order of `remote_servers`), reached on the coordinator URL's HTTP(S) port with its credentials.
- **The fact's day** (`replace_partition`): `cluster_swap.swap_day` creates a staging table on each
  shard; the chunks are routed row by row to the shard the fact's Distributed table would send them
  to (its sharding key evaluated by the engine for each chunk's new accounts, the shards' weights
  as in `remote_servers`) and inserted into that shard's staging by the shard's own client. The USD
  columns and `load_version` are DEFAULTs of the staging tables, computed as the rows are written,
  as on one server. `before_swap` reads the staged day through a Distributed table over the staging
  tables (on the coordinator; in the simulation a Merge table). A refusal or error before the day is
  staged rolls the new version back at once; a kill leaves it to the next load of the date, which
  finishes or rolls it back.
- **The rollup** (`rebuild_partition`): each shard aggregates its own fact rows of the date at the
  fact's completed version (`cluster_swap.rollup_fill`), swapped in the same way.

The reference tables are written once, on the coordinator (`ClickHouseResource.replace_table`): their
one replica set spans every node, so Keeper copies them to every shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import pyarrow as pa

from pipeline.pivot.clickhouse_ddl import LOCAL_SUFFIX, SHARDING_COLUMN, VERSION_COLUMN, VERSIONED_TABLES
from pipeline.pivot.cluster_swap import DaySwap, completed_version, recover, rollup_fill, swap_day

FACT = "trades_1d"
# The node's view of the cluster: one row per replica.
CLUSTER_REPLICAS = (
    "SELECT shard_num, shard_weight, replica_num, host_name, is_local, errors_count FROM system.clusters "
    "WHERE cluster = {cluster:String} ORDER BY shard_num, replica_num"
)
# Reads on the coordinator: a Distributed read of the staging tables must reach the replicas the
# loads chose (the local one on the coordinator's shard, else the first with fewest errors).
CLUSTER_READ_SETTINGS = {"load_balancing": "in_order", "prefer_localhost_replica": 1}
_SHARD = "__shard"


class ClusterNotFoundError(RuntimeError):
    """The node the resource connects to does not know the cluster named by PIVOT_CLICKHOUSE_CLUSTER."""


class ReplicaBehindError(RuntimeError):
    """A shard's chosen replica does not hold all of the fact's completed day yet (replication lag)."""


class Client(Protocol):
    """What a coordinator or a shard offers: `ClickHouseResource`'s statements, pointed at one node."""

    database: str

    def command(self, sql: str, parameters: dict | None = None, settings: dict | None = None): ...

    def query_rows(self, sql: str, parameters: dict | None = None) -> list[tuple]: ...

    def table(self, name: str) -> str: ...

    def insert_arrow(self, table: str, data: pa.Table) -> None: ...

    def to_arrow(self, frame: pl.DataFrame) -> pa.Table: ...

    def compute_on_insert(self, table: str, computed: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class Replica:
    """One row of system.clusters."""

    shard: int
    weight: int
    replica: int
    host: str
    is_local: bool
    errors: int


def pick_replicas(cluster: str, rows: Iterable[tuple]) -> list[Replica]:
    """One replica per shard, in shard order: the node itself on its own shard (a Distributed query
    prefers the local replica), else the one with the fewest errors, first in `remote_servers`."""
    replicas = [Replica(int(s), int(w), int(r), str(h), bool(local), int(e)) for s, w, r, h, local, e in rows]
    if not replicas:
        raise ClusterNotFoundError(
            f"PIVOT_CLICKHOUSE_CLUSTER={cluster}: the ClickHouse node PIVOT_CLICKHOUSE_URL names has no cluster "
            f"{cluster!r} in system.clusters (remote_servers): point the URL at a node of the cluster or fix the name."
        )
    return [
        min(shard, key=lambda r: (not r.is_local, r.errors, r.replica))
        for _, shard in groupby(sorted(replicas, key=lambda r: r.shard), key=lambda r: r.shard)
    ]


def url_on_host(url: str, host: str) -> str:
    """`url` (scheme, credentials, port) pointed at `host`."""
    parts = urlsplit(url)
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc}" if userinfo else netloc))


class ShardedClickHouse:
    """A `cluster_swap.ShardedStore` over clients: `coordinator` for the markers and the reads, one
    client per shard (in shard order) for its staging, swap and clean-up; `weights` as in remote_servers."""

    def __init__(self, coordinator: Client, shards: list[Client], weights: list[int], cluster: str):
        if len(shards) != len(weights) or not shards:
            raise ValueError("one weight per shard, and at least one shard")
        self.coordinator, self.shards, self.cluster = coordinator, shards, cluster
        self.shard_count = len(shards)
        # Distributed routing: key % total weight, shards owning consecutive ranges of that remainder.
        self._slot_shards = [shard for shard, weight in enumerate(weights) for _ in range(weight)]
        self._shard_of: dict[int, int] = {}

    # -- cluster_swap.ShardedStore ------------------------------------------------------------

    def shard_command(self, shard: int, sql: str, parameters: dict | None = None, settings: dict | None = None):
        return self.shards[shard].command(sql, parameters=parameters, settings=settings)

    def shard_rows(self, shard: int, sql: str, parameters: dict | None = None) -> list[tuple]:
        return self.shards[shard].query_rows(sql, parameters=parameters)

    def command(self, sql: str, parameters: dict | None = None, settings: dict | None = None):
        return self.coordinator.command(sql, parameters=parameters, settings=settings)

    def query_rows(self, sql: str, parameters: dict | None = None) -> list[tuple]:
        return self.coordinator.query_rows(sql, parameters=parameters)

    # -- loads --------------------------------------------------------------------------------

    def replace_partition(
        self,
        table: str,
        day: date,
        chunks: Iterable[pa.Table | pl.DataFrame],
        *,
        computed: Mapping[str, str] | None = None,
        before_swap: Callable[[str], None] | None = None,
    ) -> int:
        """`ClickHouseResource.replace_partition` on the cluster: the day staged on every shard and
        swapped in by the cluster swap; returns the rows staged."""
        return self.swap(table, day, self.day_fill(chunks, computed, before_swap)).rows

    def rebuild_partition(self, table: str, day: date, select_sql: str) -> int:
        """The rollup's day rebuilt on each shard from that shard's fact rows at the fact's completed
        version (none completed: the day's rollup is empty), then swapped in."""
        if table == FACT or table not in VERSIONED_TABLES:
            raise ValueError(f"on a cluster only a table built from pivot.{FACT} is rebuilt, not {table}")
        fact_version = completed_version(self, FACT, day)
        if fact_version is not None:
            self.require_fact_rows(day, fact_version)
        # Versions start at 1: 0 selects no row.
        return self.swap(table, day, rollup_fill(self, day, fact_version or 0, select_sql)).rows

    def require_fact_rows(self, day: date, version: int) -> None:
        """Raise ReplicaBehindError unless every shard's replica holds exactly the rows its swap staged
        (the `staged` marker): a replica other than the one that swapped the day in may still be
        fetching it, and a rollup built from it would be short."""
        [(staged,)] = self.query_rows(
            "SELECT any(shard_rows) FROM pivot.day_versions WHERE table_name = {t:String} AND trade_date = {d:Date} "
            "AND version = {v:UInt64} AND state = 'staged'",
            parameters={"t": FACT, "d": day, "v": version},
        )
        held = [
            self.shard_rows(
                shard,
                f"SELECT count() FROM pivot.{FACT}{LOCAL_SUFFIX} WHERE trade_date = {{d:Date}} "
                f"AND {VERSION_COLUMN} = {{v:UInt64}}",
                parameters={"d": day, "v": version},
            )[0][0]
            for shard in range(self.shard_count)
        ]
        if list(staged) != held:
            raise ReplicaBehindError(
                f"pivot.{FACT} of {day} (version {version}): the shards' replicas hold {held} rows, the swap "
                f"staged {list(staged)}; a replica is still fetching the day (or the cluster changed): retry later."
            )

    def swap(self, table: str, day: date, fill: Callable[[str, int], None]) -> DaySwap:
        """`cluster_swap.swap_day`, and a version whose staging failed (a refusal, an error: not a
        kill) rolled back at once rather than at the next load of the date."""
        failed_while_staging = []

        def guarded(staging: str, version: int) -> None:
            try:
                fill(staging, version)
            except Exception:
                failed_while_staging.append(version)
                raise

        try:
            return swap_day(self, table, day, guarded)
        except Exception:
            if failed_while_staging:
                recover(self, table, day)  # before `staged`: rolls the version back
            raise

    def day_fill(
        self,
        chunks: Iterable[pa.Table | pl.DataFrame],
        computed: Mapping[str, str] | None = None,
        before_swap: Callable[[str], None] | None = None,
    ) -> Callable[[str, int], None]:
        """`fill` for a day of the fact: every chunk's rows into their shards' staging tables, then
        `before_swap` on the whole staged day."""

        def fill(staging: str, version: int) -> None:
            defaults = {**(computed or {}), VERSION_COLUMN: str(int(version))}
            for shard in self.shards:
                shard.compute_on_insert(staging, defaults)
            for chunk in chunks:
                for shard, rows in self.route(chunk):
                    self.shards[shard].insert_arrow(staging, self.shards[shard].to_arrow(rows))
            if before_swap:
                with self.staged_day(staging) as union:
                    before_swap(self.coordinator.table(union))

        return fill

    def route(self, chunk: pa.Table | pl.DataFrame) -> Iterator[tuple[int, pl.DataFrame]]:
        """The chunk's rows per shard, as the fact's Distributed table routes an INSERT: its sharding
        key, evaluated by the engine (for accounts not seen before), modulo the total weight."""
        frame = chunk if isinstance(chunk, pl.DataFrame) else pl.from_arrow(chunk)
        if not frame.height:
            return
        new = [key for key in frame[SHARDING_COLUMN].unique().to_list() if key not in self._shard_of]
        if new:
            slots = self.coordinator.query_rows(
                f"SELECT {SHARDING_COLUMN}, {VERSIONED_TABLES[FACT]} % {{weights:UInt64}} "
                f"FROM (SELECT arrayJoin({{keys:Array(UInt64)}}) AS {SHARDING_COLUMN})",
                parameters={"keys": new, "weights": len(self._slot_shards)},
            )
            self._shard_of.update((key, self._slot_shards[slot]) for key, slot in slots)
        shard = pl.col(SHARDING_COLUMN).replace_strict(self._shard_of, return_dtype=pl.UInt32).alias(_SHARD)
        for (index,), rows in frame.with_columns(shard).partition_by(_SHARD, as_dict=True, include_key=False).items():
            yield index, rows

    @contextmanager
    def staged_day(self, staging: str) -> Iterator[str]:
        """A table on the coordinator that reads `staging` on every shard (dropped after use)."""
        union = f"{staging}__staging_union"  # `__staging_`: a killed load's is dropped with the orphans
        self.coordinator.command(self.union_statement(union, staging))
        try:
            yield union
        finally:
            self.coordinator.command(f"DROP TABLE IF EXISTS {self.coordinator.table(union)}")

    def union_statement(self, union: str, staging: str) -> str:
        table = staging.split(LOCAL_SUFFIX)[0] + LOCAL_SUFFIX
        return (
            f"CREATE TABLE {self.coordinator.table(union)} AS {self.coordinator.table(table)} "
            f"ENGINE = Distributed({self.cluster}, {self.coordinator.database}, {staging})"
        )
