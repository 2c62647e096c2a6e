"""Checking a landed trade file whole (columns, every row's values, duplicate trade_ids, symbols known
to pivot.instruments) without holding it in memory, and reading the trade dates it holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import MAX_SHOWN, LandedFileError, date_in_name, listing
from pipeline.landed_files.values import date_type_problem
from pipeline.pivot.landed.trade_files import ROW_INDEX, TradeSource, column_problems, trade_source
from pipeline.pivot.landed.trade_values import (
    VALUE_KINDS,
    ValueCheck,
    is_blank_value,
    parse_frame,
    parsed,
    row_problems,
    value_text,
)
from pipeline.pivot.trade_schema import TRADE_SCHEMA


@dataclass(frozen=True)
class TradeFileCheck:
    """What a valid trade file holds: its trade dates and row count (counted, never held)."""

    path: Path
    rows: int
    dates: frozenset[date]

    def summary(self) -> str:
        days = listing(sorted(str(d) for d in self.dates), 5) or "none"
        return f"{self.path.name}: valid, {self.rows:,} trades on {len(self.dates)} date(s): {days}"


def _duplicate_problems(source: TradeSource, parsed: pl.LazyFrame) -> list[str]:
    duplicated = (
        parsed.group_by("trade_date", "trade_id")
        .agg(pl.col(ROW_INDEX).sort(), pl.len().alias("times"))
        .filter(pl.col("times") > 1)
        .sort("trade_date", "trade_id")
        .collect()
    )
    problems = []
    for day, trade_id, rows, _times in duplicated.head(MAX_SHOWN).iter_rows():
        problems.append(
            f"{', '.join(source.where(r) for r in rows[:5])}: trade_id {trade_id} appears {len(rows)} times "
            f"on {day}: a trade_id is unique within a trade date; keep one row per trade"
        )
    if duplicated.height > MAX_SHOWN:
        problems.append(f"… and {duplicated.height - MAX_SHOWN:,} more duplicated trade_ids")
    return problems


def _symbol_problems(parsed: pl.LazyFrame, instruments: pl.DataFrame) -> list[str]:
    known = instruments.select(pl.col("symbol").cast(pl.String)).unique()
    unknown = (
        parsed.group_by("symbol")
        .agg(pl.len().alias("rows"), pl.col(ROW_INDEX).min().alias("first"))
        .join(known.lazy(), on="symbol", how="anti")
        .sort("rows", "symbol", descending=[True, False])
        .collect()
    )
    if unknown.is_empty():
        return []
    by_upper = {s.upper(): s for s in known["symbol"].to_list() if s is not None}

    def hint(symbol: str) -> str:
        match = by_upper.get(symbol.upper())
        return f", did you mean {match}?" if match and match != symbol else ""

    named = [
        f"{symbol} ({rows:,} row{'s' if rows > 1 else ''}{hint(symbol)})" for symbol, rows, _ in unknown.iter_rows()
    ]
    return [
        f"{unknown.height} symbol(s) unknown to pivot.instruments: {listing(named)}. Fix the symbols, map the "
        "issuer's ticker to yours, or land an instrument master file in instruments/ that adds them"
    ]


def instrument_vocabulary_problems(instruments: pl.DataFrame, symbols: Iterable[str] | None = None) -> list[str]:
    """Instrument attributes the fact cannot hold: a value outside a closed vocabulary (a Polars
    Enum in TRADE_SCHEMA) of asset_class, product, instrument_type, currency or sector."""
    frame = instruments if symbols is None else instruments.filter(pl.col("symbol").is_in(list(symbols)))
    problems = []
    for column in ("asset_class", "product", "instrument_type", "currency", "sector"):
        dtype = TRADE_SCHEMA[column]
        if not isinstance(dtype, pl.Enum) or column not in frame.columns:
            continue
        outside = frame.filter(~pl.col(column).cast(pl.String).is_in(dtype.categories.to_list())).select(
            "symbol", column
        )
        if outside.height:
            named = [f"{s} ({v!r})" for s, v in outside.sort("symbol").iter_rows()]
            problems.append(
                f"instrument {column} outside pivot.trades_1d's vocabulary for {listing(named)}: "
                f"known values are {', '.join(dtype.categories.to_list())}"
            )
    return problems


@dataclass(frozen=True)
class UsdBound:
    """The rates a file's trades convert to USD at (pivot.fx_rates rows: rate_date, currency,
    rate_to_usd) and the largest |notional_usd| one trade may have."""

    fx_rates: pl.DataFrame
    max_notional_usd: float


def _usd_problems(source: TradeSource, parsed: pl.LazyFrame, instruments: pl.DataFrame, bound: UsdBound) -> list[str]:
    """Trades whose notional in USD is beyond the bound, or whose notional or P&L in USD is not finite
    (a finite P&L times a rate can still overflow)."""
    currencies = instruments.lazy().select(pl.col("symbol").cast(pl.String), pl.col("currency").cast(pl.String))
    rates = bound.fx_rates.lazy().select(
        pl.col("rate_date").alias("trade_date"), pl.col("currency").cast(pl.String), "rate_to_usd"
    )
    usd = (pl.col("notional") * pl.col("rate_to_usd")).alias("notional_usd")
    pnl_usd = pl.col("pnl") * pl.col("rate_to_usd")
    beyond = (
        parsed.select(ROW_INDEX, "trade_date", pl.col("symbol").cast(pl.String), "notional", "pnl")
        .join(currencies, on="symbol", how="left")
        .join(rates, on=["trade_date", "currency"], how="inner")
        .filter(~usd.is_finite() | (usd.abs() > bound.max_notional_usd) | ~pnl_usd.is_finite())
        .select(ROW_INDEX, "symbol", "currency", usd)
        .sort(ROW_INDEX)
        .collect()
    )
    if beyond.is_empty():
        return []
    shown = ", ".join(
        f"{source.where(row)} ({symbol}, {value:,.2f} USD from {currency})"
        for row, symbol, currency, value in beyond.head(3).iter_rows()
    )
    more = f" and {beyond.height - 3:,} more row(s)" if beyond.height > 3 else ""
    return [
        f"{shown}{more}: |notional_usd| over the {bound.max_notional_usd:,.0f} USD a trade may have "
        "(PIVOT_MAX_TRADE_NOTIONAL_USD), or a notional or P&L not finite in USD: a quantity, price or P&L off by "
        "orders of magnitude, or a wrong currency; fix the row (or raise the bound for a book that trades such sizes)"
    ]


def checked_trade_file(
    path: Path, instruments: pl.DataFrame | None, usd_bound: UsdBound | None = None
) -> tuple[TradeSource, pl.LazyFrame, TradeFileCheck]:
    source = trade_source(path)
    problems = column_problems(source)
    if problems:
        raise LandedFileError(source.path, problems)
    raw = source.scan()
    try:
        problems = row_problems(source, raw)
        if problems:
            raise LandedFileError(source.path, problems)
        parsed = parse_frame(source, raw)
        problems = _duplicate_problems(source, parsed)
        if instruments is not None:
            problems += _symbol_problems(parsed, instruments)
        if instruments is not None and usd_bound is not None and not problems:
            problems += _usd_problems(source, parsed, instruments, usd_bound)
        if problems:
            raise LandedFileError(source.path, problems)
        dates = parsed.group_by("trade_date").agg(pl.len().alias("rows")).collect()
    except pl.exceptions.PolarsError as error:
        raise LandedFileError(source.path, f"not a readable {source.kind.upper()} file: {error}") from (error)
    rows = int(dates["rows"].sum())
    if rows == 0:
        named = date_in_name(source.path)
        if named is None:
            raise LandedFileError(
                source.path,
                "the file has a header but no trades, and no date in its name: a header-only file says "
                "'no trades that day' for the date its name carries; name it e.g. trades_2024-01-15.csv",
            )
        day_set = frozenset({named})
    else:
        day_set = frozenset(dates["trade_date"].to_list())
    if instruments is not None:
        traded = parsed.select(pl.col("symbol").unique()).collect()["symbol"].to_list()
        vocabulary = instrument_vocabulary_problems(instruments, traded)
        if vocabulary:
            raise LandedFileError(source.path, vocabulary)
    return source, parsed, TradeFileCheck(source.path, rows, day_set)


def check_trade_file(
    path: Path, instruments: pl.DataFrame | None = None, usd_bound: UsdBound | None = None
) -> TradeFileCheck:
    """Check a whole trade file without holding it in memory; raise LandedFileError naming every
    problem (file, line or row, what to fix). With `instruments` (pivot.instruments rows), every
    symbol must be known and its attributes fit the fact."""
    return checked_trade_file(Path(path), instruments, usd_bound)[2]


def read_trade_file(path: Path, instruments: pl.DataFrame | None = None) -> pl.DataFrame:
    """The whole file as base trades in LANDED_TRADE_SCHEMA (checked as `check_trade_file`).
    For small files and tests; the day load uses `trades_for_date`, which streams."""
    _, parsed, _ = checked_trade_file(Path(path), instruments)
    return parsed.drop(ROW_INDEX).collect()


def trade_file_dates(path: Path) -> frozenset[date]:
    """The trade dates a file holds (or, header-only, the date its name declares), reading only
    the trade_date column. Raises LandedFileError for an unreadable file or an unparsable date."""
    source = trade_source(Path(path))
    if "trade_date" not in source.schema:
        raise LandedFileError(source.path, column_problems(source))
    type_problem = date_type_problem("trade_date", source.schema["trade_date"])
    if type_problem:
        raise LandedFileError(source.path, type_problem)
    frame = source.scan().select(ROW_INDEX, "trade_date")
    check = ValueCheck("trade_date", is_blank_value("trade_date", source.schema["trade_date"]), "trade_date is empty")
    trade_date = parsed(source, "trade_date")
    try:
        bad = frame.filter(check.flag | trade_date.is_null()).head(3).collect()
        if bad.height:
            where = ", ".join(f"{source.where(r)} ({value_text(v)})" for r, v in bad.rows())
            raise LandedFileError(source.path, f"{where}: trade_date is not {VALUE_KINDS['trade_date']}")
        days = frame.select(trade_date.unique()).collect().to_series().to_list()
    except pl.exceptions.PolarsError as error:
        raise LandedFileError(source.path, f"not a readable file: {error}") from error
    if days:
        return frozenset(days)
    named = date_in_name(source.path)
    if named is None:
        raise LandedFileError(
            source.path,
            "the file has a header but no trades, and no date in its name: name it e.g. trades_2024-01-15.csv",
        )
    return frozenset({named})


def dates_in_files(paths: Iterable[Path]) -> dict[Path, frozenset[date]]:
    """Each file's trade dates (`trade_file_dates`); raises for the first file that cannot say."""
    return {Path(p): trade_file_dates(Path(p)) for p in paths}
