"""The pivot reads behind the web pages (pipeline/web/pivot.py): the spec's views of a trade date in USD
and a symbol's total exposure, from `pipeline.pivot.queries`, with the date and the symbol bound as
parameters (never spliced into the SQL). `store` is anything with `query_rows(sql, parameters)`: the
ClickHouseResource."""

import re
from dataclasses import dataclass
from datetime import date

from pipeline.pivot.queries import LOOK_THROUGH_VIEW_USD, SPEC_EXAMPLE_DATE, TOP_LEVEL_VIEW_USD, TOTAL_AAPL_EXPOSURE

SYMBOL_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ /-]{0,29}")


def _bound(spec_sql: str) -> str:
    """The spec's query with its example date as the parameter {day:Date}."""
    assert SPEC_EXAMPLE_DATE in spec_sql
    return spec_sql.replace(SPEC_EXAMPLE_DATE, "{day:Date}")


TOP_LEVEL = _bound(TOP_LEVEL_VIEW_USD).rstrip() + "\nLIMIT {limit:UInt32}"
LOOK_THROUGH = _bound(LOOK_THROUGH_VIEW_USD).rstrip() + "\nLIMIT {limit:UInt32}"
# The spec's AAPL query for any symbol, in USD (the spec sums each row's own currency).
SYMBOL_EXPOSURE = re.sub(r"\bnotional\b", "notional_usd", _bound(TOTAL_AAPL_EXPOSURE)).replace(
    "underlying_symbol = 'AAPL'", "underlying_symbol = {symbol:String}"
)
LOADED_DATES = """
SELECT trade_date, count() AS rows
FROM pivot.trades_1d
GROUP BY trade_date
ORDER BY trade_date DESC
LIMIT {limit:UInt32}
"""
HAS_TRADES = "SELECT count() FROM system.tables WHERE database = {database:String} AND name = 'trades_1d'"


@dataclass(frozen=True)
class ViewRow:
    symbol: str
    exposure_type: str
    total_notional_usd: float
    total_pnl_usd: float


@dataclass(frozen=True)
class SymbolExposure:
    symbol: str
    direct_exposure_usd: float
    etf_exposure_usd: float
    total_exposure_usd: float


@dataclass(frozen=True)
class TradeDatePage:
    trade_date: date
    top_level: list[ViewRow]
    look_through: list[ViewRow]


def _has_trades(store, database: str) -> bool:
    """The store holds pivot.trades_1d (an embedded store nothing was loaded into does not)."""
    return bool(store.query_rows(HAS_TRADES, {"database": database})[0][0])


def loaded_dates(store, database: str = "pivot", limit: int = 90) -> list[tuple[date, int]]:
    if not _has_trades(store, database):
        return []
    return [(day, rows) for day, rows in store.query_rows(LOADED_DATES, {"limit": limit})]


def trade_date_page(store, day: date, limit: int = 50, database: str = "pivot") -> TradeDatePage:
    """The top-level and look-through views of `day` in USD, the `limit` largest rows of each."""
    if not _has_trades(store, database):
        return TradeDatePage(day, [], [])
    parameters = {"day": day, "limit": limit}
    return TradeDatePage(
        trade_date=day,
        top_level=[ViewRow(*row) for row in store.query_rows(TOP_LEVEL, parameters)],
        look_through=[ViewRow(*row) for row in store.query_rows(LOOK_THROUGH, parameters)],
    )


def symbol_exposure(store, day: date, symbol: str, database: str = "pivot") -> SymbolExposure | None:
    if not _has_trades(store, database):
        return None
    rows = store.query_rows(SYMBOL_EXPOSURE, {"day": day, "symbol": symbol})
    return SymbolExposure(*rows[0]) if rows else None
