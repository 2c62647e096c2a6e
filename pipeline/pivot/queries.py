"""The SQL the pivot warehouse runs: the spec's query patterns verbatim (only the trade date
changes), the rollup's rebuild, and the per-day totals a load reports.

Shared by the assets, the demo, the tests and the benchmarks. The spec's SQL text
(docs: ../shared/spec/pivot-data-model.md) is kept with its example date replaced.
"""

from __future__ import annotations

import re
from datetime import date

SPEC_EXAMPLE_DATE = "'2024-01-15'"

TOP_LEVEL_VIEW = """
SELECT
    symbol,
    exposure_type,
    sum(notional) AS total_notional,
    sum(pnl) AS total_pnl
FROM pivot.trades_1d
WHERE trade_date = '2024-01-15'
  AND exposure_type IN ('Direct', 'ETF', 'ETC')  -- Exclude constituent rows
GROUP BY symbol, exposure_type
ORDER BY total_notional DESC
"""

LOOK_THROUGH_VIEW = """
SELECT
    underlying_symbol,
    exposure_type,
    sum(notional) AS total_notional,
    sum(pnl) AS total_pnl
FROM pivot.trades_1d
WHERE trade_date = '2024-01-15'
  AND exposure_type IN ('Direct', 'Constituent')  -- Direct + ETF constituents
GROUP BY underlying_symbol, exposure_type
ORDER BY total_notional DESC
"""

TOTAL_AAPL_EXPOSURE = """
SELECT
    underlying_symbol,
    sumIf(notional, exposure_type = 'Direct') AS direct_exposure,
    sumIf(notional, exposure_type = 'Constituent') AS etf_exposure,
    sum(notional) AS total_exposure
FROM pivot.trades_1d
WHERE underlying_symbol = 'AAPL'
  AND trade_date = '2024-01-15'
GROUP BY underlying_symbol
"""

ETF_DECOMPOSITION = """
SELECT
    parent_symbol AS etf,
    underlying_symbol,
    weight,
    sum(notional) AS constituent_notional
FROM pivot.trades_1d
WHERE exposure_type = 'Constituent'
  AND trade_date = '2024-01-15'
GROUP BY parent_symbol, underlying_symbol, weight
ORDER BY parent_symbol, weight DESC
"""

PM_PNL_BY_EXPOSURE_TYPE = """
SELECT
    portfolio_manager_id,
    exposure_type,
    sum(pnl) AS total_pnl,
    count() AS trade_count
FROM pivot.trades_1d
WHERE trade_date = '2024-01-15'
GROUP BY portfolio_manager_id, exposure_type
ORDER BY portfolio_manager_id, total_pnl DESC
"""


# The same two views in the reporting currency (beyond the spec, whose measures are in each row's own
# currency, so its totals add USD to HKD, JPY, ...): USD totals rank and add up across currencies.
def _in_usd(spec_sql: str) -> str:
    """The spec's view with its measures in USD: the same query over notional_usd and pnl_usd."""
    return re.sub(r"\b((?:total_)?(?:notional|pnl))\b", r"\1_usd", spec_sql)


TOP_LEVEL_VIEW_USD = _in_usd(TOP_LEVEL_VIEW)
LOOK_THROUGH_VIEW_USD = _in_usd(LOOK_THROUGH_VIEW)

# The spec's rollup query has no date filter: it reads every loaded day.
ROLLUP = """
SELECT
    trade_date,
    portfolio_manager_id,
    fund_id,
    book,
    asset_class,
    symbol,
    sumMerge(quantity_state) AS total_quantity,
    sumMerge(notional_state) AS total_notional,
    sumMerge(pnl_state) AS total_pnl
FROM pivot.trades_1d_rollup
GROUP BY trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol
"""

# The same aggregation straight from the fact, for checks and benchmarks.
ROLLUP_FROM_FACT = """
SELECT
    trade_date,
    portfolio_manager_id,
    fund_id,
    book,
    asset_class,
    symbol,
    sum(quantity) AS total_quantity,
    sum(notional) AS total_notional,
    sum(pnl) AS total_pnl
FROM pivot.trades_1d
GROUP BY trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol
"""

# One trade date of the rollup, rebuilt from the fact ({day:Date} bound per date).
ROLLUP_REBUILD = """
SELECT
    trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol, exposure_type,
    sumState(quantity), sumState(notional), sumState(pnl), sumState(notional_usd), sumState(pnl_usd), count()
FROM pivot.trades_1d
WHERE trade_date = {day:Date}
GROUP BY trade_date, portfolio_manager_id, fund_id, book, asset_class, symbol, exposure_type
"""

# What a loaded day holds per exposure type ({day:Date} bound).
EXPOSURE_TOTALS = """
SELECT exposure_type, count() AS rows, sum(notional) AS notional, sum(pnl) AS pnl,
    sum(notional_usd) AS notional_usd, sum(pnl_usd) AS pnl_usd
FROM pivot.trades_1d WHERE trade_date = {day:Date}
GROUP BY exposure_type ORDER BY exposure_type
"""

SPEC_QUERIES = {
    "top_level_view": TOP_LEVEL_VIEW,
    "look_through_view": LOOK_THROUGH_VIEW,
    "total_aapl_exposure": TOTAL_AAPL_EXPOSURE,
    "etf_decomposition": ETF_DECOMPOSITION,
    "pm_pnl_by_exposure_type": PM_PNL_BY_EXPOSURE_TYPE,
}
USD_VIEWS = {
    "top_level_view_usd": TOP_LEVEL_VIEW_USD,
    "look_through_view_usd": LOOK_THROUGH_VIEW_USD,
}


def for_date(sql: str, trade_date: date | str) -> str:
    """The query with the spec's example date replaced by `trade_date` (validated as a date)."""
    day = trade_date if isinstance(trade_date, date) else date.fromisoformat(trade_date)
    return sql.replace(SPEC_EXAMPLE_DATE, f"'{day.isoformat()}'")
