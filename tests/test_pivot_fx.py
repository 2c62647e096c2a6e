"""The reporting currency: FX rates (synthetic and landed), USD columns on the real engine, the FX sensor,
and days on which every venue is closed."""

import re
from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest

from pipeline.assets import pivot
from pipeline.pivot.calendars import ALL_VENUES_CLOSED, sessions
from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.day_load import ReferenceData, load_trade_date, read_reference_data
from pipeline.pivot.fx import (
    FX_CURRENCIES,
    DayRates,
    InvalidFxFileError,
    MissingFxRateError,
    build_fx_rates,
    synthetic_rates,
    validate_fx_file,
)
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.trade_schema import FACT_SCHEMA
from pipeline.resources.generation import GenerationSettings
from pipeline.sensors import landed_fx
from pipeline.settings import DEFAULT_SEED
from tests.sensor_ticks import evaluate, settled_tick

DAY = date(2024, 1, 16)
TRADES = 3_000
FX_HEADER = "rate_date,currency,rate_to_usd\n"


# -- pure ---------------------------------------------------------------------------------------


def test_synthetic_rates_are_deterministic_smooth_and_usd_is_one():
    rates = synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date(2025, 12, 31))
    assert set(rates["currency"]) == set(FX_CURRENCIES)
    assert rates.equals(synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date(2025, 12, 31)))
    assert (rates.filter(pl.col("currency") == "USD")["rate_to_usd"] == 1.0).all()
    for currency, low, high in (("EUR", 0.9, 1.3), ("JPY", 0.005, 0.009), ("HKD", 0.1270, 0.1291)):
        series = rates.filter(pl.col("currency") == currency)["rate_to_usd"]
        assert low < series.min() and series.max() < high, currency
        assert (series.pct_change().drop_nulls().abs() < 0.01).all(), currency  # smooth day to day
    # A date's rate does not depend on the range asked for.
    one_day = synthetic_rates(DEFAULT_SEED, date(2025, 3, 3), date(2025, 3, 3))
    assert one_day.equals(rates.filter(pl.col("rate_date") == date(2025, 3, 3)))


@pytest.mark.parametrize(
    "body, message",
    [
        (FX_HEADER + "2024-01-16,HKD,-0.1\n", "line 2: rate_to_usd must be a positive finite number"),
        (FX_HEADER + "2024-01-16,HKD,0.128\n2024-01-16,EUR,inf\n", "line 3: rate_to_usd must be a positive finite"),
        (FX_HEADER + "2024-01-16,HKD,abc\n", "rate_to_usd='abc'"),
        (FX_HEADER + "2024-02-30,HKD,0.128\n", "line 2: rate_date is not an ISO date"),
        (FX_HEADER + "2024-01-16,XYZ,0.128\n", "line 2: currency 'XYZ' is not an ISO 4217 currency code"),
        (FX_HEADER + "2024-01-16,hkd,0.128\n", "currency 'hkd' is not an ISO 4217 code as written: write 'HKD'"),
        (FX_HEADER + "2024-01-16,USD,1.1\n", "USD is the reporting currency"),
        (FX_HEADER + "2024-01-16,HKD,0.128\n2024-01-16,HKD,0.129\n", "HKD on 2024-01-16 is given more than once"),
        ("date,currency,rate\n2024-01-16,HKD,0.128\n", "wrong columns"),
        ("", "the file is empty"),
    ],
)
def test_an_invalid_fx_file_is_refused_naming_file_and_line(tmp_path, body, message):
    path = tmp_path / "rates.csv"
    path.write_text(body)
    result = validate_fx_file(path)
    assert not result.is_valid
    assert "fx/rates.csv" in result.summary() and message in result.summary()


def test_a_landed_file_overrides_the_synthetic_rates_for_its_dates_only(tmp_path):
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "hkd.csv").write_text("currency,rate_date,rate_to_usd\nHKD,2024-01-16,0.1283\n")
    pl.DataFrame({"rate_date": [date(2024, 1, 17)], "currency": ["JPY"], "rate_to_usd": [0.0069]}).write_parquet(
        tmp_path / "fx" / "jpy.parquet"
    )
    rates, results = build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)
    assert [r.is_valid for r in results] == [True, True]

    def rate(day, currency):
        return rates.filter((pl.col("rate_date") == day) & (pl.col("currency") == currency))["rate_to_usd"].item()

    synthetic = synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31))
    assert rate(DAY, "HKD") == 0.1283 and rate(date(2024, 1, 17), "JPY") == 0.0069
    assert rates.height == synthetic.height
    assert (
        rates.join(synthetic, on=["rate_date", "currency"])
        .filter(pl.col("rate_to_usd") != pl.col("rate_to_usd_right"))
        .height
        == 2
    )

    (tmp_path / "fx" / "z_bad.csv").write_text(FX_HEADER + "2024-01-16,HKD,0\n")
    with pytest.raises(InvalidFxFileError, match=r"fx/z_bad.csv.*\n.*line 2"):
        build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)


# The README's example: JPY quoted as yen per dollar (147.5) where rates are USD per one yen (~0.0068).
JPY_UPSIDE_DOWN = FX_HEADER + "2024-01-16,JPY,147.5\n2024-01-17,JPY,147.9\n2024-01-16,HKD,0.1281\n"


def test_a_rate_quoted_upside_down_is_refused_naming_file_line_currency_date_and_both_rates(tmp_path):
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "jpy.csv").write_text(JPY_UPSIDE_DOWN)
    with pytest.raises(InvalidFxFileError) as refused:
        build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)
    message = str(refused.value)
    synthetic = synthetic_rates(DEFAULT_SEED, date(2024, 1, 15), date(2024, 1, 15))
    previous = synthetic.filter(pl.col("currency") == "JPY")["rate_to_usd"].item()
    assert "fx/jpy.csv: INVALID, nothing applied" in message
    assert (
        f"line 2: JPY on 2024-01-16: rate_to_usd 147.5 is {147.5 / previous - 1:,.0%} away from the synthetic rate "
        f"of 2024-01-15, {previous:.6g}: looks inverted or mis-scaled: rates are USD per one unit" in message
    )
    assert "line 3: JPY on 2024-01-17: rate_to_usd 147.9" in message  # every upside-down line, not only the first
    assert "HKD" not in message


def test_a_rate_far_from_the_previous_landed_rate_is_refused_and_a_confirmed_one_loads(tmp_path):
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "a.csv").write_text(FX_HEADER + "2024-01-16,EUR,1.0951\n")
    (tmp_path / "fx" / "b.csv").write_text(FX_HEADER + "2024-01-20,EUR,1.0951\n2024-01-22,EUR,1.45\n")
    with pytest.raises(
        InvalidFxFileError,
        match=r"fx/b.csv(.|\n)*line 3: EUR on 2024-01-22: rate_to_usd 1.45 is 32% "
        r"away from the rate of 2024-01-20 \(fx/b.csv line 2\), 1.0951: looks inverted",
    ):
        build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)
    # Within 25 % of the previous landed rate: loads.
    (tmp_path / "fx" / "b.csv").write_text(FX_HEADER + "2024-01-20,EUR,1.0951\n2024-01-22,EUR,1.30\n")
    build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)
    # Said to be meant on its line: loads, and the next rate is compared with it.
    (tmp_path / "fx" / "b.csv").write_text(
        "rate_date,currency,rate_to_usd,confirmed\n2024-01-20,EUR,1.0951,\n2024-01-22,EUR,1.45,yes\n"
        "2024-01-23,EUR,1.46,\n"
    )
    rates, _ = build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)
    assert rates.filter((pl.col("rate_date") == date(2024, 1, 23)) & (pl.col("currency") == "EUR"))[
        "rate_to_usd"
    ].to_list() == [1.46]
    (tmp_path / "fx" / "b.csv").write_text("rate_date,currency,rate_to_usd,confirmed\n2024-01-20,EUR,1.0951,maybe\n")
    with pytest.raises(InvalidFxFileError, match=r"line 2: confirmed is true, yes or 1, or false, no, 0 or empty"):
        build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)


def test_a_folder_settings_file_confirms_every_rate(tmp_path):
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "jpy.csv").write_text(JPY_UPSIDE_DOWN)
    (tmp_path / "fx" / "_format.toml").write_text("confirmed = true\n")
    rates, results = build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)
    assert [r.summary() for r in results] == ["fx/jpy.csv: valid, 3 rates (2024-01-16..2024-01-17)"]
    assert rates.filter((pl.col("rate_date") == DAY) & (pl.col("currency") == "JPY"))["rate_to_usd"].item() == 147.5
    (tmp_path / "fx" / "_format.toml").write_text('confirmed = "yes"\n')
    with pytest.raises(InvalidFxFileError, match=r"fx/_format.toml: confirmed = 'yes': write true or false"):
        build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)


def test_the_first_rate_of_a_currency_without_synthetic_rates_is_not_compared(tmp_path):
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "aud.csv").write_text(FX_HEADER + "2024-01-16,AUD,0.6651\n2024-01-17,AUD,1.51\n")
    with pytest.raises(
        InvalidFxFileError,
        match=r"line 3: AUD on 2024-01-17: rate_to_usd 1.51 .* from the rate of "
        r"2024-01-16 \(fx/aud.csv line 2\), 0.6651",
    ):
        build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)


@pytest.mark.slow
def test_an_upside_down_rate_fails_the_fx_run_once_and_changes_nothing(clickhouse, landing):
    resources = {"clickhouse": clickhouse, "generation": GenerationSettings()}
    with dg.instance_for_test() as instance:
        assert dg.materialize([pivot.fx_rates], resources=resources, instance=instance).success
        before = clickhouse.query_polars("SELECT * FROM pivot.fx_rates ORDER BY rate_date, currency")
        (landing / "fx").mkdir()
        (landing / "fx" / "jpy.csv").write_text(JPY_UPSIDE_DOWN)
        result = dg.materialize([pivot.fx_rates], resources=resources, instance=instance, raise_on_error=False)
        assert not result.success
        [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        assert "looks inverted or mis-scaled: rates are USD per one unit" in failure.step_failure_data.error.message
        assert "fx/jpy.csv" in failure.step_failure_data.error.message
        assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
        after = clickhouse.query_polars("SELECT * FROM pivot.fx_rates ORDER BY rate_date, currency")
        assert after.equals(before)


def test_the_usd_expressions_carry_every_rate_exactly_and_refuse_what_is_not_a_rate():
    rates = DayRates.of(synthetic_rates(DEFAULT_SEED, DAY, DAY), DAY)
    expressions = rates.usd_expressions()
    assert set(expressions) == {"notional_usd", "pnl_usd"}
    assert expressions["notional_usd"].startswith("notional * transform(currency, [")
    # The literals are the rates' shortest round-trip forms: each reads back to the same double.
    literals = re.search(r"\], \[([^\]]*)\]", expressions["pnl_usd"]).group(1).split(", ")
    assert [float(literal) for literal in literals] == rates.rates and len(rates.rates) == len(FX_CURRENCIES)
    # A date without rates converts nothing (NaN, which the load refuses by name).
    assert DayRates(DAY, [], []).usd_expressions()["notional_usd"] == "notional * nan"
    for currency, rate in (("HKD'] , 1) --", 0.128), ("HKD", float("nan")), ("HKD", 0.0)):
        with pytest.raises(ValueError, match="unusable FX rate"):
            DayRates(DAY, [currency], [rate]).usd_expressions()


# -- on the engine -----------------------------------------------------------------------------


def _store_with_reference(clickhouse, fx_rates: pl.DataFrame | None = None) -> ReferenceData:
    clickhouse.replace_table("instruments", build_instruments(DEFAULT_SEED))
    clickhouse.replace_table("constituents", build_constituents(DEFAULT_SEED))
    if fx_rates is None:
        fx_rates = synthetic_rates(DEFAULT_SEED, date(2024, 1, 1), date.today() + timedelta(days=6 * 366))
    clickhouse.replace_table("fx_rates", fx_rates)
    return read_reference_data(clickhouse)


def _rate(reference: ReferenceData, day: date, currency: str) -> float:
    fx = reference.fx_rates
    return fx.filter((pl.col("rate_date") == day) & (pl.col("currency") == currency))["rate_to_usd"].item()


def _day(clickhouse, day: date) -> pl.DataFrame:
    return clickhouse.query_polars(
        "SELECT trade_id, symbol, toString(currency) AS currency, toString(exposure_type) AS exposure_type, "
        "is_constituent_exposure, weight, notional, pnl, notional_usd, pnl_usd FROM pivot.trades_1d "
        "WHERE trade_date = {d:Date}",
        {"d": day},
    )


@pytest.fixture(scope="module")
def loaded_day(clickhouse_module):
    reference = _store_with_reference(clickhouse_module)
    load = load_trade_date(clickhouse_module, DAY, reference, trades_per_day=TRADES, seed=DEFAULT_SEED)
    return clickhouse_module, reference, load, _day(clickhouse_module, DAY)


def test_usd_rows_are_exactly_equal_and_hkd_converts_at_the_days_rate(loaded_day):
    _, reference, load, rows = loaded_day
    usd = rows.filter(pl.col("currency") == "USD")
    assert usd.height > 0
    assert (usd["notional_usd"] == usd["notional"]).all() and (usd["pnl_usd"] == usd["pnl"]).all()
    hkd = rows.filter(pl.col("currency") == "HKD")
    rate = _rate(reference, DAY, "HKD")
    assert hkd.height > 0 and 0.12 < rate < 0.13
    assert (hkd["notional_usd"] == hkd["notional"] * rate).all()
    assert (hkd["pnl_usd"] == hkd["pnl"] * rate).all()
    assert load.notional_usd != pytest.approx(load.notional, rel=1e-3)  # mixed currencies no longer add up raw


def test_every_row_is_its_amount_times_its_currencys_rate_to_the_last_bit(loaded_day):
    clickhouse, reference, _, rows = loaded_day
    # In Python: the rates as pivot.fx_rates holds them, multiplied as IEEE doubles.
    day_rates = reference.fx_rates.filter(pl.col("rate_date") == DAY).select(
        pl.col("currency").cast(pl.String), "rate_to_usd"
    )
    joined = rows.join(day_rates, on="currency", how="left")
    assert joined["rate_to_usd"].null_count() == 0 and joined["currency"].n_unique() >= 5
    assert (joined["notional_usd"] == joined["notional"] * joined["rate_to_usd"]).all()
    assert (joined["pnl_usd"] == joined["pnl"] * joined["rate_to_usd"]).all()
    # In the engine: against pivot.fx_rates itself.
    differing, matched = clickhouse.query_rows(
        "SELECT countIf(t.notional_usd != t.notional * r.rate_to_usd OR t.pnl_usd != t.pnl * r.rate_to_usd), "
        "count() FROM pivot.trades_1d AS t INNER JOIN pivot.fx_rates AS r "
        "ON r.rate_date = t.trade_date AND r.currency = t.currency WHERE t.trade_date = {d:Date}",
        {"d": DAY},
    )[0]
    assert (differing, matched) == (0, rows.height)
    # The conversion rule lives on the load's staging table only: the fact keeps plain columns.
    defaults = clickhouse.query_rows(
        "SELECT name, default_expression FROM system.columns WHERE database = {db:String} "
        "AND table = 'trades_1d' AND name IN ('notional_usd', 'pnl_usd')",
        {"db": clickhouse.database},
    )
    assert sorted(defaults) == [("notional_usd", ""), ("pnl_usd", "")]


def test_constituent_rows_usd_add_up_to_the_parents_usd_times_the_weights(loaded_day):
    _, _, _, rows = loaded_day
    parents = rows.filter(pl.col("exposure_type").is_in(["ETF", "ETC"]))
    children = (
        rows.filter(pl.col("is_constituent_exposure") == 1)
        .group_by("trade_id")
        .agg(pl.col("notional_usd").sum().alias("children_usd"), pl.col("weight").sum().alias("weights"))
    )
    joined = parents.join(children, on="trade_id")
    assert joined.height == parents.height > 0
    expected = joined["notional_usd"] * joined["weights"]
    assert ((joined["children_usd"] - expected).abs() <= 1e-9 * expected.abs()).all()
    # A constituent row carries its parent trade's currency (its amounts are shares of the parent's).
    children_currency = rows.filter(pl.col("is_constituent_exposure") == 1).join(
        parents.select("trade_id", pl.col("currency").alias("parent_currency")), on="trade_id"
    )
    assert (children_currency["currency"] == children_currency["parent_currency"]).all()


def test_a_missing_rate_fails_the_load_naming_currencies_and_date_and_leaves_the_day(loaded_day):
    clickhouse, reference, _, before = loaded_day
    without = ReferenceData(
        reference.instruments,
        reference.constituents,
        reference.fx_rates.filter(~((pl.col("rate_date") == DAY) & pl.col("currency").is_in(["HKD", "JPY"]))),
    )
    with pytest.raises(MissingFxRateError, match=r"no FX rate to USD for HKD, JPY on 2024-01-16"):
        load_trade_date(clickhouse, DAY, without, trades_per_day=TRADES, seed=DEFAULT_SEED)
    assert _day(clickhouse, DAY).sort("trade_id", "symbol").equals(before.sort("trade_id", "symbol"))


def test_a_landed_rate_overrides_the_synthetic_one_in_the_load(loaded_day, tmp_path):
    clickhouse, reference, _, _ = loaded_day
    (tmp_path / "fx").mkdir()
    (tmp_path / "fx" / "hkd.csv").write_text(FX_HEADER + f"{DAY},HKD,0.1283\n")
    rates, _ = build_fx_rates(DEFAULT_SEED, date(2024, 1, 1), date(2024, 1, 31), tmp_path)
    clickhouse.replace_table("fx_rates", rates)
    try:
        load_trade_date(clickhouse, DAY, read_reference_data(clickhouse), trades_per_day=TRADES, seed=DEFAULT_SEED)
        hkd = _day(clickhouse, DAY).filter(pl.col("currency") == "HKD")
        assert (hkd["notional_usd"] == hkd["notional"] * 0.1283).all()
    finally:
        clickhouse.replace_table("fx_rates", reference.fx_rates)
        load_trade_date(clickhouse, DAY, reference, trades_per_day=TRADES, seed=DEFAULT_SEED)


def test_a_day_five_years_ahead_loads_end_to_end(loaded_day):
    clickhouse, reference, _, _ = loaded_day
    day = date.today() + timedelta(days=5 * 366)
    while sessions(["NYSE"], day)["NYSE"] is None:
        day += timedelta(days=1)
    load = load_trade_date(clickhouse, day, reference, trades_per_day=500, seed=DEFAULT_SEED)
    assert load.parent_rows == 500 and load.constituent_rows > 0 and load.notional_usd != 0
    spy = _day(clickhouse, day).filter(pl.col("exposure_type") == "Constituent")
    assert spy.height == load.constituent_rows


def test_an_old_store_gets_the_usd_columns_in_place(clickhouse):
    for table in ("trades_1d", "trades_1d_rollup"):
        for column in ("notional_usd", "pnl_usd", "notional_usd_state", "pnl_usd_state"):
            clickhouse.command(f"ALTER TABLE pivot.{table} DROP COLUMN IF EXISTS {column}")
    clickhouse.apply_ddl()
    columns = clickhouse.query_rows(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = 'trades_1d' ORDER BY position",
        {"db": clickhouse.database},
    )
    assert [c for (c,) in columns] == list(FACT_SCHEMA)
    rollup = clickhouse.query_rows(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = 'trades_1d_rollup' ORDER BY position",
        {"db": clickhouse.database},
    )
    names = [c for (c,) in rollup]
    assert names[names.index("pnl_state") + 1 : names.index("pnl_state") + 3] == ["notional_usd_state", "pnl_usd_state"]


@pytest.mark.slow
def test_a_day_every_venue_is_closed_is_an_empty_partition(clickhouse, landing):
    resources = {"clickhouse": clickhouse, "generation": GenerationSettings()}
    with dg.instance_for_test() as instance:
        assert dg.materialize(
            [pivot.instruments, pivot.constituents, pivot.fx_rates], resources=resources, instance=instance
        ).success
        result = dg.materialize(
            [pivot.trades_1d, pivot.trades_1d_rollup],
            resources=resources,
            instance=instance,
            partition_key="2024-01-13",  # a Saturday
            run_config={"ops": {"pivot__trades_1d": {"config": {"trades_per_day": 500}}}},
        )
        assert result.success
        metadata = result.asset_materializations_for_node("pivot__trades_1d")[0].metadata
        assert metadata["market"].value == ALL_VENUES_CLOSED
        assert metadata["rows_loaded"].value == 0 and metadata["dagster/partition_row_count"].value == 0
        assert "2024-01-13" in instance.get_materialized_partitions(pivot.trades_1d.key)


# -- the FX sensor -----------------------------------------------------------------------------


def _evaluate(instance, cursor=None):
    return evaluate(landed_fx.pivot_landed_fx_rates, instance, cursor)


def _tick(instance, cursor=None):
    return settled_tick(landed_fx.pivot_landed_fx_rates, instance, cursor)


def test_the_fx_sensor_reads_no_file_still_being_written(landing):
    (landing / "fx").mkdir()
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(pivot.trades_1d.key, partition=str(DAY)))
        (landing / "fx" / "eur.csv").write_text(FX_HEADER + f"{DAY},EUR,")  # the copy has not finished
        first = _evaluate(instance)
        assert not first.run_requests and "waiting for fx/eur.csv: first seen" in first.skip_reason.skip_message
        (landing / "fx" / "eur.csv").write_text(FX_HEADER + f"{DAY},EUR,1.0951\n")
        growing = _evaluate(instance, first.cursor)
        assert "waiting for fx/eur.csv: changed since the last tick" in growing.skip_reason.skip_message
        [request] = _evaluate(instance, growing.cursor).run_requests
        assert request.tags["dagster/asset_partition_range_start"] == str(DAY)


def test_the_fx_sensor_reloads_rates_and_the_dates_a_file_changes(landing):
    (landing / "fx").mkdir()
    with dg.instance_for_test() as instance:
        for key in ("2024-01-12", "2024-01-16", "2024-01-17", "2024-03-01"):
            instance.report_runless_asset_event(dg.AssetMaterialization(pivot.trades_1d.key, partition=key))
        assert _tick(instance).skip_reason is not None

        (landing / "fx" / "jan.csv").write_text(FX_HEADER + "2024-01-16,HKD,0.1283\n2024-01-17,JPY,0.0069\n")
        result = _tick(instance)
        (request,) = result.run_requests
        assert set(request.asset_selection) == {pivot.fx_rates.key, pivot.trades_1d.key, pivot.trades_1d_rollup.key}
        assert request.tags["dagster/asset_partition_range_start"] == "2024-01-16"
        assert request.tags["dagster/asset_partition_range_end"] == "2024-01-17"
        assert _tick(instance, result.cursor).run_requests == []  # each version once

        (landing / "fx" / "jan.csv").write_text(FX_HEADER + "2024-01-16,HKD,0.1284\n")  # shortened: 01-17 reverts
        changed = _tick(instance, result.cursor)
        assert changed.run_requests[0].tags["dagster/asset_partition_range_end"] == "2024-01-17"

        (landing / "fx" / "bad.csv").write_text(FX_HEADER + "2024-01-16,EUR,-1\n")
        rejected = _tick(instance, changed.cursor)
        assert rejected.run_requests == [] and "fx/bad.csv" in rejected.skip_reason.skip_message
        assert "line 2" in rejected.skip_reason.skip_message

        (landing / "fx" / "bad.csv").unlink()
        (landing / "fx" / "jan.csv").unlink()
        removed = _tick(instance, rejected.cursor)
        assert removed.run_requests[0].tags["dagster/asset_partition_range_start"] == "2024-01-16"
