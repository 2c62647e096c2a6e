"""The instrument universe and the constituent maps, on their own (no Dagster, no database)."""

from datetime import date, timedelta

import polars as pl
import pytest

from pipeline.pivot.constituents import MAP_OPEN_ENDED_EXPIRY, build_constituents
from pipeline.pivot.explosion import constituents_in_force
from pipeline.pivot.instruments import build_instruments, closing_prices
from pipeline.settings import DEFAULT_SEED


@pytest.fixture(scope="module")
def instruments():
    return build_instruments(DEFAULT_SEED)


@pytest.fixture(scope="module")
def constituents():
    return build_constituents(DEFAULT_SEED)


def test_universe_is_broad_and_unique(instruments):
    assert instruments["symbol"].is_unique().all()
    counts = dict(instruments.group_by("instrument_type").len().iter_rows())
    assert counts["Stock"] >= 500
    assert {"ETF", "ETC", "Commodity", "Index", "Future", "Option"} <= set(counts)
    stocks = instruments.filter(pl.col("instrument_type") == "Stock")
    assert {"AAPL", "MSFT", "GOOGL", "AMZN"} <= set(stocks["symbol"])
    assert stocks["sector"].n_unique() == 11
    assert {"USD", "EUR", "GBP", "JPY"} <= set(stocks["currency"])
    composites = set(instruments.filter(pl.col("is_composite") == 1)["symbol"])
    assert {"SPY", "QQQ", "GLD", "SLV", "PMET"} <= composites


def test_derivatives_point_at_listed_underlyings(instruments):
    symbols = set(instruments["symbol"])
    derivatives = instruments.filter(pl.col("instrument_type").is_in(["Future", "Option"]))
    assert derivatives.height > 0
    assert set(derivatives["underlying_symbol"]) <= symbols
    assert (derivatives["underlying_symbol"] != derivatives["symbol"]).all()


def test_spy_matches_the_spec_on_every_date(constituents):
    for day in (date(2024, 1, 15), date(2025, 8, 1), date(2026, 11, 20)):
        spy = constituents_in_force(constituents, day).filter(pl.col("parent_symbol") == "SPY")
        assert spy.height >= 500
        weights = dict(zip(spy["constituent_symbol"], spy["weight"]))
        assert weights["AAPL"] == 0.07 and weights["MSFT"] == 0.065
        assert weights["GOOGL"] == 0.04 and weights["AMZN"] == 0.035
        assert max(w for s, w in weights.items() if s not in ("AAPL", "MSFT", "GOOGL", "AMZN")) < 0.035


def test_etc_maps_match_the_spec(constituents):
    day = date(2024, 1, 15)
    in_force = constituents_in_force(constituents, day)

    def holdings(parent):
        rows = in_force.filter(pl.col("parent_symbol") == parent)
        return dict(zip(rows["constituent_symbol"], rows["weight"]))

    assert holdings("GLD") == {"GOLD": 1.0}
    assert holdings("SLV") == {"SILVER": 1.0}
    assert holdings("PMET") == {"GOLD": 0.5, "SILVER": 0.3, "PLAT": 0.2}


def test_weights_sum_to_one_per_parent_and_period(constituents):
    sums = constituents.group_by("parent_symbol", "effective_date").agg(pl.col("weight").sum())
    assert sums.height > 20
    assert (sums["weight"] - 1.0).abs().max() < 1e-9
    assert constituents.select((pl.col("weight") > 0).all() & (pl.col("shares_per_unit") > 0).all()).item()


def test_periods_tile_time_without_overlap(constituents):
    periods = (
        constituents.select("parent_symbol", "effective_date", "expiry_date")
        .unique()
        .sort("parent_symbol", "effective_date")
    )
    for _, group in periods.group_by("parent_symbol"):
        starts, ends = group["effective_date"].to_list(), group["expiry_date"].to_list()
        assert ends[-1] == MAP_OPEN_ENDED_EXPIRY
        assert all(end + timedelta(days=1) == nxt for end, nxt in zip(ends[:-1], starts[1:]))


def test_spy_is_rebalanced_with_membership_changes(constituents):
    before = constituents_in_force(constituents, date(2024, 3, 29)).filter(pl.col("parent_symbol") == "SPY")
    after = constituents_in_force(constituents, date(2024, 4, 1)).filter(pl.col("parent_symbol") == "SPY")
    assert set(before["constituent_symbol"]) != set(after["constituent_symbol"])
    assert before.height == after.height == 503


def test_shares_per_unit_price_the_weight(constituents):
    """A parent unit's look-through value equals its price on the effective date."""
    spy = constituents.filter((pl.col("parent_symbol") == "SPY") & (pl.col("effective_date") == date(2024, 1, 1)))
    prices = closing_prices(DEFAULT_SEED, date(2024, 1, 1))
    valued = spy.join(prices, left_on="constituent_symbol", right_on="symbol")
    spy_price = prices.filter(pl.col("symbol") == "SPY")["close_price"].item()
    assert (valued["shares_per_unit"] * valued["close_price"]).sum() == pytest.approx(spy_price, rel=1e-6)


def test_reference_data_is_deterministic():
    assert build_instruments(7).equals(build_instruments(7))
    assert build_constituents(7).equals(build_constituents(7))
    assert not build_instruments(7).equals(build_instruments(8))


def test_prices_move_continuously():
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(60)]
    path = [closing_prices(DEFAULT_SEED, d, ["AAPL"])["close_price"].item() for d in days]
    moves = [abs(b / a - 1) for a, b in zip(path, path[1:])]
    assert max(moves) < 0.1
    assert len(set(path)) > 50


def test_prices_and_rebalances_cover_a_date_five_years_ahead(constituents):
    """The price path has no end and the SPY family keeps rebalancing every quarter to the horizon."""
    ahead = date.today() + timedelta(days=5 * 366)
    price = closing_prices(DEFAULT_SEED, ahead, ["AAPL", "SPY"])
    assert (price["close_price"] > 0).all()
    spy = constituents_in_force(constituents, ahead).filter(pl.col("parent_symbol") == "SPY")
    effective = constituents.filter(
        (pl.col("parent_symbol") == "SPY") & (pl.col("effective_date") <= ahead) & (pl.col("expiry_date") >= ahead)
    )["effective_date"].max()
    assert spy.height == 503 and (ahead - effective).days < 93


def test_a_price_does_not_depend_on_which_other_dates_were_asked_for():
    day = date(2024, 6, 3)
    first = closing_prices(DEFAULT_SEED, day, ["AAPL"])["close_price"].item()
    closing_prices(DEFAULT_SEED, date(2040, 1, 2), ["AAPL"])
    assert closing_prices(DEFAULT_SEED, day, ["AAPL"])["close_price"].item() == first
    # Continuous across a year boundary too.
    year_end = closing_prices(DEFAULT_SEED, date(2024, 12, 31), ["AAPL"])["close_price"].item()
    new_year = closing_prices(DEFAULT_SEED, date(2025, 1, 1), ["AAPL"])["close_price"].item()
    assert abs(new_year / year_end - 1) < 0.1
