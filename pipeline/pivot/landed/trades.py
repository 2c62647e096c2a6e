"""A trade date's landed trades (`trades/`), every file holding it checked, read in chunks in the fact
layout for the day load.

Pure: no Dagster, no database. The files' formats, columns and rules are described in
pipeline.pivot.landed.trade_files; checking one file is pipeline.pivot.landed.trade_checks. Their
public names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import (
    MAX_SHOWN,
    FileState,
    LandedFileError,
    date_in_name,
    folder_files,
    require_unchanged,
    settled_state,
)
from pipeline.pivot.landed.trade_checks import (
    UsdBound,
    checked_trade_file,
    dates_in_files,
    trade_file_dates,
)
from pipeline.pivot.landed.trade_files import (
    ROW_INDEX,
    TRADE_FILE_SUFFIXES,
    TradeSource,
)
from pipeline.pivot.trade_schema import EXPOSURE_TYPE_BY_INSTRUMENT, TRADE_SCHEMA

# The fact layout of a landed day (what `with_instrument_attributes` and `trades_for_date` give): the
# synthetic day's layout, TRADE_SCHEMA, so one schema reaches ClickHouse from both sources.
LANDED_FACT_SCHEMA: dict[str, pl.DataType] = dict(TRADE_SCHEMA)
# Base trades per collected chunk, as the generator's chunks (trade_generation.DEFAULT_TRADE_CHUNK).
DEFAULT_LANDED_CHUNK = 250_000


class NoLandedTradesError(LandedFileError):
    """A trade date asked for that no landed file covers (neither rows nor a header-only file)."""


def with_instrument_attributes(trades: pl.DataFrame | pl.LazyFrame, instruments: pl.DataFrame):
    """Base trades plus every column the instrument determines, in LANDED_FACT_SCHEMA: asset_class,
    product, instrument_type, currency and sector from pivot.instruments; exposure_type from the
    instrument type (ETF, ETC, else Direct); a traded row is its own underlying, has no parent,
    weight 1 and is_constituent_exposure 0 (as the generator's rows)."""
    attributes = instruments.lazy().select(
        pl.col("symbol").cast(pl.String),
        *[pl.col(c).cast(pl.String).alias(f"__instrument_{c}") for c in ("asset_class", "product", "currency")],
        pl.col("instrument_type").cast(pl.String).alias("__instrument_instrument_type"),
        pl.col("sector").cast(pl.String).alias("__instrument_sector"),
    )
    instrument_type = pl.col("__instrument_instrument_type")
    joined = (
        trades.lazy()
        .join(attributes, on="symbol", how="left", maintain_order="left")
        .with_columns(
            **{c: pl.col(f"__instrument_{c}") for c in ("asset_class", "product", "instrument_type", "currency")},
            sector=pl.col("__instrument_sector"),
            exposure_type=instrument_type.replace_strict(EXPOSURE_TYPE_BY_INSTRUMENT, default="Direct"),
            underlying_symbol=pl.col("symbol"),
            parent_symbol=pl.lit(""),
            weight=pl.lit(1.0),
            is_constituent_exposure=pl.lit(0, dtype=pl.UInt8),
        )
        .select([pl.col(c).cast(t) for c, t in LANDED_FACT_SCHEMA.items()])
    )
    return joined if isinstance(trades, pl.LazyFrame) else joined.collect()


@dataclass(frozen=True)
class LandedTradeDay:
    """One trade date's landed trades, every file checked: where they come from and how many.

    `chunks()` reads them again, lazily, `chunk_rows` at a time, in the fact layout."""

    trade_date: date
    files: tuple[Path, ...]
    rows_by_file: Mapping[Path, int]
    instruments: pl.DataFrame
    _parsed: Mapping[Path, pl.LazyFrame]

    @property
    def rows(self) -> int:
        return sum(self.rows_by_file.values())

    def chunks(self, chunk_rows: int = DEFAULT_LANDED_CHUNK) -> Iterator[pl.DataFrame]:
        # One slice of the file per chunk, read only when the consumer asks for it: the slice is pushed
        # into the scan (Parquet reads just its row groups), so memory holds one chunk, never the file.
        # (`collect_batches` reads ahead of a slower consumer: a 1M-trade day came in whole, +400 MB.)
        for path in self.files:
            if not self.rows_by_file[path]:
                continue
            parsed = self._parsed[path]
            total = parsed.select(pl.len()).collect().item()
            for offset in range(0, total, max(1, chunk_rows)):
                day = parsed.slice(offset, chunk_rows).filter(pl.col("trade_date") == self.trade_date).drop(ROW_INDEX)
                chunk = with_instrument_attributes(day, self.instruments).collect()
                if chunk.height:
                    yield chunk

    def summary(self) -> str:
        sources = ", ".join(f"{p.name} ({self.rows_by_file[p]:,})" for p in self.files)
        return f"{self.trade_date}: {self.rows:,} landed trades from {sources}"


def _cross_file_duplicates(day: date, ids: Sequence[tuple[TradeSource, pl.DataFrame]]) -> list[str]:
    if len(ids) < 2:
        return []
    frames = [frame.with_columns(pl.lit(i, dtype=pl.UInt32).alias("__file")) for i, (_, frame) in enumerate(ids)]
    shared = (
        pl.concat(frames)
        .group_by("trade_id")
        .agg(pl.col("__file"), pl.col(ROW_INDEX))
        .filter(pl.col("__file").list.n_unique() > 1)
        .sort("trade_id")
    )
    problems = []
    for trade_id, files, rows in shared.head(MAX_SHOWN).iter_rows():
        places = " and ".join(f"{ids[f][0].path.name} ({ids[f][0].where(r)})" for f, r in zip(files, rows))
        problems.append(
            f"trade_id {trade_id} on {day} is in {places}: a trade_id is unique within a trade date across "
            "all files; remove the repeated trade from one of them (a corrected file replaces its old version "
            "under the same name)"
        )
    if shared.height > MAX_SHOWN:
        problems.append(f"… and {shared.height - MAX_SHOWN:,} more trade_ids in more than one file")
    return problems


def landed_trade_day(
    paths: Iterable[Path],
    day: date,
    instruments: pl.DataFrame,
    dates: Mapping[Path, frozenset[date]] | None = None,
    usd_bound: UsdBound | None = None,
) -> LandedTradeDay:
    """Check every file that holds `day` (in full: a file is all or nothing) and that trade_ids are
    unique on `day` across them. `dates` (from `dates_in_files`) saves reading the dates again.

    Raises NoLandedTradesError when no file holds `day`, LandedFileError for a bad file (the first
    one found) or for trade_ids repeated across files (naming both files)."""
    paths = [Path(p) for p in paths]
    dates = dict(dates) if dates is not None else dates_in_files(paths)
    touching = [p for p in paths if day in dates[p]]
    if not touching:
        folders = sorted({str(p.parent) for p in paths}) or ["the trades folder"]
        raise NoLandedTradesError(
            Path(folders[0]) / f"*{day}*",
            f"no landed trades for {day} in {', '.join(folders)}: land a file with trades of {day}, or a header-only "
            f"file named with the date (e.g. trades_{day}.csv) to load the day empty",
        )
    parsed, rows, ids = {}, {}, []
    for path in touching:
        source, frame, check = checked_trade_file(path, instruments, usd_bound)
        parsed[path] = frame
        day_ids = frame.filter(pl.col("trade_date") == day).select(ROW_INDEX, "trade_id").collect()
        rows[path] = day_ids.height
        ids.append((source, day_ids))
    problems = _cross_file_duplicates(day, ids)
    if problems:
        raise LandedFileError(touching[-1], problems)
    return LandedTradeDay(day, tuple(touching), rows, instruments, parsed)


@dataclass(frozen=True)
class LandedTradeFolder:
    """The trades/ folder as a load finds it: every trade file, the dates each holds, and the files
    that cannot say (unreadable, or changed within the settle window), each with its refusal."""

    directory: Path
    paths: tuple[Path, ...]
    dates: Mapping[Path, frozenset[date]]
    blocked: Mapping[Path, LandedFileError]
    states: Mapping[Path, FileState]

    def holds(self, day: date) -> bool:
        return any(day in held for held in self.dates.values())

    def blocking(self, day: date) -> LandedFileError | None:
        """The refusal of a file that may hold `day` and cannot be read: one whose name carries `day`,
        or carries no date (it may hold any)."""
        for path, error in self.blocked.items():
            named = date_in_name(path)
            if named == day:
                return error
            if named is None:
                return LandedFileError(
                    path,
                    [
                        *error.problems,
                        "its name carries no date, so any trade date may be in it: no date loads until it is fixed "
                        f"or removed (a file named with its date, e.g. trades_{day}.csv, blocks only that date)",
                    ],
                )
        return None

    def require_unchanged(self, paths: Iterable[Path]) -> None:
        """Refuse a file that changed since the folder was opened (still being written)."""
        for path in paths:
            require_unchanged(path, self.states[path])


def open_trade_folder(directory: Path, settle_seconds: float = 0.0) -> LandedTradeFolder:
    """List trades/ and read the dates of every file (only the trade_date column). Refuses a missing
    folder and a folder with files that would not be read (naming each); a file that cannot be
    read, or changed less than `settle_seconds` ago, is kept aside in `blocked`."""
    directory = Path(directory)
    folder = folder_files(directory, TRADE_FILE_SUFFIXES)
    if not folder.exists:
        raise NoLandedTradesError(directory, folder.missing_problem("the desk's trade files"))
    unread = folder.unread_problem("Trade files are Parquet, CSV, CSV.gz or XLSX files at the top of trades/.")
    if unread:
        raise LandedFileError(directory, unread)
    dates, blocked, states = {}, {}, {}
    for path in folder.read:
        try:
            states[path] = settled_state(path, settle_seconds)
            dates[path] = trade_file_dates(path)
        except LandedFileError as error:
            blocked[path] = error
    return LandedTradeFolder(directory, folder.read, dates, blocked, states)


def trades_for_date(
    paths: Iterable[Path],
    day: date,
    instruments: pl.DataFrame,
    chunk_rows: int = DEFAULT_LANDED_CHUNK,
) -> Iterator[pl.DataFrame]:
    """`day`'s landed trades in the fact layout, `chunk_rows` at a time, ready for
    `explosion.streamed_day`. Every file is checked before this returns (a bad file raises here,
    before a row is yielded); the rows are then read lazily, chunk by chunk."""
    return landed_trade_day(paths, day, instruments).chunks(chunk_rows)
