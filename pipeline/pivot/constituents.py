"""ETF/ETC constituent maps: effective-dated weights and shares per unit, rebalanced quarterly.

Pure functions of the seed: no Dagster, no database. SPY/SPX, QQQ/NDX and the
sector ETFs are rebuilt every quarter from the synthetic universe (the smallest
members leave for names on the bench); the ETCs hold their commodity for ever.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import polars as pl

from pipeline.pivot.instruments import SYNTHETIC_HORIZON_END, closing_prices, instrument_universe
from pipeline.pivot.universe_lists import ETCS, QQQ_MEMBER_COUNT, SPY_ANCHOR_WEIGHTS, SPY_MEMBER_COUNT

MAP_OPEN_ENDED_EXPIRY = date(2099, 12, 31)
# SPY-like maps are rebalanced at the start of each quarter.
FIRST_MAP_DATE = date(2023, 1, 1)


def rebalance_dates(until: date = SYNTHETIC_HORIZON_END) -> list[date]:
    dates, year, month = [], FIRST_MAP_DATE.year, FIRST_MAP_DATE.month
    while date(year, month, 1) <= until:
        dates.append(date(year, month, 1))
        month += 3
        if month > 12:
            year, month = year + 1, month - 12
    return dates


# Maps are rebalanced through the generated horizon (every quarter a user can request a partition
# for); the last period stays open-ended.
LAST_REBALANCE = rebalance_dates(SYNTHETIC_HORIZON_END)[-1]


def _periods() -> list[tuple[date, date]]:
    starts = rebalance_dates(LAST_REBALANCE)
    ends = [s - timedelta(days=1) for s in starts[1:]] + [MAP_OPEN_ENDED_EXPIRY]
    return list(zip(starts, ends))


def _tail_weights(rng: np.random.Generator, count: int, total: float) -> np.ndarray:
    # Rank offset keeps every tail name below the smallest anchor (AMZN 3.5%).
    raw = 1.0 / np.arange(10, count + 10) * rng.lognormal(0.0, 0.1, size=count)
    return raw / raw.sum() * total


def _member_rows(parent: str, weights: dict[str, float], start: date, end: date) -> list[dict]:
    return [
        dict(parent_symbol=parent, constituent_symbol=s, weight=w, effective_date=start, expiry_date=end)
        for s, w in weights.items()
    ]


@lru_cache(maxsize=4)
def _constituent_weights(seed: int) -> pl.DataFrame:
    universe = instrument_universe(seed)
    us = universe.filter((pl.col("instrument_type") == "Stock") & (pl.col("country") == "US"))
    us_symbols = us["symbol"].to_list()
    sectors = dict(zip(us["symbol"].to_list(), us["sector"].to_list()))
    nasdaq = set(us.filter(pl.col("exchange") == "NASDAQ")["symbol"].to_list())
    rng = np.random.default_rng([seed, 2])
    # Initial membership: mega caps first, then synthetic names; the rest wait on the bench.
    members = us_symbols[:SPY_MEMBER_COUNT]
    bench = us_symbols[SPY_MEMBER_COUNT:]
    rows: list[dict] = []
    for start, end in _periods():
        tail = [s for s in members if s not in SPY_ANCHOR_WEIGHTS]
        spy = dict(SPY_ANCHOR_WEIGHTS)
        spy.update(zip(tail, _tail_weights(rng, len(tail), 1.0 - sum(SPY_ANCHOR_WEIGHTS.values()))))
        rows += _member_rows("SPY", spy, start, end)
        rows += _member_rows("SPX", spy, start, end)
        qqq_members = [s for s in members if s in nasdaq][:QQQ_MEMBER_COUNT]
        qqq_raw = np.array([spy[s] for s in qqq_members])
        rows += _member_rows("QQQ", dict(zip(qqq_members, qqq_raw / qqq_raw.sum())), start, end)
        rows += _member_rows("NDX", dict(zip(qqq_members, qqq_raw / qqq_raw.sum())), start, end)
        for etf, sector in (("XLK", "Information Technology"), ("XLF", "Financials")):
            in_sector = {s: w for s, w in spy.items() if sectors[s] == sector}
            total = sum(in_sector.values())
            rows += _member_rows(etf, {s: w / total for s, w in in_sector.items()}, start, end)
        # Quarterly reconstitution: the two smallest members leave for two from the bench.
        by_weight = sorted(tail, key=lambda s: spy[s])
        leaving, joining = by_weight[:2], [bench.pop(int(rng.integers(0, len(bench)))) for _ in range(2)]
        members = [s for s in members if s not in leaving] + joining
        bench += leaving
    for symbol, _name, _exchange, _price, holdings in ETCS:
        rows += _member_rows(symbol, holdings, FIRST_MAP_DATE, MAP_OPEN_ENDED_EXPIRY)
    return pl.DataFrame(rows)


def build_constituents(seed: int) -> pl.DataFrame:
    """The `pivot.constituents` rows: weights plus shares of each constituent per parent unit,
    priced on the period's effective date so that a unit's look-through value matches its weight."""
    weights = _constituent_weights(seed)
    frames = []
    for (effective_date,), period in weights.group_by(["effective_date"], maintain_order=True):
        prices = closing_prices(seed, effective_date)
        frames.append(
            period.join(prices.rename({"symbol": "parent_symbol", "close_price": "parent_price"}), on="parent_symbol")
            .join(
                prices.rename({"symbol": "constituent_symbol", "close_price": "constituent_price"}),
                on="constituent_symbol",
            )
            .with_columns(shares_per_unit=pl.col("weight") * pl.col("parent_price") / pl.col("constituent_price"))
        )
    return (
        pl.concat(frames)
        .select("parent_symbol", "constituent_symbol", "weight", "shares_per_unit", "effective_date", "expiry_date")
        .sort("parent_symbol", "effective_date", pl.col("weight"), descending=[False, False, True])
    )
