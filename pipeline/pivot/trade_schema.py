"""The trade fact's schema and the vocabularies trades are drawn from.

TRADE_SCHEMA and FACT_SCHEMA are pivot.trades_1d's columns (a test keeps them equal to the DDL); the
closed lists (desks, strategies, venues, risk buckets, scenarios, counterparties) are what the
synthetic generator (pipeline.pivot.trade_generation) draws from, typed as Polars Enums in
LOW_CARDINALITY.
"""

from __future__ import annotations

import polars as pl

from pipeline.pivot.universe_lists import (
    ASSET_CLASSES,
    COUNTRIES,
    COUNTRY_REGION,
    CURRENCIES,
    INSTRUMENT_SECTORS,
    INSTRUMENT_TYPES,
    PRODUCTS,
)

DESKS = [
    "US Equities",
    "Global Equities",
    "EMEA Equities",
    "APAC Equities",
    "Macro",
    "Commodities",
    "Derivatives",
    "Index Arbitrage",
]
STRATEGIES = [
    "Long/Short Equity",
    "Statistical Arbitrage",
    "Global Macro",
    "Index Arbitrage",
    "Volatility",
    "Commodity Carry",
    "Event Driven",
    "Market Neutral",
]
PORTFOLIO_MANAGERS, FUNDS_PER_PM, PORTFOLIOS_PER_FUND, ACCOUNTS_PER_PORTFOLIO = 12, 2, 3, 4
RISK_BUCKETS = ["Low", "Medium", "High", "VeryHigh"]
SCENARIOS = ["Base", "Stress", "Historical", "MonteCarlo"]
EXPOSURE_TYPES = ["Constituent", "Direct", "ETC", "ETF"]
VENUES_BY_EXCHANGE = {
    "NYSE": ["NYSE", "ARCA", "BATS", "IEX", "DARK"],
    "NASDAQ": ["NASDAQ", "BATS", "IEX", "DARK"],
    "ARCA": ["ARCA", "NYSE", "BATS", "DARK"],
    "CBOE": ["CBOE", "ISE", "PHLX"],
    "CME": ["CME"],
    "COMEX": ["COMEX"],
    "NYMEX": ["NYMEX"],
    "ICE": ["ICE"],
    "LBMA": ["LBMA", "OTC"],
    "LPPM": ["LPPM", "OTC"],
    "LSE": ["LSE", "TURQUOISE", "CBOE_EU"],
    "XETRA": ["XETRA", "TRADEGATE"],
    "EURONEXT": ["EURONEXT", "CBOE_EU"],
    "SIX": ["SIX"],
    "TSE": ["TSE", "JNX"],
    "HKEX": ["HKEX"],
    "TSX": ["TSX", "ALPHA"],
}
VENUES = [venue for options in VENUES_BY_EXCHANGE.values() for venue in options]


def book_name(desk: str, portfolio_id: int) -> str:
    return f"{''.join(word[0] for word in desk.split())}-{portfolio_id}"


def _every_book() -> list[str]:
    portfolios_per_pm = FUNDS_PER_PM * PORTFOLIOS_PER_FUND
    return [
        book_name(DESKS[pm % len(DESKS)], 10_001 + pm * portfolios_per_pm + p)
        for pm in range(PORTFOLIO_MANAGERS)
        for p in range(portfolios_per_pm)
    ]


def _vocabulary(values) -> pl.Enum:
    return pl.Enum(sorted(set(values)))


# The generator's vocabularies: closed lists it draws from, as Polars Enums (cheap to gather and
# compare while a day is generated).
LOW_CARDINALITY: dict[str, pl.Enum] = {
    "desk": _vocabulary(DESKS),
    "book": _vocabulary(_every_book()),
    "strategy": _vocabulary(STRATEGIES),
    "region": _vocabulary(COUNTRY_REGION.values()),
    "country": _vocabulary(COUNTRIES),
    "venue": _vocabulary(VENUES),
    "asset_class": _vocabulary(ASSET_CLASSES),
    "product": _vocabulary(PRODUCTS),
    "instrument_type": _vocabulary([*INSTRUMENT_TYPES, "Constituent"]),
    "currency": _vocabulary(CURRENCIES),
    "risk_bucket": _vocabulary(RISK_BUCKETS),
    "scenario": _vocabulary(SCENARIOS),
    "exposure_type": _vocabulary(EXPOSURE_TYPES),
    "sector": _vocabulary(INSTRUMENT_SECTORS),
}
# The fact's open vocabularies: a real book names its own desks, books, strategies, venues and
# counterparties, and its instruments bring their own asset classes, products, types, currencies
# and sectors (Cash, Money Market, Futures from issuers' holdings files). They are Categoricals in
# the fact schema, for the synthetic and the landed source alike (LowCardinality(String) in
# ClickHouse): like the closed Enums before them they reach chDB as Arrow dictionaries (integer
# codes plus a small dictionary), which its LowCardinality columns take almost as they are; plain
# strings would be hashed into a dictionary by the engine, row by row. Measured on a 1M-trade day
# (19.98M rows, replace_partition): Enum 11.5 s, Categorical 12.6 s, String 16.5-21 s
# (benchmarks/experiments/open_vocabulary.py). counterparty, a plain String column in the DDL, is open
# as a plain String.
OPEN_VOCABULARY = pl.Categorical()
OPEN_VOCABULARY_COLUMNS = [
    "desk",
    "book",
    "strategy",
    "country",
    "venue",
    "asset_class",
    "product",
    "instrument_type",
    "currency",
    "counterparty",
    "risk_bucket",
    "scenario",
    "sector",
]
# What the pipeline itself decides stays closed: the region (AMER, EMEA, APAC) and the exposure type.
CLOSED_VOCABULARY_COLUMNS = ["region", "exposure_type"]

# Column order and types of pivot.trades_1d (ddl/clickhouse/030_trades_1d.sql; a test keeps them equal).
TRADE_SCHEMA: dict[str, pl.DataType] = {
    "trade_date": pl.Date,
    "ts": pl.Datetime("ms", "UTC"),
    "trade_id": pl.UInt64,
    "order_id": pl.UInt64,
    "portfolio_manager_id": pl.UInt32,
    "fund_id": pl.UInt32,
    "portfolio_id": pl.UInt64,
    "account_id": pl.UInt64,
    "desk": OPEN_VOCABULARY,
    "book": OPEN_VOCABULARY,
    "strategy": OPEN_VOCABULARY,
    "region": LOW_CARDINALITY["region"],
    "country": OPEN_VOCABULARY,
    "venue": OPEN_VOCABULARY,
    "asset_class": OPEN_VOCABULARY,
    "product": OPEN_VOCABULARY,
    "instrument_type": OPEN_VOCABULARY,
    "symbol": pl.String,
    "parent_symbol": pl.String,
    "currency": OPEN_VOCABULARY,
    "counterparty": pl.String,
    "risk_bucket": OPEN_VOCABULARY,
    "scenario": OPEN_VOCABULARY,
    "underlying_symbol": pl.String,
    "exposure_type": LOW_CARDINALITY["exposure_type"],
    "is_constituent_exposure": pl.UInt8,
    "sector": OPEN_VOCABULARY,
    "weight": pl.Float64,
    "quantity": pl.Float64,
    "price": pl.Float64,
    "notional": pl.Float64,
    "pnl": pl.Float64,
    "delta": pl.Float64,
    "gamma": pl.Float64,
    "vega": pl.Float64,
    "theta": pl.Float64,
    "rho": pl.Float64,
    "margin": pl.Float64,
    "fees": pl.Float64,
    "slippage": pl.Float64,
    "vol": pl.Float64,
    "rate": pl.Float64,
    "exposure": pl.Float64,
    **{f"metric_{i}": pl.Float64 for i in range(1, 15)},
}
TRADE_COLUMNS = list(TRADE_SCHEMA)

# The reporting-currency columns the day load adds (pipeline.pivot.fx) after the local-currency
# measures; FACT_SCHEMA is pivot.trades_1d's column order and types (a test keeps it equal to the DDL).
REPORTING_CURRENCY_COLUMNS = ["notional_usd", "pnl_usd"]
FACT_SCHEMA: dict[str, pl.DataType] = {}
for _name, _dtype in TRADE_SCHEMA.items():
    FACT_SCHEMA[_name] = _dtype
    if _name == "pnl":
        FACT_SCHEMA.update({column: pl.Float64 for column in REPORTING_CURRENCY_COLUMNS})
FACT_COLUMNS = list(FACT_SCHEMA)

# Additive measures: a constituent row carries its weight's share of them.
WEIGHTED_MEASURES = [
    "pnl",
    "delta",
    "gamma",
    "vega",
    "theta",
    "rho",
    "margin",
    "fees",
    "slippage",
    "exposure",
    *[f"metric_{i}" for i in range(1, 15)],
]

EXPOSURE_TYPE_BY_INSTRUMENT = {"ETF": "ETF", "ETC": "ETC"}  # everything else trades as Direct

COUNTERPARTIES = [
    "Goldman Sachs",
    "Morgan Stanley",
    "JPMorgan",
    "Citigroup",
    "Bank of America",
    "Barclays",
    "Deutsche Bank",
    "UBS",
    "BNP Paribas",
    "Societe Generale",
    "HSBC",
    "Nomura",
    "Mizuho",
    "Jefferies",
    "Virtu Financial",
    "Citadel Securities",
    "Jane Street",
    "RBC Capital Markets",
    "Wells Fargo Securities",
    "Macquarie",
]


def conform_to_schema(frame: pl.DataFrame) -> pl.DataFrame:
    """Select the fact's columns, in order, with its types."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in TRADE_SCHEMA.items()])
