"""A ClickHouse cluster simulated on the embedded engine, for the cluster day swap's tests.

What is simulated: each shard is a database `<db>_shard_<n>` of one chDB store; the cluster DDL of
`clickhouse_ddl.cluster_statements` is applied with its engines swapped for what one process has
(`Replicated*MergeTree` -> `*MergeTree`, no `ON CLUSTER`, `Distributed` -> a `Merge` table over the
shard databases) and everything else as generated (the columns, partition keys, the views that read
a date at its completed version, the markers table). Rows reach a shard's staging by the sharding
key, as a Distributed INSERT would route them (`key % shards`). Not simulated: replication,
Keeper, network failures, several initiators.
"""

from __future__ import annotations

import re

import polars as pl

from pipeline.pivot.clickhouse_ddl import LOCAL_SUFFIX, VERSIONED_TABLES, cluster_statements
from pipeline.resources.clickhouse import ClickHouseResource, quote_identifier

CLUSTER = "simulated"
_REPLICATED = re.compile(r"Replicated(\w*MergeTree)\('[^']*', '[^']*'\)")
_DISTRIBUTED = re.compile(r"Distributed\(\w+, \w+, (\w+)(?:, [^\n]+)?\)$")


def simulated_statements(database: str, shards: int) -> list[str]:
    """The cluster DDL as one embedded engine can run it, shards as databases."""
    out = [f"CREATE DATABASE IF NOT EXISTS {database}_shard_{n}" for n in range(1, shards + 1)]
    for statement in cluster_statements(CLUSTER, database):
        statement = _REPLICATED.sub(r"\1", statement.replace(f" ON CLUSTER {CLUSTER}", ""))
        local = re.search(rf"^(?:CREATE TABLE IF NOT EXISTS|ALTER TABLE) {database}\.(\w+{LOCAL_SUFFIX})\b", statement)
        if local:
            out += [statement.replace(f"{database}.", f"{database}_shard_{n}.", 1) for n in range(1, shards + 1)]
        elif distributed := _DISTRIBUTED.search(statement):
            merge = f"Merge(REGEXP('^{database}_shard_[0-9]+$'), '^{distributed.group(1)}$')"
            out.append(_DISTRIBUTED.sub(merge, statement).replace(f"AS {database}.", f"AS {database}_shard_1."))
        else:
            out.append(statement)
    return out


class SimulatedCluster:
    """A `cluster_swap.ShardedStore` over one embedded store: shard n is database `<db>_shard_<n+1>`."""

    def __init__(self, resource: ClickHouseResource, shard_count: int = 2):
        self.resource, self.shard_count, self.database = resource, shard_count, resource.database
        self.sharding_key = VERSIONED_TABLES["trades_1d"]

    def create(self) -> None:
        for statement in simulated_statements(self.database, self.shard_count):
            self.resource.command(statement)

    def drop(self) -> None:
        for name in [self.database, *(self.shard_database(n) for n in range(self.shard_count))]:
            self.resource.command(f"DROP DATABASE IF EXISTS {quote_identifier(name)}")

    def shard_database(self, shard: int) -> str:
        return f"{self.database}_shard_{shard + 1}"

    def _on_shard(self, shard: int, sql: str) -> str:
        return re.sub(r"\bpivot\.", f"{self.shard_database(shard)}.", sql)

    def shard_command(self, shard, sql, parameters=None, settings=None):
        return self.resource.command(self._on_shard(shard, sql), parameters=parameters, settings=settings)

    def shard_rows(self, shard, sql, parameters=None):
        return self.resource.query_rows(self._on_shard(shard, sql), parameters=parameters)

    def command(self, sql, parameters=None, settings=None):
        return self.resource.command(sql, parameters=parameters, settings=settings)

    def query_rows(self, sql, parameters=None):
        return self.resource.query_rows(sql, parameters=parameters)

    def fact_fill(self, frame: pl.DataFrame):
        """`fill` for a day of the fact: the rows routed to each shard by the sharding key, as the
        Distributed table over the staging tables routes an INSERT."""
        routing = f"route_{id(frame)}"

        def fill(staging: str, version: int) -> None:
            local = f"{self.shard_database(0)}.trades_1d_local"
            self.resource.command(f"CREATE TABLE {self.resource.table(routing)} AS {local}")
            try:
                self.resource.insert_arrow(routing, self.resource.to_arrow(frame.with_columns(load_version=version)))
                for shard in range(self.shard_count):
                    self.shard_command(
                        shard,
                        f"INSERT INTO pivot.{staging} SELECT * FROM {self.resource.table(routing)} "
                        f"WHERE {self.sharding_key} % {self.shard_count} = {shard}",
                    )
            finally:
                self.resource.command(f"DROP TABLE IF EXISTS {self.resource.table(routing)}")

        return fill
