"""A spec query answered over a range of trade dates (pipeline/pivot/queries.py routes it): from
`pivot.trades_1d_rollup` when its key holds what the query reads and it is in step with the fact over the
range, from `pivot.trades_1d` otherwise. One query for the whole range, however long: no per-day loop.
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
    reloaded at another size, not a reload to the same count; the rollup's asset runs with the fact's.)"""
    query = range_query(name, start, end, symbol=symbol, usd=usd, fact_only=fact_only)
    if query.from_rollup and (lag := rollup_lag(store, start, end)):
        dates = ", ".join(str(day) for day, _, _ in lag[:3]) + (f" and {len(lag) - 3} more" if len(lag) > 3 else "")
        query = replace(
            range_query(name, start, end, symbol=symbol, usd=usd, fact_only=True),
            reason=f"the rollup lags the fact on {dates} (rows per date differ): rebuild pivot/trades_1d_rollup",
        )
    return query, store.query_polars(query.sql, query.parameters)
