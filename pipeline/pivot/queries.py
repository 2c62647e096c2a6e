"""The SQL the pivot warehouse runs: the spec's query patterns verbatim (only the trade date
changes), their date-range forms with aggregate-aware routing, the rollup's rebuild, and the per-day
totals a load reports.

Shared by the assets, the demo, the tests and the benchmarks. The spec's SQL text
(docs: ../shared/spec/pivot-data-model.md) is kept with its example date replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


# -- Date ranges and aggregate-aware routing ----------------------------------------------------------
#
# Each spec query over a range of trade dates, its date bound as {start:Date} and {end:Date} (and the
# symbol as {symbol:String}), never spliced in. The fact form is the spec's text; whether the rollup can
# answer is read off that text, as Cube's pre-aggregations and Atoti's aggregate providers decide: every
# column the query groups or filters on is in the rollup's key and every measure has a state there. The
# rollup form is then the same text with each measure read from its state, so both forms give the same
# answer (sums up to float rounding, counts exactly): one rollup row per (date, key) instead of a day's
# trades.

FACT_TABLE = "pivot.trades_1d"
ROLLUP_TABLE = "pivot.trades_1d_rollup"
# ddl/clickhouse/040_trades_1d_rollup.sql: its ORDER BY, and the fact columns it keeps a sumState of.
ROLLUP_KEY = frozenset(
    ("trade_date", "portfolio_manager_id", "fund_id", "book", "asset_class", "symbol", "exposure_type")
)
ROLLUP_STATES = frozenset(("quantity", "notional", "pnl", "notional_usd", "pnl_usd"))
COUNT_MEASURE = "count()"  # the rollup's trade_count, a plain sum of row counts

DATE_RANGE = "trade_date BETWEEN {start:Date} AND {end:Date}"
DEFAULT_SYMBOL = "AAPL"


def _over_range(spec_sql: str) -> str:
    day = f"trade_date = {SPEC_EXAMPLE_DATE}"
    assert day in spec_sql
    return spec_sql.replace(day, DATE_RANGE)


RANGE_QUERIES = {
    "top_level": _over_range(TOP_LEVEL_VIEW),
    "look_through": _over_range(LOOK_THROUGH_VIEW),
    # The spec's TOTAL_AAPL_EXPOSURE with the symbol a parameter.
    "symbol_exposure": _over_range(TOTAL_AAPL_EXPOSURE).replace(
        "underlying_symbol = 'AAPL'", "underlying_symbol = {symbol:String}"
    ),
    "etf_decomposition": _over_range(ETF_DECOMPOSITION),
    "pm_pnl": _over_range(PM_PNL_BY_EXPOSURE_TYPE),
    # The spec's rollup query (one row per date and key) limited to the range; written over the fact, the
    # rollup form below is the spec's text with the range's WHERE.
    "rollup": ROLLUP_FROM_FACT.replace("GROUP BY", f"WHERE {DATE_RANGE}\nGROUP BY"),
}
RANGE_QUERY_NAMES = tuple(RANGE_QUERIES)

_SQL_WORDS = frozenset(("select", "from", "where", "and", "or", "not", "in", "between", "group", "order", "by"))
_SQL_WORDS |= frozenset(("as", "asc", "desc", "limit"))
_MEASURE = re.compile(r"\b(sum|sumIf)\((\w+)")


def read_columns(sql: str) -> tuple[frozenset[str], frozenset[str]]:
    """(the columns a query groups or filters on, the columns it sums, `count()` included) of the SQL
    written over the fact: what routing decides on. Aliases, literals, parameters and the table are not
    columns."""
    text = re.sub(r"--[^\n]*", "", sql)
    text = re.sub(r"'[^']*'|\{\w+:\w+\}", "", text)
    text = re.sub(r"\bFROM\s+[\w.]+", "", text, flags=re.IGNORECASE)
    aliases = set(re.findall(r"\bAS\s+(\w+)", text, flags=re.IGNORECASE))
    measures = {column for _, column in _MEASURE.findall(text)}
    if re.search(r"\bcount\(\)", text):
        measures.add(COUNT_MEASURE)
    text = _MEASURE.sub("(", text).replace("count()", "")
    words = set(re.findall(r"\b([A-Za-z_]\w*)\b(?!\s*\()", text))
    return frozenset(w for w in words if w.lower() not in _SQL_WORDS and w not in aliases), frozenset(measures)


def _from_rollup(fact_sql: str) -> str:
    """The same query over the rollup: each sum read from its state, count() as the sum of trade_count."""
    sql = re.sub(r"\bFROM pivot\.trades_1d\b", f"FROM {ROLLUP_TABLE}", fact_sql)
    sql = re.sub(r"\bsum\((\w+)\)", r"sumMerge(\1_state)", sql)
    sql = re.sub(r"\bsumIf\((\w+),", r"sumMergeIf(\1_state,", sql)
    return sql.replace("count()", "sum(trade_count)")


@dataclass(frozen=True)
class RangeQuery:
    """One spec query over a range of trade dates, routed: the table that serves it, why, and the SQL
    with its parameters (run it with `store.query_polars(sql, parameters)`)."""

    name: str
    usd: bool
    table: str
    reason: str
    sql: str
    parameters: dict = field(default_factory=dict)

    @property
    def from_rollup(self) -> bool:
        return self.table == ROLLUP_TABLE


def range_query(
    name: str,
    start: date,
    end: date,
    *,
    symbol: str = DEFAULT_SYMBOL,
    usd: bool = False,
    fact_only: bool = False,
) -> RangeQuery:
    """The spec query `name` (RANGE_QUERY_NAMES) over trade dates start..end inclusive, in USD with `usd`
    (measures over notional_usd and pnl_usd, as the USD views), served from the rollup when its key and
    states hold what the query reads, else from the fact; `fact_only` forces the fact (a check, or a
    rollup known to lag)."""
    if name not in RANGE_QUERIES:
        raise ValueError(f"unknown query {name!r}: one of {', '.join(RANGE_QUERY_NAMES)}")
    if start > end:
        raise ValueError(f"the range starts after it ends: {start} > {end}")
    sql = _in_usd(RANGE_QUERIES[name]) if usd else RANGE_QUERIES[name]
    parameters = {"start": start, "end": end} | ({"symbol": symbol} if "{symbol:String}" in sql else {})
    columns, measures = read_columns(sql)
    outside = sorted(columns - ROLLUP_KEY) + sorted(measures - ROLLUP_STATES - {COUNT_MEASURE})
    if fact_only:
        return RangeQuery(name, usd, FACT_TABLE, "the fact asked for", sql, parameters)
    if outside:
        return RangeQuery(name, usd, FACT_TABLE, f"the rollup has no {', '.join(outside)}", sql, parameters)
    reason = f"the rollup's key holds {', '.join(sorted(columns))}"
    return RangeQuery(name, usd, ROLLUP_TABLE, reason, _from_rollup(sql), parameters)


# Rows per date in the fact and in the rollup over a range, where they differ: dates loaded (or reloaded
# to another size) and not rolled up yet. Counting the fact's rows per partition is answered from the
# parts' metadata (the count projection), not by reading the rows.
ROLLUP_LAG = f"""
SELECT trade_date, fact_rows, rollup_rows
FROM (SELECT trade_date, count() AS fact_rows FROM {FACT_TABLE} WHERE {DATE_RANGE} GROUP BY trade_date) AS f
FULL OUTER JOIN
    (SELECT trade_date, sum(trade_count) AS rollup_rows FROM {ROLLUP_TABLE} WHERE {DATE_RANGE} GROUP BY trade_date) AS r
    USING (trade_date)
WHERE fact_rows != rollup_rows
ORDER BY trade_date
"""
