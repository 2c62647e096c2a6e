"""The instrument universe and its daily price paths.

Pure functions of the seed: no Dagster, no database. The universe mixes real
mega-caps (so the spec's examples read naturally: SPY holds AAPL at 7%) with
deterministic synthetic names to reach a realistic breadth.
"""

from __future__ import annotations

import zlib
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl

from pipeline.pivot.universe_lists import (
    COMMODITIES,
    COUNTRY_CURRENCY,
    ETCS,
    ETFS,
    EXCHANGE_COUNTRY,
    FUTURES,
    INDICES,
    INTERNATIONAL_STOCKS,
    NAME_SUFFIXES,
    NAME_SYLLABLES,
    OPTION_UNDERLYINGS,
    SECTORS,
    US_MEGA_CAPS,
    US_STOCK_COUNT,
)

PRICE_HISTORY_START = date(2023, 1, 1)
# The last date the generated reference tables (the rebalance schedule, the FX rates table) cover.
# Prices themselves have no end (each year is its own stream); 2049 is the last year for which
# exchange_calendars records Hong Kong's (lunar) holidays, so no later day can be generated anyway.
SYNTHETIC_HORIZON_END = date(2049, 12, 31)

INSTRUMENT_COLUMNS = [
    "symbol",
    "name",
    "asset_class",
    "instrument_type",
    "currency",
    "exchange",
    "sector",
    "is_composite",
    "product",
    "country",
    "underlying_symbol",
]


def stable_hash(text: str) -> int:
    return zlib.crc32(text.encode())


def _synthetic_us_stocks(seed: int, count: int, taken: set[str]) -> list[tuple]:
    rng = np.random.default_rng([seed, 1])
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    stocks: list[tuple] = []
    while len(stocks) < count:
        symbol = "".join(rng.choice(letters, size=int(rng.integers(3, 5))))
        if symbol in taken:
            continue
        taken.add(symbol)
        name = f"{rng.choice(NAME_SYLLABLES)}{rng.choice(NAME_SYLLABLES).lower()} {rng.choice(NAME_SUFFIXES)}"
        sector = SECTORS[int(rng.integers(0, len(SECTORS)))]
        exchange = "NASDAQ" if rng.random() < 0.45 else "NYSE"
        price = float(np.round(np.exp(rng.normal(4.2, 0.8)), 2))
        stocks.append((symbol, name, sector, exchange, price))
    return stocks


def _instrument_row(
    symbol,
    name,
    asset_class,
    instrument_type,
    exchange,
    sector,
    product,
    underlying="",
    is_composite=0,
    price=100.0,
    currency=None,
) -> dict:
    """One universe row: the country follows the exchange, the currency the country unless given."""
    country = EXCHANGE_COUNTRY[exchange]
    return dict(
        symbol=symbol,
        name=name,
        asset_class=asset_class,
        instrument_type=instrument_type,
        currency=currency or COUNTRY_CURRENCY[country],
        exchange=exchange,
        sector=sector,
        is_composite=is_composite,
        product=product,
        country=country,
        underlying_symbol=underlying or symbol,
        start_price=price,
    )


def _stock_rows(seed: int) -> list[dict]:
    """The US stocks (the mega-caps, then the synthetic names) and the international stocks."""
    # Synthetic tickers must never collide with a listed symbol (a random "SPY" would corrupt the maps).
    taken = {
        row[0]
        for table in (US_MEGA_CAPS, INTERNATIONAL_STOCKS, COMMODITIES, INDICES, FUTURES, ETFS, ETCS)
        for row in table
    }
    us_stocks = US_MEGA_CAPS + _synthetic_us_stocks(seed, US_STOCK_COUNT - len(US_MEGA_CAPS), taken)
    rows = [
        _instrument_row(symbol, name, "Equity", "Stock", exchange, sector, "Cash Equity", price=price)
        for symbol, name, sector, exchange, price in us_stocks
    ]
    rows += [
        _instrument_row(
            symbol, name, "Equity", "Stock", exchange, sector, "Cash Equity", price=price, currency=currency
        )
        for symbol, name, sector, exchange, _country, currency, price in INTERNATIONAL_STOCKS
    ]
    return rows


def _commodity_rows() -> list[dict]:
    return [
        _instrument_row(
            symbol,
            name,
            "Commodity",
            "Commodity",
            exchange,
            "Commodities",
            "Spot Commodity",
            price=price,
            currency="USD",
        )
        for symbol, name, exchange, _country, price in COMMODITIES
    ]


def _etf_sector(symbol: str) -> str:
    if symbol in ("SPY", "QQQ"):
        return "Broad Market"
    return "Information Technology" if symbol == "XLK" else "Financials"


def _composite_rows() -> list[dict]:
    """The indices, the ETFs and the ETCs, in that order."""
    rows = [
        _instrument_row(symbol, name, "Equity", "Index", exchange, "Broad Market", "Index", is_composite=1, price=price)
        for symbol, name, exchange, _tracks, price in INDICES
    ]
    rows += [
        _instrument_row(
            symbol,
            name,
            "Equity",
            "ETF",
            exchange,
            _etf_sector(symbol),
            "Exchange Traded Fund",
            is_composite=1,
            price=price,
        )
        for symbol, name, exchange, price in ETFS
    ]
    rows += [
        _instrument_row(
            symbol,
            name,
            "Commodity",
            "ETC",
            exchange,
            "Commodities",
            "Exchange Traded Commodity",
            is_composite=1,
            price=price,
            currency="USD",
        )
        for symbol, name, exchange, price, _members in ETCS
    ]
    return rows


def _derivative_rows(underlyings: list[dict]) -> list[dict]:
    """The futures, then a call and a put on each option underlying, priced off the underlying rows."""
    by_symbol = {row["symbol"]: row for row in underlyings}
    rows = []
    for symbol, name, underlying, exchange, multiple in FUTURES:
        underlying_row = by_symbol[underlying]
        rows.append(
            _instrument_row(
                symbol,
                name,
                underlying_row["asset_class"],
                "Future",
                exchange,
                underlying_row["sector"],
                "Listed Future",
                underlying=underlying,
                price=underlying_row["start_price"] * multiple,
                currency="USD",
            )
        )
    for underlying in OPTION_UNDERLYINGS:
        underlying_row = by_symbol[underlying]
        for right, label in (("C", "call"), ("P", "put")):
            rows.append(
                _instrument_row(
                    f"{underlying}-{right}-ATM-30D",
                    f"{underlying} 30-day at-the-money {label}",
                    underlying_row["asset_class"],
                    "Option",
                    "CBOE",
                    underlying_row["sector"],
                    "Listed Option",
                    underlying=underlying,
                    price=round(underlying_row["start_price"] * 0.035, 2),
                    currency="USD",
                )
            )
    return rows


@lru_cache(maxsize=4)
def instrument_universe(seed: int) -> pl.DataFrame:
    """Every instrument with its attributes and its price on PRICE_HISTORY_START."""
    rows = _stock_rows(seed) + _commodity_rows() + _composite_rows()
    rows += _derivative_rows(rows)
    return pl.DataFrame(rows).with_columns(pl.col("is_composite").cast(pl.UInt8))


def build_instruments(seed: int) -> pl.DataFrame:
    """The `pivot.instruments` rows."""
    return instrument_universe(seed).select(INSTRUMENT_COLUMNS)


def start_prices(seed: int) -> pl.DataFrame:
    return instrument_universe(seed).select("symbol", "start_price")


DAILY_VOLATILITY = 0.015


@lru_cache(maxsize=8192)
def _year_log_path(seed: int, symbol: str, year: int) -> np.ndarray:
    """Cumulative daily log returns of one symbol within one calendar year: each (symbol, year) is its
    own stream, so a price never depends on which other symbols or years were asked for, and the
    path has no end date."""
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    rng = np.random.default_rng([seed, stable_hash(symbol), year])
    returns = rng.normal(0.0002, DAILY_VOLATILITY, size=days)
    if year == PRICE_HISTORY_START.year:
        returns[0] = 0.0
    return np.cumsum(returns)


@lru_cache(maxsize=65536)
def _log_level_before(seed: int, symbol: str, year: int) -> float:
    """The symbol's cumulative log return up to the end of the year before `year`."""
    if year <= PRICE_HISTORY_START.year:
        return 0.0
    return _log_level_before(seed, symbol, year - 1) + float(_year_log_path(seed, symbol, year - 1)[-1])


def _log_level(seed: int, symbol: str, day: date) -> float:
    if day < PRICE_HISTORY_START:
        raise ValueError(f"{day} is before the generated price history, which starts on {PRICE_HISTORY_START}")
    offset = (day - date(day.year, 1, 1)).days
    return _log_level_before(seed, symbol, day.year) + float(_year_log_path(seed, symbol, day.year)[offset])


def closing_prices(seed: int, day: date, symbols: list[str] | None = None) -> pl.DataFrame:
    """Each symbol's closing price on `day`, in the order asked: a continuous geometric random walk
    from its start price. Symbols outside the seed's universe (say, from a landed reference file)
    get a start price of their own, so any instrument can be priced."""
    known = dict(start_prices(seed).iter_rows())
    symbols = list(known) if symbols is None else symbols
    start = np.array([known.get(s) or float(np.exp(4.2 + (stable_hash(s + ":price") % 1000) / 1000)) for s in symbols])
    growth = np.exp([_log_level(seed, s, day) for s in symbols])
    return pl.DataFrame(
        {"symbol": symbols, "close_price": np.round(start * growth, 4)},
        schema={"symbol": pl.String, "close_price": pl.Float64},
    )
