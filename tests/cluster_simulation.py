"""A ClickHouse cluster simulated on the embedded engine, for the cluster day swap's tests.

What is simulated: each shard is a database `<db>_shard_<n>` of one chDB store; the cluster DDL of
`clickhouse_ddl.cluster_statements` is applied with its engines swapped for what one process has
(`Replicated*MergeTree` -> `*MergeTree`, no `ON CLUSTER`, `Distributed` -> a `Merge` table over the
shard databases) and everything else as generated (the columns, partition keys, the views that read
a date at its completed version, the markers table). Rows reach a shard's staging by the sharding
key, as a Distributed INSERT would route them (`key % shards`), by the loads' own routing
(pipeline/resources/clickhouse_cluster.py). Not simulated: replication, Keeper, network failures,
several initiators, finding the shards in system.clusters, the shards' own clients.
"""

from __future__ import annotations

import re

import polars as pl

from pipeline.pivot.clickhouse_ddl import LOCAL_SUFFIX, cluster_statements, quote_identifier
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.clickhouse_cluster import ShardedClickHouse

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


class SimulatedCluster(ShardedClickHouse):
    """The loads' own `ShardedClickHouse` (routing, per-shard staging, the swap) over one embedded store:
    shard n is database `<db>_shard_<n+1>`, reached by a ClickHouseResource on that database, where a
    real cluster has a client per shard; the coordinator reads the staged day through a Merge table
    where a real one has a Distributed table."""

    def __init__(self, resource: ClickHouseResource, shard_count: int = 2):
        self.resource, self.database = resource, resource.database
        shards = [
            ClickHouseResource(url=resource.url, database=f"{resource.database}_shard_{n}")
            for n in range(1, shard_count + 1)
        ]
        super().__init__(resource, shards, [1] * shard_count, CLUSTER)

    def create(self) -> None:
        for statement in simulated_statements(self.database, self.shard_count):
            self.resource.command(statement)

    def drop(self) -> None:
        for name in [self.database, *(self.shard_database(n) for n in range(self.shard_count))]:
            self.resource.command(f"DROP DATABASE IF EXISTS {quote_identifier(name)}")

    def shard_database(self, shard: int) -> str:
        return self.shards[shard].database

    def union_statement(self, union: str, staging: str) -> str:
        return (
            f"CREATE TABLE {self.resource.table(union)} AS {self.shards[0].table(staging)} "
            f"ENGINE = Merge(REGEXP('^{self.database}_shard_[0-9]+$'), '^{staging}$')"
        )

    def fact_fill(self, frame: pl.DataFrame):
        """`fill` for a day of the fact: the rows routed to each shard's staging by the loads' routing."""
        return self.day_fill([frame])


class SimulatedClusterResource(ClickHouseResource):
    """The ClickHouse resource with `cluster` set, on the simulated cluster: `apply_ddl` creates it (the
    generated cluster DDL as `simulated_statements` adapts it), and the loads go to `SimulatedCluster`
    where on a real cluster they go to the shards `system.clusters` lists. Everything else (the
    assets, the day load, the reference tables' writes, the reads through the views) is the resource's own."""

    shard_count: int = 2

    def ddl(self) -> list[str]:
        return simulated_statements(self.database, self.shard_count)

    def sharded(self) -> SimulatedCluster:
        return SimulatedCluster(self, self.shard_count)

    def drop(self) -> None:
        self.sharded().drop()
