"""Look-through explosion on its own: the invariants of the spec's example."""

from datetime import date

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.pivot.constituents import build_constituents
from pipeline.pivot.explosion import constituents_in_force, explode_constituents, streamed_day, trades_with_look_through
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.trade_generation import generate_trade_chunks, generate_trades
from pipeline.pivot.trade_schema import TRADE_SCHEMA, WEIGHTED_MEASURES
from pipeline.settings import DEFAULT_SEED

DAY = date(2024, 1, 16)  # a day every venue holds a full session (2024-01-15 is a US holiday)


@pytest.fixture(scope="module")
def reference():
    return build_instruments(DEFAULT_SEED), build_constituents(DEFAULT_SEED)


@pytest.fixture(scope="module")
def day(reference):
    instruments, constituents = reference
    trades = generate_trades(DAY, 5_000, instruments, DEFAULT_SEED)
    exploded = pl.concat(list(trades_with_look_through(trades, constituents, instruments, DAY, chunk_rows=20_000)))
    return trades, exploded


def _parents_and_children(exploded):
    parents = exploded.filter(pl.col("exposure_type").cast(pl.String).is_in(["ETF", "ETC"]))
    children = exploded.filter(pl.col("exposure_type") == "Constituent")
    return parents, children


def test_parent_rows_stay_and_children_follow_the_spec(day):
    trades, exploded = day
    parents, children = _parents_and_children(exploded)
    assert dict(exploded.schema) == TRADE_SCHEMA
    assert exploded.filter(pl.col("is_constituent_exposure") == 0).equals(trades)
    assert (parents["weight"] == 1.0).all()
    assert children.height > 100 * parents.height
    assert (children["is_constituent_exposure"] == 1).all()
    assert (children["symbol"] == children["underlying_symbol"]).all()
    assert set(children["parent_symbol"]) <= set(parents["symbol"])
    assert (children["instrument_type"] == "Constituent").all()


def test_constituent_notional_adds_up_to_parent_notional_times_weights(day, reference):
    _, exploded = day
    parents, children = _parents_and_children(exploded)
    rolled = children.group_by("trade_id").agg(
        pl.col("notional").sum().alias("children_notional"), pl.col("weight").sum().alias("weights")
    )
    joined = parents.join(rolled, on="trade_id", how="inner")
    assert joined.height == parents.height
    expected = joined["notional"] * joined["weights"]
    assert ((joined["children_notional"] - expected).abs() <= 1e-6 * joined["notional"].abs().max()).all()
    assert (joined["weights"] - 1.0).abs().max() < 1e-9


def test_quantities_use_shares_per_unit_and_measures_scale_by_weight(day, reference):
    _, constituents = reference
    _, exploded = day
    parents, children = _parents_and_children(exploded)
    in_force = constituents_in_force(constituents, DAY)
    checked = children.join(
        parents.select("trade_id", *[pl.col(c).alias(f"parent_{c}") for c in ["quantity", *WEIGHTED_MEASURES]]),
        on="trade_id",
    ).join(
        in_force, left_on=["parent_symbol", "symbol"], right_on=["parent_symbol", "constituent_symbol"], suffix="_map"
    )
    assert checked.height == children.height
    assert ((checked["quantity"] - checked["parent_quantity"] * checked["shares_per_unit"]).abs() < 1e-9).all()
    assert (checked["weight"] == checked["weight_map"]).all()
    for measure in WEIGHTED_MEASURES:
        assert ((checked[measure] - checked[f"parent_{measure}"] * checked["weight"]).abs() < 1e-6).all(), measure


def test_the_rebalance_picks_the_map_in_force(reference):
    instruments, constituents = reference
    before, after = date(2024, 3, 28), date(2024, 4, 1)  # the last session before the rebalance, the first after
    trades = generate_trades(before, 2_000, instruments, DEFAULT_SEED)
    spy_trades = trades.filter(pl.col("symbol") == "SPY")
    assert spy_trades.height > 0

    def members(day):
        rows = pl.concat(list(explode_constituents(spy_trades, constituents_in_force(constituents, day), instruments)))
        return set(rows["symbol"]), dict(zip(rows["symbol"], rows["weight"]))

    members_before, weights_before = members(before)
    members_after, weights_after = members(after)
    assert members_before != members_after
    expected_after = constituents_in_force(constituents, after).filter(pl.col("parent_symbol") == "SPY")
    assert members_after == set(expected_after["constituent_symbol"])
    assert weights_after == dict(zip(expected_after["constituent_symbol"], expected_after["weight"]))
    assert weights_before != weights_after


def test_no_explosion_keeps_only_traded_rows(reference):
    instruments, constituents = reference
    trades = generate_trades(DAY, 1_000, instruments, DEFAULT_SEED)
    chunks = list(trades_with_look_through(trades, constituents, instruments, DAY, explode=False))
    assert len(chunks) == 1 and chunks[0].equals(trades)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trades_per_day=st.integers(0, 3_000), chunk_rows=st.integers(1, 50_000), day_offset=st.integers(0, 900))
def test_chunking_never_changes_the_rows(reference, trades_per_day, chunk_rows, day_offset):
    instruments, constituents = reference
    day = date.fromordinal(date(2024, 1, 1).toordinal() + day_offset)
    trades = generate_trades(day, trades_per_day, instruments, DEFAULT_SEED)
    in_force = constituents_in_force(constituents, day)
    chunks = list(explode_constituents(trades, in_force, instruments, chunk_rows=chunk_rows))
    whole = list(explode_constituents(trades, in_force, instruments, chunk_rows=10**9))
    rows = pl.concat(chunks) if chunks else None
    assert (rows is None) == (not whole)
    if rows is not None:
        assert rows.sort("trade_id", "symbol").equals(pl.concat(whole).sort("trade_id", "symbol"))
        # a chunk only overshoots its budget by less than one parent's fan-out (at most 503 rows)
        assert max(c.height for c in chunks) < max(chunk_rows, 1) + 503


@pytest.mark.parametrize("explode", [True, False])
def test_streamed_day_holds_the_same_rows_as_the_whole_day(reference, explode):
    instruments, constituents = reference
    trades = generate_trades(DAY, 7_000, instruments, DEFAULT_SEED, chunk_trades=2_000)
    whole = pl.concat(list(trades_with_look_through(trades, constituents, instruments, DAY, explode, 3_000)))
    chunks = list(
        streamed_day(
            generate_trade_chunks(DAY, 7_000, instruments, DEFAULT_SEED, chunk_trades=2_000),
            constituents,
            instruments,
            DAY,
            explode,
            3_000,
        )
    )
    assert max(c.height for c in chunks) < 3_000 + 503
    streamed = pl.concat(chunks)
    assert streamed.sort("trade_id", "symbol").equals(whole.sort("trade_id", "symbol"))
    assert list(streamed_day(iter([]), constituents, instruments, DAY, explode)) == []
