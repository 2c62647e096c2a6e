"""The assets' loads on a ClickHouse cluster, end to end, by simulation on the embedded engine
(tests/cluster_simulation.py: two shards as two databases of one chDB store, the Distributed tables
as Merge tables, the generated cluster DDL otherwise as is). The resource is the pipeline's own with
`cluster` set; only its DDL (the simulated form) and its shards (databases, not the replicas
system.clusters lists) are the simulation's. The pivot assets and their checks run unchanged through
Dagster: reference tables, a real `trades_1d` day load, the rollup. A kill is an exception at the swap's
failpoint, in process: the swap has no cleanup of its own, so the store is left as a SIGKILL leaves it."""

import itertools
import os
from datetime import date

import dagster as dg
import polars as pl
import pytest

from pipeline.assets import pivot, pivot_checks
from pipeline.pivot import cluster_swap
from pipeline.pivot.clickhouse_ddl import staging_engine
from pipeline.pivot.queries import EXPOSURE_TOTALS, RANGE_QUERY_NAMES, ROLLUP_REBUILD, SPEC_QUERIES, for_date
from pipeline.pivot.ranges import answer
from pipeline.resources.clickhouse import ClickHouseResource
from pipeline.resources.clickhouse_cluster import (
    CLUSTER_REPLICAS,
    ClusterNotFoundError,
    ReplicaBehindError,
    ShardedClickHouse,
    pick_replicas,
    url_on_host,
)
from pipeline.resources.generation import GenerationSettings
from tests.cluster_simulation import SimulatedCluster, SimulatedClusterResource

pytestmark = pytest.mark.slow

DAY, KILLED_DAY = "2024-01-16", "2024-01-17"  # every venue holds a full session on both
TRADES, FIRST_TRADES, NEW_TRADES = 600, 300, 200
REFERENCE_CHECK = pivot_checks.constituent_weights_sum_to_one
REFERENCE = [pivot.instruments, pivot.constituents, pivot.fx_rates, REFERENCE_CHECK]
LOADS = [pivot.trades_1d, pivot.trades_1d_rollup]
DAY_ASSETS = [*LOADS, *(check for check in pivot_checks.pivot_checks if check is not REFERENCE_CHECK)]
_numbers = itertools.count(1)


class Killed(BaseException):
    """The process died here."""


def _materialize(resource, instance, selection, key=None, trades=TRADES):
    config = {"ops": {"pivot__trades_1d": {"config": {"trades_per_day": trades}}}} if key else None
    result = dg.materialize(
        selection,
        resources={"clickhouse": resource, "generation": GenerationSettings()},
        instance=instance,
        partition_key=key,
        run_config=config,
    )
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    # The checks read through the views; with the checks selected, every one of them ran and passed.
    assert len(evaluations) == len([c for c in selection if isinstance(c, dg.AssetChecksDefinition)])
    assert all(e.passed for e in evaluations), [e for e in evaluations if not e.passed]
    return result


@pytest.fixture(scope="module")
def stores(clickhouse_url, clickhouse_module):
    """The same days loaded into the single store and into the simulated cluster."""
    cluster = SimulatedClusterResource(
        url=clickhouse_url, database=f"pivot_test_{os.getpid()}_cluster_{next(_numbers)}", cluster="simulated"
    )
    cluster.apply_ddl()
    with dg.instance_for_test() as instance:
        _materialize(cluster, instance, REFERENCE)
        # The single store gets the very same reference rows (building them again would only cost time).
        for table in ("instruments", "constituents", "fx_rates"):
            clickhouse_module.replace_table(table, cluster.query_polars(f"SELECT * FROM pivot.{table}"))
        _materialize(clickhouse_module, instance, LOADS, DAY)  # the single store's checks: test_pivot_assets.py
        _materialize(cluster, instance, DAY_ASSETS, DAY)
        yield clickhouse_module, cluster, instance
    cluster.drop()


def _totals(store, key):
    """The date's totals per exposure type, in the fact and in the rollup."""
    fact = store.query_rows(EXPOSURE_TOTALS, {"day": date.fromisoformat(key)})
    rollup = store.query_rows(
        "SELECT exposure_type, sum(trade_count), sumMerge(notional_state), sumMerge(pnl_usd_state) "
        "FROM pivot.trades_1d_rollup WHERE trade_date = {d:Date} GROUP BY exposure_type ORDER BY exposure_type",
        {"d": key},
    )
    return _sorted(fact), _sorted(rollup)


def _same(totals, expected) -> bool:
    return all(_sorted(got) == _approx(_sorted(want)) for got, want in zip(totals, expected, strict=True))


def _sorted(rows):
    """Rows in an order both stores agree on: by their group keys (the values that are not floats)."""
    return sorted(
        rows,
        key=lambda row: ([str(v) for v in row if not isinstance(v, float)], [v for v in row if isinstance(v, float)]),
    )


def _approx(rows):
    """`_sorted(rows)`, floats equal to 1e-9 relative: the shards add the same numbers in another order."""
    return [tuple(pytest.approx(v, rel=1e-9, abs=1e-6) if isinstance(v, float) else v for v in row) for row in rows]


def test_a_day_loaded_on_the_cluster_has_the_single_stores_totals(stores):
    single, cluster, _ = stores
    assert _same(_totals(cluster, DAY), _totals(single, DAY))
    assert _totals(cluster, DAY)[0]  # rows of several exposure types, not two empty days
    for name, sql in SPEC_QUERIES.items():
        query = for_date(sql, DAY)
        assert _sorted(cluster.query_rows(query)) == _approx(_sorted(single.query_rows(query))), name


def test_a_range_is_answered_on_the_cluster_as_on_the_single_store(stores):
    single, cluster, _ = stores
    day = date.fromisoformat(DAY)
    for name in RANGE_QUERY_NAMES:
        on_cluster, rows = answer(cluster, name, day, date(2024, 12, 31), usd=True)
        on_single, expected = answer(single, name, day, date(2024, 12, 31), usd=True)
        # The same route (the rollup is in step with the fact through the cluster's tables) and rows.
        assert on_cluster.table == on_single.table and not rows.is_empty(), name
        assert _sorted(rows.rows()) == _approx(_sorted(expected.rows())), name


def test_each_shard_holds_the_rows_its_accounts_route_to(stores):
    _, cluster, _ = stores
    simulated = cluster.sharded()
    for shard in range(simulated.shard_count):
        rows, misrouted, versions = simulated.shard_rows(
            shard,
            "SELECT count(), countIf(cityHash64(account_id) % 2 != {s:UInt8}), uniqExact(load_version) "
            "FROM pivot.trades_1d_local WHERE trade_date = {d:Date}",
            {"s": shard, "d": DAY},
        )[0]
        assert rows > 0 and misrouted == 0 and versions == 1
        # The rollup of each shard is built from that shard's rows only.
        [(rollup_trades,)] = simulated.shard_rows(
            shard, "SELECT sum(trade_count) FROM pivot.trades_1d_rollup_local WHERE trade_date = {d:Date}", {"d": DAY}
        )
        assert rollup_trades == rows
    states = cluster.query_rows("SELECT table_name, toString(state) FROM pivot.day_versions ORDER BY 1, 2")
    assert {(t, s) for t, s in states} == {
        (t, s) for t in ("trades_1d", "trades_1d_rollup") for s in cluster_swap_states()
    }
    leftovers = cluster.query_rows(
        "SELECT name FROM system.tables WHERE database LIKE {db:String} "
        "AND (name LIKE '%staging%' OR name LIKE '%swap%')",
        {"db": cluster.database + "%"},
    )
    assert leftovers == []


def cluster_swap_states():
    return (cluster_swap.STARTED, cluster_swap.STAGED, cluster_swap.COMPLETE)


def test_reference_tables_are_written_once_and_replaced_whole(stores):
    single, cluster, instance = stores
    for table in ("instruments", "constituents", "fx_rates"):
        count = f"SELECT count() FROM pivot.{table}"
        assert cluster.query_rows(count) == single.query_rows(count) != [(0,)]
    _materialize(cluster, instance, [pivot.fx_rates])  # replaced, not appended
    assert cluster.query_rows("SELECT count() FROM pivot.fx_rates") == single.query_rows(
        "SELECT count() FROM pivot.fx_rates"
    )


def test_a_kill_between_shards_is_never_seen_and_the_next_run_finishes_it(stores, monkeypatch):
    single, cluster, instance = stores
    _materialize(cluster, instance, LOADS, KILLED_DAY, trades=FIRST_TRADES)
    before = _totals(cluster, KILLED_DAY)

    def failpoint(name: str) -> None:
        if name == "cluster.trades_1d.before_shard_2":
            raise Killed(name)

    monkeypatch.setattr(cluster_swap, "failpoint", failpoint)
    with pytest.raises(Killed):
        _materialize(cluster, instance, [pivot.trades_1d], KILLED_DAY, trades=NEW_TRADES)
    monkeypatch.undo()
    [(killed,)] = cluster.query_rows(
        "SELECT max(version) FROM pivot.day_versions WHERE table_name = 'trades_1d' AND trade_date = {d:Date}",
        {"d": KILLED_DAY},
    )
    # Shard 1 swapped the new version in beside the old one, shard 2 did not: readers see the old day whole.
    on_shard = [
        cluster.sharded().shard_rows(
            shard,
            "SELECT uniqExact(load_version) FROM pivot.trades_1d_local WHERE trade_date = {d:Date}",
            {"d": KILLED_DAY},
        )[0][0]
        for shard in (0, 1)
    ]
    assert on_shard == [2, 1]
    assert _same(_totals(cluster, KILLED_DAY), before)

    # The next run of the date finishes the killed swap, then swaps its own day in.
    _materialize(cluster, instance, DAY_ASSETS, KILLED_DAY, trades=NEW_TRADES)
    states = cluster.query_rows(
        "SELECT toString(state) FROM pivot.day_versions WHERE table_name = 'trades_1d' AND version = {v:UInt64} "
        "ORDER BY state",
        {"v": killed},
    )
    assert [s for (s,) in states] == ["started", "staged", "complete"]
    _materialize(single, instance, LOADS, KILLED_DAY, trades=NEW_TRADES)
    assert _same(_totals(cluster, KILLED_DAY), _totals(single, KILLED_DAY))
    assert not _same(_totals(cluster, KILLED_DAY), before)
    assert _same(_totals(cluster, DAY), _totals(single, DAY))  # the other date untouched


def test_a_refused_day_is_rolled_back_at_once(clickhouse):
    simulated = SimulatedCluster(clickhouse, shard_count=2)
    simulated.create()
    try:
        day = date(2024, 1, 16)
        frame = pl.DataFrame(
            {"trade_date": [day] * 200, "account_id": range(200), "notional": [1.0] * 200},
            schema_overrides={"account_id": pl.UInt64},
        )
        simulated.replace_partition("trades_1d", day, [frame])

        def refuse(staging: str) -> None:
            [(rows,)] = clickhouse.query_rows(f"SELECT count() FROM {staging}")
            raise ValueError(f"refused: {rows} rows staged")

        with pytest.raises(ValueError, match="refused: 50 rows staged"):
            simulated.replace_partition("trades_1d", day, [frame.head(50)], before_swap=refuse)
        assert clickhouse.query_rows("SELECT count() FROM pivot.trades_1d") == [(200,)]
        states = clickhouse.query_rows("SELECT toString(state) FROM pivot.day_versions ORDER BY version, state")
        assert [s for (s,) in states] == ["started", "staged", "complete", "started", "rolled_back"]
        assert not clickhouse.query_rows(
            "SELECT name FROM system.tables WHERE database LIKE {db:String} AND name LIKE '%swap%'",
            {"db": simulated.database + "%"},
        )
    finally:
        simulated.drop()


def test_the_rollup_is_not_built_from_a_replica_still_fetching_the_day(clickhouse):
    simulated = SimulatedCluster(clickhouse, shard_count=2)
    simulated.create()
    try:
        day = date(2024, 1, 16)
        frame = pl.DataFrame(
            {"trade_date": [day] * 100, "account_id": range(100), "notional": [1.0] * 100},
            schema_overrides={"account_id": pl.UInt64},
        )
        fact = simulated.swap("trades_1d", day, simulated.day_fill([frame]))
        # As if shard 2's chosen replica had not yet fetched the day that another replica swapped in.
        simulated.shard_command(
            1,
            "ALTER TABLE pivot.trades_1d_local DROP PARTITION tuple({d:Date}, {v:UInt64})",
            {"d": day, "v": fact.version},
        )
        with pytest.raises(ReplicaBehindError, match=r"hold \[\d+, 0\] rows"):
            simulated.rebuild_partition("trades_1d_rollup", day, ROLLUP_REBUILD)
        assert clickhouse.query_rows("SELECT count() FROM pivot.trades_1d_rollup") == [(0,)]
    finally:
        simulated.drop()


def test_what_only_a_real_cluster_runs_parses_and_a_node_without_the_cluster_is_refused(clickhouse):
    on_cluster = ClickHouseResource(url=clickhouse.url, database=clickhouse.database, cluster="pivot")
    # The statements the simulation replaces, in the engine's own parser.
    real = ShardedClickHouse(on_cluster, [on_cluster, on_cluster], [1, 1], "pivot")
    statements = [
        real.union_statement("trades_1d_local__swap_v7__staging_union", "trades_1d_local__swap_v7"),
        f"CREATE TABLE pivot.fx_rates__staging_x AS pivot.fx_rates ENGINE = {staging_engine('fx_rates')}",
        "ALTER TABLE pivot.fx_rates REPLACE PARTITION tuple() FROM pivot.fx_rates__staging_x",
        CLUSTER_REPLICAS,
    ]
    for statement in statements:
        formatted = clickhouse.query_rows("SELECT formatQuery({sql:String})", {"sql": statement})[0][0]
        assert formatted.split()[0] == statement.split()[0], statement
    assert "ENGINE = Distributed(pivot, " in statements[0]
    # The embedded engine has no cluster `pivot` in system.clusters: refused, naming the fix.
    with pytest.raises(ClusterNotFoundError, match="no cluster 'pivot' in system.clusters"):
        on_cluster.sharded()


def test_one_replica_per_shard_is_picked_from_system_clusters():
    rows = [  # shard_num, shard_weight, replica_num, host_name, is_local, errors_count
        (1, 1, 1, "ch-s1r1", 0, 0),
        (1, 1, 2, "ch-s1r2", 1, 3),
        (2, 1, 1, "ch-s2r1", 0, 2),
        (2, 1, 2, "ch-s2r2", 0, 0),
        (3, 2, 1, "ch-s3r1", 0, 0),
        (3, 2, 2, "ch-s3r2", 0, 0),
    ]
    assert [r.host for r in pick_replicas("pivot", rows)] == ["ch-s1r2", "ch-s2r2", "ch-s3r1"]
    assert [r.weight for r in pick_replicas("pivot", rows)] == [1, 1, 2]
    with pytest.raises(ClusterNotFoundError, match="no cluster 'pivot'"):
        pick_replicas("pivot", [])
    assert url_on_host("https://loader:s%40cret@ch-s1r1:8443", "ch-s2r2") == "https://loader:s%40cret@ch-s2r2:8443"
    assert url_on_host("http://ch-s1r1", "fd00::2") == "http://[fd00::2]"
