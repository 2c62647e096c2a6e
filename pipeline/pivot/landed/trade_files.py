"""Landed trade files (`trades/`): their formats, columns and rules, and opening one (its header or
Parquet schema) before its rows are checked (pipeline.pivot.landed.trade_checks).

Pure: no Dagster, no database. Files are scanned lazily (`pl.scan_parquet` / `pl.scan_csv`):
checking a file keeps only counts and a few example rows in memory, and a day's rows are
collected `chunk_rows` at a time, so memory stays flat in file size.

Formats: Parquet (preferred: typed, compressed, fastest), CSV and CSV.gz (UTF-8 with a header
row; a BOM and CRLF line ends are accepted; numbers may be quoted with thousands separators,
"1,234.50"), XLSX (an OMS export: the first sheet, header in row 1). The file layer
(pipeline.landed_files) opens them and gives the grammar of numbers and dates; the trades folder's
`_format.toml` may declare another locale, encoding or delimiter. A file may hold several trade
dates; a date's trades may span several files.

Columns: the traded columns of `pivot.trades_1d`, with the same names.
- Required: REQUIRED_TRADE_COLUMNS.
- Optional, with defaults (a missing column, or an empty cell in CSV):
  `notional` = quantity × price; `exposure` = notional (what the synthetic book does for
  everything but options); every other measure (pnl, the Greeks, margin, fees, slippage, vol,
  rate, metric_1..metric_14) = 0.0; `risk_bucket` = "Unclassified"; `scenario` = "Base".
- Refused: every column the instrument determines (INSTRUMENT_DETERMINED_COLUMNS: they come
  from pivot.instruments and the explosion) and any unknown column, by name, with the nearest
  known name as a hint.
- Values: trade_date an ISO date (or yyyymmdd, also a Parquet integer); ts a timestamp
  `YYYY-MM-DD[ T]HH:MM[:SS[.fff]]` with an optional zone (`Z`, `+02:00`; without one it is UTC),
  kept to the millisecond in UTC; ids whole numbers >= 0; measures finite numbers; price > 0;
  quantity != 0 and quantity × price finite; a given notional equal to quantity × price (relative
  1e-6); ts within a day of trade_date; symbol, desk, book, strategy and region non-empty
  (country, venue and counterparty may be empty: OTC and internal crosses). With the day's FX
  rates, |notional_usd| within a bound.
- Open vocabularies (OPEN_VOCABULARY_COLUMNS): desk, book, strategy, venue, country,
  counterparty, risk_bucket and scenario are Categoricals (open: any value), so a new desk name loads. `region`
  keeps the fact's closed vocabulary (AMER, EMEA, APAC).
- trade_id is unique within a trade date, across every file of that date.
- A header-only file (no rows) says "no trades that day": the day is the ISO date in its name
  (`trades_2024-01-15.csv`); a header-only file without a date in its name is refused.

A file is all or nothing: one bad row refuses the whole file (every date it holds).
Messages count CSV lines with the header as line 1, and Parquet rows from 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipeline.landed_files.folders import (
    FolderSettings,
    LandedFileError,
    folder_files,
    folder_settings,
    listing,
    require_complete_parquet,
    require_nonempty,
    unknown_column_problem,
)
from pipeline.landed_files.tables import (
    BLANK_COLUMN,
    LINE,
    check_text,
    csv_header,
    file_kind,
    layout_problems,
    read_xlsx,
    scan_csv,
    where,
    without_blank_rows,
)
from pipeline.landed_files.values import date_type_problem
from pipeline.pivot.trade_schema import TRADE_COLUMNS, TRADE_SCHEMA

TRADE_FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".xlsx")

REQUIRED_TRADE_COLUMNS = [
    "trade_date",
    "ts",
    "trade_id",
    "order_id",
    "portfolio_manager_id",
    "fund_id",
    "portfolio_id",
    "account_id",
    "desk",
    "book",
    "strategy",
    "region",
    "country",
    "venue",
    "symbol",
    "counterparty",
    "quantity",
    "price",
]
# Defaults of the optional columns; notional and exposure are derived, see below.
MEASURE_DEFAULTS: dict[str, float] = {
    "pnl": 0.0,
    "delta": 0.0,
    "gamma": 0.0,
    "vega": 0.0,
    "theta": 0.0,
    "rho": 0.0,
    "margin": 0.0,
    "fees": 0.0,
    "slippage": 0.0,
    "vol": 0.0,
    "rate": 0.0,
    **{f"metric_{i}": 0.0 for i in range(1, 15)},
}
DERIVED_DEFAULTS = {"notional": "quantity × price", "exposure": "notional"}
CLASSIFICATION_DEFAULTS = {"risk_bucket": "Unclassified", "scenario": "Base"}
OPTIONAL_TRADE_COLUMNS = ["notional", "exposure", *MEASURE_DEFAULTS, *CLASSIFICATION_DEFAULTS]
INSTRUMENT_DETERMINED_COLUMNS = [
    "asset_class",
    "product",
    "instrument_type",
    "currency",
    "sector",
    "exposure_type",
    "underlying_symbol",
    "parent_symbol",
    "weight",
    "is_constituent_exposure",
]
OPEN_VOCABULARY_COLUMNS = ["desk", "book", "strategy", "venue", "country", "counterparty", "risk_bucket", "scenario"]
NON_EMPTY_COLUMNS = ["symbol", "desk", "book", "strategy", "region"]

# The base-trade layout: the fact's columns in its order and types (the open vocabularies are
# Categoricals there too: trade_generation.OPEN_VOCABULARY_COLUMNS), minus what the instrument determines.
BASE_TRADE_COLUMNS = [c for c in TRADE_COLUMNS if c not in INSTRUMENT_DETERMINED_COLUMNS]
LANDED_TRADE_SCHEMA: dict[str, pl.DataType] = {c: TRADE_SCHEMA[c] for c in BASE_TRADE_COLUMNS}
# The column a scan numbers the file's rows in (for messages), dropped before the rows leave.
ROW_INDEX = "__row"


@dataclass(frozen=True)
class TradeSource:
    """A landed trade file opened: its path, its kind (csv, xlsx, parquet), its named columns' types
    (a CSV's and a workbook's are all text) and its folder's settings (number format, encoding)."""

    path: Path
    kind: str
    schema: dict[str, pl.DataType]
    settings: FolderSettings
    header: tuple[str, ...]
    sheet: pl.DataFrame | None = None

    @property
    def is_text(self) -> bool:
        return self.kind != "parquet"

    def scan(self) -> pl.LazyFrame:
        """The file's rows, ROW_INDEX numbered as `where` shows them, blank rows and unnamed empty
        columns dropped (`layout_problems` refuses the others)."""
        if self.kind == "parquet":
            return pl.scan_parquet(self.path).with_row_index(ROW_INDEX)
        raw = self.sheet.lazy() if self.sheet is not None else scan_csv(self.path, list(self.header), self.settings)
        return without_blank_rows(raw.with_row_index(ROW_INDEX), list(self.schema)).select(ROW_INDEX, *self.schema)

    def where(self, row: int) -> str:
        return where(self.kind, row + (1 if self.kind == "parquet" else 2))


def trade_source(path: Path, settings: FolderSettings | None = None) -> TradeSource:
    """Open a trade file: its header (or Parquet schema) read and its layout checked; its rows not yet."""
    path = Path(path)
    settings = folder_settings(path.parent) if settings is None else settings
    kind = file_kind(path)
    require_nonempty(path, f"write a header row ({','.join(REQUIRED_TRADE_COLUMNS[:4])},…) and one row per trade")
    if kind == "parquet":
        require_complete_parquet(path)
        try:
            schema = dict(pl.read_parquet_schema(path))
        except Exception as error:  # noqa: BLE001 - any unreadable footer is refused, never raised raw
            raise LandedFileError(path, f"not a readable Parquet file ({error}): write it again") from error
        return TradeSource(path, kind, schema, settings, tuple(schema))
    sheet = None
    if kind == "csv":
        check_text(path, settings)
        header = csv_header(path, settings)
    else:
        header, sheet = read_xlsx(path)
    named = [c for c in header if not c.startswith(BLANK_COLUMN)]
    source = TradeSource(path, kind, dict.fromkeys(named, pl.String()), settings, tuple(header), sheet)
    raw = sheet.lazy() if sheet is not None else scan_csv(path, header, settings)
    try:
        problems = layout_problems(raw.with_row_index(LINE, offset=2), header, kind)
    except pl.exceptions.PolarsError as error:
        raise LandedFileError(path, f"not a readable {kind.upper()} file: {error}") from error
    if problems:
        raise LandedFileError(path, problems)
    return source


def column_problems(source: TradeSource) -> list[str]:
    columns = list(source.schema)
    problems = [p for p in [date_type_problem("trade_date", source.schema.get("trade_date", pl.String))] if p]
    missing = [c for c in REQUIRED_TRADE_COLUMNS if c not in columns]
    if missing:
        problems.append(f"missing required column(s) {listing(missing, 20)}: every trade file carries them")
    for column in columns:
        if column in INSTRUMENT_DETERMINED_COLUMNS:
            problems.append(
                f"column {column!r} comes from pivot.instruments (the symbol's instrument) and the explosion, "
                "never from a trade file: drop it (to change it, land an instrument master file in instruments/)"
            )
        elif column not in LANDED_TRADE_SCHEMA:
            problems.append(unknown_column_problem(column, LANDED_TRADE_SCHEMA, "a trade file"))
    return problems


def trade_files(directory: Path) -> list[Path]:
    """The landed trade files of `directory` (Parquet, CSV, CSV.gz, XLSX), by name."""
    return list(folder_files(directory, TRADE_FILE_SUFFIXES).read)
