"""The cluster day swap (pipeline/pivot/cluster_swap.py), by simulation on the embedded engine: two
shards as two databases, the Distributed tables as Merge tables over them, the generated cluster DDL
otherwise as is (tests/cluster_simulation.py). A kill is simulated by an exception at the protocol's
failpoints: the protocol has no cleanup of its own (no finally, no except), so the store is left
exactly as a SIGKILL there would leave it."""

from datetime import date

import polars as pl
import pytest

from pipeline.pivot import cluster_swap
from pipeline.pivot.cluster_swap import recover, rollup_fill, swap_day
from pipeline.pivot.queries import ROLLUP
from tests.cluster_simulation import SimulatedCluster

DAY = date(2024, 1, 15)
OTHER_DAY = date(2024, 1, 16)


class Killed(BaseException):
    """The process died here."""


@pytest.fixture
def cluster(clickhouse):
    simulated = SimulatedCluster(clickhouse, shard_count=2)
    simulated.create()
    yield simulated
    simulated.drop()


def day_rows(day: date, rows: int, notional: float) -> pl.DataFrame:
    """A day of the fact: `rows` trades over 97 accounts (so both shards get some), each `notional`."""
    return pl.DataFrame(
        {
            "trade_date": [day] * rows,
            "trade_id": range(1, rows + 1),
            "account_id": [n % 97 for n in range(rows)],
            "portfolio_manager_id": [n % 12 for n in range(rows)],
            "exposure_type": ["Direct"] * rows,
            "symbol": ["AAPL"] * rows,
            "notional": [notional] * rows,
            "notional_usd": [notional] * rows,
            "quantity": [1.0] * rows,
        },
        schema_overrides={"trade_id": pl.UInt64, "account_id": pl.UInt64, "portfolio_manager_id": pl.UInt32},
    )


def seen(cluster, day: date = DAY) -> tuple[int, float]:
    """What a reader of pivot.trades_1d sees of the day: rows and total notional."""
    count, total = cluster.query_rows(
        "SELECT count(), sum(notional) FROM pivot.trades_1d WHERE trade_date = {d:Date}", {"d": day}
    )[0]
    return count, total


def kill_at(monkeypatch, point: str) -> None:
    def failpoint(name: str) -> None:
        if name == point:
            raise Killed(name)

    monkeypatch.setattr(cluster_swap, "failpoint", failpoint)


def partitions(cluster, shard: int) -> set[int]:
    """The versions of DAY on a shard's local fact table."""
    rows = cluster.shard_rows(
        shard, "SELECT DISTINCT load_version FROM pivot.trades_1d_local WHERE trade_date = {d:Date}", {"d": DAY}
    )
    return {version for (version,) in rows}


def test_a_day_is_swapped_in_on_every_shard_and_read_whole(cluster):
    swap = swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 1000, 2.0)))
    assert swap.rows == 1000 and all(rows > 0 for rows in swap.shard_rows), swap
    assert seen(cluster) == (1000, 2000.0)
    assert cluster_swap.completed_version(cluster, "trades_1d", DAY) == swap.version

    again = swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 600, 3.0)))
    assert again.version > swap.version
    assert seen(cluster) == (600, 1800.0)
    # The replaced version is gone from every shard, and no staging table is left.
    assert partitions(cluster, 0) == partitions(cluster, 1) == {again.version}
    assert not cluster.query_rows(
        "SELECT name FROM system.tables WHERE position(name, '__swap_v') > 0 AND database LIKE {db:String}",
        {"db": cluster.database + "%"},
    )

    # The rollup: each shard aggregates its own rows of the fact's completed version, swapped the same way.
    swap_day(cluster, "trades_1d_rollup", DAY, rollup_fill(cluster, DAY, again.version))
    rollup = cluster.query_rows(
        ROLLUP.replace("FROM pivot.trades_1d_rollup", "FROM pivot.trades_1d_rollup WHERE trade_date = '2024-01-15'")
    )
    assert sum(row[7] for row in rollup) == pytest.approx(1800.0)


def test_a_kill_between_shards_is_never_seen_and_the_next_run_finishes_it(cluster, monkeypatch):
    first = swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 1000, 2.0)))
    kill_at(monkeypatch, "cluster.trades_1d.before_shard_2")
    with pytest.raises(Killed):
        swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 600, 3.0)))
    # Shard 1 holds the new version beside the old one; readers still see the old day, whole.
    assert len(partitions(cluster, 0)) == 2 and partitions(cluster, 1) == {first.version}
    assert seen(cluster) == (1000, 2000.0)

    monkeypatch.undo()
    [recovered] = recover(cluster, "trades_1d", DAY)
    assert recovered.outcome == "finished"
    assert seen(cluster) == (600, 1800.0)
    assert partitions(cluster, 0) == partitions(cluster, 1) == {recovered.version}


def test_a_kill_after_the_last_shard_but_before_the_marker_is_finished_by_the_next_load(cluster, monkeypatch):
    swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 1000, 2.0)))
    kill_at(monkeypatch, "cluster.trades_1d.before_complete")
    with pytest.raises(Killed):
        swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 600, 3.0)))
    assert seen(cluster) == (1000, 2000.0)  # every shard swapped, but not yet marked: still the old day

    monkeypatch.undo()
    # The next load of the date first finishes the interrupted one, then swaps its own version in.
    latest = swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 10, 5.0)))
    assert seen(cluster) == (10, 50.0)
    states = cluster.query_rows(
        "SELECT toString(state) FROM pivot.day_versions WHERE version < {v:UInt64} ORDER BY version, state",
        {"v": latest.version},
    )
    assert [s for (s,) in states].count("complete") == 2


def test_a_kill_while_staging_is_rolled_back_by_the_next_run(cluster, monkeypatch):
    first = swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 1000, 2.0)))

    def half_a_fill(staging: str, version: int) -> None:
        cluster.shard_command(
            0, f"INSERT INTO pivot.{staging} (trade_date, load_version, account_id) VALUES ('2024-01-15', {version}, 0)"
        )
        raise Killed("while writing shard 2's rows")

    with pytest.raises(Killed):
        swap_day(cluster, "trades_1d", DAY, half_a_fill)
    assert seen(cluster) == (1000, 2000.0)

    [recovered] = recover(cluster, "trades_1d")
    assert recovered.outcome == "rolled back"
    assert seen(cluster) == (1000, 2000.0)
    assert partitions(cluster, 0) == partitions(cluster, 1) == {first.version}
    assert not cluster.shard_rows(0, f"EXISTS TABLE pivot.{cluster_swap.staging_name('trades_1d', recovered.version)}")[
        0
    ][0]


def test_a_shard_that_lost_its_staging_rolls_the_swap_back(cluster, monkeypatch):
    first = swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 1000, 2.0)))
    kill_at(monkeypatch, "cluster.trades_1d.before_shard_2")
    with pytest.raises(Killed):
        swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 600, 3.0)))
    monkeypatch.undo()
    # As if the next run reached shard 2 on another replica, where the staging never was.
    [(version,)] = cluster.query_rows("SELECT max(version) FROM pivot.day_versions")
    cluster.shard_command(1, f"DROP TABLE pivot.{cluster_swap.staging_name('trades_1d', version)}")

    [recovered] = recover(cluster, "trades_1d", DAY)
    assert recovered.outcome == "rolled back"
    assert seen(cluster) == (1000, 2000.0)
    assert partitions(cluster, 0) == partitions(cluster, 1) == {first.version}


def test_other_dates_are_untouched_by_a_swap_and_its_recovery(cluster, monkeypatch):
    swap_day(cluster, "trades_1d", OTHER_DAY, cluster.fact_fill(day_rows(OTHER_DAY, 50, 1.0)))
    swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 1000, 2.0)))
    kill_at(monkeypatch, "cluster.trades_1d.before_shard_2")
    with pytest.raises(Killed):
        swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 600, 3.0)))
    monkeypatch.undo()
    assert seen(cluster, OTHER_DAY) == (50, 50.0)
    recover(cluster, "trades_1d")
    assert seen(cluster, OTHER_DAY) == (50, 50.0) and seen(cluster) == (600, 1800.0)


def test_a_staging_that_vanishes_after_staged_never_completes_a_short_day(cluster, monkeypatch):
    first = swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 1000, 2.0)))

    def another_initiator_drops_shard_2s_staging(name: str) -> None:
        if name == "cluster.trades_1d.before_shard_2":
            [(version,)] = cluster.query_rows("SELECT max(version) FROM pivot.day_versions")
            cluster.shard_command(1, f"DROP TABLE pivot.{cluster_swap.staging_name('trades_1d', version)}")

    monkeypatch.setattr(cluster_swap, "failpoint", another_initiator_drops_shard_2s_staging)
    with pytest.raises(cluster_swap.SwapIncompleteError, match="rolled back"):
        swap_day(cluster, "trades_1d", DAY, cluster.fact_fill(day_rows(DAY, 600, 3.0)))
    assert seen(cluster) == (1000, 2000.0)
    assert partitions(cluster, 0) == partitions(cluster, 1) == {first.version}
    latest = cluster.query_rows("SELECT toString(state) FROM pivot.day_versions ORDER BY version DESC, state DESC")
    assert latest[0] == ("rolled_back",)
