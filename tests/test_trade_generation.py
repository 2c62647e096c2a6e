"""Trade generation on its own: determinism, consistency and value ranges."""

from datetime import date, timedelta

import polars as pl
import pytest

from pipeline.pivot.calendars import sessions
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.trade_generation import generate_trade_chunks, generate_trades, organisation, trades_on
from pipeline.pivot.trade_schema import (
    LOW_CARDINALITY,
    RISK_BUCKETS,
    SCENARIOS,
    TRADE_SCHEMA,
    VENUES_BY_EXCHANGE,
    conform_to_schema,
)
from pipeline.pivot.universe_lists import COUNTRY_REGION
from pipeline.settings import DEFAULT_SEED

DAY = date(2024, 1, 16)  # a day every venue holds a full session (2024-01-15 is a US holiday)


@pytest.fixture(scope="module")
def instruments():
    return build_instruments(DEFAULT_SEED)


@pytest.fixture(scope="module")
def trades(instruments):
    return generate_trades(DAY, 20_000, instruments, DEFAULT_SEED)


def test_schema_and_size(trades):
    assert trades.height == 20_000
    assert dict(trades.schema) == TRADE_SCHEMA
    assert trades.null_count().sum_horizontal().item() == 0


def test_partition_is_a_pure_function_of_seed_date_and_config(instruments, trades):
    assert generate_trades(DAY, 20_000, instruments, DEFAULT_SEED).equals(trades)
    assert not generate_trades(DAY, 20_000, instruments, DEFAULT_SEED + 1).equals(trades)
    assert not generate_trades(date(2024, 1, 17), 20_000, instruments, DEFAULT_SEED).equals(trades)


def test_trade_ids_are_unique_across_days(instruments, trades):
    next_day = generate_trades(date(2024, 1, 17), 20_000, instruments, DEFAULT_SEED)
    ids = pl.concat([trades["trade_id"], next_day["trade_id"]])
    assert ids.is_unique().all()


def test_organisation_is_a_hierarchy(trades):
    for child, parent in (
        ("account_id", "portfolio_id"),
        ("portfolio_id", "fund_id"),
        ("fund_id", "portfolio_manager_id"),
    ):
        assert trades.group_by(child).agg(pl.col(parent).n_unique())[parent].max() == 1
    assert trades.group_by("portfolio_id").agg(pl.col("book").n_unique())["book"].max() == 1
    assert trades.group_by("portfolio_manager_id").agg(pl.col("desk").n_unique())["desk"].max() == 1
    assert set(trades["account_id"]) <= set(organisation(DEFAULT_SEED)["account_id"])


def test_orders_have_one_account_instrument_and_side(trades):
    per_order = trades.group_by("order_id").agg(
        pl.col("account_id").n_unique(), pl.col("symbol").n_unique(), pl.col("quantity").sign().n_unique()
    )
    assert per_order.select(pl.exclude("order_id").max()).row(0) == (1, 1, 1)


def test_geography_agrees_with_instrument(trades, instruments):
    joined = trades.join(
        instruments.select(
            "symbol",
            "exchange",
            pl.col("country").alias("listed_country"),
            "asset_class",
            "sector",
            "currency",
            "instrument_type",
        ),
        on="symbol",
        suffix="_ref",
    )
    assert (joined["country"].cast(pl.String) == joined["listed_country"]).all()
    assert all(COUNTRY_REGION[c] == r for c, r in joined.select("country", "region").unique().iter_rows())
    assert all(v in VENUES_BY_EXCHANGE[e] for e, v in joined.select("exchange", "venue").unique().iter_rows())
    for column in ("asset_class", "sector", "currency", "instrument_type"):
        assert (joined[column].cast(pl.String) == joined[f"{column}_ref"]).all()


def test_values_are_consistent(trades):
    assert ((trades["notional"] - trades["quantity"] * trades["price"]).abs() < 1e-6).all()
    assert (trades["price"] > 0).all() and (trades["quantity"] != 0).all()
    assert set(trades["risk_bucket"].cast(pl.String)) <= set(RISK_BUCKETS)
    assert set(trades["scenario"].cast(pl.String)) == set(SCENARIOS)
    assert (trades["weight"] == 1.0).all() and (trades["is_constituent_exposure"] == 0).all()
    assert (trades["underlying_symbol"] == trades["symbol"]).all()
    assert (trades["parent_symbol"] == "").all()
    assert (trades["fees"] >= 0).all() and (trades["margin"] >= 0).all()


def test_exposure_types_follow_instrument_types(trades):
    pairs = set(
        trades.select(pl.col("instrument_type").cast(pl.String), pl.col("exposure_type").cast(pl.String))
        .unique()
        .iter_rows()
    )
    assert ("ETF", "ETF") in pairs and ("ETC", "ETC") in pairs and ("Stock", "Direct") in pairs
    assert all(exposure == {"ETF": "ETF", "ETC": "ETC"}.get(kind, "Direct") for kind, exposure in pairs)


def test_greeks_only_for_options_and_in_range(trades):
    options = trades.filter(pl.col("instrument_type") == "Option")
    others = trades.filter(pl.col("instrument_type") != "Option")
    assert options.height > 0
    assert options["delta"].is_between(-1, 1).all()
    assert options["gamma"].is_between(0, 0.1).all()
    assert (options["theta"] <= 0).all() and (options["vega"] >= 0).all()
    assert (options["delta"] < 0).any() and (options["delta"] > 0).any()
    assert others.select(pl.max_horizontal(pl.col("delta", "gamma", "vega", "theta", "rho").abs().max())).item() == 0


def _session_bounds(trades: pl.DataFrame, day: date) -> pl.DataFrame:
    instruments = build_instruments(DEFAULT_SEED).select("symbol", "exchange")
    bounds = []
    for exchange, found in sessions(instruments["exchange"].unique().to_list(), day).items():
        if found:
            bounds.append((exchange, found.open_ms, found.close_ms, found.break_start_ms, found.break_end_ms))
    frame = pl.DataFrame(bounds, schema=["exchange", "open_ms", "close_ms", "break_start", "break_end"], orient="row")
    return (
        trades.join(instruments, on="symbol", how="left")
        .join(frame, on="exchange", how="left")
        .with_columns(ts_ms=pl.col("ts").dt.epoch("ms"))
    )


@pytest.mark.parametrize("day", [DAY, date(2024, 11, 29), date(2024, 3, 11)])  # full day, half day, US DST
def test_timestamps_fall_inside_the_session_of_the_instruments_exchange(instruments, day):
    trades = generate_trades(day, 20_000, instruments, DEFAULT_SEED)
    checked = _session_bounds(trades, day)
    assert checked["open_ms"].null_count() == 0, "a trade on an exchange without a session"
    assert (
        checked.select((pl.col("ts_ms") >= pl.col("open_ms")) & (pl.col("ts_ms") <= pl.col("close_ms")))
        .to_series()
        .all()
    )
    in_break = (pl.col("ts_ms") >= pl.col("break_start")) & (pl.col("ts_ms") < pl.col("break_end"))
    assert checked.filter(in_break).height == 0, "a trade during a lunch break"
    # Tokyo and Hong Kong trade in their morning and afternoon sessions, New York in its own hours.
    by_exchange = checked.group_by("exchange").agg(pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
    nyse = by_exchange.filter(pl.col("exchange") == "NYSE").row(0, named=True)
    assert nyse["first"].hour >= 13 and nyse["last"].hour <= 21


def test_a_day_every_venue_is_closed_has_no_trades(instruments):
    for closed in (date(2024, 1, 13), date(2024, 1, 14), date(2024, 1, 1), date(2025, 1, 1)):
        assert trades_on(closed, 20_000, instruments) == 0
        assert list(generate_trade_chunks(closed, 20_000, instruments, DEFAULT_SEED)) == []


def test_a_japanese_holiday_has_no_tse_trades_while_nyse_trades(instruments):
    holiday = date(2024, 2, 12)  # Japan: National Foundation Day (observed); a US trading day
    assert sessions(["TSE", "NYSE"], holiday) == {"TSE": None, "NYSE": sessions(["NYSE"], holiday)["NYSE"]}
    trades = generate_trades(holiday, 20_000, instruments, DEFAULT_SEED)
    exchanges = _session_bounds(trades, holiday)["exchange"].value_counts()
    counts = dict(exchanges.iter_rows())
    assert "TSE" not in counts and counts["NYSE"] > 1_000
    # Fewer trades than a full day (Tokyo's and Hong Kong's share is missing), none invented elsewhere.
    assert trades.height == trades_on(holiday, 20_000, instruments) < 20_000


def test_a_us_holiday_keeps_only_the_open_venues_flow(instruments):
    holiday = date(2024, 1, 15)  # Martin Luther King Jr. Day: NYSE closed, London and Tokyo open
    trades = _session_bounds(generate_trades(holiday, 20_000, instruments, DEFAULT_SEED), holiday)
    counts = dict(trades["exchange"].value_counts().iter_rows())
    assert not {"NYSE", "NASDAQ", "ARCA", "CBOE"} & set(counts)
    assert counts["LSE"] > 0 and counts["TSE"] > 0


def test_a_half_day_has_fewer_trades(instruments):
    assert trades_on(date(2024, 11, 29), 20_000, instruments) < trades_on(DAY, 20_000, instruments) == 20_000


def test_a_day_five_years_ahead_generates(instruments):
    ahead = date.today().replace(year=date.today().year + 5, day=1) if date.today().day > 28 else date.today()
    ahead = ahead.replace(year=date.today().year + 5)
    for offset in range(10):
        day = ahead + timedelta(days=offset)
        if sessions(["NYSE"], day)["NYSE"]:
            break
    trades = generate_trades(day, 5_000, instruments, DEFAULT_SEED)
    assert trades.height > 0 and (trades["price"] > 0).all()


@pytest.mark.parametrize("bad", [-1, 10**12])
def test_absurd_trade_counts_are_refused(instruments, bad):
    with pytest.raises(ValueError, match="trades_per_day"):
        generate_trades(DAY, bad, instruments, DEFAULT_SEED)


def test_zero_trades_is_an_empty_day(instruments):
    empty = generate_trades(DAY, 0, instruments, DEFAULT_SEED)
    assert empty.height == 0 and dict(empty.schema) == TRADE_SCHEMA


def test_day_is_generated_in_independent_chunks(instruments):
    chunked = generate_trades(DAY, 20_000, instruments, DEFAULT_SEED, chunk_trades=3_000)
    chunks = list(generate_trade_chunks(DAY, 20_000, instruments, DEFAULT_SEED, chunk_trades=3_000))
    assert [c.height for c in chunks] == [3_000] * 6 + [2_000]
    assert pl.concat(chunks).equals(chunked)
    # A chunk depends only on (seed, date, its index): the first chunk of a bigger day is a smaller day.
    assert chunks[0].equals(generate_trades(DAY, 3_000, instruments, DEFAULT_SEED, chunk_trades=3_000))
    # Trade ids stay one sequence over the day; orders never span chunks and keep one
    # account, instrument and side.
    assert (chunked["trade_id"] % 10_000_000_000).to_list() == list(range(1, 20_001))
    per_order = chunked.group_by("order_id").agg(
        pl.col("account_id").n_unique(),
        pl.col("symbol").n_unique(),
        pl.col("quantity").sign().n_unique(),
        ((pl.col("trade_id") % 10_000_000_000 - 1) // 3_000).n_unique().alias("chunks"),
    )
    assert per_order.select(pl.exclude("order_id").max()).row(0) == (1, 1, 1, 1)


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 7])
def test_the_universe_stays_inside_the_fact_vocabularies(seed):
    """Every LowCardinality value an instrument can bring is in its column's Enum (else loads fail)."""
    universe = build_instruments(seed)
    for column in ("asset_class", "product", "instrument_type", "currency", "sector", "country"):
        values = set(universe[column].cast(pl.String).to_list())
        assert values <= set(LOW_CARDINALITY[column].categories.to_list()), column
    accounts = organisation(seed)
    for column in ("desk", "book", "strategy"):
        assert set(accounts[column].cast(pl.String).to_list()) <= set(LOW_CARDINALITY[column].categories.to_list())


def test_open_vocabularies_take_new_values_and_a_closed_one_refuses_by_name(trades):
    # A real book brings desks and sectors nobody listed in advance (issue 11): they load.
    opened = conform_to_schema(trades.head(3).with_columns(sector=pl.lit("Crypto"), desk=pl.lit("Rates Desk")))
    assert opened["sector"].to_list() == ["Crypto"] * 3 and opened["desk"].to_list() == ["Rates Desk"] * 3
    # The region is the pipeline's own closed vocabulary (AMER, EMEA, APAC).
    with pytest.raises(pl.exceptions.InvalidOperationError, match=r"region.*Mars"):
        conform_to_schema(trades.head(3).with_columns(region=pl.lit("Mars")))
