"""Landed trade files (`trades/`): a desk's own trades, read, checked and shaped for the day load.

Pure: no Dagster, no database. Files are scanned lazily (`pl.scan_parquet` / `pl.scan_csv`):
checking a file keeps only counts and a few example rows in memory, and a day's rows are
collected `chunk_rows` at a time, so memory stays flat in file size.

Formats: Parquet (preferred: typed, compressed, fastest), CSV and CSV.gz (UTF-8 with a header
row; a BOM and CRLF line ends are accepted; numbers may be quoted with thousands separators,
"1,234.50"). A file may hold several trade dates; a date's trades may span several files.

Columns: the traded columns of `pivot.trades_1d`, with the same names.
- Required: REQUIRED_TRADE_COLUMNS.
- Optional, with defaults (a missing column, or an empty cell in CSV):
  `notional` = quantity × price; `exposure` = notional (what the synthetic book does for
  everything but options); every other measure (pnl, the Greeks, margin, fees, slippage, vol,
  rate, metric_1..metric_14) = 0.0; `risk_bucket` = "Unclassified"; `scenario` = "Base".
- Refused: every column the instrument determines (INSTRUMENT_DETERMINED_COLUMNS: they come
  from pivot.instruments and the explosion) and any unknown column, by name, with the nearest
  known name as a hint.
- Values: trade_date an ISO date; ts a timestamp `YYYY-MM-DD[ T]HH:MM[:SS[.fff]]` with an
  optional zone (`Z`, `+02:00`; without one it is UTC), kept to the millisecond in UTC; ids
  whole numbers >= 0; measures finite numbers; price > 0; symbol, desk, book, strategy and
  region non-empty (country, venue and counterparty may be empty: OTC and internal crosses).
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

import csv
import gzip
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipeline.pivot.landed.files import (
    MAX_SHOWN,
    LandedFileError,
    date_in_name,
    landed_files,
    listing,
    require_complete_parquet,
    require_nonempty,
    unknown_column_problem,
)
from pipeline.pivot.trade_generation import EXPOSURE_TYPE_BY_INSTRUMENT, TRADE_COLUMNS, TRADE_SCHEMA

TRADE_FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz")

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
# The fact layout of a landed day (what `with_instrument_attributes` and `trades_for_date` give): the
# synthetic day's layout, TRADE_SCHEMA, so one schema reaches ClickHouse from both sources.
LANDED_FACT_SCHEMA: dict[str, pl.DataType] = dict(TRADE_SCHEMA)
# Base trades per collected chunk, as the generator's chunks (trade_generation.DEFAULT_TRADE_CHUNK).
DEFAULT_LANDED_CHUNK = 250_000
_ROW = "__row"
_ROW_LIMIT_FOR_EXAMPLES = 1_000

_TS_FORMATS_WITH_ZONE = ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M%#z"]
_TS_FORMATS_NAIVE = ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"]


class NoLandedTradesError(LandedFileError):
    """A trade date asked for that no landed file covers (neither rows nor a header-only file)."""


@dataclass(frozen=True)
class TradeFileCheck:
    """What a valid trade file holds: its trade dates and row count (counted, never held)."""

    path: Path
    rows: int
    dates: frozenset[date]

    def summary(self) -> str:
        days = listing(sorted(str(d) for d in self.dates), 5) or "none"
        return f"{self.path.name}: valid, {self.rows:,} trades on {len(self.dates)} date(s): {days}"


@dataclass(frozen=True)
class _Source:
    path: Path
    is_csv: bool
    schema: dict[str, pl.DataType]

    def scan(self) -> pl.LazyFrame:
        if self.is_csv:
            return pl.scan_csv(self.path, infer_schema=False, encoding="utf8")
        return pl.scan_parquet(self.path)

    def where(self, row: int) -> str:
        return f"line {row + 2}" if self.is_csv else f"row {row + 1}"


def _is_csv(path: Path) -> bool:
    return path.name.lower().endswith((".csv", ".csv.gz"))


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            first = handle.readline(1 << 20)
    except (OSError, EOFError) as error:
        raise LandedFileError(path, f"not a readable gzip file ({error}): compress it again with gzip") from error
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        hint = " (it looks like UTF-16)" if first[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
        raise LandedFileError(
            path,
            f"not UTF-8{hint}: byte {error.start} of the header is {first[error.start : error.start + 1]!r}. "
            "Save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet)",
        ) from error
    row = next(csv.reader(io.StringIO(text)), [])
    if not any(cell.strip() for cell in row):
        raise LandedFileError(path, "the first line is empty: the first line must be the header row")
    return row


def _source(path: Path) -> _Source:
    path = Path(path)
    require_nonempty(path, f"write a header row ({','.join(REQUIRED_TRADE_COLUMNS[:4])},…) and one row per trade")
    if _is_csv(path):
        names = _csv_header(path)
        if len(set(names)) != len(names):
            doubled = sorted({n for n in names if names.count(n) > 1})
            raise LandedFileError(path, f"the header names {listing(doubled)} more than once: keep one of each")
        return _Source(path, True, dict.fromkeys(names, pl.String()))
    require_complete_parquet(path)
    try:
        schema = dict(pl.read_parquet_schema(path))
    except Exception as error:  # noqa: BLE001 - any unreadable footer is refused, never raised raw
        raise LandedFileError(path, f"not a readable Parquet file ({error}): write it again") from error
    return _Source(path, False, schema)


def _column_problems(source: _Source) -> list[str]:
    columns = list(source.schema)
    problems = []
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


# --- parsing: one expression per column, null where a present value does not parse -------------


def _is_blank(column: str, source_dtype: pl.DataType) -> pl.Expr:
    if source_dtype == pl.String:
        return pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")
    return pl.col(column).is_null()


def _number_text(column: str) -> pl.Expr:
    # "1,234.50" as a spreadsheet quotes it: thousands separators go, the decimal point stays.
    return pl.col(column).str.strip_chars().str.replace_all(",", "", literal=True)


def _parsed(column: str, source_dtype: pl.DataType) -> pl.Expr:
    target = LANDED_TRADE_SCHEMA[column]
    is_text = source_dtype == pl.String
    if column == "trade_date":
        if is_text:
            return pl.col(column).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        if isinstance(source_dtype, pl.Datetime):
            return pl.col(column).dt.date()
        return pl.col(column).cast(pl.Date, strict=False)
    if column == "ts":
        if is_text:
            text = pl.col(column).str.strip_chars().str.replace("T", " ", literal=True)
            return pl.coalesce(
                *[
                    text.str.to_datetime(f, time_unit="ms", time_zone="UTC", strict=False)
                    for f in _TS_FORMATS_WITH_ZONE
                ],
                *[
                    text.str.to_datetime(f, time_unit="ms", strict=False).dt.replace_time_zone("UTC")
                    for f in _TS_FORMATS_NAIVE
                ],
            )
        if isinstance(source_dtype, pl.Datetime):
            zoned = (
                pl.col(column).dt.replace_time_zone("UTC")
                if source_dtype.time_zone is None
                else pl.col(column).dt.convert_time_zone("UTC")
            )
            return zoned.dt.cast_time_unit("ms")
        return pl.lit(None, dtype=target)
    if target.is_integer():
        if is_text:
            return _number_text(column).cast(target, strict=False)
        if source_dtype.is_float():
            whole = pl.col(column).is_finite() & (pl.col(column) == pl.col(column).floor())
            return pl.when(whole).then(pl.col(column).cast(target, strict=False))
        return pl.col(column).cast(target, strict=False)
    if target.is_float():
        if is_text:
            return _number_text(column).cast(pl.Float64, strict=False)
        return pl.col(column).cast(pl.Float64, strict=False)
    if isinstance(target, pl.Enum):
        text = pl.col(column).cast(pl.String).str.strip_chars()
        return pl.when(text.is_in(target.categories.to_list())).then(text).cast(target)
    return pl.col(column).cast(pl.String).str.strip_chars()


_KIND = {
    "trade_date": "an ISO date (YYYY-MM-DD)",
    "ts": "a timestamp (YYYY-MM-DD HH:MM:SS.fff, optionally with a zone such as Z or +02:00; no zone means UTC)",
}


def _kind(column: str) -> str:
    target = LANDED_TRADE_SCHEMA[column]
    if column in _KIND:
        return _KIND[column]
    if target.is_integer():
        return "a whole number >= 0 (an id)"
    if target.is_float():
        return "a number (digits, an optional decimal point; 1,234.50 is accepted)"
    if isinstance(target, pl.Enum):
        return f"one of {', '.join(target.categories.to_list())}"
    return "text"


@dataclass(frozen=True)
class _Check:
    column: str
    flag: pl.Expr
    what: str


def _checks(source: _Source) -> list[_Check]:
    checks = []
    for column, source_dtype in source.schema.items():
        if column not in LANDED_TRADE_SCHEMA:
            continue
        blank = _is_blank(column, source_dtype)
        parsed = _parsed(column, source_dtype)
        required_value = column in REQUIRED_TRADE_COLUMNS and (
            column in NON_EMPTY_COLUMNS or not _is_text(LANDED_TRADE_SCHEMA[column])
        )
        if required_value:
            checks.append(_Check(column, blank, f"{column} is empty: every trade needs one"))
        checks.append(_Check(column, ~blank & parsed.is_null(), f"{column} is not {_kind(column)}"))
        if LANDED_TRADE_SCHEMA[column].is_float():
            checks.append(
                _Check(column, ~blank & parsed.is_not_null() & ~parsed.is_finite(), f"{column} is not finite")
            )
    if "price" in source.schema:
        price = _parsed("price", source.schema["price"])
        checks.append(
            _Check("price", price.is_finite() & (price <= 0), "price must be positive (the execution price per unit)")
        )
    return checks


def _is_text(dtype: pl.DataType) -> bool:
    """A free-text column of the fact (String, or an open vocabulary: Categorical)."""
    return dtype == pl.String or dtype == pl.Categorical


def _value_text(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _row_problems(source: _Source, frame: pl.LazyFrame) -> list[str]:
    """Every failed check, once, with its row count and the first rows where it fails."""
    checks = _checks(source)
    if not checks:
        return []
    flags = [check.flag.fill_null(False).alias(f"__check_{i}") for i, check in enumerate(checks)]
    counts = frame.select([f.sum() for f in flags]).collect().row(0)
    if not any(counts):
        return []
    failing = [i for i, count in enumerate(counts) if count]
    examples = (
        frame.with_columns([flags[i] for i in failing])
        .filter(pl.any_horizontal([pl.col(f"__check_{i}") for i in failing]))
        .head(_ROW_LIMIT_FOR_EXAMPLES)
        .collect()
    )
    problems = []
    for i in failing:
        check = checks[i]
        rows = examples.filter(pl.col(f"__check_{i}")).head(3).select(_ROW, check.column).rows()
        where = ", ".join(f"{source.where(row)} ({_value_text(value)})" for row, value in rows)
        more = f" and {counts[i] - len(rows):,} more row(s)" if counts[i] > len(rows) else ""
        problems.append(f"{where}{more}: {check.what}")
    return problems


def _parse_frame(source: _Source, frame: pl.LazyFrame) -> pl.LazyFrame:
    """The file's rows in LANDED_TRADE_SCHEMA (after the checks passed), defaults filled, `_ROW` kept."""
    present = [c for c in BASE_TRADE_COLUMNS if c in source.schema]
    frame = frame.with_columns([_parsed(c, source.schema[c]).alias(c) for c in present])
    quantity_times_price = pl.col("quantity") * pl.col("price")
    notional = pl.col("notional").fill_null(quantity_times_price) if "notional" in present else quantity_times_price
    frame = frame.with_columns(notional.alias("notional"))
    exposure = pl.col("exposure").fill_null(pl.col("notional")) if "exposure" in present else pl.col("notional")
    defaults = [exposure.alias("exposure")]
    for column, value in {**MEASURE_DEFAULTS, **CLASSIFICATION_DEFAULTS}.items():
        defaults.append(pl.col(column).fill_null(value) if column in present else pl.lit(value).alias(column))
    # The columns that may be empty are empty strings in the fact, never nulls.
    defaults.append(pl.col("country", "venue", "counterparty").fill_null(""))
    frame = frame.with_columns(defaults)
    return frame.select(_ROW, *[pl.col(c).cast(t) for c, t in LANDED_TRADE_SCHEMA.items()])


def _duplicate_problems(source: _Source, parsed: pl.LazyFrame) -> list[str]:
    duplicated = (
        parsed.group_by("trade_date", "trade_id")
        .agg(pl.col(_ROW).sort(), pl.len().alias("times"))
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
        .agg(pl.len().alias("rows"), pl.col(_ROW).min().alias("first"))
        .join(known.lazy(), on="symbol", how="anti")
        .sort("rows", "symbol", descending=[True, False])
        .collect()
    )
    if unknown.is_empty():
        return []
    named = [f"{symbol} ({rows:,} row{'s' if rows > 1 else ''})" for symbol, rows, _ in unknown.iter_rows()]
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


def _checked(path: Path, instruments: pl.DataFrame | None) -> tuple[_Source, pl.LazyFrame, TradeFileCheck]:
    source = _source(path)
    problems = _column_problems(source)
    if problems:
        raise LandedFileError(source.path, problems)
    raw = source.scan().with_row_index(_ROW)
    try:
        problems = _row_problems(source, raw)
        if problems:
            raise LandedFileError(source.path, problems)
        parsed = _parse_frame(source, raw)
        problems = _duplicate_problems(source, parsed)
        if instruments is not None:
            problems += _symbol_problems(parsed, instruments)
        if problems:
            raise LandedFileError(source.path, problems)
        dates = parsed.group_by("trade_date").agg(pl.len().alias("rows")).collect()
    except pl.exceptions.PolarsError as error:
        raise LandedFileError(
            source.path, f"not a readable {'CSV' if source.is_csv else 'Parquet'} file: {error}"
        ) from (error)
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


def check_trade_file(path: Path, instruments: pl.DataFrame | None = None) -> TradeFileCheck:
    """Check a whole trade file without holding it in memory; raise LandedFileError naming every
    problem (file, line or row, what to fix). With `instruments` (pivot.instruments rows), every
    symbol must be known and its attributes fit the fact."""
    return _checked(Path(path), instruments)[2]


def read_trade_file(path: Path, instruments: pl.DataFrame | None = None) -> pl.DataFrame:
    """The whole file as base trades in LANDED_TRADE_SCHEMA (checked as `check_trade_file`).
    For small files and tests; the day load uses `trades_for_date`, which streams."""
    _, parsed, _ = _checked(Path(path), instruments)
    return parsed.drop(_ROW).collect()


def trade_file_dates(path: Path) -> frozenset[date]:
    """The trade dates a file holds (or, header-only, the date its name declares), reading only
    the trade_date column. Raises LandedFileError for an unreadable file or an unparsable date."""
    source = _source(Path(path))
    if "trade_date" not in source.schema:
        raise LandedFileError(source.path, _column_problems(source))
    frame = source.scan().select(pl.col("trade_date")).with_row_index(_ROW)
    check = _Check("trade_date", _is_blank("trade_date", source.schema["trade_date"]), "trade_date is empty")
    parsed = _parsed("trade_date", source.schema["trade_date"])
    try:
        bad = frame.filter(check.flag | parsed.is_null()).head(3).collect()
        if bad.height:
            where = ", ".join(f"{source.where(r)} ({_value_text(v)})" for r, v in bad.rows())
            raise LandedFileError(source.path, f"{where}: trade_date is not {_KIND['trade_date']}")
        days = frame.select(parsed.unique()).collect().to_series().to_list()
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


def trade_files(directory: Path) -> list[Path]:
    """The landed trade files of `directory` (Parquet, CSV, CSV.gz), by name."""
    return landed_files(directory, TRADE_FILE_SUFFIXES)


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
                day = parsed.slice(offset, chunk_rows).filter(pl.col("trade_date") == self.trade_date).drop(_ROW)
                chunk = with_instrument_attributes(day, self.instruments).collect()
                if chunk.height:
                    yield chunk

    def summary(self) -> str:
        sources = ", ".join(f"{p.name} ({self.rows_by_file[p]:,})" for p in self.files)
        return f"{self.trade_date}: {self.rows:,} landed trades from {sources}"


def _cross_file_duplicates(day: date, ids: Sequence[tuple[_Source, pl.DataFrame]]) -> list[str]:
    if len(ids) < 2:
        return []
    frames = [frame.with_columns(pl.lit(i, dtype=pl.UInt32).alias("__file")) for i, (_, frame) in enumerate(ids)]
    shared = (
        pl.concat(frames)
        .group_by("trade_id")
        .agg(pl.col("__file"), pl.col(_ROW))
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
        source, frame, check = _checked(path, instruments)
        parsed[path] = frame
        day_ids = frame.filter(pl.col("trade_date") == day).select(_ROW, "trade_id").collect()
        rows[path] = day_ids.height
        ids.append((source, day_ids))
    problems = _cross_file_duplicates(day, ids)
    if problems:
        raise LandedFileError(touching[-1], problems)
    return LandedTradeDay(day, tuple(touching), rows, instruments, parsed)


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
