"""Real books in, the sensors: the landed-trades sensor requests exactly the trade dates new or changed
files touch (never a file still being written, each version once, a refused file reported once), and
a composition change re-explodes a landed day from its own landed trades, never from synthetic ones."""

import json
import os
from datetime import date

import dagster as dg
import polars as pl
import pytest

from pipeline.assets import pivot
from pipeline.definitions import defs
from pipeline.pivot.instruments import build_instruments
from pipeline.sensors import landed_compositions, landed_trades
from pipeline.sensors.trade_sources import ranges_by_source
from pipeline.settings import DEFAULT_SEED
from tests.landed_files import base_trades, write_trades_csv
from tests.sensor_ticks import settled_tick
from tests.test_real_books import DAILY, DAY, LANDED, REFERENCE, SYNTHETIC, day_rows, run

D16, D17, D19 = "2024-01-16", "2024-01-17", "2024-01-19"
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


@pytest.fixture(scope="module")
def instruments():
    return build_instruments(DEFAULT_SEED)


@pytest.fixture
def trades_dir(landing):
    directory = landing / "trades"
    directory.mkdir()
    return directory


def trades_tick(instance, cursor=None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=defs.get_repository_def())
    return landed_trades.pivot_landed_trades(context)


def spans(result: dg.SensorResult) -> list[tuple[str, str]]:
    return [(r.tags[RANGE_START], r.tags[RANGE_END]) for r in result.run_requests]


def days_file(instruments, days: list[str], trades: int = 20) -> pl.DataFrame:
    return pl.concat([base_trades(date.fromisoformat(d), trades, instruments) for d in days])


def test_the_sensor_requests_exactly_the_touched_dates_once_the_file_has_settled(trades_dir, instruments):
    days_file(instruments, [D16, D17, D19]).write_parquet(trades_dir / "week.parquet")
    with dg.instance_for_test() as instance:
        first = trades_tick(instance)
        assert not first.run_requests and "waiting for week.parquet: first seen" in first.skip_reason.skip_message

        settled = trades_tick(instance, first.cursor)
        assert spans(settled) == [(D16, D17), (D19, D19)]
        for request in settled.run_requests:
            assert request.run_config == LANDED
            assert request.tags["pivot/landed_trade_files"] == "week.parquet"

        again = trades_tick(instance, settled.cursor)
        assert not again.run_requests and "no new or changed trade files" in again.skip_reason.skip_message

        # A changed file reloads the dates it holds now and those it held before.
        days_file(instruments, [D17], trades=30).write_parquet(trades_dir / "week.parquet")
        changing = trades_tick(instance, again.cursor)
        assert not changing.run_requests and "still being written" in changing.skip_reason.skip_message
        changed = trades_tick(instance, changing.cursor)
        assert spans(changed) == [(D16, D17), (D19, D19)]


def test_a_file_still_being_written_is_not_read(trades_dir, instruments):
    path = trades_dir / "growing.csv"
    write_trades_csv(path, days_file(instruments, [D16]))
    with dg.instance_for_test() as instance:
        seen = trades_tick(instance)
        with path.open("ab") as handle:  # the copy goes on between two ticks
            handle.write(path.read_bytes().splitlines(keepends=True)[1])
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
        growing = trades_tick(instance, seen.cursor)
        assert not growing.run_requests
        assert "waiting for growing.csv: changed since the last tick" in growing.skip_reason.skip_message
        # Settled, it is read: here refused, for the trade_id the unfinished copy repeated.
        settled = trades_tick(instance, growing.cursor)
        assert "refused, nothing requested: growing.csv" in settled.skip_reason.skip_message
        assert "appears 2 times" in settled.skip_reason.skip_message


def test_a_refused_file_is_reported_once_naming_it_and_what_to_fix(trades_dir, instruments):
    days_file(instruments, [D16]).rename({"counterparty": "counterpart"}).write_parquet(trades_dir / "typo.parquet")
    with dg.instance_for_test() as instance:
        first = trades_tick(instance)
        refused = trades_tick(instance, first.cursor)
        message = refused.skip_reason.skip_message
        assert not refused.run_requests
        assert "typo.parquet" in message and "unknown column 'counterpart'" in message and "'counterparty'" in message
        later = trades_tick(instance, refused.cursor)
        assert "typo.parquet" not in later.skip_reason.skip_message


def test_sensor_requests_run_on_the_assets(store_with_instance, trades_dir, instruments):
    """What the sensor requests is a valid run: its tags and run config load the landed dates."""
    clickhouse, instance = store_with_instance
    days_file(instruments, [D16, D17], trades=40).write_parquet(trades_dir / "two_days.parquet")
    settled = trades_tick(instance, trades_tick(instance).cursor)
    [request] = settled.run_requests
    run(DAILY, clickhouse, instance, run_config=request.run_config, tags=request.tags)
    for key in (D16, D17):
        traded = day_rows(clickhouse, date.fromisoformat(key)).filter(pl.col("is_constituent_exposure") == 0)
        assert traded.height == 40


# --------------------------------------------------------------------------- re-explosion by source


@pytest.fixture
def store_with_instance(clickhouse, landing):
    with dg.instance_for_test() as instance:
        run(REFERENCE, clickhouse, instance)
        yield clickhouse, instance


def _report(instance, key: str, metadata: dict) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(pivot.trades_1d.key, partition=key, metadata=metadata))


def test_dates_are_grouped_by_the_source_they_were_loaded_from():
    with dg.instance_for_test() as instance:
        _report(instance, "2024-02-01", {"pivot/source": "landed"})
        _report(instance, "2024-02-02", {"pivot/source": "landed"})
        _report(instance, "2024-02-05", {"pivot/source": "landed"})  # after a weekend nobody landed
        _report(instance, "2024-02-06", {"pivot/source": "synthetic", "pivot/trades_per_day": 400})
        _report(instance, "2024-02-07", {})  # loaded before the source was recorded: synthetic
        _report(instance, "2024-02-08", {"pivot/source": "landed"})
        _report(instance, "2024-02-08", {"pivot/source": "synthetic"})  # the latest load counts
        ranges = ranges_by_source(
            instance, ["2024-02-01", "2024-02-02", "2024-02-05", "2024-02-06", "2024-02-07", "2024-02-08"]
        )
    assert [(r.first, r.last, r.trades_config) for r in ranges] == [
        ("2024-02-01", "2024-02-02", {"source": "landed"}),
        ("2024-02-05", "2024-02-05", {"source": "landed"}),
        ("2024-02-06", "2024-02-06", {"source": "synthetic", "trades_per_day": 400}),
        ("2024-02-07", "2024-02-08", {"source": "synthetic"}),
    ]


SPY_HALVES = (
    "parent_symbol,constituent_symbol,weight,shares_per_unit,effective_date\n"
    f"SPY,AAPL,0.5,1.2,{DAY}\nSPY,MSFT,0.5,0.6,{DAY}\n"
)


def test_a_landed_day_re_explodes_from_its_own_trades_after_a_composition_change(
    store_with_instance, landing, trades_dir, instruments
):
    clickhouse, instance = store_with_instance
    landed = base_trades(DAY, 800, instruments)
    landed.write_parquet(trades_dir / "book.parquet")
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=LANDED)
    next_day = "2024-01-17"
    run(DAILY, clickhouse, instance, partition_key=next_day, run_config=SYNTHETIC)
    synthetic_before = day_rows(clickhouse, date.fromisoformat(next_day)).filter(pl.col("is_constituent_exposure") == 0)

    (landing / "spy_halves.csv").write_text(SPY_HALVES)
    result = settled_tick(landed_compositions.pivot_landed_constituents, instance)
    by_source = {r.run_config["ops"]["pivot__trades_1d"]["config"]["source"]: r for r in result.run_requests}
    assert set(by_source) == {"landed", "synthetic"}
    assert spans(dg.SensorResult(run_requests=[by_source["landed"]])) == [(str(DAY), str(DAY))]
    assert by_source["synthetic"].run_config["ops"]["pivot__trades_1d"]["config"]["trades_per_day"] == 400
    for request in result.run_requests:
        run(
            [pivot.constituents, *DAILY],
            clickhouse,
            instance,
            run_config=request.run_config,
            tags=request.tags,
        )

    rows = day_rows(clickhouse, DAY)
    traded = rows.filter(pl.col("is_constituent_exposure") == 0)
    assert sorted(traded["trade_id"].to_list()) == sorted(landed["trade_id"].to_list())
    spy_children = rows.filter((pl.col("parent_symbol") == "SPY") & (pl.col("is_constituent_exposure") == 1))
    assert spy_children.height > 0 and set(spy_children["symbol"].to_list()) == {"AAPL", "MSFT"}
    after = day_rows(clickhouse, date.fromisoformat(next_day)).filter(pl.col("is_constituent_exposure") == 0)
    assert after.equals(synthetic_before)
    latest = instance.get_latest_materialization_event(pivot.trades_1d.key)
    assert latest is not None
    sources = json.dumps(
        {
            r.asset_materialization.partition: r.asset_materialization.metadata["pivot/source"].value
            for r in instance.fetch_materializations(pivot.trades_1d.key, limit=2).records
        }
    )
    assert '"landed"' in sources and '"synthetic"' in sources
