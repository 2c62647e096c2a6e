"""Landed instrument master files (`instruments/`), merged into pivot.instruments.

Pure: no Dagster, no database. A file is CSV (UTF-8, header row, BOM and CRLF accepted) or
Parquet with the pivot.instruments columns (ddl/clickhouse/010_instruments.sql):

- Required: symbol, name, asset_class, instrument_type, currency, exchange, sector, is_composite
  (the spec's columns; is_composite is 0 or 1; a currency, when given, an ISO 4217 code: its trades
  convert to USD at the rates pivot.fx_rates holds for it, landed in fx/ for a currency the synthetic
  rates do not cover).
- Optional, with defaults: product from the instrument type (Stock -> Cash Equity, ETF ->
  Exchange Traded Fund, …, else the type itself); country from the exchange (NYSE -> US, …, else
  empty); underlying_symbol = the symbol itself (a derivative names what it is written on).
- Unknown columns are refused by name; a symbol listed twice is refused naming both lines.

Merging (`merge_instruments`): a landed row adds its symbol or replaces the attributes of the
symbol already there; symbols the file does not list are kept (nothing is dropped by omission).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import (
    LandedFileError,
    folder_settings,
    landed_files,
    listing,
    require_nonempty,
    unknown_column_problem,
)
from pipeline.landed_files.tables import LINE, read_table
from pipeline.pivot.fx import is_iso_currency, iso_currency_problem
from pipeline.pivot.instruments import INSTRUMENT_COLUMNS
from pipeline.pivot.universe_lists import EXCHANGE_COUNTRY

INSTRUMENT_FILE_SUFFIXES = (".parquet", ".csv", ".xlsx")
REQUIRED_INSTRUMENT_COLUMNS = [
    "symbol",
    "name",
    "asset_class",
    "instrument_type",
    "currency",
    "exchange",
    "sector",
    "is_composite",
]
PRODUCT_BY_INSTRUMENT_TYPE = {
    "Stock": "Cash Equity",
    "ETF": "Exchange Traded Fund",
    "ETC": "Exchange Traded Commodity",
    "Index": "Index",
    "Future": "Listed Future",
    "Option": "Listed Option",
    "Commodity": "Spot Commodity",
}
INSTRUMENT_SCHEMA: dict[str, pl.DataType] = {
    **{c: pl.String() for c in INSTRUMENT_COLUMNS},
    "is_composite": pl.UInt8(),
}
NON_EMPTY_INSTRUMENT_COLUMNS = ["symbol", "asset_class", "instrument_type"]


def instrument_defaults(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill the optional columns (product, country, underlying_symbol) where missing or empty, and
    put the columns in pivot.instruments' order and types."""
    blank = {c: pl.col(c).is_null() | (pl.col(c) == "") for c in ("product", "country", "underlying_symbol")}
    defaults = {
        "product": pl.col("instrument_type").replace_strict(
            PRODUCT_BY_INSTRUMENT_TYPE, default=pl.col("instrument_type"), return_dtype=pl.String
        ),
        "country": pl.col("exchange").replace_strict(EXCHANGE_COUNTRY, default="", return_dtype=pl.String),
        "underlying_symbol": pl.col("symbol"),
    }
    frame = frame.with_columns(
        [
            (pl.when(blank[c]).then(value).otherwise(pl.col(c)) if c in frame.columns else value).alias(c)
            for c, value in defaults.items()
        ]
    )
    return frame.select([pl.col(c).cast(t) for c, t in INSTRUMENT_SCHEMA.items()])


def read_instrument_file(path: Path) -> pl.DataFrame:
    """An instrument master file as pivot.instruments rows; raises LandedFileError naming every problem."""
    path = Path(path)
    require_nonempty(path, f"write a header row ({','.join(REQUIRED_INSTRUMENT_COLUMNS)}) and one row per instrument")
    table = read_table(path, folder_settings(path.parent))
    raw = table.frame.drop(LINE)
    problems = []
    missing = [c for c in REQUIRED_INSTRUMENT_COLUMNS if c not in raw.columns]
    if missing:
        problems.append(f"missing required column(s) {listing(missing)}")
    problems += [
        unknown_column_problem(c, INSTRUMENT_COLUMNS, "an instrument master file")
        for c in raw.columns
        if c not in INSTRUMENT_COLUMNS
    ]
    if problems:
        raise LandedFileError(path, problems)

    lines = table.frame[LINE]

    def where(row: int) -> str:
        return table.where(lines[row])

    text = raw.with_row_index("__row").with_columns(
        [pl.col(c).cast(pl.String).str.strip_chars() for c in raw.columns if c != "is_composite"],
        is_composite=pl.col("is_composite").cast(pl.String).str.strip_chars(),
    )
    for column in NON_EMPTY_INSTRUMENT_COLUMNS:
        empty = text.filter(pl.col(column).is_null() | (pl.col(column) == ""))["__row"].to_list()
        if empty:
            problems.append(f"{listing([where(r) for r in empty], 5)}: {column} is empty; every instrument needs one")
    bad_flag = text.filter(~pl.col("is_composite").is_in(["0", "1"]) | pl.col("is_composite").is_null())
    if bad_flag.height:
        shown = [f"{where(r)} ({v!r})" for r, v in bad_flag.select("__row", "is_composite").rows()]
        problems.append(
            f"{listing(shown, 5)}: is_composite must be 0 or 1 (1 = an ETF, ETC or index with constituents)"
        )
    given_currencies = text.filter(pl.col("currency").is_not_null() & (pl.col("currency") != ""))
    for currency in sorted(set(given_currencies["currency"].to_list())):
        if not is_iso_currency(currency):
            rows = given_currencies.filter(pl.col("currency") == currency)["__row"].to_list()
            problems.append(f"{listing([where(r) for r in rows], 5)}: {iso_currency_problem(currency)}")
    doubled = (
        text.filter(pl.col("symbol").is_not_null())
        .group_by("symbol")
        .agg(pl.col("__row").sort())
        .filter(pl.col("__row").list.len() > 1)
        .sort("symbol")
    )
    for symbol, rows in doubled.iter_rows():
        problems.append(f"{' and '.join(where(r) for r in rows)}: symbol {symbol!r} is listed more than once; keep one")
    if problems:
        raise LandedFileError(path, problems)
    return instrument_defaults(text.drop("__row").with_columns(pl.col(raw.columns).fill_null("")))


def instrument_files(directory: Path) -> list[Path]:
    """The landed instrument master files of `directory`, by name (later files win in a merge)."""
    return landed_files(directory, INSTRUMENT_FILE_SUFFIXES)


@dataclass
class InstrumentMergeReport:
    """What a merge did: symbols added, symbols whose attributes changed (with the columns), kept."""

    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    unchanged: int = 0
    kept: int = 0

    def summary(self) -> str:
        changed = [f"{s} ({', '.join(cols)})" for s, cols in self.changed.items()]
        return (
            f"{len(self.added)} instrument(s) added"
            + (f" ({listing(self.added)})" if self.added else "")
            + f", {len(self.changed)} changed"
            + (f" ({listing(changed)})" if changed else "")
            + f", {self.unchanged} unchanged, {self.kept} kept as they were (not in the landed files)"
        )


def merge_instruments(current: pl.DataFrame, landed: pl.DataFrame) -> tuple[pl.DataFrame, InstrumentMergeReport]:
    """`current` with `landed` applied: new symbols added, the attributes of listed symbols replaced by
    the landed ones, every other symbol kept. Sorted by symbol, in pivot.instruments' layout."""
    current = instrument_defaults(current.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String)))
    landed = instrument_defaults(landed.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String)))
    report = InstrumentMergeReport()
    before = {row["symbol"]: row for row in current.iter_rows(named=True)}
    listed = set()
    for row in landed.iter_rows(named=True):
        symbol = row["symbol"]
        listed.add(symbol)
        old = before.get(symbol)
        if old is None:
            report.added.append(symbol)
        elif old != row:
            report.changed[symbol] = [c for c in INSTRUMENT_COLUMNS if old[c] != row[c]]
        else:
            report.unchanged += 1
    report.kept = len(set(before) - listed)
    merged = pl.concat([current.filter(~pl.col("symbol").is_in(list(listed))), landed]).sort("symbol")
    return merged, report


def merge_instrument_files(current: pl.DataFrame, paths: Sequence[Path]) -> tuple[pl.DataFrame, InstrumentMergeReport]:
    """Every file merged in turn (a later file's row wins); one report over all of them, against `current`.
    Raises LandedFileError for the first bad file, before anything is merged."""
    frames = [read_instrument_file(Path(p)) for p in paths]
    if not frames:
        return merge_instruments(current, current.clear())
    landed = pl.concat(frames).unique("symbol", keep="last", maintain_order=True)
    return merge_instruments(current, landed)


def composites_without_composition(
    instruments: pl.DataFrame, constituents: pl.DataFrame, on: date | None = None
) -> list[str]:
    """Composite instruments (is_composite = 1) with no constituents: allowed (their trades are not
    exploded) but worth reporting. With `on`, only the map in force on that date counts."""
    if on is not None:
        constituents = constituents.filter((pl.col("effective_date") <= on) & (pl.col("expiry_date") >= on))
    mapped = set(constituents["parent_symbol"].to_list())
    composites = instruments.filter(pl.col("is_composite") == 1)["symbol"].to_list()
    return sorted(s for s in composites if s not in mapped)
