"""Loading one trade date into `pivot.trades_1d`: generate or read the base trades, explode, convert to
USD, swap the day in whole.

Dagster-free and client-free: the `pivot/trades_1d` asset and the benchmarks call `load_trade_date`
(synthetic trades) or `load_landed_trade_date` (a desk's landed files, checked first by
`landed_days`) with a store, the ClickHouse resource or anything with its two methods
(`TradeStore`). Both sources go through one path (`_load_day`): base trades streamed in chunks ->
`explosion.streamed_day` -> the store's `replace_partition`, which writes the chunks into staging
(the engine adding the USD columns by `DayRates.usd_expressions` as it writes), refuses a currency
without a rate, and swaps the partition, so a failed load leaves the day as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Protocol

import polars as pl

from pipeline.failpoints import failpoint
from pipeline.landed_files.folders import content_digest
from pipeline.pivot.calendars import ALL_VENUES_CLOSED, has_calendar, open_exchanges
from pipeline.pivot.explosion import DEFAULT_CHUNK_ROWS, streamed_day
from pipeline.pivot.fx import DayRates
from pipeline.pivot.instruments import build_instruments
from pipeline.pivot.landed.trade_checks import UsdBound
from pipeline.pivot.landed.trades import (
    DEFAULT_LANDED_CHUNK,
    LandedTradeDay,
    NoLandedTradesError,
    landed_trade_day,
    open_trade_folder,
)
from pipeline.pivot.prefetch import Prefetched
from pipeline.pivot.queries import EXPOSURE_TOTALS
from pipeline.pivot.trade_generation import generate_trade_chunks
from pipeline.pivot.versions import DayVersions, is_versioned
from pipeline.settings import TRADE_SOURCES, versions_kept

TOP_LEVEL_EXPOSURE_TYPES = ("Direct", "ETF", "ETC")
SYNTHETIC, LANDED = TRADE_SOURCES


class TradeStore(Protocol):
    def replace_partition(
        self,
        table: str,
        day: date,
        chunks: Iterable[pl.DataFrame],
        *,
        computed: Mapping[str, str] | None = None,
        before_swap: Callable[[str], None] | None = None,
    ) -> int: ...

    def query_polars(self, sql: str, parameters: dict | None = None) -> pl.DataFrame: ...


class MissingReferenceDataError(RuntimeError):
    """The store has no instruments: trades cannot be priced or exploded."""


class EmptyDayRefusedError(RuntimeError):
    """A load would replace a trade date that holds rows with an empty day, and was not told it may."""


def refuse_wiping(store: TradeStore, trade_date: date, cause: str) -> None:
    """Raise EmptyDayRefusedError if `trade_date` holds rows in pivot.trades_1d: an empty day must not
    replace a loaded one unless the run says so (`allow_empty`). A failed upstream export often
    writes a header and nothing else, which would otherwise erase a good day without a word."""
    held = store.query_polars(
        "SELECT count() AS n FROM pivot.trades_1d WHERE trade_date = {day:Date}", parameters={"day": trade_date}
    )["n"][0]
    if held:
        raise EmptyDayRefusedError(
            f"{trade_date} not replaced, the day left as it was: it holds {held:,} rows now and the load would "
            f"make it empty ({cause}). An empty export is more often a failed one than a day without trades: "
            f"export the day again, or, if {trade_date} really had no trades, run again with run config "
            "allow_empty: true"
        )


def landed_empty_cause(trade_date: date, landed: LandedTradeDay | None) -> str | None:
    """Why a landed day would load empty (its header-only files, or no file on a closed day), or None
    when it has rows."""
    if landed is None:
        return f"no landed file holds {trade_date} and every venue is closed that day"
    if landed.rows:
        return None
    names = ", ".join(p.name for p in landed.files if not landed.rows_by_file[p])
    return f"the header-only landed file {names}"


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
class LandedFile:
    """A landed trade file a day was loaded from: its name, the day's rows in it, its content hash."""

    name: str
    rows: int
    sha256: str


@dataclass(frozen=True, kw_only=True)
class LoadFigures:
    """What a load wrote and where its time went: the figures a range of days adds up."""

    rows: int
    parent_rows: int
    constituent_rows: int
    notional: float
    pnl: float
    notional_usd: float
    pnl_usd: float
    seconds_generate: float
    seconds_explode: float
    seconds_load: float
    # A day: True when no listing exchange held a session (loaded empty, by design); a range: how many.
    all_venues_closed: int = 0


@dataclass(frozen=True, kw_only=True)
class DayLoad(LoadFigures):
    """One trade date's load."""

    trade_date: date
    by_exposure_type: pl.DataFrame
    # Where the base trades came from: SYNTHETIC (with its seed and size) or LANDED (with its files).
    source: str = SYNTHETIC
    seed: int | None = None
    trades_per_day: int | None = None
    landed_files: tuple[LandedFile, ...] = ()
    # The version number the day went live as (pipeline/pivot/versions.py); None where versions are not kept.
    version: int | None = None

    def summary(self) -> str:
        origin = (
            f"landed from {', '.join(f'{f.name} ({f.rows:,})' for f in self.landed_files) or 'no file'}"
            if self.source == LANDED
            else f"synthetic, seed {self.seed}"
        )
        if self.all_venues_closed:
            return f"{self.trade_date}: {ALL_VENUES_CLOSED}, loaded empty (0 rows; {origin})"
        return (
            f"{self.trade_date}: {self.rows:,} rows loaded ({self.parent_rows:,} traded, "
            f"{self.constituent_rows:,} look-through; {origin})"
        )


@dataclass(frozen=True, kw_only=True)
class LoadTotals(LoadFigures):
    """The sum of several days' loads (a backfill range in one run)."""

    trade_dates: int

    @classmethod
    def of(cls, loads: list[DayLoad]) -> LoadTotals:
        summed = {f.name: sum(getattr(load, f.name) for load in loads) for f in fields(LoadFigures)}
        return cls(trade_dates=len(loads), **summed)


def landed_days(
    directory: Path,
    days: Iterable[date],
    instruments: pl.DataFrame,
    *,
    usd_bound: UsdBound | None = None,
    settle_seconds: float = 0.0,
) -> dict[date, LandedTradeDay | None]:
    """Every requested day's landed trades in `directory`, every file checked (against
    `instruments`: symbols known; against `usd_bound`: notional_usd finite and within the bound),
    before any day is loaded, so a refused file or a missing day fails the run with nothing changed.
    A day no file holds is None when every listing exchange is closed on it (loaded empty, as a
    synthetic day); otherwise it raises NoLandedTradesError naming the folder and the date. Raises
    LandedFileError for a bad file, a file changed within `settle_seconds` or while it was checked,
    and for a folder holding files that would not be read."""
    folder = open_trade_folder(directory, settle_seconds)
    exchanges = _listing_exchanges(instruments)
    out: dict[date, LandedTradeDay | None] = {}
    for day in days:
        blocking = folder.blocking(day)
        if blocking is not None:
            raise blocking
        if not folder.holds(day) and not open_exchanges(exchanges, day):
            out[day] = None
            continue
        if not folder.paths:
            raise NoLandedTradesError(
                directory / f"*{day}*",
                f"no landed trades for {day} in {directory} (the folder holds no trade file): land a file with "
                f"trades of {day}, or a header-only file named with the date (e.g. trades_{day}.csv) to load "
                "the day empty",
            )
        out[day] = landed_trade_day(folder.dates.keys(), day, instruments, folder.dates, usd_bound)
        folder.require_unchanged(out[day].files)
    return out


def load_landed_trade_date(
    store: TradeStore,
    trade_date: date,
    reference: ReferenceData,
    landed: LandedTradeDay | None,
    *,
    explode: bool = True,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    reporting_currency: bool = True,
    digests: dict[Path, str] | None = None,
    read_rows: int = DEFAULT_LANDED_CHUNK,
    allow_empty: bool = False,
    kept_versions: int | None = None,
    run_id: str = "",
) -> DayLoad:
    """Load `trade_date` from its landed trades (`landed_days`), through the same stream, explosion,
    conversion and swap as a synthetic day. `landed` None: every venue closed, no file, loaded empty.
    `digests` caches the files' content hashes across the days of a range. An empty day replaces a
    day holding rows only with `allow_empty` (EmptyDayRefusedError)."""
    digests = {} if digests is None else digests
    files = ()
    if landed is not None:
        for path in landed.files:
            if path not in digests:
                digests[path] = content_digest(path)
        files = tuple(LandedFile(p.name, landed.rows_by_file[p], digests[p]) for p in landed.files)

    def base_trades() -> Iterator[pl.DataFrame]:
        return iter(()) if landed is None else landed.chunks(read_rows)

    return _load_day(
        store,
        trade_date,
        reference,
        base_trades,
        explode=explode,
        chunk_rows=chunk_rows,
        reporting_currency=reporting_currency,
        source={"source": LANDED, "landed_files": files},
        empty_cause=None if allow_empty else landed_empty_cause(trade_date, landed),
        kept_versions=kept_versions,
        run_id=run_id,
    )


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
    allow_empty: bool = False,
    kept_versions: int | None = None,
    run_id: str = "",
) -> DayLoad:
    """Generate the trades of `trade_date` (`trades_per_day` on a day every venue holds a full session),
    add their look-through rows and their USD values, swap the day in. A day on which every venue is
    closed is loaded empty. A currency with no rate on the date fails the load before the swap; an
    empty day replaces a day holding rows only with `allow_empty` (EmptyDayRefusedError).
    `reporting_currency=False` exists only to measure the conversion's cost (benchmarks): the USD
    columns are then left at their default 0. The day replaced is kept as a version (`kept_versions`, default
    $PIVOT_VERSIONS_KEPT; `run_id` recorded with the new one)."""
    return _load_day(
        store,
        trade_date,
        reference,
        # Generation is streamed too: one chunk of base trades at a time, never the whole day.
        lambda: generate_trade_chunks(
            trade_date, trades_per_day, synthetic_universe(reference.instruments, seed), seed
        ),
        explode=explode,
        chunk_rows=chunk_rows,
        reporting_currency=reporting_currency,
        source={"source": SYNTHETIC, "seed": seed, "trades_per_day": trades_per_day},
        empty_cause=None
        if allow_empty
        else ("synthetic, trades_per_day = 0" if not trades_per_day else f"synthetic, no venue trades on {trade_date}"),
        kept_versions=kept_versions,
        run_id=run_id,
    )


def synthetic_universe(instruments: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The loaded instruments the synthetic book trades: the seed's own universe (with any attributes a
    master file changed), never the instruments landed files add. So a synthetic day stays a function
    of (seed, date, trades_per_day) whatever reference files land (DESIGN decision 1)."""
    return instruments.filter(pl.col("symbol").is_in(build_instruments(seed)["symbol"].implode()))


def _load_day(
    store: TradeStore,
    trade_date: date,
    reference: ReferenceData,
    base_trades: Callable[[], Iterator[pl.DataFrame]],
    *,
    explode: bool,
    chunk_rows: int,
    reporting_currency: bool,
    source: Mapping,
    empty_cause: str | None,
    kept_versions: int | None = None,
    run_id: str = "",
) -> DayLoad:
    """The one load path of both sources: base trades (in TRADE_SCHEMA, chunk by chunk) -> look-through
    -> USD -> staging -> REPLACE PARTITION; then the day's totals read back. `empty_cause`: why the day
    could come out empty, for the refusal to wipe a loaded day (None: the run allows an empty day)."""
    generated = {"seconds": 0.0, "chunks": 0}
    rates = DayRates.of(reference.fx_rates, trade_date)

    def trade_chunks() -> Iterator[pl.DataFrame]:
        produced = base_trades()
        while True:
            started = time.perf_counter()
            chunk = next(produced, None)
            generated["seconds"] += time.perf_counter() - started
            if generated["chunks"] == 0:
                failpoint("trades_1d.generated")
            if chunk is None:
                return
            generated["chunks"] += 1
            yield chunk
            del chunk

    def refuse_missing_rates(staging: str) -> None:
        present = store.query_polars(f"SELECT DISTINCT toString(currency) AS currency FROM {staging}")
        missing = rates.missing(present["currency"].to_list())
        if missing:
            raise rates.error(missing)

    def refuse_a_wipe(staging: str) -> None:
        if empty_cause is not None and not store.query_polars(f"SELECT count() AS n FROM {staging}")["n"][0]:
            refuse_wiping(store, trade_date, empty_cause)

    versions = (
        DayVersions(store, trade_date, kept=versions_kept() if kept_versions is None else kept_versions, run_id=run_id)
        if is_versioned(store)
        else None
    )

    def before_swap(staging: str) -> None:
        if reporting_currency:
            refuse_missing_rates(staging)
        refuse_a_wipe(staging)
        if versions is not None:
            # The day in place is kept (its parts hard-linked into a slot) before the swap replaces it.
            staged = store.query_polars(f"SELECT count() AS n FROM {staging}")["n"][0]
            versions.prepare(version_source(source), int(staged))

    started = time.perf_counter()
    # The background thread generates and explodes (Polars releases the GIL for most of its
    # time), so on two cores the next chunk is built while ClickHouse ingests the previous one.
    day = streamed_day(
        trade_chunks(),
        reference.constituents,
        reference.instruments,
        trade_date,
        explode=explode,
        chunk_rows=chunk_rows,
    )
    chunks = Prefetched(day)
    try:
        rows = store.replace_partition(
            "trades_1d",
            trade_date,
            chunks,
            computed=rates.usd_expressions() if reporting_currency else None,
            before_swap=before_swap,
        )
    finally:
        chunks.close()
    load_seconds = time.perf_counter() - started

    by_exposure = store.query_polars(EXPOSURE_TOTALS, parameters={"day": trade_date})
    top_level = by_exposure.filter(pl.col("exposure_type").is_in(TOP_LEVEL_EXPOSURE_TYPES))
    is_constituent = pl.col("exposure_type") == "Constituent"
    live = versions.commit(float(top_level["notional_usd"].sum())) if versions is not None else None
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
        seconds_explode=max(0.0, chunks.producer_seconds - generated["seconds"]),
        seconds_load=load_seconds,
        by_exposure_type=by_exposure,
        all_venues_closed=rows == 0 and not open_exchanges(_listing_exchanges(reference.instruments), trade_date),
        version=live.version if live else None,
        **source,
    )


def version_source(source: Mapping) -> str:
    """A load's source as its version records it: synthetic with seed and size, or each landed file with
    its rows and SHA-256."""
    if source["source"] == LANDED:
        files = source.get("landed_files", ())
        return "landed: " + ("; ".join(f"{f.name} ({f.rows:,} rows, sha256 {f.sha256})" for f in files) or "no file")
    return f"synthetic: seed {source['seed']}, {source['trades_per_day']:,} trades per day"


def _listing_exchanges(instruments: pl.DataFrame) -> list[str]:
    """The listing exchanges of the tradeable instruments that have a calendar (an instrument landed
    with an exchange the calendars do not know, or none, as a cash line, decides no session)."""
    tradeable = instruments.filter(pl.col("instrument_type") != "Index")
    return sorted(e for e in set(tradeable["exchange"].cast(pl.String).to_list()) if has_calendar(e))
