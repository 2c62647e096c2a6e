"""Loading one trade date into `pivot.trades_1d`: generate, explode, convert to USD, swap the day in whole.

Dagster-free and client-free: the `pivot/trades_1d` asset and the benchmarks call
`load_trade_date` with a store, the ClickHouse resource or anything with its two
methods (`TradeStore`). The store's `replace_partition` writes the streamed
chunks into staging and swaps the partition, so a failed load leaves the day as
it was.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from typing import Protocol

import polars as pl

from pipeline.failpoints import failpoint
from pipeline.pivot.calendars import ALL_VENUES_CLOSED, open_exchanges
from pipeline.pivot.explosion import DEFAULT_CHUNK_ROWS, streamed_day
from pipeline.pivot.fx import DayRates, to_reporting_currency
from pipeline.pivot.prefetch import Prefetched
from pipeline.pivot.queries import EXPOSURE_TOTALS
from pipeline.pivot.trade_generation import LOW_CARDINALITY, generate_trade_chunks

TOP_LEVEL_EXPOSURE_TYPES = ("Direct", "ETF", "ETC")


class TradeStore(Protocol):
    def replace_partition(self, table: str, day: date, chunks: Iterable[pl.DataFrame]) -> int: ...

    def query_polars(self, sql: str, parameters: dict | None = None) -> pl.DataFrame: ...


class MissingReferenceDataError(RuntimeError):
    """The store has no instruments: trades cannot be priced or exploded."""


@dataclass(frozen=True)
class ReferenceData:
    """What a day's generation, explosion and conversion read: the loaded instruments, constituent
    maps and FX rates."""

    instruments: pl.DataFrame
    constituents: pl.DataFrame
    fx_rates: pl.DataFrame


def read_reference_data(store: TradeStore) -> ReferenceData:
    """The loaded instruments, constituent maps and FX rates, read once per run (a range reuses them)."""
    instruments = store.query_polars("SELECT * FROM pivot.instruments")
    if instruments.is_empty():
        raise MissingReferenceDataError(
            "pivot.instruments is empty: materialize pivot/instruments (and pivot/constituents, pivot/fx_rates) first."
        )
    return ReferenceData(
        instruments,
        store.query_polars("SELECT * FROM pivot.constituents"),
        store.query_polars("SELECT rate_date, toString(currency) AS currency, rate_to_usd FROM pivot.fx_rates"),
    )


@dataclass(frozen=True)
class DayLoad:
    """What one trade date's load wrote, and where its time went."""

    trade_date: date
    rows: int
    parent_rows: int
    constituent_rows: int
    notional: float
    pnl: float
    notional_usd: float
    pnl_usd: float
    seconds_generate: float
    seconds_explode: float
    seconds_convert: float
    seconds_load: float
    by_exposure_type: pl.DataFrame
    # True when no listing exchange held a session: the day is loaded empty, by design.
    all_venues_closed: bool = False

    def summary(self) -> str:
        if self.all_venues_closed:
            return f"{self.trade_date}: {ALL_VENUES_CLOSED}, loaded empty (0 rows)"
        return (
            f"{self.trade_date}: {self.rows:,} rows loaded ({self.parent_rows:,} traded, "
            f"{self.constituent_rows:,} look-through)"
        )


@dataclass(frozen=True)
class LoadTotals:
    """The sum of several days' loads (a backfill range in one run)."""

    trade_dates: int
    rows: int
    parent_rows: int
    constituent_rows: int
    notional: float
    pnl: float
    notional_usd: float
    pnl_usd: float
    seconds_generate: float
    seconds_explode: float
    seconds_convert: float
    seconds_load: float
    all_venues_closed: int

    @classmethod
    def of(cls, loads: list[DayLoad]) -> LoadTotals:
        summed = {f.name: sum(getattr(load, f.name) for load in loads) for f in fields(cls) if f.name != "trade_dates"}
        return cls(trade_dates=len(loads), **summed)


def load_trade_date(
    store: TradeStore,
    trade_date: date,
    reference: ReferenceData,
    *,
    trades_per_day: int,
    seed: int,
    explode: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    reporting_currency: bool = True,
) -> DayLoad:
    """Generate the trades of `trade_date` (`trades_per_day` on a day every venue holds a full session),
    add their look-through rows and their USD values, swap the day in. A day on which every venue is
    closed is loaded empty. A currency with no rate on the date fails the load before the swap.
    `reporting_currency=False` exists only to measure the conversion's cost (benchmarks): the USD
    columns are then left at their default 0."""
    generated = {"seconds": 0.0, "chunks": 0}
    converted = {"seconds": 0.0}
    rates = DayRates.of(reference.fx_rates, trade_date, LOW_CARDINALITY["currency"].categories.to_list())

    def trade_chunks() -> Iterator[pl.DataFrame]:
        # Generation is streamed too: one chunk of base trades at a time, never the whole day.
        source = generate_trade_chunks(trade_date, trades_per_day, reference.instruments, seed)
        while True:
            started = time.perf_counter()
            chunk = next(source, None)
            generated["seconds"] += time.perf_counter() - started
            if generated["chunks"] == 0:
                failpoint("trades_1d.generated")
            if chunk is None:
                return
            generated["chunks"] += 1
            yield chunk
            del chunk

    def in_usd(chunks: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        for chunk in chunks:
            started = time.perf_counter()
            chunk = to_reporting_currency(chunk, rates)
            converted["seconds"] += time.perf_counter() - started
            yield chunk
            del chunk

    started = time.perf_counter()
    # The background thread generates, explodes and converts (Polars releases the GIL for most
    # of its time), so on two cores the next chunk is built while ClickHouse ingests the
    # previous one.
    day = streamed_day(
        trade_chunks(),
        reference.constituents,
        reference.instruments,
        trade_date,
        explode=explode,
        chunk_rows=chunk_rows,
    )
    chunks = Prefetched(in_usd(day) if reporting_currency else day)
    try:
        rows = store.replace_partition("trades_1d", trade_date, chunks)
    finally:
        chunks.close()
    load_seconds = time.perf_counter() - started

    by_exposure = store.query_polars(EXPOSURE_TOTALS, parameters={"day": trade_date})
    top_level = by_exposure.filter(pl.col("exposure_type").is_in(TOP_LEVEL_EXPOSURE_TYPES))
    is_constituent = pl.col("exposure_type") == "Constituent"
    return DayLoad(
        trade_date=trade_date,
        rows=rows,
        parent_rows=int(by_exposure.filter(~is_constituent)["rows"].sum()),
        constituent_rows=int(by_exposure.filter(is_constituent)["rows"].sum()),
        notional=float(top_level["notional"].sum()),
        pnl=float(top_level["pnl"].sum()),
        notional_usd=float(top_level["notional_usd"].sum()),
        pnl_usd=float(top_level["pnl_usd"].sum()),
        seconds_generate=generated["seconds"],
        seconds_explode=max(0.0, chunks.producer_seconds - generated["seconds"] - converted["seconds"]),
        seconds_convert=converted["seconds"],
        seconds_load=load_seconds,
        by_exposure_type=by_exposure,
        all_venues_closed=rows == 0 and not open_exchanges(_listing_exchanges(reference.instruments), trade_date),
    )


def _listing_exchanges(instruments: pl.DataFrame) -> list[str]:
    tradeable = instruments.filter(pl.col("instrument_type") != "Index")
    return sorted(set(tradeable["exchange"].cast(pl.String).to_list()))
