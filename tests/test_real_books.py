"""Real books in (issue 11, phase 2): a desk's landed trade files load through the assets on the real
engine (chDB) exactly as a synthetic day does (stream, look-through, USD, partition swap), with the
source in the materialization metadata; every refusal fails the run naming what to fix and leaves the
loaded days as they were."""

import os
import subprocess
import sys
from datetime import date

import dagster as dg
import polars as pl
import pytest

from pipeline.assets import pivot, pivot_checks
from pipeline.landed_files.folders import content_digest
from pipeline.pivot.instruments import build_instruments
from pipeline.resources.generation import GenerationSettings
from pipeline.settings import DEFAULT_SEED, ENV_TRADE_SOURCE, trade_source
from tests.landed_files import base_trades, write_csv_rows, write_trades_csv

pytestmark = pytest.mark.slow

DAY = date(2024, 1, 16)  # every venue holds a full session
NEXT_DAY = date(2024, 1, 17)
SATURDAY = date(2024, 1, 20)  # every venue closed
REFERENCE = [pivot.instruments, pivot.constituents, pivot.fx_rates]
DAILY = [pivot.trades_1d, pivot.trades_1d_rollup]
LANDED = {"ops": {"pivot__trades_1d": {"config": {"source": "landed"}}}}
SYNTHETIC = {"ops": {"pivot__trades_1d": {"config": {"source": "synthetic", "trades_per_day": 400}}}}


@pytest.fixture(scope="module")
def instruments():
    return build_instruments(DEFAULT_SEED)


@pytest.fixture
def trades_dir(landing):
    directory = landing / "trades"
    directory.mkdir()
    return directory


@pytest.fixture
def store(clickhouse, landing):
    """A store with the reference data loaded, and the Dagster instance that loaded it."""
    with dg.instance_for_test() as instance:
        run(REFERENCE, clickhouse, instance)
        yield clickhouse, instance


def run(selection, clickhouse, instance, *, expect_success=True, **kwargs):
    result = dg.materialize(
        selection,
        resources={"clickhouse": clickhouse, "generation": GenerationSettings()},
        instance=instance,
        raise_on_error=False,
        **kwargs,
    )
    assert result.success is expect_success, _failure(result)
    return result


def _failure(result) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return "\n".join(str(e.step_failure_data.error.message) for e in failures) if failures else "no step failure"


def attempts(result, step: str = "pivot__trades_1d") -> int:
    """How many times the step ran: its first start and every retry."""
    started = ("STEP_START", "STEP_RESTARTED")
    return len([e for e in result.all_events if e.event_type_value in started and e.step_key == step])


def day_rows(clickhouse, day: date) -> pl.DataFrame:
    return clickhouse.query_polars(
        "SELECT trade_id, symbol, parent_symbol, toString(desk) AS desk, toString(exposure_type) AS exposure_type, "
        "is_constituent_exposure, weight, quantity, price, notional, pnl, notional_usd FROM pivot.trades_1d "
        "WHERE trade_date = {d:Date} ORDER BY trade_id, symbol",
        {"d": day},
    )


def load_landed(clickhouse, instance, day: date, **kwargs):
    return run(DAILY, clickhouse, instance, partition_key=str(day), run_config=LANDED, **kwargs)


def test_a_landed_day_loads_with_its_explosion_invariants_and_its_source(store, trades_dir, instruments):
    clickhouse, instance = store
    trades = base_trades(DAY, 1_500, instruments)
    trades.write_parquet(trades_dir / "book_2024-01-16.parquet")
    result = load_landed(clickhouse, instance, DAY)

    rows = day_rows(clickhouse, DAY)
    traded = rows.filter(pl.col("is_constituent_exposure") == 0)
    assert traded.height == trades.height
    assert sorted(traded["trade_id"].to_list()) == sorted(trades["trade_id"].to_list())
    assert traded["notional"].sum() == pytest.approx(trades["notional"].sum(), rel=1e-12)

    # Look-through of every composite trade, from the map in force that day.
    in_force = clickhouse.query_polars(
        "SELECT parent_symbol, constituent_symbol, weight AS map_weight, shares_per_unit FROM pivot.constituents "
        "WHERE effective_date <= {d:Date} AND expiry_date >= {d:Date}",
        {"d": DAY},
    )
    parents = traded.filter(pl.col("exposure_type").is_in(["ETF", "ETC"])).join(
        in_force.select("parent_symbol").unique(), left_on="symbol", right_on="parent_symbol", how="semi"
    )
    children = rows.filter(pl.col("is_constituent_exposure") == 1).join(
        parents.select("trade_id", pl.col("quantity").alias("parent_quantity"), pl.col("symbol").alias("parent")),
        on="trade_id",
    )
    assert parents.height > 0 and children.height > parents.height
    sums = children.group_by("trade_id").agg(pl.col("notional").sum().alias("children_notional"))
    joined = parents.join(sums, on="trade_id")
    assert joined.height == parents.height
    assert ((joined["children_notional"] - joined["notional"]).abs() <= 1e-9 * joined["notional"].abs()).all()
    with_map = children.join(
        in_force, left_on=["parent", "symbol"], right_on=["parent_symbol", "constituent_symbol"], how="inner"
    )
    assert with_map.height == children.height
    assert ((with_map["quantity"] - with_map["parent_quantity"] * with_map["shares_per_unit"]).abs() < 1e-9).all()
    assert (with_map["weight"] == with_map["map_weight"]).all()

    metadata = result.asset_materializations_for_node("pivot__trades_1d")[0].metadata
    assert metadata["pivot/source"].value == "landed"
    files = metadata["pivot/landed_files"].value
    assert "book_2024-01-16.parquet" in files and "1500" in files.replace(",", "")
    assert content_digest(trades_dir / "book_2024-01-16.parquet")[:12] in files
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_a_synthetic_day_says_synthetic_and_its_seed(store):
    clickhouse, instance = store
    result = run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    metadata = result.asset_materializations_for_node("pivot__trades_1d")[0].metadata
    assert metadata["pivot/source"].value == "synthetic"
    assert metadata["pivot/seed"].value == DEFAULT_SEED and metadata["pivot/trades_per_day"].value == 400


def test_a_new_desk_name_loads(store, trades_dir, instruments):
    clickhouse, instance = store
    trades = base_trades(DAY, 200, instruments).with_columns(
        desk=pl.lit("Rates Relative Value"), book=pl.lit("RRV-1"), counterparty=pl.lit("Brand New Bank")
    )
    write_trades_csv(trades_dir / "oms_export.csv", trades)
    load_landed(clickhouse, instance, DAY)
    assert set(day_rows(clickhouse, DAY)["desk"].to_list()) == {"Rates Relative Value"}


def test_a_day_without_files_fails_naming_folder_and_date_and_leaves_the_day(store, trades_dir, instruments):
    clickhouse, instance = store
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    before = day_rows(clickhouse, DAY)
    base_trades(NEXT_DAY, 100, instruments).write_parquet(trades_dir / "other_day.parquet")
    result = load_landed(clickhouse, instance, DAY, expect_success=False)
    message = _failure(result)
    assert f"no landed trades for {DAY}" in message and str(trades_dir) in message
    assert day_rows(clickhouse, DAY).equals(before)


def test_a_header_only_file_loads_a_day_never_loaded_empty(store, trades_dir, instruments):
    clickhouse, instance = store
    write_csv_rows(trades_dir / f"trades_{DAY}.csv", [base_trades(DAY, 1, instruments).columns])
    result = load_landed(clickhouse, instance, DAY)
    assert day_rows(clickhouse, DAY).is_empty()
    assert result.asset_materializations_for_node("pivot__trades_1d")[0].metadata["rows_loaded"].value == 0


ALLOW_EMPTY = {"ops": {"pivot__trades_1d": {"config": {"source": "landed", "allow_empty": True}}}}


def test_a_header_only_file_does_not_wipe_a_loaded_day_unless_the_run_allows_it(store, trades_dir, instruments):
    clickhouse, instance = store
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    before = day_rows(clickhouse, DAY)
    write_csv_rows(trades_dir / f"trades_{DAY}.csv", [base_trades(DAY, 1, instruments).columns])
    refused = load_landed(clickhouse, instance, DAY, expect_success=False)
    assert (
        f"Failure: landed trades refused, no trade date changed: {DAY} not replaced, the day left as it was: it holds "
        f"{before.height:,} rows now and the load would make it empty (the header-only landed file "
        f"trades_{DAY}.csv). An empty export is more often a failed one than a day without trades: export the day "
        f"again, or, if {DAY} really had no trades, run again with run config allow_empty: true\n"
    ) in _failure(refused)
    assert not [e for e in refused.all_events if e.event_type_value in ("STEP_UP_FOR_RETRY", "STEP_RESTARTED")]
    assert day_rows(clickhouse, DAY).equals(before)
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=ALLOW_EMPTY)
    assert day_rows(clickhouse, DAY).is_empty()


def test_an_empty_synthetic_day_does_not_wipe_a_loaded_day_either(store):
    clickhouse, instance = store
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    before = day_rows(clickhouse, DAY)
    zero = {"ops": {"pivot__trades_1d": {"config": {"source": "synthetic", "trades_per_day": 0}}}}
    refused = run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=zero, expect_success=False)
    assert f"it holds {before.height:,} rows now" in _failure(refused)
    assert "(synthetic, trades_per_day = 0)" in _failure(refused)
    assert day_rows(clickhouse, DAY).equals(before)


def test_an_all_venues_closed_day_loads_empty_without_a_file(store, trades_dir):
    clickhouse, instance = store
    result = load_landed(clickhouse, instance, SATURDAY)
    metadata = result.asset_materializations_for_node("pivot__trades_1d")[0].metadata
    assert metadata["market"].value == "all venues closed" and metadata["rows_loaded"].value == 0


def test_landed_trades_on_a_closed_day_load_and_the_check_warns_naming_venue_and_count(store, trades_dir, instruments):
    clickhouse, instance = store
    trades = base_trades(DAY, 300, instruments).with_columns(
        trade_date=pl.lit(SATURDAY), ts=pl.col("ts") + (SATURDAY - DAY)
    )
    trades.write_parquet(trades_dir / "weekend.parquet")
    result = run(
        [*DAILY, pivot_checks.landed_trades_on_closed_venues],
        clickhouse,
        instance,
        partition_key=str(SATURDAY),
        run_config=LANDED,
    )
    assert day_rows(clickhouse, SATURDAY).filter(pl.col("is_constituent_exposure") == 0).height == 300
    [evaluation] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == pivot_checks.LANDED_TRADES_ON_CLOSED_VENUES
    ]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    sample = evaluation.metadata["failing_rows_sample"].value
    assert "NYSE" in sample or "NASDAQ" in sample
    assert evaluation.metadata["trades_on_closed_venues"].value == 300


def test_a_refused_file_fails_the_run_once_with_what_to_fix_and_changes_nothing(store, trades_dir, instruments):
    clickhouse, instance = store
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    before = day_rows(clickhouse, DAY)
    trades = base_trades(DAY, 50, instruments).with_columns(symbol=pl.lit("NOPE"))
    trades.write_parquet(trades_dir / "typo.parquet")
    result = load_landed(clickhouse, instance, DAY, expect_success=False)
    message = _failure(result)
    assert "typo.parquet" in message and "NOPE (50 rows)" in message and "unknown to pivot.instruments" in message
    # Not retried: a refused file does not become valid by waiting.
    assert len([e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]) == 1
    assert attempts(result) == 1
    assert day_rows(clickhouse, DAY).equals(before)


def test_a_refusal_raised_inside_the_load_is_not_retried_either(store):
    # A rate no FX file could give (validated files refuse it), written straight into the store: the load
    # refuses it (a ValueError deep in the load, not one of the asset's own checks), once.
    clickhouse, instance = store
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    before = day_rows(clickhouse, DAY)
    rates = clickhouse.query_polars("SELECT rate_date, toString(currency) AS currency, rate_to_usd FROM pivot.fx_rates")
    broken = (pl.col("rate_date") == DAY) & (pl.col("currency") == "EUR")
    clickhouse.replace_table(
        "fx_rates", rates.with_columns(rate_to_usd=pl.when(broken).then(0.0).otherwise("rate_to_usd"))
    )
    try:
        result = run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC, expect_success=False)
    finally:
        clickhouse.replace_table("fx_rates", rates)
    assert f"unusable FX rate 'EUR'=0.0 on {DAY}" in _failure(result)
    assert attempts(result) == 1
    assert day_rows(clickhouse, DAY).equals(before)


def test_a_book_in_a_currency_without_synthetic_rates_loads_once_its_rates_land(store, trades_dir, instruments):
    clickhouse, instance = store
    landing = trades_dir.parent
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    before = day_rows(clickhouse, DAY)
    (landing / "instruments").mkdir()
    write_csv_rows(
        landing / "instruments" / "master.csv",
        [
            ["symbol", "name", "asset_class", "instrument_type", "currency", "exchange", "sector", "is_composite"],
            ["BHP", "BHP Group Ltd", "Equity", "Stock", "AUD", "ASX", "Materials", "0"],
        ],
    )
    trades = base_trades(DAY, 200, instruments)
    trades = trades.with_columns(symbol=pl.when(pl.int_range(pl.len()) < 40).then(pl.lit("BHP")).otherwise("symbol"))
    trades.write_parquet(trades_dir / "book.parquet")
    run(REFERENCE, clickhouse, instance)

    # No AUD rate yet: the load fails naming the currency and the date; the loaded day stays.
    message = _failure(load_landed(clickhouse, instance, DAY, expect_success=False))
    assert f"no FX rate to USD for AUD on {DAY}" in message and "$PIVOT_LANDING_DIR/fx/" in message
    assert day_rows(clickhouse, DAY).equals(before)

    (landing / "fx").mkdir()
    (landing / "fx" / "aud.csv").write_text(f"rate_date,currency,rate_to_usd\n{DAY},AUD,0.6651\n")
    run([pivot.fx_rates], clickhouse, instance)
    result = load_landed(clickhouse, instance, DAY)
    aud = day_rows(clickhouse, DAY).filter(pl.col("symbol") == "BHP")
    assert aud.height == 40 and (aud["notional_usd"] == aud["notional"] * 0.6651).all()
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_a_range_run_loads_each_landed_date_from_all_its_files(store, trades_dir, instruments):
    clickhouse, instance = store
    first = base_trades(DAY, 300, instruments)
    second = base_trades(NEXT_DAY, 200, instruments)
    pl.concat([first.head(100), second]).write_parquet(trades_dir / "a.parquet")
    first.tail(200).write_parquet(trades_dir / "b.parquet")
    run(
        DAILY,
        clickhouse,
        instance,
        run_config=LANDED,
        tags={"dagster/asset_partition_range_start": str(DAY), "dagster/asset_partition_range_end": str(NEXT_DAY)},
    )
    for day, count in ((DAY, 300), (NEXT_DAY, 200)):
        assert day_rows(clickhouse, day).filter(pl.col("is_constituent_exposure") == 0).height == count


def test_the_trade_source_defaults_to_pivot_trade_source_read_when_the_definitions_load(monkeypatch):
    probe = "from pipeline.assets.pivot import TradesConfig; print(TradesConfig().source)"
    for value, expected in ((None, "synthetic"), ("landed", "landed"), (" Landed ", "landed")):
        env = {k: v for k, v in os.environ.items() if k != ENV_TRADE_SOURCE}
        if value is not None:
            env[ENV_TRADE_SOURCE] = value
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip() == expected
    monkeypatch.setenv(ENV_TRADE_SOURCE, "csv")
    with pytest.raises(ValueError, match="PIVOT_TRADE_SOURCE='csv': choose one of synthetic, landed"):
        trade_source()


def test_a_file_the_load_would_not_read_fails_the_run_naming_it_in_message_and_metadata(
    store, trades_dir, instruments, monkeypatch
):
    clickhouse, instance = store
    run(DAILY, clickhouse, instance, partition_key=str(DAY), run_config=SYNTHETIC)
    before = day_rows(clickhouse, DAY)
    base_trades(DAY, 50, instruments).write_parquet(trades_dir / f"trades_{DAY}.parquet")
    (trades_dir / f"trades_{DAY}.tsv").write_text("trade_date\tsymbol\n")
    result = load_landed(clickhouse, instance, DAY, expect_success=False)
    assert f"trades_{DAY}.tsv (not one of" in _failure(result)
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    metadata = failure.step_failure_data.user_failure_data.metadata
    assert f"trades_{DAY}.tsv" in metadata["problems"].value and metadata["refused_path"].value == str(trades_dir)
    assert attempts(result) == 1 and day_rows(clickhouse, DAY).equals(before)
    # A file that has just changed is refused by the load itself (the sensor is not the only guard).
    (trades_dir / f"trades_{DAY}.tsv").unlink()
    monkeypatch.setenv("PIVOT_LANDED_SETTLE_SECONDS", "3600")
    result = load_landed(clickhouse, instance, DAY, expect_success=False)
    assert "settle window" in _failure(result) and day_rows(clickhouse, DAY).equals(before)
