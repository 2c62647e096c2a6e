"""A spec query answered over a range of trade dates (pipeline/pivot/queries.py routes it): from
`pivot.trades_1d_rollup` when its key holds what the query reads, it is in step with the fact over the
range and the engine expects to read fewer of its rows than of the fact's, from `pivot.trades_1d`
otherwise. One query for the whole range, however long: no per-day loop.
`store` is anything with `query_rows(sql, parameters)` and `query_polars(sql, parameters)`: the
ClickHouseResource."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

from pipeline.pivot.queries import DEFAULT_SYMBOL, ROLLUP_LAG, RangeQuery, range_query


def rollup_lag(store, start: date, end: date) -> list[tuple[date, int, int]]:
    """(trade date, fact rows, rollup rows) of each date in the range whose rollup does not count the
    fact's rows: loaded and not rolled up yet, or rolled up before a reload."""
    return [tuple(row) for row in store.query_rows(ROLLUP_LAG, {"start": start, "end": end})]


def estimated_rows(store, query: RangeQuery) -> int:
    """The rows the engine expects to read for `query` after its index analysis (EXPLAIN ESTIMATE: parts
    and granules only, no row read)."""
    return sum(int(row[3]) for row in store.query_rows(f"EXPLAIN ESTIMATE {query.sql}", query.parameters))


def answer(
    store,
    name: str,
    start: date,
    end: date,
    *,
    symbol: str = DEFAULT_SYMBOL,
    usd: bool = False,
    fact_only: bool = False,
) -> tuple[RangeQuery, pl.DataFrame]:
    """The routed query (table, reason, SQL) and its answer. A query the rollup could serve goes to the
    fact instead when the rollup lags the fact on a date of the range, so both routes always give the
    same answer; the reason says which dates. (Row counts catch a date missing from the rollup or
    reloaded at another size, not a reload to the same count; the rollup's asset runs with the fact's.)

    Holding the query's columns does not make the rollup the cheaper table: the fact is sorted by
    exposure_type first, so a top-level query reads only the Direct/ETF/ETC rows of the fact, while the
    rollup (exposure_type last in its key) is read whole, and on light days it has nearly a row per
    trade. So the rollup serves only when the engine's estimate of rows read is lower there."""
    query = range_query(name, start, end, symbol=symbol, usd=usd, fact_only=fact_only)
    if query.from_rollup:
        fact = range_query(name, start, end, symbol=symbol, usd=usd, fact_only=True)
        if lag := rollup_lag(store, start, end):
            dates = ", ".join(str(day) for day, _, _ in lag[:3]) + (f" and {len(lag) - 3} more" if len(lag) > 3 else "")
            lags = f"the rollup lags the fact on {dates} (rows per date differ): rebuild pivot/trades_1d_rollup"
            query = replace(fact, reason=lags)
        else:
            in_rollup, in_fact = estimated_rows(store, query), estimated_rows(store, fact)
            estimate = f"the engine expects to read ~{in_rollup:,} rows of the rollup, ~{in_fact:,} of the fact"
            if in_fact < in_rollup:
                query = replace(fact, reason=f"{query.reason}, but {estimate}")
            else:
                query = replace(query, reason=f"{query.reason}; {estimate}")
    return query, store.query_polars(query.sql, query.parameters)
